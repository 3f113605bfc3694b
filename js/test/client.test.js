// The WebSocket client: the WHATWG surface against servers in this runtime and the native
// echo server.

import assert from "node:assert/strict";
import { WebSocket, WebSocketServer } from "wsengine";
import { test } from "./harness.js";
import { bytesOf, deadPort, echoServer, nativeEchoUrl, once, rawServer, record, sameBytes, serve } from "./util.js";

test("constants and initial state", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    assert.equal(WebSocket.CONNECTING, 0);
    assert.equal(WebSocket.CLOSED, 3);
    assert.equal(ws.OPEN, 1);
    assert.equal(ws.CLOSING, 2);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.url, `${server.url}/`);
    assert.equal(ws.binaryType, "blob");
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.protocol, "");
    assert.equal(ws.extensions, "");
    await once(ws, "open");
    assert.equal(ws.readyState, WebSocket.OPEN);
    assert.match(ws.extensions, /^permessage-deflate/);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const ev = await once(ws, "close");
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.equal(ev.code, 1005);
    assert.equal(ev.wasClean, true);
  } finally {
    server.close();
  }
});

test("text and binary echo through a server in this runtime", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    ws.binaryType = "arraybuffer";
    await once(ws, "open");
    const got = [];
    ws.onmessage = (ev) => got.push(ev.data);
    ws.send("héllo \u{1F600}");
    ws.send(new Uint8Array([1, 2, 3]));
    ws.send(new Uint16Array([0x0201]).buffer);
    ws.send(new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2));
    ws.send("\uFEFFbom kept");
    while (got.length < 5) await once(ws, "message");
    assert.equal(got[0], "héllo \u{1F600}");
    assert.ok(got[1] instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(got[1])], [1, 2, 3]);
    assert.deepEqual([...new Uint8Array(got[2])], [1, 2]);
    assert.deepEqual([...new Uint8Array(got[3])], [8, 7]);
    assert.equal(got[4], "\uFEFFbom kept");
    ws.close(1000);
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("binaryType blob delivers Blobs; Blobs can be sent, in order with other sends", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    await once(ws, "open");
    const got = [];
    ws.onmessage = (ev) => got.push(ev.data);
    ws.send(new Blob([new Uint8Array([5, 6, 7])]));
    ws.send("after the blob");
    assert.ok(ws.bufferedAmount >= 3 + 14);
    while (got.length < 2) await once(ws, "message");
    assert.ok(got[0] instanceof Blob);
    assert.deepEqual([...new Uint8Array(await got[0].arrayBuffer())], [5, 6, 7]);
    assert.equal(got[1], "after the blob");
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("large messages both ways (8 MiB binary, 1 MiB text)", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    ws.binaryType = "arraybuffer";
    await once(ws, "open");
    const big = bytesOf(8 << 20);
    const text = "x".repeat(1 << 20);
    ws.send(big);
    ws.send(text);
    const a = await once(ws, "message", 15000);
    assert.ok(sameBytes(a.data, big));
    const b = await once(ws, "message", 15000);
    assert.equal(b.data, text);
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
}, { timeout: 30000 });

test("fragmented messages are reassembled (server sends 7-byte frames)", async () => {
  const server = await serve({ frameSize: 7, perMessageDeflate: false }, (ws) => {
    ws.onmessage = (ev) => ws.send(ev.data + ev.data);
  });
  try {
    const ws = new WebSocket(server.url);
    await once(ws, "open");
    ws.send("fragment me please");
    const ev = await once(ws, "message");
    assert.equal(ev.data, "fragment me pleasefragment me please");
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("compression is offered by default and can be turned off", async () => {
  const server = await echoServer();
  try {
    const a = new WebSocket(server.url);
    await once(a, "open");
    assert.match(a.extensions, /permessage-deflate/);
    a.send("z".repeat(100000));
    assert.equal((await once(a, "message")).data, "z".repeat(100000));
    a.close();
    await once(a, "close");
    const b = new WebSocket(server.url, [], { perMessageDeflate: false });
    await once(b, "open");
    assert.equal(b.extensions, "");
    b.close();
    await once(b, "close");
  } finally {
    server.close();
  }
});

test("subprotocols: the server's choice is reported", async () => {
  const server = await serve({ protocols: ["chat", "superchat"] }, (ws) => ws.send(ws.protocol));
  try {
    const ws = new WebSocket(server.url, ["v2", "superchat", "chat"]);
    await once(ws, "open");
    assert.equal(ws.protocol, "superchat");
    assert.equal((await once(ws, "message")).data, "superchat");
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("close codes and reasons travel both ways", async () => {
  let serverClose;
  const server = await serve({}, (ws) => {
    serverClose = once(ws, "close");
    ws.onmessage = (ev) => {
      if (ev.data === "close please") ws.close(4002, "server says bye");
    };
  });
  try {
    const a = new WebSocket(server.url);
    await once(a, "open");
    a.close(4001, "client says bye");
    const ca = await once(a, "close");
    assert.equal(ca.code, 4001);
    assert.equal(ca.wasClean, true);
    const sa = await serverClose;
    assert.equal(sa.code, 4001);
    assert.equal(sa.reason, "client says bye");

    const b = new WebSocket(server.url);
    await once(b, "open");
    const log = record(b);
    b.send("close please");
    const cb = await once(b, "close");
    assert.equal(cb.code, 4002);
    assert.equal(cb.reason, "server says bye");
    assert.equal(cb.wasClean, true);
    assert.deepEqual(log, ["close 4002 true server says bye"]);
  } finally {
    server.close();
  }
});

test("close() checks code and reason as WHATWG says", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    for (const code of [999, 1001, 1005, 2999, 5000, 0, "x"]) {
      assert.throws(() => ws.close(code), (e) => e.name === "InvalidAccessError", `code ${code}`);
    }
    assert.throws(() => ws.close(1000, "é".repeat(62)), (e) => e.name === "SyntaxError");
    ws.close(1000, "é".repeat(61) + "a");
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const log = record(ws);
    await once(ws, "close");
    assert.deepEqual(log, ["error 3", "close 1006 false"]);
  } finally {
    server.close();
  }
});

test("send() while connecting throws InvalidStateError; after close() it only counts", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    assert.throws(() => ws.send("early"), (e) => e.name === "InvalidStateError");
    assert.throws(() => ws.send(), TypeError);
    await once(ws, "open");
    ws.close();
    ws.send("late");
    ws.send(new Uint8Array(10));
    assert.equal(ws.bufferedAmount, 14);
    await once(ws, "close");
    ws.send("later");
    assert.equal(ws.bufferedAmount, 19);
  } finally {
    server.close();
  }
});

test("bad URLs and protocol lists throw SyntaxError", () => {
  for (const url of ["not a url", "ftp://example.com/", "ws://example.com/#frag", "ws://example.com/#", "ws://[::1/", "file:///etc/passwd"]) {
    assert.throws(() => new WebSocket(url), (e) => e.name === "SyntaxError", url);
  }
  assert.throws(() => new WebSocket("ws://127.0.0.1:1/", ["a", "a"]), (e) => e.name === "SyntaxError");
  assert.throws(() => new WebSocket("ws://127.0.0.1:1/", ["bad protocol"]), (e) => e.name === "SyntaxError");
  assert.throws(() => new WebSocket("ws://127.0.0.1:1/", [""]), (e) => e.name === "SyntaxError");
  assert.throws(() => new WebSocket(), TypeError);
});

test("http: and https: URLs map to ws: and wss:", () => {
  const a = new WebSocket("http://127.0.0.1:1/x?y");
  assert.equal(a.url, "ws://127.0.0.1:1/x?y");
  a.close();
  const b = new WebSocket("HTTPS://Example.COM");
  assert.equal(b.url, "wss://example.com/");
  b.close();
});

test("a refused connection fires error then close 1006", async () => {
  const ws = new WebSocket(`ws://127.0.0.1:${await deadPort()}/`);
  const log = record(ws);
  const ev = await once(ws, "close");
  assert.equal(ev.code, 1006);
  assert.equal(ev.wasClean, false);
  assert.equal(ws.readyState, WebSocket.CLOSED);
  assert.deepEqual(log, ["error 3", "close 1006 false"]);
});

test("a server that answers 404 fails the connection", async () => {
  const server = await rawServer((sock) => {
    sock.once("data", () => sock.end("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"));
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/nowhere`);
    const log = record(ws);
    let message = "";
    ws.onerror = (ev) => (message = ev.message);
    await once(ws, "close");
    assert.deepEqual(log, ["error 3", "close 1006 false"]);
    assert.match(message, /404/);
  } finally {
    server.close();
  }
});

test("a protocol violation by the server fails the connection (1006 locally)", async () => {
  const server = await rawServer((sock) => {
    let buf = "";
    sock.on("data", async (d) => {
      buf += d.toString("latin1");
      if (!buf.includes("\r\n\r\n")) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(buf)[1];
      const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
      const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      // A text frame with invalid UTF-8.
      sock.write(Uint8Array.from([0x81, 0x02, 0xc3, 0x28]));
    });
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`);
    const log = record(ws);
    await once(ws, "close");
    assert.deepEqual(log, ["open 1", "error 3", "close 1006 false"]);
  } finally {
    server.close();
  }
});

test("the connection dropping after open: close 1006 without an error event (as Chromium)", async () => {
  const wss = new WebSocketServer();
  const raw = await rawServer((sock) => wss.accept(sock).then(() => setTimeout(() => sock.destroy(), 20), () => {}));
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
    const log = record(ws);
    await once(ws, "close");
    assert.deepEqual(log, ["open 1", "close 1006 false"]);
  } finally {
    raw.close();
  }
});

test("the connection dropping during the handshake: error, then close 1006", async () => {
  const raw = await rawServer((sock) => sock.once("data", () => sock.destroy()));
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`);
    const log = record(ws);
    await once(ws, "close");
    assert.deepEqual(log, ["error 3", "close 1006 false"]);
  } finally {
    raw.close();
  }
});

test("a server that never answers: the handshake times out (error, close 1006)", async () => {
  const raw = await rawServer(() => {});
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`, [], { handshakeTimeout: 200 });
    const log = record(ws);
    let message = "";
    ws.onerror = (ev) => (message = ev.message);
    const t0 = Date.now();
    await once(ws, "close");
    assert.ok(Date.now() - t0 >= 150);
    assert.deepEqual(log, ["error 3", "close 1006 false"]);
    assert.match(message, /timeout/i);
  } finally {
    raw.close();
  }
});

test("close() while connecting: error and close 1006, asynchronously", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    const log = record(ws);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.deepEqual(log, []);
    await once(ws, "close");
    assert.deepEqual(log, ["error 3", "close 1006 false"]);
  } finally {
    server.close();
  }
});

test("on-properties and addEventListener both see events, in registration order", async () => {
  const server = await echoServer();
  try {
    const ws = new WebSocket(server.url);
    const order = [];
    ws.addEventListener("open", () => order.push("listener 1"));
    ws.onopen = () => order.push("onopen");
    ws.addEventListener("open", () => order.push("listener 2"));
    ws.onopen = () => order.push("onopen replaced");
    await once(ws, "open");
    assert.deepEqual(order, ["listener 1", "onopen replaced", "listener 2"]);
    ws.onopen = null;
    assert.equal(ws.onopen, null);
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("back-pressure: bufferedAmount counts until the transport takes the bytes", async () => {
  // A server that completes the handshake and then stops reading.
  const wss = new WebSocketServer({ perMessageDeflate: false });
  const raw = await rawServer((sock) => wss.accept(sock).then(() => sock.pause(), () => {}));
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${raw.port}/`, [], { perMessageDeflate: false });
    await once(ws, "open");
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 64; i++) ws.send(chunk);
    assert.equal(ws.bufferedAmount, 64 << 20);
    // The loopback socket buffers take a few MiB, then the transport stops accepting: wait
    // (bounded) until bufferedAmount stops moving.
    let held = ws.bufferedAmount;
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, 200));
      if (ws.bufferedAmount === held) break;
      held = ws.bufferedAmount;
    }
    assert.equal(ws.bufferedAmount, held, "nothing moves while the peer does not read");
    assert.ok(held > 0, "the unread server holds the data back");
    assert.ok(held < 64 << 20, "some of it was written");
    ws.close();
  } finally {
    raw.close();
  }
});

test("back-pressure drains: bufferedAmount returns to 0 once the peer reads", async () => {
  const server = await echoServer({ perMessageDeflate: false });
  try {
    const ws = new WebSocket(server.url, [], { perMessageDeflate: false });
    ws.binaryType = "arraybuffer";
    await once(ws, "open");
    let n = 0;
    ws.onmessage = () => n++;
    const chunk = new Uint8Array(256 << 10);
    for (let i = 0; i < 32; i++) ws.send(chunk);
    assert.equal(ws.bufferedAmount, 32 * (256 << 10));
    for (let i = 0; i < 200 && n < 32; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(n, 32);
    assert.equal(ws.bufferedAmount, 0);
    ws.close();
    await once(ws, "close");
  } finally {
    server.close();
  }
});

test("native echo server: text, binary, compression", async () => {
  const url = nativeEchoUrl();
  if (!url) return; // only under `cargo xtask test`, which starts it
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  await once(ws, "open");
  assert.match(ws.extensions, /permessage-deflate/);
  ws.send("hello native");
  assert.equal((await once(ws, "message")).data, "hello native");
  const big = bytesOf(3 << 20);
  ws.send(big);
  assert.ok(sameBytes((await once(ws, "message")).data, big));
  ws.close(1000, "done");
  const ev = await once(ws, "close");
  assert.equal(ev.code, 1000);
  assert.equal(ev.wasClean, true);
});

test("a peer that stops reading: the write timeout fails the connection (1006)", async () => {
  const { createHash } = await import("node:crypto");
  // Answers the handshake, then never reads again: the kernel buffers fill and stay full.
  const server = await rawServer((sock) => {
    let head = "";
    const onData = (b) => {
      head += b.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      sock.off("data", onData);
      sock.pause();
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
      const accept = createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    };
    sock.on("data", onData);
  });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, [], { writeTimeout: 300, perMessageDeflate: false });
    await once(ws, "open");
    const errors = [];
    ws.onerror = (e) => errors.push(e);
    const started = Date.now();
    // 32 MiB: more than loopback's socket buffers on both sides can hold.
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < 32; i++) ws.send(chunk);
    const ev = await once(ws, "close", 15000);
    assert.equal(ev.code, 1006);
    assert.equal(ev.wasClean, false);
    assert.equal(errors.length, 1);
    assert.ok(Date.now() - started < 10000, `${Date.now() - started} ms`);
    assert.equal(ws.bufferedAmount, 0);
  } finally {
    server.close();
  }
});
