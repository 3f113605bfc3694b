// An echo server on raw TCP in Node, and the Autobahn testsuite's server under test.
// `node examples/js/node/echo_server.js --addr 127.0.0.1:9002 [--no-deflate]`
import net from "node:net";
import { WebSocketServer } from "../../../js/src/entry/node.js";

const args = process.argv.slice(2);
const addr = args[args.indexOf("--addr") + 1] ?? "127.0.0.1:9002";
const [host, port] = [addr.slice(0, addr.lastIndexOf(":")), Number(addr.slice(addr.lastIndexOf(":") + 1))];
const wss = new WebSocketServer({ perMessageDeflate: !args.includes("--no-deflate") });

net
  .createServer((sock) => {
    sock.on("error", () => {});
    wss.accept(sock).then(
      (ws) => {
        ws.binaryType = "arraybuffer";
        ws.onmessage = (ev) => ws.send(ev.data);
      },
      () => {}, // the client got an HTTP error; nothing to do
    );
  })
  .listen(port, host, () => console.log(`echo server listening on ws://${addr}`));
