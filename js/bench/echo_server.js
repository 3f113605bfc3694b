// An echo server for the benchmark, in its own process: `--lib wsengine|ws --port N`.
// Compression off on both, binary echo, as the benchmark's clients use them.
import net from "node:net";

const args = process.argv.slice(2);
const lib = args[args.indexOf("--lib") + 1];
const port = Number(args[args.indexOf("--port") + 1]);

if (lib === "ws") {
  const { WebSocketServer } = await import("ws");
  const wss = new WebSocketServer({ port, host: "127.0.0.1", perMessageDeflate: false, maxPayload: 64 << 20 });
  wss.on("connection", (ws) => ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })));
  wss.on("listening", () => console.log("listening"));
} else {
  const { WebSocketServer } = await import("wsengine");
  const wss = new WebSocketServer({ perMessageDeflate: false, maxPayload: 64 << 20 });
  net
    .createServer((sock) => {
      sock.on("error", () => {});
      wss.accept(sock).then((ws) => {
        ws.binaryType = "arraybuffer";
        ws.onmessage = (ev) => ws.send(ev.data);
      }, () => {});
    })
    .listen(port, "127.0.0.1", () => console.log("listening"));
}
