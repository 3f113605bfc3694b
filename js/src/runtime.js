// What differs between runtimes, set once by the package entry point (src/entry/*.js):
// how the wasm engine was loaded and how to open a TCP/TLS connection.

let current = null;

/**
 * @param {{ Engine: any, Options: any, dial: (target: DialTarget, signal: AbortSignal) => Promise<object> }} r
 * @typedef {{ host: string, port: number, tls: boolean, tlsOptions?: object, transport?: string }} DialTarget
 */
export function configure(r) {
  current = r;
}

export function runtime() {
  if (!current) {
    throw new Error("wsengine: the engine is not loaded; import the package ('wsengine'), not its src/ files");
  }
  return current;
}

/** A monotonic millisecond clock for the engine's timers. */
export function now() {
  return Math.floor(performance.now());
}
