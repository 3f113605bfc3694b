// One connection: an engine, a transport, and the loop between them. Protocol work is the
// engine's; this file only moves bytes, hands events to its owner and keeps time.
//
// The owner (a WebSocket) gets calls on `handlers`:
//   open()                          the opening handshake completed
//   message(isText, data, whole)    a message (a string, or bytes); `whole`: `bytes`
//                                   spans its own ArrayBuffer
//   closeFrame(code, reason)        the peer's close frame (1005 when it had no code)
//   finished({ wasClean, code, reason, error })   the transport is closed; nothing follows
// Events after open wait for the next task (see #run).

import { now } from "./runtime.js";

const OPEN = 1;
const TEXT = 2;
const BINARY = 3;
const CLOSE = 6;
const ERROR = 7;

const EMPTY = new Uint8Array(0);
/** Most bytes per transport write: bufferedAmount moves in steps of at most this. */
const WRITE_CHUNK = 1 << 20;
// ignoreBOM: a leading U+FEFF is part of the message, not a byte-order mark.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

const nextTask = globalThis.setImmediate ?? ((f) => setTimeout(f, 0));

/** Bounds on loops that repeat while the engine has more to give (a run that reaches it
 *  yields; the next input or timer continues). */
const MAX_EVENTS = 1 << 20;
const MAX_WRITES = 1 << 20;

export class Session {
  #engine;
  #h;
  #transport = null;
  #writing = false;
  #flushQueued = false;
  #finished = false;
  #dead = false;
  #paused = false;
  #busy = false;
  #closeCode = 0;
  #closeReason = "";
  #failure = null;
  #transportError = undefined;
  #timer = null;
  #timerAt = -1;
  #firing = false;

  constructor(engine, handlers) {
    this.#engine = engine;
    this.#h = handlers;
    this.#arm();
  }

  get finished() {
    return this.#finished;
  }

  get engine() {
    return this.#engine;
  }

  /** Starts I/O over `transport`, optionally feeding bytes that already arrived. */
  attach(transport, head) {
    if (this.#finished) {
      transport.destroy();
      return;
    }
    this.#transport = transport;
    transport.start({
      data: (b) => this.#onData(b),
      end: () => this.#onEnd(),
      error: (e) => this.#onTransportError(e),
    });
    if (head && head.byteLength > 0) this.#onData(head);
    this.#after();
  }

  /** Fails the connection before or without a transport (a refused dial, close() while connecting). */
  abort(message, error) {
    if (this.#finished) return;
    this.#failure ??= { message, kind: 0, status: 0 };
    this.#transportError = error;
    this.#dead = true;
    this.#finish();
  }

  /** Sends a message; false if the engine is no longer open (the peer's close frame or a
   *  failure is parsed but not dispatched yet): nothing was sent. */
  sendText(s) {
    if (!this.#engine.sendText(s)) return false;
    this.#flush();
    return true;
  }

  sendBinary(b) {
    if (!this.#engine.sendBinary(b)) return false;
    this.#flush();
    return true;
  }

  close(code, reason) {
    this.#engine.close(code, reason);
    this.#after(); // the engine armed its close timer
  }

  get bufferedAmount() {
    return this.#finished ? 0 : this.#engine.bufferedAmount;
  }

  resume() {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#busy && !this.#finished) this.#run(this.#engine.poll());
  }

  #onData(bytes) {
    if (this.#finished) return;
    // While events are being dispatched, new bytes wait in the engine: the running loop
    // polls them in order.
    if (this.#busy || this.#paused) this.#engine.receive(bytes);
    else this.#run(this.#engine.feed(bytes));
  }

  #onEnd() {
    if (this.#finished) return;
    this.#engine.eof();
    if (!this.#busy && !this.#paused) this.#run(this.#engine.poll());
  }

  #onTransportError(err) {
    if (this.#finished) return;
    this.#dead = true;
    this.#transportError = err;
    this.#engine.eof();
    this.#paused = false;
    if (!this.#busy) this.#run(this.#engine.poll());
  }

  /**
   * Dispatches events until the engine has none. `ev` is the engine's event number
   * (kind + 8 × payload length, 0 for none). Between two events it lets pending microtasks
   * run, as a browser's task per event would: code that awaits one message event and then
   * listens for the next sees every message.
   */
  async #run(ev) {
    this.#busy = true;
    const engine = this.#engine;
    try {
      for (let n = 0; ev !== 0 && n < MAX_EVENTS; n++) {
        if (n > 0) {
          await null;
          if (this.#finished) return;
        }
        const kind = ev % 8;
        const len = (ev - kind) / 8;
        const bytes = len > 0 ? engine.takeData() : EMPTY;
        if (kind === TEXT) {
          this.#h.message(true, decoder.decode(bytes), false);
        } else if (kind === BINARY) {
          this.#h.message(false, bytes, true);
        } else if (kind === OPEN) {
          this.#h.open();
          // Browsers dispatch each event as its own task, so code that awaits the open
          // event (or gets the socket from a promise) runs before the first message.
          // Hold the rest of the input until the next task to give it that chance.
          this.#paused = true;
          nextTask(() => this.resume());
          break;
        } else if (kind === CLOSE) {
          this.#closeCode = engine.arg;
          this.#closeReason = decoder.decode(bytes);
          this.#h.closeFrame(this.#closeCode, this.#closeReason);
        } else if (kind === ERROR) {
          const a = engine.arg;
          this.#failure = { message: decoder.decode(bytes), kind: a >>> 16, status: a & 0xffff };
        }
        // Pings and pongs are answered by the engine; the WebSocket API does not show them.
        if (this.#finished) return;
        ev = engine.poll();
      }
    } finally {
      this.#busy = false;
    }
    this.#after();
  }

  #after() {
    if (this.#finished) return;
    this.#writeLoop();
    this.#arm();
    this.#maybeFinish();
  }

  /**
   * Writes pending output soon: sends made in one turn of the event loop go out together,
   * and sends made while events are dispatched go out once the run ends (#after).
   */
  #flush() {
    if (this.#flushQueued || this.#writing || this.#finished || this.#busy) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#writeLoop();
    });
  }

  async #writeLoop() {
    if (this.#writing || this.#finished || this.#dead || !this.#transport) return;
    this.#writing = true;
    const engine = this.#engine;
    try {
      // Each round takes all pending output; the loop ends when none is left, or the
      // connection ends. A transport that stops accepting parks it on ready().
      for (let round = 0; round < MAX_WRITES && !this.#finished; round++) {
        if (engine.pendingOutput === 0) break;
        const chunk = engine.takeOutput(WRITE_CHUNK);
        const n = chunk.byteLength;
        const more = this.#transport.write(chunk, () => this.#written(n));
        if (!more) {
          this.#arm(); // the write timeout runs while the transport pushes back
          await this.#transport.ready();
        }
      }
    } finally {
      this.#writing = false;
    }
    // Bytes the transport holds count for the engine's write timeout: start its clock.
    if (!this.#finished && engine.inFlight > 0) this.#arm();
    this.#maybeFinish();
  }

  /** The transport wrote `n` taken bytes: the engine lets go of them (its write timeout
   *  restarts). With more still waiting, the timers are re-checked; with none, a finished
   *  close may end the connection now. */
  #written(n) {
    if (this.#finished) return;
    const engine = this.#engine;
    engine.written(n);
    if (engine.inFlight > 0 || engine.pendingOutput > 0) this.#arm();
    else this.#maybeFinish();
  }

  #maybeFinish() {
    if (this.#finished) return;
    // A write loop waits for the transport to drain, which after a write timeout (the engine
    // let go of bytes the transport still holds) it never will: finish anyway.
    if (this.#writing && !(this.#engine.inFlight > 0 && this.#engine.shouldClose)) return;
    // A failure before the transport exists (a handshake timeout while dialing) has
    // nothing to flush.
    if (this.#dead || this.#engine.shouldClose || (this.#failure && !this.#transport)) this.#finish();
  }

  /**
   * Fires what is due, then sets one timer for the engine's next deadline. Never fires
   * twice in one call chain: a deadline that is due again at once (a 0 ms option) waits for
   * the next timer tick.
   */
  #arm() {
    if (this.#finished) return;
    let at = this.#engine.nextDeadline();
    if (at >= 0 && at <= now() && !this.#firing) {
      this.#firing = true;
      try {
        this.#engine.handleTimeout(now());
        if (!this.#busy && !this.#paused) this.#run(this.#engine.poll());
      } finally {
        this.#firing = false;
      }
      if (this.#finished) return;
      at = this.#engine.nextDeadline();
    }
    if (at === this.#timerAt) return;
    // A wake earlier than needed only re-checks: keep it rather than reset a timer for every
    // write (each write moves the write timeout's deadline a little later).
    if (at >= 0 && this.#timer !== null && this.#timerAt <= at) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#timerAt = at;
    if (at < 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = -1;
      this.#after();
    }, Math.max(1, at - now()));
  }

  #finish() {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const t = this.#transport;
    // A failed engine may still have a close frame or an HTTP error in flight: close()
    // ends our side after the queued writes; only a dead transport is dropped.
    // Bytes the transport still holds after a failure (a write timeout: the peer stopped
    // reading) would keep a graceful close waiting forever.
    if (t) {
      if (this.#dead || (this.#failure && this.#engine.inFlight > 0)) t.destroy();
      else t.close();
    }
    const info = {
      wasClean: this.#closeCode !== 0 && !this.#failure,
      code: this.#closeCode !== 0 ? this.#closeCode : 1006,
      reason: this.#closeCode !== 0 ? this.#closeReason : "",
      error: this.#failure ?? (this.#dead && this.#closeCode === 0 ? { message: "connection lost", kind: 0, status: 0 } : null),
      transportError: this.#transportError,
    };
    this.#engine.free();
    this.#h.finished(info);
  }
}
