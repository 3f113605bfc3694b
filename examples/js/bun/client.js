// The WebSocket client in Bun (node:net underneath).
// `bun examples/js/bun/client.js ws://127.0.0.1:9002`
import { WebSocket } from "../../../js/src/entry/node.js";

const ws = new WebSocket(process.argv[2] ?? "ws://127.0.0.1:9002");
ws.onopen = () => ws.send("hello from Bun");
ws.onmessage = (ev) => {
  console.log(`echo: ${ev.data}`);
  ws.close(1000, "done");
};
ws.onclose = (ev) => console.log(`closed ${ev.code} clean=${ev.wasClean}`);
