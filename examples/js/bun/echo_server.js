// An echo server in Bun with node:net and the package's WebSocketServer.
// `bun examples/js/bun/echo_server.js [port]`
import net from "node:net";
import { WebSocketServer } from "../../../js/src/entry/node.js";

const wss = new WebSocketServer();
const port = Number(process.argv[2] ?? 9002);
net
  .createServer((sock) => {
    wss.accept(sock).then((ws) => {
      ws.onmessage = (ev) => ws.send(ev.data);
    }, () => {});
  })
  .listen(port, "127.0.0.1", () => console.log(`echo server on ws://127.0.0.1:${port}`));
