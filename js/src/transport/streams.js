// A transport over a `{ readable, writable }` pair of web streams: what Deno's connections,
// Cloudflare's `connect()` and Node's `Duplex.toWeb()` give.
//
// The session drives every transport through the same small interface:
//   start(sink)        sink.data(Uint8Array), sink.end(), sink.error(err); each at most
//                      once after the last data (end and error are idempotent for the sink)
//   write(chunk, done) queues `chunk`; `done()` once the transport accepted all of it.
//                      Returns false when the caller should wait for `ready()` first.
//   ready()            a promise that resolves when more may be written
//   close()            ends our side after queued writes (TCP FIN) and releases the socket
//   destroy()          drops the connection now

/** @param {{ readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>, close?: () => void }} pair */
export function streamTransport(pair) {
  const writer = pair.writable.getWriter();
  const reader = pair.readable.getReader();
  let sink = null;
  let closed = false;

  async function readLoop() {
    try {
      // Bounded by the peer: each iteration consumes a chunk the transport delivered, and
      // the loop ends with the stream (done) or with close()/destroy() cancelling it.
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value.byteLength > 0) sink.data(value);
      }
      sink.end();
    } catch (err) {
      if (closed) sink.end();
      else sink.error(err);
    }
  }

  function release() {
    try {
      pair.close?.();
    } catch {
      // Already closed by the streams themselves.
    }
  }

  return {
    start(s) {
      sink = s;
      readLoop();
    },
    write(chunk, done) {
      writer.write(chunk).then(done, (err) => sink?.error(err));
      return writer.desiredSize === null || writer.desiredSize > 0;
    },
    ready() {
      return writer.ready.catch(() => {});
    },
    close() {
      if (closed) return;
      closed = true;
      writer
        .close()
        .catch(() => {})
        .finally(() => {
          reader.cancel().catch(() => {});
          release();
        });
    },
    destroy() {
      if (closed) return;
      closed = true;
      writer.abort().catch(() => {});
      reader.cancel().catch(() => {});
      release();
    },
  };
}
