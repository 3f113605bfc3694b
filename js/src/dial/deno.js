// Opening connections in Deno: Deno.connect / Deno.connectTls give web streams.

import { streamTransport } from "../transport/streams.js";

export async function dial(target, signal) {
  const opts = { hostname: target.host, port: target.port, signal };
  const conn = target.tls ? await Deno.connectTls({ ...opts, ...target.tlsOptions }) : await Deno.connect(opts);
  if (signal?.aborted) {
    conn.close();
    throw new Error("aborted");
  }
  conn.setNoDelay?.(true);
  return streamTransport({ readable: conn.readable, writable: conn.writable, close: () => conn.close() });
}
