// Loads the engine from bytes embedded in a JS module (pkg/wasm_base64.js, written by
// `cargo xtask build`), the one way that works alike in Node, Deno, Bun and browsers: no
// file system, fetch of file: URLs or bundler support needed.

import { initSync } from "../../pkg/wsengine.js";
import { wasmBase64 } from "../../pkg/wasm_base64.js";

function decodeBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

initSync({ module: new WebAssembly.Module(decodeBase64(wasmBase64)) });

export { Engine, Options, ErrorKind } from "../../pkg/wsengine.js";
