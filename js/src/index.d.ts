// Types for the `wsengine` package: a WHATWG WebSocket (client) and a server that produces
// the same WebSocket objects, over raw TCP/TLS in Node, Deno, Bun and workerd.

/** Options beyond the WHATWG constructor (third argument; browsers have none). */
export interface WebSocketOptions {
  /** Offer permessage-deflate (default true, as browsers do). */
  perMessageDeflate?: boolean;
  /** Largest message accepted, in bytes after decompression (default 16 MiB); a larger
   *  one fails the connection with 1009. */
  maxPayload?: number;
  /** Opening handshake timeout in ms (default 30 000; null or negative: none). */
  handshakeTimeout?: number | null;
  /** How long to wait for the peer's close frame after ours, in ms (default 5 000). */
  closeTimeout?: number | null;
  /** Send a ping after this many ms without traffic (default: never). */
  keepaliveInterval?: number | null;
  /** Fail (1006) when no pong follows a keepalive ping within this many ms (default 20 000). */
  keepaliveTimeout?: number;
  /** Fail (1006) when nothing arrives for this many ms (default: never). */
  idleTimeout?: number | null;
  /** Fail (1006) when outgoing bytes wait this many ms without the transport writing any,
   *  e.g. a peer that stopped reading (default 30 000; null or negative: never). */
  writeTimeout?: number | null;
  /** Payload bytes per frame for outgoing messages; 0 (default): one frame per message. */
  frameSize?: number;
  /** The `Origin` header to send (none by default). */
  origin?: string;
  /** Extra request headers (not the ones the handshake sets itself). */
  headers?: Record<string, string> | Iterable<[string, string]>;
  /** Base URL for relative URLs (browsers use the document's). */
  base?: string | URL;
  /** TLS options for wss: passed to node:tls `connect` (Node, Bun; e.g. `{ ca }`) or to
   *  `Deno.connectTls` (e.g. `{ caCerts }`). */
  tls?: Record<string, unknown>;
  /**
   * A connection to run over instead of dialing the URL's host: a `{ readable, writable }`
   * pair of web streams (or a Node socket). `"streams"` in Node: dial, but go through
   * `Duplex.toWeb` instead of the socket's own events.
   */
  transport?: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; close?(): void } | "streams";
}

export type BinaryType = "blob" | "arraybuffer";

/** The `error` event: a plain Event, with the reason attached for debugging. */
export interface WebSocketErrorEvent extends Event {
  readonly message: string;
  readonly error?: unknown;
}

export interface CloseEventInit extends EventInit {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/** The runtime's CloseEvent (Node 20 has none: then an equivalent Event subclass). */
export declare class CloseEvent extends Event {
  constructor(type: string, init?: CloseEventInit);
  readonly wasClean: boolean;
  readonly code: number;
  readonly reason: string;
}

interface WebSocketEventMap {
  open: Event;
  message: MessageEvent;
  error: WebSocketErrorEvent;
  close: CloseEvent;
}

/**
 * The browser's WebSocket (https://websockets.spec.whatwg.org/), as Chromium behaves:
 * events, readyState transitions, close codes and argument checks.
 */
export declare class WebSocket extends EventTarget {
  /** @throws DOMException SyntaxError for a bad URL, scheme, fragment or subprotocol list. */
  constructor(url: string | URL, protocols?: string | string[], options?: WebSocketOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  /** The URL, serialized (http: and https: become ws: and wss:); "" on the server side. */
  readonly url: string;
  readonly readyState: 0 | 1 | 2 | 3;
  /** Payload bytes passed to send() that the transport has not accepted yet. */
  readonly bufferedAmount: number;
  /** The subprotocol the server chose, or "". */
  readonly protocol: string;
  /** The negotiated Sec-WebSocket-Extensions value, or "". */
  readonly extensions: string;
  binaryType: BinaryType;

  onopen: ((this: WebSocket, ev: Event) => unknown) | null;
  onmessage: ((this: WebSocket, ev: MessageEvent) => unknown) | null;
  onerror: ((this: WebSocket, ev: WebSocketErrorEvent) => unknown) | null;
  onclose: ((this: WebSocket, ev: CloseEvent) => unknown) | null;

  /**
   * Sends a string as text, anything else as binary. Blobs are read asynchronously; later
   * sends wait for them, in order.
   * @throws DOMException InvalidStateError while CONNECTING.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void;

  /**
   * Starts the closing handshake (or fails a connection still connecting).
   * @throws DOMException InvalidAccessError unless code is 1000 or 3000–4999;
   *   SyntaxError if reason is over 123 UTF-8 bytes.
   */
  close(code?: number, reason?: string): void;

  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, ev: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

/** What the accept policy sees of an opening request. */
export interface UpgradeInfo {
  method: string;
  /** The request target, e.g. "/chat?room=1". */
  url: string;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  origin: string | undefined;
  /** The subprotocols the client offered, in its order. */
  protocols: string[];
}

export interface ServerOptions {
  /** Accept permessage-deflate when offered (default true). */
  perMessageDeflate?: boolean;
  /** Subprotocols supported: the first one the client offered that is listed is chosen. */
  protocols?: string[];
  /** Chooses the subprotocol (a string one of `offered`), or none (null). */
  handleProtocols?: (offered: string[], info: UpgradeInfo) => string | null | false;
  /** Allowed Origin values; another Origin gets 403 (a request without Origin passes). */
  origins?: string[];
  /** false: 401; a number: that HTTP status; true or nothing: accept. Synchronous. */
  verifyClient?: (info: UpgradeInfo) => boolean | number | void;
  maxPayload?: number;
  handshakeTimeout?: number | null;
  closeTimeout?: number | null;
  keepaliveInterval?: number | null;
  keepaliveTimeout?: number;
  idleTimeout?: number | null;
  writeTimeout?: number | null;
  frameSize?: number;
}

/** A Node or Bun socket (net.Socket, tls.TLSSocket), structurally: no @types/node needed. */
export interface NodeSocketLike {
  write(chunk: Uint8Array, cb?: (err?: Error | null) => void): boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  end(): unknown;
  destroy(): unknown;
  setNoDelay?(noDelay?: boolean): unknown;
}

/** What handleUpgrade reads of Node's http.IncomingMessage. */
export interface UpgradeRequest {
  method?: string;
  url?: string;
  httpVersion: string;
  rawHeaders: string[];
}

/** A raw connection the server can accept. */
export type Connection =
  | { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array>; close?(): void }
  | NodeSocketLike;

/** An error from a failed server-side handshake; `status` is the HTTP status answered. */
export interface HandshakeFailure extends Error {
  status?: number;
}

export declare class WebSocketServer {
  constructor(options?: ServerOptions);
  /**
   * For Node's http `upgrade` event: the engine answers the request (101, or an HTTP error
   * and the socket is closed); `callback` runs with the open WebSocket.
   */
  handleUpgrade<R extends UpgradeRequest>(req: R, socket: NodeSocketLike, head: Uint8Array, callback: (ws: WebSocket, req: R) => void): void;
  /** Runs the opening handshake on a raw TCP/TLS connection; resolves with the open WebSocket,
   *  rejects with a HandshakeFailure. */
  accept(conn: Connection): Promise<WebSocket>;
}
