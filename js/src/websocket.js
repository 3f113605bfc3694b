// The WHATWG WebSocket interface (https://websockets.spec.whatwg.org/), as Chromium
// implements it, over the wsengine engine. The URL, subprotocol list, framing, UTF-8
// validation, handshake and close procedure are the engine's; this class holds the
// readyState, converts arguments as WebIDL does and dispatches events.

import { CloseEvent, MessageEvent, errorEvent } from "./events.js";
import { runtime } from "./runtime.js";
import { Session } from "./session.js";
import { transportFor } from "./transport/index.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const encoder = new TextEncoder();

/**
 * Whether this runtime's EventTarget itself calls `on<type>` properties when dispatching
 * (workerd's does); then adding our own listener for them would call handlers twice.
 */
const RUNTIME_CALLS_ON_PROPERTIES = (() => {
  let called = false;
  const probe = new (class extends EventTarget {
    get onprobe() {
      return () => (called = true);
    }
  })();
  probe.dispatchEvent(new Event("probe"));
  return called;
})();

const SERVER_SIDE = Symbol("wsengine server-side WebSocket");

/** (engine, transport, head, url, onOpen(ws), onFail(error)) => WebSocket */
export let serveSocket;

function syntaxError(message) {
  return new DOMException(message, "SyntaxError");
}

/**
 * close()'s code as Chromium converts it: WebIDL `unsigned short` with [Clamp] (NaN is 0,
 * out-of-range values clamp to 0 / 65535), fractions truncated as Chromium does.
 */
function clampUint16(v) {
  const n = Number(v);
  if (Number.isNaN(n)) return 0;
  return Math.trunc(Math.min(Math.max(n, 0), 0xffff));
}

/** WebIDL USVString: lone surrogates become U+FFFD. */
function usv(v) {
  const s = String(v);
  return typeof s.toWellFormed === "function" ? s.toWellFormed() : new TextDecoder().decode(encoder.encode(s));
}

export class WebSocket extends EventTarget {
  static CONNECTING = CONNECTING;
  static OPEN = OPEN;
  static CLOSING = CLOSING;
  static CLOSED = CLOSED;

  #url = "";
  #origin = "null";
  #readyState = CONNECTING;
  #protocol = "";
  #extensions = "";
  #binaryType = "blob";
  #session = null;
  /** Bytes counted in bufferedAmount outside the engine: sends after close, Blobs being read. */
  #extraBuffered = 0;
  /** Sends waiting behind a Blob being read, in order: { bytes|text|blob, size }. */
  #queue = [];
  #handlers = { open: null, message: null, error: null, close: null };
  #abort = null;

  /**
   * @param {string | URL} url  ws:, wss:, http: or https: (the last two map to ws:/wss:)
   * @param {string | string[]} [protocols]  subprotocols to offer, most preferred first
   * @param {object} [options]  not in the WHATWG API: see index.d.ts (WebSocketOptions)
   */
  constructor(url, protocols = [], options = {}) {
    super();
    if (url === SERVER_SIDE) return;
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    }
    const { Engine, Options } = runtime();
    let parsed;
    try {
      parsed = new URL(String(url), options?.base);
    } catch {
      throw syntaxError(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`);
    }
    if (parsed.protocol === "http:") parsed.protocol = "ws:";
    else if (parsed.protocol === "https:") parsed.protocol = "wss:";
    if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
      throw syntaxError(
        `Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${parsed.protocol.slice(0, -1)}' is not allowed.`,
      );
    }
    if (parsed.href.includes("#")) {
      throw syntaxError(
        `Failed to construct 'WebSocket': The URL contains a fragment identifier ('${parsed.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`,
      );
    }
    // WebIDL (DOMString or sequence<DOMString>): anything not iterable is one string.
    const list =
      protocols === undefined
        ? []
        : typeof protocols !== "string" && typeof protocols?.[Symbol.iterator] === "function"
          ? Array.from(protocols, String)
          : [String(protocols)];
    let engine;
    const opts = makeOptions(Options, options);
    try {
      engine = Engine.client(parsed.href, list, options?.origin ?? undefined, flatHeaders(options?.headers), opts);
    } catch (e) {
      throw syntaxError(`Failed to construct 'WebSocket': ${e.message}`);
    } finally {
      opts.free();
    }
    this.#url = parsed.href;
    this.#origin = `${parsed.protocol}//${parsed.host}`;
    const session = new Session(engine, this.#sessionHandlers());
    this.#session = session;
    const target = { host: engine.host, port: engine.port, tls: engine.tls, tlsOptions: options?.tls, transport: typeof options?.transport === "string" ? options.transport : undefined };
    this.#abort = new AbortController();
    const given = options?.transport;
    const connect = given && typeof given === "object" ? async () => transportFor(given) : runtime().dial;
    connect(target, this.#abort.signal)
      .then(
        (transport) => {
          this.#abort = null;
          session.attach(transport);
        },
        (err) => {
          this.#abort = null;
          session.abort(`connection to ${this.#url} failed: ${err?.message ?? err}`, err);
        },
      );
  }

  // Server-side sockets: built by server.js through these two functions, which are not
  // part of the package's exports.
  static {
    serveSocket = (engine, transport, head, url, onOpen, onFail) => {
      const ws = new WebSocket(SERVER_SIDE);
      ws.#url = url;
      ws.#serverOpen = onOpen;
      ws.#serverFail = onFail;
      ws.#session = new Session(engine, ws.#sessionHandlers());
      ws.#session.attach(transport, head);
      return ws;
    };
  }

  #opened = false;
  #serverOpen = null;
  #serverFail = null;

  #sessionHandlers() {
    return {
      open: () => {
        const engine = this.#session.engine;
        this.#protocol = engine.protocol;
        this.#extensions = engine.extensions;
        this.#readyState = OPEN;
        this.#opened = true;
        if (this.#serverOpen) {
          const cb = this.#serverOpen;
          this.#serverOpen = null;
          this.#serverFail = null;
          cb(this);
          return;
        }
        this.dispatchEvent(new Event("open"));
      },
      message: (isText, payload, whole) => {
        if (this.#readyState !== OPEN) return;
        let data;
        if (isText) data = payload;
        else if (this.#binaryType === "arraybuffer") {
          data = whole && payload.byteOffset === 0 ? payload.buffer : payload.slice().buffer;
        } else data = new Blob([payload]);
        this.dispatchEvent(new MessageEvent("message", { data, origin: this.#origin }));
      },
      closeFrame: () => {
        if (this.#readyState === OPEN) this.#readyState = CLOSING;
      },
      finished: (info) => {
        this.#readyState = CLOSED;
        this.#abort?.abort(); // a dial still under way (handshake timeout) is not wanted
        this.#queue = []; // still counted in #extraBuffered: never sent
        if (this.#serverFail) {
          // A server-side handshake that failed: nobody holds this object yet.
          const cb = this.#serverFail;
          this.#serverFail = null;
          this.#serverOpen = null;
          cb(info.error);
          return;
        }
        // A transport that ends after the open without a close frame closes with 1006 and no
        // error event, as in Chromium; failures (refused, bad handshake, violations) fire one.
        const abnormalEnd = this.#opened && (info.error?.kind === 2 ? info.error.status === 1006 : info.error?.kind === 0);
        if (info.error && !abnormalEnd) {
          const msg = !this.#opened ? `WebSocket connection to '${this.#url}' failed: ${info.error.message}` : info.error.message;
          this.dispatchEvent(errorEvent(msg, info.transportError));
        }
        this.dispatchEvent(new CloseEvent("close", { wasClean: info.wasClean, code: info.code, reason: info.reason }));
      },
    };
  }

  get url() {
    return this.#url;
  }

  get readyState() {
    return this.#readyState;
  }

  get bufferedAmount() {
    const s = this.#session;
    return this.#extraBuffered + (s && this.#readyState !== CONNECTING ? s.bufferedAmount : 0);
  }

  get protocol() {
    return this.#protocol;
  }

  get extensions() {
    return this.#extensions;
  }

  get binaryType() {
    return this.#binaryType;
  }

  set binaryType(v) {
    // WebIDL enum attribute: an unknown value is ignored.
    if (v === "blob" || v === "arraybuffer") this.#binaryType = v;
  }

  /**
   * Sends a message: a string as text, anything binary as binary. Throws InvalidStateError
   * while CONNECTING; after close() the data is only counted in bufferedAmount, as browsers do.
   */
  send(data) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    }
    if (this.#readyState === CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
    }
    let item;
    if (data instanceof ArrayBuffer) item = { bytes: new Uint8Array(data), size: data.byteLength };
    else if (ArrayBuffer.isView(data)) {
      item = { bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), size: data.byteLength };
    } else if (typeof Blob !== "undefined" && data instanceof Blob) item = { blob: data, size: data.size };
    else {
      const text = typeof data === "string" ? data : usv(data);
      if (this.#readyState === OPEN && this.#queue.length === 0) {
        if (!this.#session.sendText(text)) this.#extraBuffered += encoder.encode(text).byteLength;
        return;
      }
      item = { text, size: encoder.encode(text).byteLength };
    }
    if (this.#readyState !== OPEN) {
      this.#extraBuffered += item.size;
      return;
    }
    if (item.bytes && this.#queue.length === 0) {
      if (!this.#session.sendBinary(item.bytes)) this.#extraBuffered += item.size;
      return;
    }
    // A Blob is read asynchronously; it and everything sent after it wait in order.
    if (item.bytes) item.bytes = item.bytes.slice();
    this.#extraBuffered += item.size;
    this.#queue.push(item);
    if (this.#queue.length === 1) this.#drainQueue();
  }

  async #drainQueue() {
    // Bounded by the queue, which only send() grows, one entry per call.
    while (this.#queue.length > 0) {
      const item = this.#queue[0];
      let bytes = item.bytes;
      if (item.blob) {
        try {
          bytes = new Uint8Array(await item.blob.arrayBuffer());
        } catch {
          bytes = new Uint8Array(0);
        }
      }
      if (this.#queue[0] !== item) return; // cleared when the connection ended
      this.#queue.shift();
      if (this.#readyState !== OPEN) continue; // stays counted, as a send after close
      const sent = item.text !== undefined ? this.#session.sendText(item.text) : this.#session.sendBinary(bytes);
      if (sent) this.#extraBuffered -= item.size;
    }
  }

  /**
   * Starts the closing handshake. `code`: 1000 or 3000–4999 (else InvalidAccessError);
   * `reason`: at most 123 UTF-8 bytes (else SyntaxError).
   */
  close(code, reason) {
    // Chromium treats `close(undefined)` as no code, but `close(undefined, reason)` as code 0.
    if (code !== undefined || arguments.length > 1) {
      code = clampUint16(code);
      if (code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new DOMException(
          `Failed to execute 'close' on 'WebSocket': The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`,
          "InvalidAccessError",
        );
      }
    }
    let reasonText = "";
    if (reason !== undefined) {
      reasonText = usv(reason);
      const n = encoder.encode(reasonText).byteLength;
      if (n > 123) {
        throw new DOMException(
          `Failed to execute 'close' on 'WebSocket': The close reason must not be greater than 123 UTF-8 bytes.`,
          "SyntaxError",
        );
      }
    }
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#readyState === CONNECTING) {
      this.#readyState = CLOSING;
      this.#abort?.abort();
      const s = this.#session;
      // Failing the connection is reported asynchronously, as a task.
      setTimeout(() => s.abort("WebSocket is closed before the connection is established."), 0);
      return;
    }
    this.#readyState = CLOSING;
    // No code and no reason: a close frame without a body (1005 tells the engine so).
    const wire = code ?? (reasonText.length > 0 ? 1000 : 1005);
    this.#session.close(wire, reasonText);
  }

  get onopen() {
    return this.#handlers.open;
  }
  set onopen(f) {
    this.#setHandler("open", f);
  }
  get onmessage() {
    return this.#handlers.message;
  }
  set onmessage(f) {
    this.#setHandler("message", f);
  }
  get onerror() {
    return this.#handlers.error;
  }
  set onerror(f) {
    this.#setHandler("error", f);
  }
  get onclose() {
    return this.#handlers.close;
  }
  set onclose(f) {
    this.#setHandler("close", f);
  }

  #invokers = {};

  /** An event handler is one listener, registered where it was first set (HTML §8.1.8.1). */
  #setHandler(type, f) {
    const fn = typeof f === "function" || (typeof f === "object" && f !== null) ? f : null;
    this.#handlers[type] = fn;
    if (fn && !this.#invokers[type] && !RUNTIME_CALLS_ON_PROPERTIES) {
      this.#invokers[type] = (ev) => {
        const h = this.#handlers[type];
        if (typeof h === "function") h.call(this, ev);
      };
      this.addEventListener(type, this.#invokers[type]);
    }
  }

  get [Symbol.toStringTag]() {
    return "WebSocket";
  }
}

for (const [k, v] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
  Object.defineProperty(WebSocket.prototype, k, { value: v, enumerable: true });
}

function flatHeaders(h) {
  if (!h) return [];
  const entries = typeof h.entries === "function" && !Array.isArray(h) ? [...h.entries()] : Array.isArray(h) ? h : Object.entries(h);
  return entries.flatMap(([k, v]) => [String(k), String(v)]);
}

/** Builds the engine's Options from the JS options object (see index.d.ts). */
export function makeOptions(Options, o = {}) {
  const opts = new Options();
  if (o?.perMessageDeflate === false) opts.setDeflate(false);
  if (o?.maxPayload !== undefined) opts.setMaxMessageSize(o.maxPayload);
  if (o?.handshakeTimeout !== undefined) opts.setHandshakeTimeout(o.handshakeTimeout ?? -1);
  if (o?.closeTimeout !== undefined) opts.setCloseTimeout(o.closeTimeout ?? -1);
  if (o?.keepaliveInterval !== undefined) opts.setKeepalive(o.keepaliveInterval ?? -1, o.keepaliveTimeout ?? -1);
  if (o?.idleTimeout !== undefined) opts.setIdleTimeout(o.idleTimeout ?? -1);
  if (o?.writeTimeout !== undefined) opts.setWriteTimeout(o.writeTimeout ?? -1);
  if (o?.frameSize !== undefined) opts.setFrameSize(o.frameSize);
  return opts;
}
