// Picks the transport for a connection object the caller hands in.

import { streamTransport } from "./streams.js";
import { isNodeSocket, nodeSocketTransport } from "./node.js";

/** A Node/Bun socket goes through its own events; anything else must be `{ readable, writable }`. */
export function transportFor(conn) {
  if (isNodeSocket(conn)) return nodeSocketTransport(conn);
  if (conn?.readable && conn?.writable) {
    return streamTransport({ readable: conn.readable, writable: conn.writable, close: typeof conn.close === "function" ? () => conn.close() : undefined });
  }
  throw new TypeError("expected a socket or a { readable, writable } pair of web streams");
}
