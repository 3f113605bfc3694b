//! Shared pieces of the benchmark binaries: payloads, raw frames, in-memory streams, timing
//! and the JSON line protocol that `cargo xtask bench` reads.
//!
//! # The JSON line protocol
//!
//! Every benchmark command prints one JSON object per line on stdout (anything else on stdout
//! is ignored, so a face may print progress on stderr). The keys:
//!
//! | key | required | meaning |
//! |---|---|---|
//! | `group` | no (default `"external"`) | which table: `engine.recv`, `engine.send`, `mask`, `echo`, `echo.conns`, `memory`, or a new one |
//! | `name` | yes | who was measured: `wsengine`, `tungstenite`, `fastwebsockets`, `js:wsengine`, `ws`, `wasmtime:wsengine`, ... |
//! | `size` | yes | message size in bytes (0 where it does not apply) |
//! | `kind` | no | `text` or `binary` |
//! | `msgs_per_s` | yes | messages per second (median of the repetitions; 0 where it does not apply) |
//! | `mb_per_s` | no | payload MB/s (10^6 bytes), derived from `msgs_per_s × size` if absent |
//! | `runs` | no | every repetition's messages/s, for the spread |
//! | `bytes` | no | (memory rows) bytes held |
//! | `note` | no | free text shown beside the figure |
//! | `cpu` | no | `1` when `msgs_per_s` is per CPU-second (see below) rather than per wall second |
//! | `wall_msgs_per_s` | no | the wall-clock rate, where `msgs_per_s` is per CPU-second |
//! | `server_cpu_us_per_msg`, `client_cpu_us_per_msg` | no | (echo) CPU microseconds per message on each side |
//!
//! The in-memory benchmarks and the echo runs report messages per **CPU-second**: the CPU time
//! of the benchmark thread (and, for echo, of the client plus every thread of the server,
//! from `/proc/PID/task/*/schedstat`). On this project's shared 2-vCPU machines other
//! processes take the CPU away in bursts; wall-clock rates then measure the neighbours. When
//! the machine is quiet and client and server share one CPU, the two rates agree.
//!
//! A line is a result; its repetitions are already folded into the median by the command.

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How much one read from an in-memory stream returns at most: a socket read's size.
pub const READ_CHUNK: usize = 64 * 1024;

/// The mask key every pre-built client frame uses.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A message payload of `size` bytes. Text is mostly ASCII with two- to four-byte
/// sequences mixed in (so validation cannot take the all-ASCII shortcut everywhere); binary is
/// pseudo-random bytes.
pub fn payload(size: usize, text: bool) -> Vec<u8> {
    if text {
        const PIECE: &str =
            "{\"id\":12345,\"name\":\"κόσμε\",\"tags\":[\"€\",\"𝄞\",\"ascii text here\"]} ";
        let mut s = String::with_capacity(size + 8);
        while s.len() < size {
            for c in PIECE.chars() {
                if s.len() + c.len_utf8() > size {
                    break;
                }
                s.push(c);
            }
            if s.len() + 4 > size {
                while s.len() < size {
                    s.push('.');
                }
            }
        }
        debug_assert_eq!(s.len(), size);
        s.into_bytes()
    } else {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ size as u64;
        (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }
}

/// Appends one frame (FIN, opcode 1 or 2) with `payload`, masked with [`KEY`] if `masked`.
pub fn push_frame(out: &mut Vec<u8>, payload: &[u8], text: bool, masked: bool) {
    out.push(0x80 | if text { 0x1 } else { 0x2 });
    let m = if masked { 0x80 } else { 0 };
    let n = payload.len();
    if n < 126 {
        out.push(m | n as u8);
    } else if n <= 0xFFFF {
        out.push(m | 126);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    if masked {
        out.extend_from_slice(&KEY);
        let start = out.len();
        out.extend_from_slice(payload);
        for (i, b) in out[start..].iter_mut().enumerate() {
            *b ^= KEY[i & 3];
        }
    } else {
        out.extend_from_slice(payload);
    }
}

/// How many messages of `size` one pre-built input buffer holds (about 4 MiB of them).
pub fn batch_len(size: usize) -> usize {
    ((4 << 20) / size.max(1)).clamp(1, 1 << 16)
}

/// An endless stream that reads `data` over and over (at most [`READ_CHUNK`] bytes per read,
/// copied out like a socket read) and swallows writes.
pub struct LoopStream {
    data: std::sync::Arc<Vec<u8>>,
    pos: usize,
    /// Bytes written to us.
    pub written: u64,
}

impl LoopStream {
    pub fn new(data: std::sync::Arc<Vec<u8>>) -> LoopStream {
        LoopStream {
            data,
            pos: 0,
            written: 0,
        }
    }

    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        if self.data.is_empty() {
            return 0;
        }
        if self.pos == self.data.len() {
            self.pos = 0;
        }
        let n = buf.len().min(READ_CHUNK).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
}

impl Read for LoopStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_into(buf))
    }
}

impl Write for LoopStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for LoopStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.read_into(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for LoopStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.written += buf.len() as u64;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n: usize = bufs.iter().map(|b| b.len()).sum();
        this.written += n as u64;
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Drives a future that never waits (everything here is in memory) to completion on this
/// thread, without a runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// The median of `v` (sorted in place); 0 for an empty slice.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One result line of the JSON line protocol.
#[derive(Clone, Debug, Default)]
pub struct Line {
    pub group: String,
    pub name: String,
    pub size: usize,
    pub kind: Option<String>,
    pub msgs_per_s: f64,
    pub mb_per_s: Option<f64>,
    pub runs: Vec<f64>,
    pub bytes: Option<u64>,
    pub note: Option<String>,
    /// More numeric fields, written as they are.
    pub extra: Vec<(&'static str, f64)>,
}

impl Line {
    pub fn to_json(&self) -> String {
        let mut s = format!(
            "{{\"group\":{},\"name\":{},\"size\":{}",
            json_str(&self.group),
            json_str(&self.name),
            self.size
        );
        if let Some(k) = &self.kind {
            s += &format!(",\"kind\":{}", json_str(k));
        }
        s += &format!(",\"msgs_per_s\":{}", num(self.msgs_per_s));
        let mb = self
            .mb_per_s
            .unwrap_or(self.msgs_per_s * self.size as f64 / 1e6);
        s += &format!(",\"mb_per_s\":{}", num(mb));
        if !self.runs.is_empty() {
            let r: Vec<String> = self.runs.iter().map(|x| num(*x)).collect();
            s += &format!(",\"runs\":[{}]", r.join(","));
        }
        if let Some(b) = self.bytes {
            s += &format!(",\"bytes\":{b}");
        }
        if let Some(n) = &self.note {
            s += &format!(",\"note\":{}", json_str(n));
        }
        for (k, v) in &self.extra {
            s += &format!(",{}:{}", json_str(k), num(*v));
        }
        s.push('}');
        s
    }

    /// Prints the line on stdout (flushed, so a reader sees it at once).
    pub fn emit(&self) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{}", self.to_json());
        let _ = out.flush();
    }
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "0".into()
    }
}

pub fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// CPU time this thread has run (`CLOCK_THREAD_CPUTIME_ID`).
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes it.
    let r = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(r, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time run by every thread of process `pid` (from `/proc/PID/task/*/schedstat`, in ns),
/// `None` if it cannot be read.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for t in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let Ok(t) = t else { continue };
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            total += s.split_whitespace().next()?.parse::<u64>().ok()?;
        }
    }
    Some(Duration::from_nanos(total))
}

/// Runs `step` (which does `per_step` messages) until it has used `budget` of this thread's
/// CPU time (or `max_steps` ran, or ten times the budget passed on the wall clock); returns
/// messages per CPU-second. CPU time rather than wall time: on a shared, noisy machine other
/// processes take the CPU away in bursts, which would count against whoever ran then.
pub fn rate(budget: Duration, max_steps: u64, per_step: u64, mut step: impl FnMut()) -> f64 {
    let wall = Instant::now();
    let start = thread_cpu();
    let mut steps = 0u64;
    loop {
        step();
        steps += 1;
        let used = thread_cpu().saturating_sub(start);
        if used >= budget || steps >= max_steps || wall.elapsed() >= budget * 10 {
            return (steps * per_step) as f64 / used.as_secs_f64().max(1e-9);
        }
    }
}

/// A simple `--name value` argument reader.
pub struct Args(pub Vec<String>);

impl Args {
    pub fn from_env() -> Args {
        Args(std::env::args().skip(1).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, a)| *a == name)
            .filter_map(|(i, _)| self.0.get(i + 1).map(String::as_str))
            .collect()
    }

    pub fn flag(&self, name: &str) -> bool {
        self.0.iter().any(|a| a == name)
    }

    pub fn num<T: std::str::FromStr>(&self, name: &str, default: T) -> T {
        self.get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// A comma-separated list of sizes (`16,1k,64k,1m`).
    pub fn sizes(&self, name: &str, default: &[usize]) -> Vec<usize> {
        match self.get(name) {
            None => default.to_vec(),
            Some(v) => v.split(',').filter_map(parse_size).collect(),
        }
    }
}

/// `16`, `1k`, `64K`, `1m`, `1MiB` → bytes.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.trim_end_matches("ib").trim_end_matches('b');
    let (num, mul) = if let Some(n) = s.strip_suffix('k') {
        (n, 1024)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 1 << 20)
    } else {
        (s, 1)
    };
    num.parse::<usize>().ok().map(|n| n * mul)
}

/// `16 B`, `1 KiB`, `64 KiB`, `1 MiB`.
pub fn size_label(n: usize) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

pub const SIZES: &[usize] = &[16, 1024, 64 * 1024, 1 << 20];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_payload_is_utf8_of_exact_size() {
        for n in [0, 1, 5, 16, 100, 1024, 65536] {
            let p = payload(n, true);
            assert_eq!(p.len(), n);
            assert!(std::str::from_utf8(&p).is_ok());
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("16"), Some(16));
        assert_eq!(parse_size("64k"), Some(65536));
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
    }
}

pub mod compress;
pub mod corpus;
pub mod echo;
pub mod echo_tokio;
pub mod engine;
