// A Cloudflare Worker that talks WebSocket over raw TCP with connect(): each request opens
// a connection to the server named by `?target=ws://host:port/`, sends a text, a 100 kB
// text and a binary message, and answers with the log of what happened.
// Run locally with workerd (see config.capnp) or with wrangler (see wrangler.toml).
//
// With a bundler (wrangler), import from the package instead: `import { WebSocket } from
// "wsengine"` resolves to its "workerd" export condition.
import { WebSocket } from "../../../js/src/entry/workerd.js";

function talk(target) {
  return new Promise((resolve) => {
    const log = [];
    const ws = new WebSocket(target);
    ws.binaryType = "arraybuffer";
    let expected = 3;
    ws.onopen = () => {
      log.push(`open ${ws.extensions ? "deflate" : "plain"}`);
      ws.send("hello from a Worker");
      ws.send("x".repeat(100000));
      ws.send(new Uint8Array([1, 2, 3]));
    };
    ws.onmessage = (ev) => {
      const d = ev.data;
      log.push(typeof d === "string" ? (d.length > 40 ? `text of ${d.length} chars` : `text ${d}`) : `binary ${new Uint8Array(d).join(",")}`);
      if (--expected === 0) ws.close(1000, "bye");
    };
    ws.onerror = (ev) => {
      log.push(`error ${ev.message ?? ""}`.trim());
    };
    ws.onclose = (ev) => {
      log.push(`close ${ev.code} ${ev.wasClean}`);
      resolve(log);
    };
  });
}

export default {
  async fetch(request) {
    const target = new URL(request.url).searchParams.get("target");
    if (!target) return new Response("missing ?target=ws://host:port/\n", { status: 400 });
    return Response.json(await talk(target));
  },
};
