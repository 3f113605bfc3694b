// wss:// over the runtime's TLS: node:tls in Node and Bun, Deno.connectTls / listenTls in Deno.

import assert from "node:assert/strict";
import fs from "node:fs";
import tls from "node:tls";
import { fileURLToPath } from "node:url";
import { WebSocket, WebSocketServer } from "wsengine";
import { runtime, test } from "./harness.js";
import { once } from "./util.js";

const read = (p) => fs.readFileSync(fileURLToPath(new URL(p, import.meta.url)), "utf8");
const cert = read("./fixtures/cert.pem");
const key = read("./fixtures/key.pem");

/** A TLS echo server with the package's WebSocketServer; returns { port, close }. */
async function tlsEchoServer() {
  const wss = new WebSocketServer();
  const onSocket = (ws) => {
    ws.onmessage = (ev) => ws.send(ev.data);
  };
  if (runtime === "deno") {
    const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
    (async () => {
      try {
        for await (const conn of listener) wss.accept(conn).then(onSocket, () => {});
      } catch {
        // closed
      }
    })();
    return { port: listener.addr.port, close: () => listener.close() };
  }
  const sockets = new Set();
  const server = tls.createServer({ cert, key }, (sock) => {
    sockets.add(sock);
    sock.on("error", () => {});
    wss.accept(sock).then(onSocket, () => {});
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

// Node and Bun read `ca`, Deno reads `caCerts`.
const trust = { ca: cert, caCerts: [cert] };

test("wss: echo over TLS, by IP and by name", async () => {
  const server = await tlsEchoServer();
  try {
    for (const host of ["127.0.0.1", "localhost"]) {
      const ws = new WebSocket(`wss://${host}:${server.port}/secure`, [], { tls: trust });
      await once(ws, "open");
      ws.send("over TLS");
      assert.equal((await once(ws, "message")).data, "over TLS");
      ws.close(1000);
      assert.equal((await once(ws, "close")).wasClean, true);
    }
  } finally {
    server.close();
  }
});

test("wss: an untrusted certificate fails the connection (error, close 1006)", async () => {
  const server = await tlsEchoServer();
  try {
    const ws = new WebSocket(`wss://127.0.0.1:${server.port}/`);
    const events = [];
    ws.onerror = () => events.push("error");
    const ev = await once(ws, "close");
    assert.deepEqual(events, ["error"]);
    assert.equal(ev.code, 1006);
    assert.equal(ev.wasClean, false);
  } finally {
    server.close();
  }
});
