// An echo server in Deno: Deno.listen for TCP, the package's WebSocketServer for the rest.
// `deno run --allow-net examples/js/deno/echo_server.js [port]`
import { WebSocketServer } from "../../../js/src/entry/deno.js";

const wss = new WebSocketServer({ protocols: ["echo"] });
const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(Deno.args[0] ?? 9002) });
console.log(`echo server on ws://127.0.0.1:${listener.addr.port}`);
for await (const conn of listener) {
  wss.accept(conn).then((ws) => {
    ws.onmessage = (ev) => ws.send(ev.data);
  }, () => {});
}
