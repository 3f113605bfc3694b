// Checks examples/axum_chat.rs from other WebSocket implementations: two `ws` (npm) clients,
// one with permessage-deflate and one without, and optionally this project's JS package.
// Every client sends one message; every client must receive all of them, and the `chat`
// subprotocol must be agreed.
//
//   node interop/axum_chat.mjs --url ws://127.0.0.1:19220/chat [--wsengine js/src/entry/node.js]
//
// Exits 0 on success; bounded by a 20 s timer.
import WebSocket from "ws";
import { pathToFileURL } from "node:url";
import path from "node:path";

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const url = arg("--url") ?? "ws://127.0.0.1:19220/chat";
const enginePath = arg("--wsengine");

const timer = setTimeout(() => {
  console.error("axum chat: timed out");
  process.exit(1);
}, 20_000);

/** Opens a client; resolves with {name, send, received, protocol, extensions}. */
function wsClient(name, perMessageDeflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ["chat"], { perMessageDeflate });
    const c = { name, received: [], send: (t) => ws.send(t), close: () => ws.close() };
    ws.on("message", (data) => c.received.push(data.toString()));
    ws.on("open", () => {
      c.protocol = ws.protocol;
      c.extensions = ws.extensions;
      resolve(c);
    });
    ws.on("error", reject);
  });
}

async function engineClient(name) {
  const { WebSocket: EngineWebSocket } = await import(pathToFileURL(path.resolve(enginePath)).href);
  return new Promise((resolve, reject) => {
    const ws = new EngineWebSocket(url, ["chat"]);
    const c = { name, received: [], send: (t) => ws.send(t), close: () => ws.close() };
    ws.onmessage = (ev) => c.received.push(String(ev.data));
    ws.onopen = () => {
      c.protocol = ws.protocol;
      c.extensions = ws.extensions;
      resolve(c);
    };
    ws.onerror = (ev) => reject(new Error(`wsengine client: ${ev.message ?? "error"}`));
  });
}

const clients = [await wsClient("ws+deflate", true), await wsClient("ws", false)];
if (enginePath) clients.push(await engineClient("wsengine-js"));
for (const c of clients) {
  console.log(`${c.name}: protocol ${c.protocol}, extensions ${c.extensions || "none"}`);
  if (c.protocol !== "chat") throw new Error(`${c.name}: subprotocol ${c.protocol}`);
}
// Joining is asynchronous on the server; a short pause lets every subscription start.
await new Promise((r) => setTimeout(r, 200));
const sent = clients.map((c) => `hello from ${c.name}`);
clients.forEach((c, i) => c.send(sent[i]));
const deadline = Date.now() + 10_000;
while (clients.some((c) => c.received.length < sent.length) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 20));
}
let ok = true;
for (const c of clients) {
  const missing = sent.filter((m) => !c.received.includes(m));
  console.log(`${c.name}: received ${c.received.length}/${sent.length}`);
  if (missing.length) {
    ok = false;
    console.error(`${c.name}: missing ${JSON.stringify(missing)}`);
  }
  c.close();
}
clearTimeout(timer);
console.log(ok ? "axum chat: ok" : "axum chat: FAILED");
process.exit(ok ? 0 : 1);
