// Event classes the runtimes lack: Node 20 has no global CloseEvent (Deno, Bun and workerd
// do, and theirs are used). MessageEvent exists everywhere we run.

const NativeCloseEvent = globalThis.CloseEvent;

// Named CloseEvent: `ev.constructor.name` is what code (and the parity suite) sees.
const Polyfill = class CloseEvent extends Event {
  #wasClean;
  #code;
  #reason;
  constructor(type, init = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean);
    this.#code = Number(init.code ?? 0) & 0xffff;
    this.#reason = String(init.reason ?? "");
  }
  get wasClean() {
    return this.#wasClean;
  }
  get code() {
    return this.#code;
  }
  get reason() {
    return this.#reason;
  }
  get [Symbol.toStringTag]() {
    return "CloseEvent";
  }
};

/** The runtime's CloseEvent, or an equivalent subclass of Event. */
export const CloseEvent = NativeCloseEvent ?? Polyfill;

/** The runtime's MessageEvent. */
export const MessageEvent = globalThis.MessageEvent;

/**
 * The `error` event: a plain Event as browsers fire it, with the reason attached for
 * debugging (`message`, and `error` when a transport error caused it) as Node's and Deno's
 * WebSockets do.
 */
export function errorEvent(message, error) {
  const ev = new Event("error");
  Object.defineProperty(ev, "message", { value: message, enumerable: true });
  if (error !== undefined) Object.defineProperty(ev, "error", { value: error, enumerable: true });
  return ev;
}
