// Browser parity: runs every scenario in scenarios.js against headless Chromium's native
// WebSocket and against this package's WebSocket in Node, and compares what they logged.
// `node test/parity/run.js` (CHROMIUM: the browser binary, default /usr/bin/chromium).
// Ends with `N passed, M failed`; exits non-zero on any difference.

import net from "node:net";
import { chromium } from "playwright-core";
import { WebSocket } from "wsengine";
import { scenarios } from "./scenarios.js";
import { startServer } from "./server.js";

const SCENARIO_TIMEOUT = 10000;

async function deadPort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Runs one scenario function (here or, as source, in the page), bounded in time. */
async function runHere(fn, env) {
  const log = [];
  let timer;
  const timeout = new Promise((r) => (timer = setTimeout(() => r(log.push("TIMEOUT")), SCENARIO_TIMEOUT)));
  try {
    await Promise.race([fn(WebSocket, env, (s) => log.push(String(s))), timeout]);
  } catch (e) {
    log.push(`THREW ${e?.name}: ${e?.message}`);
  } finally {
    clearTimeout(timer);
  }
  return log;
}

function runInPage(page, fn, env) {
  return page.evaluate(
    async ([src, env, ms]) => {
      const log = [];
      const fn = (0, eval)(`(${src})`);
      let timer;
      const timeout = new Promise((r) => (timer = setTimeout(() => r(log.push("TIMEOUT")), ms)));
      try {
        await Promise.race([fn(WebSocket, env, (s) => log.push(String(s))), timeout]);
      } catch (e) {
        log.push(`THREW ${e?.name}: ${e?.message}`);
      } finally {
        clearTimeout(timer);
      }
      return log;
    },
    [fn.toString(), env, SCENARIO_TIMEOUT],
  );
}

const server = await startServer();
const env = { base: `ws://127.0.0.1:${server.port}`, dead: `ws://127.0.0.1:${await deadPort()}/` };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
let passed = 0;
let failed = 0;
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.port}/`);
  const only = process.argv[2];
  for (const [name, fn] of Object.entries(scenarios)) {
    if (only && !name.includes(only)) continue;
    const inBrowser = await runInPage(page, fn, env);
    const inNode = await runHere(fn, env);
    const same = JSON.stringify(inBrowser) === JSON.stringify(inNode);
    if (same) {
      passed++;
      console.log(`ok   ${name}`);
      if (process.env.VERBOSE) for (const l of inNode) console.log(`       ${l}`);
    } else {
      failed++;
      console.log(`FAIL ${name}`);
      const n = Math.max(inBrowser.length, inNode.length);
      for (let i = 0; i < n; i++) {
        const mark = inBrowser[i] === inNode[i] ? " " : "*";
        console.log(`  ${mark} chromium: ${inBrowser[i] ?? "(nothing)"}`);
        if (mark === "*") console.log(`  ${mark} wsengine: ${inNode[i] ?? "(nothing)"}`);
      }
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
