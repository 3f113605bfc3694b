// Helpers shared by the tests: servers on loopback in the current runtime, and waiting for
// events with a deadline.

import net from "node:net";
import { WebSocketServer } from "wsengine";
import { runtime } from "./harness.js";

/** Resolves with the next `type` event of `target` (rejects after `ms`). */
export function once(target, type, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type} event within ${ms} ms`)), ms);
    target.addEventListener(type, (ev) => {
      clearTimeout(t);
      resolve(ev);
    }, { once: true });
  });
}

/** Records every event's type (and close details) of a WebSocket, in order. */
export function record(ws) {
  const log = [];
  for (const type of ["open", "message", "error", "close"]) {
    ws.addEventListener(type, (ev) => {
      if (type === "close") log.push(`close ${ev.code} ${ev.wasClean} ${ev.reason}`.trim());
      else if (type === "message") log.push(`message ${typeof ev.data === "string" ? ev.data : "binary"}`);
      else log.push(`${type} ${ws.readyState}`);
    });
  }
  return log;
}

/**
 * Starts a WebSocketServer on 127.0.0.1 with `options`, calling `onSocket(ws)` per accepted
 * socket. In Deno it listens with Deno.listen (web streams), elsewhere with node:net.
 * Returns { url, port, close() }.
 */
export async function serve(options, onSocket) {
  const wss = new WebSocketServer(options);
  const accept = (conn) => wss.accept(conn).then(onSocket, () => {});
  if (runtime === "deno") {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    (async () => {
      try {
        for await (const conn of listener) accept(conn);
      } catch {
        // closed
      }
    })();
    const port = listener.addr.port;
    return { port, url: `ws://127.0.0.1:${port}`, close: () => listener.close() };
  }
  const sockets = new Set();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    accept(sock);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** An echo server: every message goes back as it came. */
export function echoServer(options = {}) {
  return serve(options, (ws) => {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (ev) => ws.send(ev.data);
  });
}

/** A TCP port with nothing listening on it. */
export async function deadPort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A raw TCP server: `onConn(sock)` for each node:net socket. */
export async function rawServer(onConn) {
  const sockets = new Set();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    onConn(sock);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** The native echo server's URL (started by `cargo xtask test`), or null. */
export function nativeEchoUrl() {
  const env = globalThis.Deno ? Deno.env.get("WSENGINE_ECHO_URL") : globalThis.process?.env?.WSENGINE_ECHO_URL;
  return env || null;
}

export function bytesOf(n, seed = 1) {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export function sameBytes(a, b) {
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  if (x.byteLength !== y.byteLength) return false;
  for (let i = 0; i < x.byteLength; i++) if (x[i] !== y[i]) return false;
  return true;
}
