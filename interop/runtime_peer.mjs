// Deno's and Bun's own WebSockets as interop peers (Deno's is built on fastwebsockets, Bun's
// on uWebSockets): the runtimes' global `WebSocket` client and their HTTP servers' upgrades.
//   deno run -A runtime_peer.mjs serve PORT '<true|false>'   echo server on 127.0.0.1
//   bun runtime_peer.mjs client URL '<true|false>'            conversation, then close
// The third argument asks for permessage-deflate where the runtime lets a program choose
// (Bun's server); Deno's server never compresses and each client offers what it always offers.
// The client prints `extensions: <negotiated>` and exits non-zero if any echo differs.
import { conversation } from './messages.mjs';

const args = typeof Deno !== 'undefined' ? Deno.args : process.argv.slice(2);
const exit = (code) => (typeof Deno !== 'undefined' ? Deno.exit(code) : process.exit(code));
const [mode, target, deflateArg] = args;
const deflate = JSON.parse(deflateArg ?? 'false') !== false;
// Bound every run: a hung peer fails the test instead of the suite.
const timer = setTimeout(() => { console.error('runtime_peer: timed out'); exit(3); }, 60_000);

function same(got, want) {
  if (typeof want === 'string') return got === want;
  if (!(got instanceof ArrayBuffer) || got.byteLength !== want.length) return false;
  const g = new Uint8Array(got);
  for (let i = 0; i < g.length; i++) if (g[i] !== want[i]) return false;
  return true;
}

if (mode === 'serve') {
  const port = Number(target);
  if (typeof Bun !== 'undefined') {
    Bun.serve({
      hostname: '127.0.0.1',
      port,
      fetch(req, server) {
        return server.upgrade(req) ? undefined : new Response('WebSocket only', { status: 426 });
      },
      websocket: { perMessageDeflate: deflate, message(ws, data) { ws.send(data); } },
    });
    console.log('listening');
  } else {
    Deno.serve({ hostname: '127.0.0.1', port, onListen() { console.log('listening'); } }, (req) => {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    });
  }
  // A server runs until the suite stops it.
  clearTimeout(timer);
} else if (mode === 'client') {
  const ws = new WebSocket(target);
  ws.binaryType = 'arraybuffer';
  const expected = conversation();
  let i = 0;
  ws.onopen = () => { for (const m of expected) ws.send(m.data); };
  ws.onmessage = (e) => {
    if (!same(e.data, expected[i++].data)) { console.error(`runtime_peer: echo ${i - 1} differs`); exit(1); }
    if (i === expected.length) ws.close(1000, 'done');
  };
  ws.onerror = (e) => { console.error(`runtime_peer: error ${e.message ?? ''}`); exit(2); };
  ws.onclose = (e) => {
    console.log(`extensions: ${ws.extensions || 'none'}`);
    if (e.code !== 1000 || !e.wasClean || i !== expected.length) {
      console.error(`runtime_peer: close ${e.code} clean=${e.wasClean} after ${i}`);
      exit(1);
    }
    exit(0);
  };
} else {
  console.error('usage: runtime_peer.mjs serve PORT JSON | client URL JSON');
  exit(64);
}
