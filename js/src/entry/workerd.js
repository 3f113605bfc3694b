// Entry point for Cloudflare Workers / workerd ("workerd" export condition): the wasm
// module is imported statically and connections use connect() from cloudflare:sockets.

import { Engine, Options } from "../wasm/workerd.js";
import { dial } from "../dial/workerd.js";
import { configure } from "../runtime.js";

configure({ Engine, Options, dial });

export * from "./api.js";
