// Opening connections in Node (and Bun, whose node:net and node:tls are compatible).

import net from "node:net";
import tls from "node:tls";
import { Duplex } from "node:stream";
import { nodeSocketTransport } from "../transport/node.js";
import { streamTransport } from "../transport/streams.js";

/**
 * Connects to `target` and resolves with a transport once TCP (and TLS) is up. `transport:
 * "streams"` goes through `Duplex.toWeb` (the generic web-streams path) instead of the
 * socket's own events.
 */
export function dial(target, signal) {
  return new Promise((resolve, reject) => {
    const host = target.host;
    const sock = target.tls
      ? tls.connect({
          host,
          port: target.port,
          servername: net.isIP(host) ? undefined : host,
          ALPNProtocols: ["http/1.1"],
          ...target.tlsOptions,
        })
      : net.connect({ host, port: target.port });
    sock.setNoDelay(true);
    const onAbort = () => sock.destroy(new Error("aborted"));
    signal?.addEventListener("abort", onAbort, { once: true });
    const fail = (err) => {
      signal?.removeEventListener("abort", onAbort);
      reject(err);
    };
    sock.once("error", fail);
    sock.once(target.tls ? "secureConnect" : "connect", () => {
      signal?.removeEventListener("abort", onAbort);
      sock.off("error", fail);
      resolve(target.transport === "streams" ? streamTransport(Duplex.toWeb(sock)) : nodeSocketTransport(sock));
    });
  });
}
