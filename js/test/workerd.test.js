// Edge: the Worker example (examples/js/worker) run by workerd from npm, using the package
// over connect() to talk to an echo server on loopback.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { test } from "./harness.js";
import { deadPort, echoServer, nativeEchoUrl } from "./util.js";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/** The example's config, rewritten to be read from test/workerd/ and to listen on `port`. */
function writeConfig(port) {
  const text = fs
    .readFileSync(here("../../examples/js/worker/config.capnp"), "utf8")
    .replace('embed "worker.js"', 'embed "../../../examples/js/worker/worker.js"')
    .replaceAll('embed "../../../js/', 'embed "../../')
    .replace('address = "127.0.0.1:8789"', `address = "127.0.0.1:${port}"`);
  const path = here("./workerd/.config.capnp");
  // The directory holds only this generated (gitignored) file, so a fresh clone lacks it.
  fs.mkdirSync(here("./workerd"), { recursive: true });
  fs.writeFileSync(path, text);
  return path;
}

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts workerd and waits until it answers HTTP; returns { base, stop }. */
async function startWorkerd() {
  const port = await freePort();
  const config = writeConfig(port);
  const child = spawn(here("../node_modules/@cloudflare/workerd-linux-64/bin/workerd"), ["serve", config, "--verbose"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const base = `http://127.0.0.1:${port}/`;
  // Up to 30 s: workerd compiles the worker at start, slowly on a busy machine.
  for (let i = 0; i < 300; i++) {
    try {
      await fetch(base);
      return { base, output: () => output, stop: () => child.kill("SIGKILL") };
    } catch {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`workerd did not start:\n${output}`);
}

test("workerd: the Worker talks to echo servers over connect()", async () => {
  const js = await echoServer();
  const wd = await startWorkerd();
  try {
    const targets = [`${js.url}/`];
    if (nativeEchoUrl()) targets.push(`${nativeEchoUrl()}/`);
    for (const target of targets) {
      const res = await fetch(`${wd.base}?target=${encodeURIComponent(target)}`);
      const log = await res.json();
      assert.deepEqual(log, ["open deflate", "text hello from a Worker", "text of 100000 chars", "binary 1,2,3", "close 1000 true"], `${target}\n${wd.output()}`);
    }
    const refused = await (await fetch(`${wd.base}?target=${encodeURIComponent(`ws://127.0.0.1:${await deadPort()}/`)}`)).json();
    assert.equal(refused.length, 2, JSON.stringify(refused));
    assert.match(refused[0], /^error /);
    assert.equal(refused[1], "close 1006 false");
  } finally {
    wd.stop();
    js.close();
  }
}, { timeout: 60000 });
