// One test suite for three runners: `node --test`, `deno test` and `bun test` each get their
// own `test` function; every test is bounded by a timeout here, whatever the runner.

export const runtime = globalThis.Deno ? "deno" : globalThis.Bun ? "bun" : "node";

let register;
if (runtime === "bun") {
  const { test } = await import("bun:test");
  register = (name, fn, ms) => test(name, fn, ms + 1000);
} else if (runtime === "deno") {
  register = (name, fn) => Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
} else {
  const { test } = await import("node:test");
  register = (name, fn, ms) => test(name, { timeout: ms + 1000 }, fn);
}

/**
 * Registers a test. `opts.only`: the runtimes it runs in (default all); `opts.timeout` ms.
 */
export function test(name, fn, opts = {}) {
  if (opts.only && !opts.only.includes(runtime)) return;
  const ms = opts.timeout ?? 20000;
  register(name, async () => {
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    });
    try {
      await Promise.race([fn(), limit]);
    } finally {
      clearTimeout(timer);
    }
  }, ms);
}
