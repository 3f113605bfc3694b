// The scenario server for the parity suite: one HTTP server (the browser's page comes from
// it too) whose WebSocket endpoints are `ws`'s, a neutral peer. Each path is a behaviour.

import http from "node:http";
import { WebSocketServer } from "ws";

const behaviours = {
  "/echo": (ws) => ws.on("message", (d, binary) => ws.send(d, { binary })),
  "/close-4001": (ws) => ws.close(4001, "server says bye"),
  "/close-empty": (ws) => {
    // A close frame without a body (status 1005 on the other side).
    ws._sender.close(undefined, undefined, false, () => {});
    ws._socket.end();
  },
  "/burst": (ws) => {
    ws.send("one");
    ws.send(Buffer.from([1, 2, 3]));
    ws.send("three");
    ws.close(1000, "done");
  },
  "/drop": (ws) => ws._socket.destroy(),
  "/bad-utf8": (ws) => ws._socket.write(Buffer.from([0x81, 0x02, 0xc3, 0x28])),
  "/reserved-opcode": (ws) => ws._socket.write(Buffer.from([0x83, 0x00])),
  "/binary": (ws) => ws.send(Buffer.from([0, 255, 7])),
  "/protocol": (ws) => ws.send(`protocol=${ws.protocol}`),
  "/silent": () => {},
};

export async function startServer() {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true, handleProtocols: (set) => [...set][0] ?? false });
  const server = http.createServer((req, res) => {
    if (req.url === "/404") {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("no WebSocket here");
      return;
    }
    res.writeHead(200, { "content-type": "text/html" });
    res.end("<!doctype html><title>parity</title>");
  });
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("upgrade", (req, socket, head) => {
    const path = new URL(req.url, "http://x").pathname;
    const behave = behaviours[path];
    if (!behave) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => {});
      behave(ws);
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
