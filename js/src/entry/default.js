// Entry point for anything else (browsers, bundlers without a runtime condition): Deno is
// recognised at run time; elsewhere there is no TCP, so a client needs `{ transport }`.

import { Engine, Options } from "../wasm/bytes.js";
import { dial as unsupported } from "../dial/unsupported.js";
import { configure } from "../runtime.js";

const dial = globalThis.Deno?.connect ? (await import("../dial/deno.js")).dial : unsupported;
configure({ Engine, Options, dial });

export * from "./api.js";
