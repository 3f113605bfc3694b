//! The `deflate` group of `cargo xtask bench`: permessage-deflate throughput and ratio, the
//! engine (`wsbench deflate`, bench/src/compress.rs) beside `ws` (Node's zlib,
//! js/bench/deflate.js) on the same corpora, and its table in BENCHMARKS.md.

use std::fmt::Write as _;
use std::fs;

use serde_json::Value;

use crate::bench::{bcmd, fmt_mb, run_cmd_lines, size_label, Table};
use crate::ctx::Ctx;
use crate::proc::{self, Result};

const NPM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Runs the engine's measurement (which also writes the corpora to `target/bench/corpus`),
/// then `ws`'s on those files when Node is there (installing js/node_modules if missing).
pub fn run(ctx: &Ctx, quick: bool, pin: Option<&str>) -> Result<Vec<Value>> {
    let dir = ctx.target.join("bench").join("corpus");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let dir_s = dir.to_string_lossy().into_owned();
    let (reps, ms) = if quick { ("3", "50") } else { ("7", "100") };
    let mut c = bcmd(ctx, pin, &["{target}/release/wsbench", "deflate"], &[]);
    c.args(["--reps", reps, "--ms", ms, "--write-corpus", &dir_s]);
    let mut out = run_cmd_lines(ctx, "bench-deflate", c)?;

    let node_ok = proc::probe(
        std::process::Command::new("node").arg("--version"),
        std::time::Duration::from_secs(10),
    );
    if !node_ok {
        println!("bench: deflate: node not found, `ws` not measured");
        return Ok(out);
    }
    let js = ctx.root.join("js");
    if !js.join("node_modules").join("ws").exists() {
        let log = ctx.log("bench-deflate-npm");
        let mut npm = std::process::Command::new("npm");
        npm.arg("ci").arg("--prefix").arg(&js);
        proc::run_logged_ok("npm ci", &mut npm, &log, NPM_TIMEOUT)?;
    }
    let mut c = bcmd(
        ctx,
        pin,
        &["node", "{root}/js/bench/deflate.js", "--corpus"],
        &[],
    );
    c.arg(&dir_s).args(["--reps", reps, "--ms", ms]);
    out.extend(run_cmd_lines(ctx, "bench-deflate-ws", c)?);
    Ok(out)
}

/// The compression section of BENCHMARKS.md.
pub fn report(t: &Table, md: &mut String) {
    md.push_str(
        "## Compression (permessage-deflate)\n\n\
         `wsbench deflate` (bench/src/compress.rs) and `js/bench/deflate.js`, in memory, on the same\n\
         messages: two corpora generated deterministically by bench/src/corpus.rs — English-like\n\
         prose (a Zipf-weighted vocabulary in sentences and paragraphs) and JSON documents (pages of\n\
         API-style records: ids, names, e-mails, timestamps, numbers, short text) — cut into\n\
         messages of about 1 KiB and 64 KiB, 1 MiB of different messages per set, sent in order on\n\
         one connection (context takeover, as real traffic). **Compress**: the client's\n\
         `send_text()` (deflate + frame + mask); **decompress**: the server's `receive()` +\n\
         `next_event()` (unmask + inflate + UTF-8 check). `ws` 8.23: its `PerMessageDeflate` class\n\
         (what every `ws` connection uses) with its defaults (zlib level 6, memLevel 8), one\n\
         message after the other as its sender does. MB/s of *uncompressed* input per CPU-second\n\
         (for Node, `process.cpuUsage()`, which counts zlib's thread pool); size = compressed\n\
         payload ÷ input (smaller is better). wsengine's default level is 3; level 6 is shown for\n\
         the same setting as `ws`.\n\n",
    );
    let groups = ["deflate.compress", "deflate.decompress"];
    let names = t.names(groups[0]);
    if names.is_empty() {
        md.push_str("_(not measured in this run)_\n\n");
        return;
    }
    let peer = names.iter().any(|n| n == "ws").then_some("ws");
    md.push_str("| corpus | size | library | compress MB/s | decompress MB/s | compressed size |");
    if peer.is_some() {
        md.push_str(" compress ÷ ws | decompress ÷ ws |");
    }
    md.push_str("\n|---|---|---|---:|---:|---:|");
    if peer.is_some() {
        md.push_str("---:|---:|");
    }
    md.push('\n');
    let mut cases = t.cases(groups[0]);
    // Corpus first, then size.
    cases.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (size, corpus) in cases {
        for n in &names {
            let row = |g: &str| t.get(g, n, size, &corpus);
            let Some(c) = row(groups[0]) else { continue };
            let mb = |l: Option<&Value>| l.and_then(|l| l["mb_per_s"].as_f64());
            let (cm, dm) = (mb(Some(c)), mb(row(groups[1])));
            let cell = |v: Option<f64>| v.map_or("–".to_string(), fmt_mb);
            let ratio = c["ratio"].as_f64();
            let _ = write!(
                md,
                "| {corpus} | {} | {n} | {} | {} | {} |",
                size_label(size),
                cell(cm),
                cell(dm),
                ratio.map_or("–".into(), |r| format!("{:.1}%", r * 100.0)),
            );
            if let Some(p) = peer {
                for (g, ours) in [(groups[0], cm), (groups[1], dm)] {
                    let theirs = mb(t.get(g, p, size, &corpus));
                    let cell = match (ours, theirs) {
                        _ if n == p => "".to_string(),
                        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
                        _ => "–".into(),
                    };
                    let _ = write!(md, " {cell} |");
                }
            }
            md.push('\n');
        }
    }
    md.push('\n');
}
