// Runs every case of the Autobahn fuzzing server with the JS WebSocket client, echoing each
// message back, then asks it to write its reports.
// `node examples/js/node/autobahn_client.js --url ws://127.0.0.1:9001 --agent NAME`
import { WebSocket } from "../../../js/src/entry/node.js";

const args = process.argv.slice(2);
const arg = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const base = arg("--url", "ws://127.0.0.1:9001").replace(/\/$/, "");
const agent = arg("--agent", "wsengine-js");

/** Opens `url`, calls `onMessage(ws, data)` per message, resolves when closed. */
function session(url, onMessage) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, [], { handshakeTimeout: 20000 });
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => onMessage(ws, ev.data);
    ws.onclose = resolve;
  });
}

let count = 0;
await session(`${base}/getCaseCount`, (_, data) => (count = Number(data)));
console.log(`${count} cases`);
for (let i = 1; i <= count; i++) {
  await session(`${base}/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, (ws, data) => ws.send(data));
}
await session(`${base}/updateReports?agent=${encodeURIComponent(agent)}`, () => {});
console.log("reports updated");
