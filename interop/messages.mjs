// The conversation every interop client holds: compressible JSON text, repetitive and
// random-ish binary, multi-byte text, an empty message and a 1 MiB text. Mirrors
// py_peer.py and examples/interop_client.rs.
export function conversation() {
  const out = [];
  for (let i = 0; i < 50; i++) {
    const rows = Array.from({ length: 10 + i }, (_, j) => ({ id: j, name: `user-${j}`, active: j % 3 === 0 }));
    out.push({ binary: false, data: JSON.stringify({ seq: i, rows }) });
  }
  for (let i = 0; i < 5; i++) {
    const b = new Uint8Array(100_000); // not Buffer: Deno has no global Buffer
    for (let j = 0; j < b.length; j++) b[j] = (j * (i + 7) + (j >> 5)) & 0xff;
    out.push({ binary: true, data: b });
  }
  out.push({ binary: false, data: 'κόσμε €𝄞 '.repeat(100) });
  out.push({ binary: false, data: '' });
  out.push({ binary: false, data: 'x'.repeat(1 << 20) });
  return out;
}
