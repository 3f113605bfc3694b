// A WebSocket endpoint next to ordinary HTTP routes, with Node's http server: the
// `handleUpgrade(req, socket, head, cb)` pattern `ws` users know, plus subprotocol
// selection and an Origin check. `node examples/js/node/http_upgrade.js [port]`
import http from "node:http";
import { WebSocketServer } from "../../../js/src/entry/node.js";

const wss = new WebSocketServer({ protocols: ["chat"], origins: ["http://localhost:8080"] });
const server = http.createServer((req, res) => res.end("plain HTTP here; WebSocket on /chat\n"));
server.on("upgrade", (req, socket, head) => {
  if (req.url !== "/chat") {
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.send(`welcome; you speak ${ws.protocol || "no subprotocol"}`);
    ws.onmessage = (ev) => ws.send(ev.data);
  });
});
const port = Number(process.argv[2] ?? 8080);
server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));
