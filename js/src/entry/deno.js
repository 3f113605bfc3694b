// Entry point for Deno ("deno" export condition).

import { Engine, Options } from "../wasm/bytes.js";
import { dial } from "../dial/deno.js";
import { configure } from "../runtime.js";

configure({ Engine, Options, dial });

export * from "./api.js";
