// The server side: handleUpgrade for Node's http server, accept for raw connections, the
// accept policy (subprotocols, origins, verifyClient), and the engine's HTTP errors.

import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { WebSocket, WebSocketServer } from "wsengine";
import { test } from "./harness.js";
import { bytesOf, once, rawServer, sameBytes, serve } from "./util.js";

/** An http server whose `upgrade` goes to `wss.handleUpgrade`; `onSocket(ws, req)`. */
async function httpServer(wss, onSocket) {
  const server = http.createServer((req, res) => res.end("plain http\n"));
  server.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket, head, onSocket));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    close: () => {
      server.closeAllConnections?.();
      server.close();
    },
  };
}

/** Sends raw bytes and collects the reply's head (or all until the server closes). */
function rawExchange(port, request, ms = 3000) {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    let reply = "";
    const t = setTimeout(() => sock.destroy(), ms);
    sock.on("data", (d) => {
      reply += d.toString("latin1");
      if (reply.includes("\r\n\r\n")) sock.destroy();
    });
    sock.on("close", () => {
      clearTimeout(t);
      resolve(reply);
    });
    sock.on("error", () => {});
    sock.write(request);
  });
}

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const upgrade = (path, extra = "") =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

test("handleUpgrade: echo over Node's http server, request passed along", async () => {
  let seen;
  const wss = new WebSocketServer();
  const server = await httpServer(wss, (ws, req) => {
    seen = req.url;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => ws.send(ev.data);
  });
  try {
    const ws = new WebSocket(`${server.url}/chat?room=1`);
    ws.binaryType = "arraybuffer";
    await once(ws, "open");
    assert.equal(seen, "/chat?room=1");
    ws.send("over http");
    assert.equal((await once(ws, "message")).data, "over http");
    const big = bytesOf(2 << 20);
    ws.send(big);
    assert.ok(sameBytes((await once(ws, "message")).data, big));
    ws.close(1000);
    assert.equal((await once(ws, "close")).wasClean, true);
  } finally {
    server.close();
  }
}, { only: ["node", "bun"] });

test("handleUpgrade: frames sent right behind the request (head bytes) are not lost", async () => {
  const wss = new WebSocketServer({ perMessageDeflate: false });
  const got = [];
  const server = await httpServer(wss, (ws) => {
    ws.onmessage = (ev) => got.push(ev.data);
  });
  try {
    // A masked text frame "hi" in the same write as the request.
    const frame = [0x81, 0x82, 1, 2, 3, 4, "h".charCodeAt(0) ^ 1, "i".charCodeAt(0) ^ 2];
    const sock = net.connect(server.port, "127.0.0.1");
    await once({ addEventListener: (t, f) => sock.once("connect", f) }, "connect");
    sock.write(Buffer.concat([Buffer.from(upgrade("/")), Buffer.from(frame)]));
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ["hi"]);
    sock.destroy();
  } finally {
    server.close();
  }
}, { only: ["node", "bun"] });

test("accept: subprotocol chosen by the server's list, in the client's order", async () => {
  const server = await serve({ protocols: ["b", "a"] }, (ws) => ws.send(`server: ${ws.protocol}`));
  try {
    const ws = new WebSocket(server.url, ["a", "b"]);
    await once(ws, "open");
    assert.equal(ws.protocol, "a");
    assert.equal((await once(ws, "message")).data, "server: a");
    ws.close();
    const none = new WebSocket(server.url, ["c"]);
    await once(none, "open");
    assert.equal(none.protocol, "");
    none.close();
    await once(none, "close");
  } finally {
    server.close();
  }
});

test("accept: handleProtocols decides", async () => {
  const server = await serve({ handleProtocols: (offered) => offered[offered.length - 1] }, () => {});
  try {
    const ws = new WebSocket(server.url, ["x", "y", "z"]);
    await once(ws, "open");
    assert.equal(ws.protocol, "z");
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("origin check: a listed Origin is accepted, another gets 403", async () => {
  const server = await serve({ origins: ["https://good.example"] }, () => {});
  try {
    const ok = new WebSocket(server.url, [], { origin: "https://good.example" });
    await once(ok, "open");
    ok.close();
    const bad = new WebSocket(server.url, [], { origin: "https://evil.example" });
    let message = "";
    bad.onerror = (ev) => (message = ev.message);
    const ev = await once(bad, "close");
    assert.equal(ev.code, 1006);
    assert.match(message, /403/);
    const reply = await rawExchange(server.port, upgrade("/", "Origin: https://evil.example\r\n"));
    assert.match(reply, /^HTTP\/1.1 403 /);
  } finally {
    server.close();
  }
});

test("verifyClient: false is 401, a number is that status", async () => {
  const server = await serve({ verifyClient: (info) => (info.url === "/ok" ? true : info.url === "/teapot" ? 418 : false) }, () => {});
  try {
    assert.match(await rawExchange(server.port, upgrade("/no")), /^HTTP\/1.1 401 /);
    assert.match(await rawExchange(server.port, upgrade("/teapot")), /^HTTP\/1.1 418 /);
    assert.match(await rawExchange(server.port, upgrade("/ok")), /^HTTP\/1.1 101 /);
  } finally {
    server.close();
  }
});

test("the engine answers bad requests: 400, 426 with the version header", async () => {
  const server = await serve({}, () => {});
  try {
    const no_key = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert.match(await rawExchange(server.port, no_key), /^HTTP\/1.1 400 /);
    const v8 = upgrade("/").replace("Version: 13", "Version: 8");
    const reply = await rawExchange(server.port, v8);
    assert.match(reply, /^HTTP\/1.1 426 /);
    assert.match(reply, /Sec-WebSocket-Version: 13/i);
    assert.match(await rawExchange(server.port, "POST / HTTP/1.1\r\nHost: x\r\n\r\n"), /^HTTP\/1.1 400 /);
  } finally {
    server.close();
  }
});

test("accept() rejects when the handshake fails", async () => {
  const wss = new WebSocketServer();
  let rejection;
  const raw = await rawServer((sock) => wss.accept(sock).catch((e) => (rejection = e)));
  try {
    await rawExchange(raw.port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    for (let i = 0; i < 100 && !rejection; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(rejection instanceof Error);
    assert.equal(rejection.status, 400);
  } finally {
    raw.close();
  }
});

test("server-side socket: readyState, messages right after accept, close from the server", async () => {
  let serverWs;
  const server = await serve({}, (ws) => {
    serverWs = ws;
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.send("first");
    ws.send("second");
    ws.close(4100, "done here");
  });
  try {
    const ws = new WebSocket(server.url);
    const got = [];
    ws.onmessage = (ev) => got.push(ev.data);
    const ev = await once(ws, "close");
    assert.deepEqual(got, ["first", "second"]);
    assert.equal(ev.code, 4100);
    assert.equal(ev.reason, "done here");
    assert.equal(ev.wasClean, true);
    for (let i = 0; i < 100 && serverWs.readyState !== WebSocket.CLOSED; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(serverWs.readyState, WebSocket.CLOSED);
  } finally {
    server.close();
  }
});

test("a client message sent the moment it opens reaches a server listening after await", async () => {
  const got = [];
  const server = await serve({}, async (ws) => {
    await null;
    ws.onmessage = (ev) => got.push(ev.data);
  });
  try {
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send("immediately");
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ["immediately"]);
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("maxPayload: a message over the limit closes with 1009", async () => {
  let serverClose;
  const server = await serve({ maxPayload: 1000 }, (ws) => {
    serverClose = once(ws, "close");
  });
  try {
    const ws = new WebSocket(server.url, [], { perMessageDeflate: false });
    await once(ws, "open");
    ws.send(new Uint8Array(1001));
    const ev = await once(ws, "close");
    assert.equal(ev.code, 1009);
    assert.equal((await serverClose).code, 1006);
  } finally {
    server.close();
  }
});
