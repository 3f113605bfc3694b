// Echo throughput of this package against `ws` in Node: for each message size, a client
// keeps a window of binary messages in flight to an echo server of the same library (in a
// child process) for a fixed time, and counts round trips. Compression is off on both.
// Every measurement runs --rounds times (default 3), alternating the libraries; the median
// is reported.
// Prints one JSON line: {"bench":"js-echo","unit":"msgs/s","sizes":[...],"wsengine":{...},
// "ws":{...},"ratio":{...}} (ratio = wsengine / ws; ≥ 1 means at least as fast).
// `node js/bench/echo.js [--seconds S] [--rounds R] [--sizes 16,1024] [--transport streams]`

import { spawn } from "node:child_process";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { WebSocket as WsClient } from "ws";
import { WebSocket } from "wsengine";

const args = process.argv.slice(2);
const SECONDS = Number(args.includes("--seconds") ? args[args.indexOf("--seconds") + 1] : 1.5);
/** Each measurement is repeated, the libraries alternating, and the median kept: a busy
 *  machine moves single runs by ±50 %. */
const ROUNDS = Number(args.includes("--rounds") ? args[args.indexOf("--rounds") + 1] : 3);
const SIZES = args.includes("--sizes") ? args[args.indexOf("--sizes") + 1].split(",").map(Number) : [16, 1024, 64 * 1024, 1024 * 1024];
/** `--transport streams`: this package's client over Duplex.toWeb (to measure that path). */
const TRANSPORT = args.includes("--transport") ? args[args.indexOf("--transport") + 1] : undefined;
/** Messages in flight: enough to keep both processes busy, bounded in bytes. */
const windowFor = (size) => Math.max(2, Math.min(256, Math.floor((4 << 20) / size)));

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

async function startServer(lib) {
  const port = await freePort();
  const child = spawn(process.execPath, [fileURLToPath(new URL("./echo_server.js", import.meta.url)), "--lib", lib, "--port", String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    child.stdout.once("data", resolve);
    child.once("exit", (c) => reject(new Error(`${lib} echo server exited (${c})`)));
  });
  return { url: `ws://127.0.0.1:${port}/`, stop: () => child.kill("SIGKILL") };
}

/** A client as its library's users write one: { open(), send(msg), onEcho(cb), close() }. */
function client(lib, url) {
  if (lib === "ws") {
    const ws = new WsClient(url, { perMessageDeflate: false, maxPayload: 64 << 20 });
    return {
      open: () => new Promise((r) => ws.once("open", r)),
      send: (m) => ws.send(m),
      onEcho: (cb) => ws.on("message", cb),
      close: () => ws.terminate(),
    };
  }
  const ws = new WebSocket(url, [], { perMessageDeflate: false, maxPayload: 64 << 20, transport: TRANSPORT });
  ws.binaryType = "arraybuffer";
  return {
    open: () => new Promise((r) => (ws.onopen = r)),
    send: (m) => ws.send(m),
    onEcho: (cb) => (ws.onmessage = cb),
    close: () => ws.close(),
  };
}

async function measure(lib, size) {
  const server = await startServer(lib);
  const c = client(lib, server.url);
  await c.open();
  const msg = new Uint8Array(size).fill(7);
  const window = windowFor(size);
  let done = 0;
  let counting = false;
  let stop = false;
  const finished = new Promise((resolve) => {
    let inFlight = 0;
    c.onEcho(() => {
      inFlight--;
      if (counting) done++;
      if (!stop) {
        c.send(msg);
        inFlight++;
      } else if (inFlight === 0) resolve();
    });
    for (let i = 0; i < window; i++) {
      c.send(msg);
      inFlight++;
    }
  });
  // A short warm-up, then the measured interval.
  await new Promise((r) => setTimeout(r, 300));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  counting = false;
  const count = done;
  stop = true;
  await Promise.race([finished, new Promise((r) => setTimeout(r, 5000))]);
  c.close();
  server.stop();
  return Math.round(count / elapsed);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = { bench: "js-echo", unit: "msgs/s", seconds: SECONDS, rounds: ROUNDS, transport: TRANSPORT ?? "node-socket", sizes: SIZES, wsengine: {}, ws: {}, ratio: {} };
for (const size of SIZES) {
  const runs = { wsengine: [], ws: [] };
  for (let r = 0; r < ROUNDS; r++) for (const lib of ["wsengine", "ws"]) runs[lib].push(await measure(lib, size));
  for (const lib of ["wsengine", "ws"]) result[lib][size] = median(runs[lib]);
  result.ratio[size] = Number((result.wsengine[size] / result.ws[size]).toFixed(2));
  console.error(`${size} B: wsengine ${result.wsengine[size]} msgs/s, ws ${result.ws[size]} msgs/s, ratio ${result.ratio[size]}`);
}
console.log(JSON.stringify(result));
process.exit(0);
