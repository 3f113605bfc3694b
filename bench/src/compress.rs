//! `wsbench deflate`: permessage-deflate through the engine, in memory.
//!
//! For each corpus ([`crate::corpus`]) and message size, a set of different messages (about
//! 1 MiB in all, as one connection would carry them, so context takeover works as it does in
//! real traffic) goes through a fresh client/server pair with the default `DeflateConfig`
//! (level 3, 32 KiB windows, context takeover both ways):
//!
//! - **compress**: the client's `send_text()` of every message (deflate, frame, mask) and
//!   `output()`; rate = input bytes per CPU-second of this thread;
//! - **decompress**: the server's `receive()` of the compressed frames in 64 KiB slices and
//!   `next_event()` (unmask, inflate, validate UTF-8) until every message came out, each checked
//!   against its original length;
//! - **ratio**: compressed payload bytes (the frames' payloads, headers not counted) ÷ input.
//!
//! Each measurement repeats whole passes over the set (a fresh pair each, built outside the
//! timing) until `budget` of CPU time is used; the median of `reps` measurements is printed as
//! groups `deflate.compress` and `deflate.decompress` (kind = corpus name).

use std::hint::black_box;
use std::time::Duration;

use crate::corpus;
use crate::engine::open_pair;
use crate::{median, thread_cpu, Line};

pub struct Opts {
    pub sizes: Vec<usize>,
    pub reps: usize,
    pub budget: Duration,
    /// Bytes of messages per set (the set is `total / size` messages, at least 4).
    pub total: usize,
    /// Compression levels to measure; the default level is named `wsengine`, others
    /// `wsengine (level N)` (level 6 is zlib's default, which `ws` uses).
    pub levels: Vec<u8>,
    /// Also write each set as JSON (`{corpus}-{size}.json`) for the Node side.
    pub write_dir: Option<std::path::PathBuf>,
}

fn config(level: u8) -> wsengine::Config {
    wsengine::Config {
        deflate: Some(wsengine::DeflateConfig {
            level,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The payload bytes and frame count of a stream of client (masked) frames.
fn payload_bytes(mut s: &[u8]) -> (u64, u64) {
    let (mut bytes, mut frames) = (0u64, 0u64);
    while s.len() >= 2 {
        let masked = s[1] & 0x80 != 0;
        let (len, mut at) = match s[1] & 0x7f {
            126 => (u64::from(u16::from_be_bytes([s[2], s[3]])), 4),
            127 => (
                u64::from_be_bytes(s[2..10].try_into().expect("8 bytes")),
                10,
            ),
            n => (u64::from(n), 2),
        };
        if masked {
            at += 4;
        }
        bytes += len;
        frames += 1;
        s = &s[at + len as usize..];
    }
    (bytes, frames)
}

/// One compression pass: every message through a fresh client; returns the wire bytes.
fn compress_pass(level: u8, msgs: &[String], keep: Option<&mut Vec<u8>>) -> Duration {
    let (mut client, _server) = open_pair(config(level), config(level));
    let mut keep = keep;
    let t = thread_cpu();
    for m in msgs {
        client.send_text(m).expect("send");
        let n = client.output().len();
        if let Some(k) = keep.as_deref_mut() {
            k.extend_from_slice(client.output());
        }
        black_box(client.output());
        client.consume_output(n);
    }
    thread_cpu() - t
}

/// One decompression pass of `wire` (a fresh server, whose inflater starts as the one that
/// `wire`'s compressor assumed). The level only matters to the sender.
fn decompress_pass(wire: &[u8], msgs: &[String]) -> Duration {
    use wsengine::{Event, Message};
    let (_client, mut server) = open_pair(config(3), config(3));
    let t = thread_cpu();
    let mut next = 0;
    for chunk in wire.chunks(64 * 1024) {
        server.receive(chunk);
        loop {
            match server.next_event() {
                Ok(Some(Event::Message(Message::Text(s)))) => {
                    assert_eq!(s.len(), msgs[next].len(), "message {next} inflated wrong");
                    black_box(s);
                    next += 1;
                }
                Ok(None) => break,
                other => panic!("decompress: {other:?}"),
            }
        }
    }
    let d = thread_cpu() - t;
    assert_eq!(next, msgs.len(), "every message came out");
    d
}

/// Input bytes per CPU-second, passing `pass` repeatedly until `budget` is used.
fn measure(budget: Duration, input: u64, mut pass: impl FnMut() -> Duration) -> f64 {
    let mut used = Duration::ZERO;
    let mut bytes = 0u64;
    while used < budget {
        used += pass();
        bytes += input;
    }
    bytes as f64 / used.as_secs_f64().max(1e-9)
}

pub fn run(o: &Opts) {
    for corpus in corpus::CORPORA {
        for &size in &o.sizes {
            let count = (o.total / size).max(4);
            let msgs = corpus::messages(corpus, size, count);
            if let Some(dir) = &o.write_dir {
                let path = dir.join(format!("{corpus}-{size}.json"));
                corpus::write_json(&path, &msgs)
                    .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            }
            let input: u64 = msgs.iter().map(|m| m.len() as u64).sum();
            for &level in &o.levels {
                one_level(o, corpus, size, level, &msgs, input);
            }
        }
    }
}

fn one_level(o: &Opts, corpus: &str, size: usize, level: u8, msgs: &[String], input: u64) {
    let count = msgs.len();
    let mut wire = Vec::new();
    compress_pass(level, msgs, Some(&mut wire));
    let (payload, frames) = payload_bytes(&wire);
    // Deterministic given the corpus and the level: the same for every pass.
    let ratio = payload as f64 / input as f64;
    let (mut comp, mut decomp) = (Vec::new(), Vec::new());
    for _ in 0..o.reps {
        comp.push(measure(o.budget, input, || {
            compress_pass(level, msgs, None)
        }));
        decomp.push(measure(o.budget, input, || decompress_pass(&wire, msgs)));
    }
    let default = wsengine::DeflateConfig::default().level;
    let name = if level == default {
        "wsengine".to_string()
    } else {
        format!("wsengine (level {level})")
    };
    for (group, runs) in [
        ("deflate.compress", &mut comp),
        ("deflate.decompress", &mut decomp),
    ] {
        let bps = median(runs);
        Line {
            group: group.into(),
            name: name.clone(),
            size,
            kind: Some(corpus.to_string()),
            msgs_per_s: bps * count as f64 / input as f64,
            mb_per_s: Some(bps / 1e6),
            runs: runs.iter().map(|r| r / 1e6).collect(),
            bytes: Some(input),
            note: Some(format!(
                "{count} messages, {input} B in, {payload} B compressed in {frames} frames; \
                 miniz_oxide level {level}"
            )),
            extra: vec![("ratio", ratio), ("messages", count as f64)],
        }
        .emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_stream_round_trips_and_shrinks() {
        let msgs = corpus::messages("json", 1024, 16);
        let mut wire = Vec::new();
        compress_pass(3, &msgs, Some(&mut wire));
        let (payload, frames) = payload_bytes(&wire);
        let input: u64 = msgs.iter().map(|m| m.len() as u64).sum();
        assert_eq!(frames, 16);
        assert!(payload < input / 2, "{payload} of {input}");
        decompress_pass(&wire, &msgs);
    }
}
