// The WebSocket client in Deno over Deno.connect (web streams).
// `deno run --allow-net examples/js/deno/client.js ws://127.0.0.1:9002`
// In an application: `import { WebSocket } from "npm:wsengine"` (or from your import map).
import { WebSocket } from "../../../js/src/entry/deno.js";

const ws = new WebSocket(Deno.args[0] ?? "ws://127.0.0.1:9002");
ws.onopen = () => ws.send("hello from Deno");
ws.onmessage = (ev) => {
  console.log(`echo: ${ev.data}`);
  ws.close(1000, "done");
};
ws.onclose = (ev) => console.log(`closed ${ev.code} clean=${ev.wasClean}`);
