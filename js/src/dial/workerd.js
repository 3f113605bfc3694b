// Opening connections in Cloudflare Workers / workerd: connect() from cloudflare:sockets.
// A refused port, a blocked address and a TLS failure all look alike there: the socket's
// `opened` rejects or its stream ends, and the engine reports the handshake as failed.

import { connect } from "cloudflare:sockets";
import { streamTransport } from "../transport/streams.js";

export async function dial(target, signal) {
  const socket = connect(
    { hostname: target.host, port: target.port },
    { secureTransport: target.tls ? "on" : "off", allowHalfOpen: false },
  );
  const onAbort = () => socket.close();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await socket.opened;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  return streamTransport({ readable: socket.readable, writable: socket.writable, close: () => socket.close() });
}
