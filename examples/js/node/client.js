// A browser-style WebSocket client in Node: connects, sends text and binary, prints the
// echoes, and closes. `node examples/js/node/client.js ws://127.0.0.1:9002`
//
// In an application, import from the package: `import { WebSocket } from "wsengine"`.
import { WebSocket } from "../../../js/src/entry/node.js";

const url = process.argv[2] ?? "ws://127.0.0.1:9002";
const ws = new WebSocket(url);
ws.binaryType = "arraybuffer";
const expected = 2;
let received = 0;

ws.onopen = () => {
  console.log(`open: ${ws.url} (extensions: ${ws.extensions || "none"})`);
  ws.send("hello from the JS package in Node");
  ws.send(new Uint8Array([1, 2, 3, 4]));
};
ws.onmessage = (ev) => {
  const what = typeof ev.data === "string" ? `text "${ev.data}"` : `binary [${new Uint8Array(ev.data)}]`;
  console.log(`message: ${what}`);
  if (++received === expected) ws.close(1000, "done");
};
ws.onerror = (ev) => console.log(`error: ${ev.message}`);
ws.onclose = (ev) => {
  console.log(`close: code ${ev.code}, reason "${ev.reason}", wasClean ${ev.wasClean}`);
  process.exitCode = ev.wasClean && received === expected ? 0 : 1;
};
