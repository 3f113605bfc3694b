// permessage-deflate in `ws` 8.23 (Node's zlib), in memory, on the corpora `wsbench deflate
// --write-corpus DIR` wrote: the reference beside the engine's own figures (bench/src/compress.rs).
//
// For each `{corpus}-{size}.json` (a JSON array of messages), with `ws`'s PerMessageDeflate
// class as a connection uses it (default options: zlib level 6 (Z_DEFAULT_COMPRESSION),
// memLevel 8, 32 KiB windows, context takeover both ways):
// - compress: a fresh client-side instance compresses every message in order (`compress(data,
//   true, cb)`, one after the other, as ws's Sender does), the tail `00 00 ff ff` removed;
// - decompress: a fresh server-side instance inflates those outputs in order;
// - ratio: compressed bytes ÷ input bytes.
// A measurement repeats whole passes until --ms of this process's CPU time is used (zlib runs
// on libuv's thread pool, so CPU time counts every thread: process.cpuUsage()); the median of
// --reps measurements is printed as JSON lines, like `wsbench deflate`:
// {"group":"deflate.compress","name":"ws","size":1024,"kind":"text","msgs_per_s":..,"mb_per_s":..,"ratio":..}
// `node js/bench/deflate.js --corpus DIR [--reps 5] [--ms 100]`

import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// The class every ws connection uses for the extension (exported as WebSocket.PerMessageDeflate).
const { PerMessageDeflate } = require("ws");
const wsVersion = require("ws/package.json").version;

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const DIR = opt("--corpus", undefined);
const REPS = Number(opt("--reps", 5));
const BUDGET_US = Number(opt("--ms", 100)) * 1000;
if (!DIR) {
  console.error("usage: node js/bench/deflate.js --corpus DIR [--reps 5] [--ms 100]");
  process.exit(2);
}

function instance(isServer) {
  const p = new PerMessageDeflate({ isServer, threshold: 0 });
  // Negotiated as a default offer and its answer: no parameters.
  p.accept([{}]);
  return p;
}

const call = (p, method, data) =>
  new Promise((resolve, reject) => p[method](data, true, (err, out) => (err ? reject(err) : resolve(out))));

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function compressPass(msgs) {
  const p = instance(false);
  const out = [];
  const t = cpuUs();
  for (const m of msgs) out.push(await call(p, "compress", m));
  const used = cpuUs() - t;
  p.cleanup();
  return { used, out };
}

async function decompressPass(compressed, msgs) {
  const p = instance(true);
  const t = cpuUs();
  for (let i = 0; i < compressed.length; i++) {
    const m = await call(p, "decompress", compressed[i]);
    if (m.length !== msgs[i].length) throw new Error(`message ${i} inflated to ${m.length} bytes, not ${msgs[i].length}`);
  }
  const used = cpuUs() - t;
  p.cleanup();
  return used;
}

/** Input bytes per CPU-second over passes until the budget is used. */
async function measure(input, pass) {
  let used = 0;
  let bytes = 0;
  while (used < BUDGET_US) {
    used += await pass();
    bytes += input;
  }
  return bytes / (used / 1e6);
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const files = fs
  .readdirSync(DIR)
  .filter((f) => /^[a-z]+-\d+\.json$/.test(f))
  .sort();
if (files.length === 0) {
  console.error(`no {corpus}-{size}.json files in ${DIR}`);
  process.exit(1);
}
for (const f of files) {
  const [, corpus, size] = f.match(/^([a-z]+)-(\d+)\.json$/);
  // Buffers, as an application that has its data as bytes would pass them.
  const msgs = JSON.parse(fs.readFileSync(path.join(DIR, f), "utf8")).map((s) => Buffer.from(s));
  const input = msgs.reduce((a, m) => a + m.length, 0);
  const { out } = await compressPass(msgs);
  const compressed = out.reduce((a, m) => a + m.length, 0);
  const comp = [];
  const decomp = [];
  for (let r = 0; r < REPS; r++) {
    comp.push(await measure(input, async () => (await compressPass(msgs)).used));
    decomp.push(await measure(input, () => decompressPass(out, msgs)));
  }
  for (const [group, runs] of [
    ["deflate.compress", comp],
    ["deflate.decompress", decomp],
  ]) {
    const bps = median(runs);
    console.log(
      JSON.stringify({
        group,
        name: "ws",
        size: Number(size),
        kind: corpus,
        msgs_per_s: (bps * msgs.length) / input,
        mb_per_s: bps / 1e6,
        runs: runs.map((r) => r / 1e6),
        bytes: input,
        ratio: compressed / input,
        messages: msgs.length,
        note: `ws ${wsVersion} PerMessageDeflate defaults (zlib level 6), Node ${process.version}; ${msgs.length} messages, ${input} B in, ${compressed} B compressed`,
      }),
    );
  }
}
