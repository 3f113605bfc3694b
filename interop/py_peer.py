"""Python `websockets` as an interop peer.

  python py_peer.py serve PORT '<deflate kwargs JSON or false>'   echo server on 127.0.0.1
  python py_peer.py client URL '<deflate kwargs JSON or false>'   conversation, then close

The kwargs go to websockets' Server/ClientPerMessageDeflateFactory. The client prints
`extensions: <negotiated>` and exits non-zero if any echo differs.
"""

import asyncio
import json
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)


def conversation():
    """Mirrors messages.mjs and examples/interop_client.rs."""
    out = []
    for i in range(50):
        rows = [{"id": j, "name": f"user-{j}", "active": j % 3 == 0} for j in range(10 + i)]
        out.append(json.dumps({"seq": i, "rows": rows}, separators=(",", ":")))
    for i in range(5):
        out.append(bytes(((j * (i + 7) + (j >> 5)) & 0xFF) for j in range(100_000)))
    out.append("κόσμε €𝄞 " * 100)
    out.append("")
    out.append("x" * (1 << 20))
    return out


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def run_server(port, factories):
    async with serve(echo, "127.0.0.1", port, extensions=factories, compression=None, max_size=1 << 24):
        print("listening", flush=True)
        await asyncio.Future()


async def run_client(url, factories):
    expected = conversation()
    async with connect(url, extensions=factories, compression=None, max_size=1 << 24) as ws:
        for m in expected:
            await ws.send(m)
        for i, want in enumerate(expected):
            got = await ws.recv()
            if got != want:
                print(f"py_peer: echo {i} differs", file=sys.stderr)
                sys.exit(1)
        print(f"extensions: {ws.response.headers.get('Sec-WebSocket-Extensions') or 'none'}", flush=True)
        await ws.close(1000, "done")
    if ws.close_code != 1000:
        print(f"py_peer: close code {ws.close_code}", file=sys.stderr)
        sys.exit(1)


def main():
    mode, target, kwargs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if mode == "serve":
        factories = [] if kwargs is False else [ServerPerMessageDeflateFactory(**kwargs)]
        asyncio.run(asyncio.wait_for(run_server(int(target), factories), 300))
    elif mode == "client":
        factories = [] if kwargs is False else [ClientPerMessageDeflateFactory(**kwargs)]
        asyncio.run(asyncio.wait_for(run_client(target, factories), 60))
    else:
        sys.exit(64)


if __name__ == "__main__":
    main()
