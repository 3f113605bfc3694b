// The `ws` package as an interop peer.
//   node ws_peer.mjs serve PORT '<perMessageDeflate JSON or false>'   echo server on 127.0.0.1
//   node ws_peer.mjs client URL '<perMessageDeflate JSON or false>'   conversation, then close
// The client prints `extensions: <negotiated>` and exits non-zero if any echo differs.
import { WebSocketServer, WebSocket } from 'ws';
import { conversation } from './messages.mjs';

const [mode, target, deflateArg] = process.argv.slice(2);
const perMessageDeflate = JSON.parse(deflateArg ?? 'false');
// Bound every run: a hung peer fails the test instead of the suite.
setTimeout(() => { console.error('ws_peer: timed out'); process.exit(3); }, 60_000).unref();

if (mode === 'serve') {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(target), perMessageDeflate });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  wss.on('listening', () => console.log('listening'));
} else if (mode === 'client') {
  const ws = new WebSocket(target, { perMessageDeflate });
  const expected = conversation();
  let i = 0;
  ws.on('open', () => { for (const m of expected) ws.send(m.data, { binary: m.binary }); });
  ws.on('message', (data, isBinary) => {
    const want = expected[i++];
    const same = isBinary === want.binary && Buffer.from(data).equals(Buffer.from(want.data));
    if (!same) { console.error(`ws_peer: echo ${i - 1} differs`); process.exit(1); }
    if (i === expected.length) ws.close(1000, 'done');
  });
  ws.on('close', (code) => {
    console.log(`extensions: ${ws.extensions || 'none'}`);
    if (code !== 1000 || i !== expected.length) { console.error(`ws_peer: close ${code} after ${i}`); process.exit(1); }
    process.exit(0);
  });
  ws.on('error', (e) => { console.error(`ws_peer: ${e.message}`); process.exit(2); });
} else {
  console.error('usage: ws_peer.mjs serve PORT JSON | client URL JSON');
  process.exit(64);
}
