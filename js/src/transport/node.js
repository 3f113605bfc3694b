// A transport straight over a Node `net.Socket` / `tls.TLSSocket` (also Bun's): the
// measured fast path (see js/README.md, "Performance"). The interface is the one documented
// in streams.js. No import of node:* here, so that the core stays runtime-neutral.

/** @param {import("node:net").Socket} sock */
export function nodeSocketTransport(sock) {
  let sink = null;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    sink.end();
  };
  return {
    start(s) {
      sink = s;
      sock.on("data", (b) => sink.data(b));
      sock.on("end", end);
      sock.on("close", end);
      sock.on("error", (err) => {
        if (ended) return;
        ended = true;
        sink.error(err);
      });
    },
    write(chunk, done) {
      return sock.write(chunk, (err) => {
        if (!err) done();
      });
    },
    ready() {
      if (!sock.writableNeedDrain) return Promise.resolve();
      return new Promise((resolve) => {
        const go = () => {
          sock.off("drain", go);
          sock.off("close", go);
          resolve();
        };
        sock.on("drain", go);
        sock.on("close", go);
      });
    },
    close() {
      sock.end();
      // A peer that never closes its side must not pin the socket forever.
      const t = setTimeout(() => sock.destroy(), 5000);
      t.unref?.();
      sock.once("close", () => clearTimeout(t));
    },
    destroy() {
      sock.destroy();
    },
  };
}

/** Whether `x` looks like a Node (or Bun) stream socket rather than a web-streams pair. */
export function isNodeSocket(x) {
  return typeof x?.write === "function" && typeof x?.on === "function" && typeof x?.end === "function";
}
