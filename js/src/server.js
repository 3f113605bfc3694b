// The server side: the engine answers the opening handshake (101, or 400/426/431 for a bad
// request, or the status our accept policy chose) and the result is the same WebSocket
// class a client gets, already OPEN.

import { runtime } from "./runtime.js";
import { transportFor } from "./transport/index.js";
import { makeOptions, serveSocket } from "./websocket.js";

const encoder = new TextEncoder();

/**
 * Accepts WebSocket connections: from Node's http `upgrade` event (`handleUpgrade`, the
 * pattern `ws` users know) or from any raw TCP/TLS connection (`accept`).
 */
export class WebSocketServer {
  #options;
  #policy;

  /** @param {import("./index.d.ts").ServerOptions} [options] */
  constructor(options = {}) {
    this.#options = { ...options };
    this.#policy = makePolicy(this.#options);
  }

  /**
   * Completes an upgrade that Node's http server parsed: `head` (the bytes that followed the
   * request) is fed to the engine. `callback(ws, req)` runs once the handshake succeeded;
   * a rejected or invalid request is answered with its HTTP status and the socket closed.
   */
  handleUpgrade(req, socket, head, callback) {
    // The engine parses and checks the request itself: give it the head Node read.
    let text = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
    text += "\r\n";
    const request = encoder.encode(text);
    const rest = head && head.byteLength > 0 ? new Uint8Array(head.buffer, head.byteOffset, head.byteLength) : null;
    const bytes = rest ? concat(request, rest) : request;
    socket.setNoDelay?.(true);
    this.#serve(transportFor(socket), bytes, (ws) => callback(ws, req));
  }

  /**
   * Runs the opening handshake on a raw connection (a Node/Bun `net.Socket` or
   * `tls.TLSSocket`, a Deno `Conn`, or any `{ readable, writable }` pair) and resolves with
   * the open WebSocket. Rejects if the handshake fails (the client got an HTTP error).
   * Events after the open wait for the next task, so listeners added right after `await`
   * see every message.
   */
  accept(conn) {
    conn.setNoDelay?.(true);
    return new Promise((resolve, reject) => {
      this.#serve(transportFor(conn), null, resolve, reject);
    });
  }

  #serve(transport, head, onOpen, onFail = () => {}) {
    const { Engine, Options } = runtime();
    const opts = makeOptions(Options, this.#options);
    let engine;
    try {
      engine = Engine.server(opts, this.#policy);
    } finally {
      opts.free();
    }
    const fail = (error) => {
      const e = new Error(`WebSocket handshake failed: ${error?.message ?? "connection closed"}`);
      e.status = error?.status || undefined;
      onFail(e);
    };
    return serveSocket(engine, transport, head, "", onOpen, fail);
  }
}

function concat(a, b) {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/**
 * The engine's accept callback: (method, target, headers[], offeredProtocols[]) →
 * subprotocol | null | HTTP status. Built from the options:
 * - `origins`: allowed `Origin` values (a request without Origin is allowed; browsers send
 *   one, other clients usually do not); others get 403;
 * - `verifyClient(info)`: false → 401, a number → that status, true/undefined → go on;
 * - `handleProtocols(offered, info)` → the subprotocol (or null/false for none); otherwise
 *   the first offered protocol that is in `protocols`.
 */
function makePolicy(o) {
  const origins = o.origins ? new Set(o.origins) : null;
  const supported = o.protocols ? Array.from(o.protocols, String) : [];
  if (!origins && !o.verifyClient && !o.handleProtocols && supported.length === 0) return undefined;
  return (method, target, flat, offered) => {
    const headers = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const k = flat[i].toLowerCase();
      headers[k] = k in headers ? `${headers[k]}, ${flat[i + 1]}` : flat[i + 1];
    }
    const info = { method, url: target, headers, origin: headers.origin, protocols: offered };
    if (origins && info.origin !== undefined && !origins.has(info.origin)) return 403;
    if (o.verifyClient) {
      const v = o.verifyClient(info);
      if (v === false) return 401;
      if (typeof v === "number") return v;
    }
    if (o.handleProtocols) {
      const p = o.handleProtocols(offered, info);
      return typeof p === "string" ? p : null;
    }
    return offered.find((p) => supported.includes(p)) ?? null;
  };
}
