// Entry point for Node and Bun ("node" and "bun" export conditions).

import { Engine, Options } from "../wasm/bytes.js";
import { dial } from "../dial/node.js";
import { configure } from "../runtime.js";

configure({ Engine, Options, dial });

export * from "./api.js";
