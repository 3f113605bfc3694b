// Interop with the `ws` package (the reference Node peer), both directions, with and
// without permessage-deflate.

import assert from "node:assert/strict";
import http from "node:http";
import { WebSocket as WsClient, WebSocketServer as WsServer } from "ws";
import { WebSocket, WebSocketServer } from "wsengine";
import { test } from "./harness.js";
import { bytesOf, once, sameBytes, serve } from "./util.js";

const onceWs = (emitter, event) => new Promise((resolve) => emitter.once(event, (...a) => resolve(a)));

async function wsServer(options) {
  const wss = new WsServer({ port: 0, host: "127.0.0.1", ...options });
  await onceWs(wss, "listening");
  wss.on("connection", (sock) => {
    sock.on("message", (data, isBinary) => sock.send(data, { binary: isBinary }));
  });
  return { url: `ws://127.0.0.1:${wss.address().port}`, wss, close: () => wss.close() };
}

for (const deflate of [true, false]) {
  const mode = deflate ? "with compression" : "without compression";

  test(`our client -> ws server, ${mode}`, async () => {
    const server = await wsServer({ perMessageDeflate: deflate });
    try {
      const ws = new WebSocket(server.url);
      ws.binaryType = "arraybuffer";
      await once(ws, "open");
      assert.equal(ws.extensions !== "", deflate);
      const big = bytesOf(1 << 20);
      const text = "interop ".repeat(20000);
      ws.send("hello ws");
      ws.send(big);
      ws.send(text);
      assert.equal((await once(ws, "message")).data, "hello ws");
      assert.ok(sameBytes((await once(ws, "message")).data, big));
      assert.equal((await once(ws, "message")).data, text);
      ws.close(4321, "bye ws");
      const ev = await once(ws, "close");
      assert.equal(ev.code, 4321);
      assert.equal(ev.wasClean, true);
    } finally {
      server.close();
    }
  });

  test(`ws client -> our server, ${mode}`, async () => {
    let serverClose;
    const server = await serve({ perMessageDeflate: deflate }, (ws) => {
      ws.binaryType = "arraybuffer";
      ws.onmessage = (ev) => ws.send(ev.data);
      serverClose = once(ws, "close");
    });
    try {
      const client = new WsClient(server.url, { perMessageDeflate: deflate });
      await onceWs(client, "open");
      assert.equal(Boolean(client.extensions), deflate);
      const got = [];
      client.on("message", (data, isBinary) => got.push(isBinary ? data : data.toString()));
      const big = bytesOf(3 << 20, 7);
      client.send("hello engine");
      client.send(big);
      // A fragmented message: ws sends each part as a frame.
      client.send("part one, ", { fin: false });
      client.send("part two", { fin: true });
      for (let i = 0; i < 300 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(got[0], "hello engine");
      assert.ok(sameBytes(got[1], big));
      assert.equal(got[2], "part one, part two");
      // Ping from ws: the engine answers with a pong carrying the same payload.
      client.ping("are you there");
      const [pong] = await onceWs(client, "pong");
      assert.equal(pong.toString(), "are you there");
      client.close(4000, "ws leaves");
      const [code, reason] = await onceWs(client, "close");
      assert.equal(code, 4000);
      assert.equal(reason.toString(), "");
      const ev = await serverClose;
      assert.equal(ev.code, 4000);
      assert.equal(ev.reason, "ws leaves");
    } finally {
      server.close();
    }
  });
}

test("ws server pings our client: the engine answers, the connection stays open", async () => {
  const wss = new WsServer({ port: 0, host: "127.0.0.1" });
  await onceWs(wss, "listening");
  const pongs = [];
  wss.on("connection", (sock) => {
    sock.on("pong", (p) => {
      pongs.push(p.toString());
      sock.send("got your pong");
    });
    sock.ping("ping from ws");
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    const ev = await once(ws, "message");
    assert.equal(ev.data, "got your pong");
    assert.deepEqual(pongs, ["ping from ws"]);
    ws.close();
    await once(ws, "close");
  } finally {
    wss.close();
  }
});

test("keepalive: our server pings, ws answers, the connection stays up", async () => {
  const server = await serve({ keepaliveInterval: 50, keepaliveTimeout: 1000 }, () => {});
  try {
    const client = new WsClient(server.url);
    let pings = 0;
    client.on("ping", () => pings++);
    await onceWs(client, "open");
    for (let i = 0; i < 100 && pings < 3; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(pings >= 3, `pings: ${pings}`);
    assert.equal(client.readyState, WsClient.OPEN);
    client.close();
    await onceWs(client, "close");
  } finally {
    server.close();
  }
});

test("ws client through handleUpgrade on a shared http server", async () => {
  const wss = new WebSocketServer({ protocols: ["json"] });
  const server = http.createServer();
  server.on("upgrade", (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => (ws.onmessage = (ev) => ws.send(ev.data))));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const client = new WsClient(`ws://127.0.0.1:${server.address().port}/`, ["json"]);
    await onceWs(client, "open");
    assert.equal(client.protocol, "json");
    client.send("{}");
    const [data] = await onceWs(client, "message");
    assert.equal(data.toString(), "{}");
    client.close();
    await onceWs(client, "close");
  } finally {
    server.closeAllConnections?.();
    server.close();
  }
}, { only: ["node", "bun"] });
