// Loads the engine in workerd / Cloudflare Workers, where compiling wasm from bytes at run
// time is forbidden: the module is imported statically (a WebAssembly.Module).

import module from "../../pkg/wsengine_bg.wasm";
import { initSync } from "../../pkg/wsengine.js";

initSync({ module });

export { Engine, Options, ErrorKind } from "../../pkg/wsengine.js";
