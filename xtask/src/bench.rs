//! `cargo xtask bench`: wsengine beside tungstenite and fastwebsockets in one run.
//!
//! Builds `bench/` (the `wsbench` and `wsbench-mem` binaries, the peers' echo servers) and
//! `examples/echo_server`, runs every group below, writes `target/bench/results.json`, and
//! regenerates `BENCHMARKS.md` and its chart (`bench/chart.svg`, drawn here) from it.
//!
//! | group | what | command |
//! |---|---|---|
//! | `engine.recv`, `engine.send` | in-memory parse / encode | `wsbench engine` |
//! | `mask` | (un)masking vs memcpy | `wsbench mask` |
//! | `echo`, `echo.conns100` | loopback echo servers, one client | `wsbench echo-client` |
//! | `deflate.compress`, `deflate.decompress` | permessage-deflate vs `ws` ([`crate::bench_deflate`]) | `wsbench deflate`, `node js/bench/deflate.js` |
//! | `memory` | bytes per connection: idle, after traffic, peak during a 1 MiB message | `wsbench-mem` |
//! | any | other faces (JS, wasm component) | rows of [`FACES`] |
//!
//! Every benchmark command speaks the JSON line protocol documented in `bench/src/lib.rs`
//! (and BENCHMARKS.md): one `{"group":..,"name":..,"size":..,"msgs_per_s":..}` object per line.
//! Each figure is already a median of repeated runs; the repetitions interleave the libraries so
//! that a noisy moment hurts them alike.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::autobahn::{command, Cmd};
use crate::ctx::Ctx;
use crate::proc::{self, fmt_duration, Proc, Result};

const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const RUN_TIMEOUT: Duration = Duration::from_secs(6 * 60);
const PORT_WAIT: Duration = Duration::from_secs(30);
/// The CPU every benchmark process runs on by default. On this project's 2-vCPU machines a
/// ping-pong between two vCPUs is dominated by waking an idle vCPU (measured: 5k to 50k
/// round trips/s from one run to the next); on one CPU the spread is a few percent and the
/// figure is what matters for a server: CPU time per message (server + client + kernel).
const PIN_CPU: &str = "1";

/// Another face of the engine (or a peer of it) measured by its own command.
///
/// A face is skipped, with a note, while the file `needs` does not exist, so rows can be added
/// before the face is written. Placeholders in commands: `{root}`, `{target}`, `{addr}` (the
/// address a `server` must listen on), `{native_echo}` (the native wsengine echo server's
/// address, running during `run`, for faces that want to drive it themselves).
pub struct Face {
    pub name: &'static str,
    /// A path relative to the workspace root that must exist for the face to run.
    pub needs: &'static str,
    /// Run first from the workspace root (each distinct command once).
    pub build: &'static [Cmd],
    /// An echo server listening on `{addr}`: measured by the same echo client as the native
    /// servers (group `echo`, named after the face), so it lands in the same table and ratios.
    pub server: Option<Cmd>,
    /// Whether `server` serves connections concurrently; if not, it is left out of the
    /// many-connections run (where it would never answer the second handshake).
    pub concurrent: bool,
    /// A command that prints JSON lines (see the protocol) on stdout.
    pub run: Option<Cmd>,
}

/// Hooks for the faces other engineers build. Add a row; nothing else needs to change.
pub const FACES: &[Face] = &[
    Face {
        // The JS package against `ws` in Node (js/bench/echo.js: each library's client and
        // server, a window of messages in flight). It prints one summary line
        // {"bench":"js-echo","sizes":[..],"wsengine":{size:rate},"ws":{..}}, which
        // `parse_lines` turns into `js.echo` rows named `js:wsengine` and `ws`.
        name: "js",
        needs: "js/bench/echo.js",
        build: &[
            &["cargo", "xtask", "build-js"],
            &[
                "sh",
                "-c",
                "[ -d {root}/js/node_modules ] || npm ci --prefix {root}/js",
            ],
        ],
        server: None,
        concurrent: true,
        run: Some(&["node", "{root}/js/bench/echo.js", "--rounds", "3"]),
    },
    Face {
        // The tokio adapter's echo server (a task per connection, `read().await` then
        // `write().await`): same client, same table as the native servers.
        name: "tokio:wsengine",
        needs: "examples/tokio_echo_server.rs",
        build: &[&[
            "cargo",
            "build",
            "--release",
            "--features",
            "tokio",
            "--example",
            "tokio_echo_server",
        ]],
        server: Some(&[
            "{target}/release/examples/tokio_echo_server",
            "--addr",
            "{addr}",
            "--no-deflate",
        ]),
        concurrent: true,
        run: None,
    },
    Face {
        // The echo server inside the wasmtime component (`wsengine-host echo-server`: the
        // `websocket` world's listener and sockets, one instance serving every connection
        // through `server.wait`, `try-read-buffer()` then `write-buffer()`; the host drives it through
        // async bindings on a current-thread tokio runtime, see docs/component.md). Same
        // client, same table as the native servers, and in the 100-connection run.
        // `cargo xtask build component` builds websocket.wasm (the shipped `component`
        // profile: opt-level "s", LTO) and the release host.
        name: "wasmtime:wsengine",
        needs: "host/src/main.rs",
        build: &[&["cargo", "xtask", "build", "component"]],
        server: Some(&[
            "{target}/release/wsengine-host",
            "echo-server",
            "--addr",
            "{addr}",
            "--no-deflate",
            "--component",
            "{target}/component/websocket.wasm",
        ]),
        concurrent: true,
        run: None,
    },
    Face {
        // The same component and echo loop, but the host accepts the TCP connections and hands
        // each to the component as a wasi:io stream pair (`accept-streams`) whose reads and
        // writes move up to 1 MiB per call (host/src/streams.rs), where wasmtime-wasi's TCP
        // streams move 64 KiB: what a host that does its own I/O gets.
        name: "wasmtime:wsengine/host-tcp",
        needs: "host/src/streams.rs",
        build: &[&["cargo", "xtask", "build", "component"]],
        server: Some(&[
            "{target}/release/wsengine-host",
            "echo-server",
            "--addr",
            "{addr}",
            "--no-deflate",
            "--host-tcp",
            "--component",
            "{target}/component/websocket.wasm",
        ]),
        // An instance per connection, served side by side.
        concurrent: true,
        run: None,
    },
];

/// Shown under the goals when an engine goal is missed.
const WHY_ENGINE: &str = "Engine: the margins left are within this machine's run-to-run noise \
     (±10% between runs of identical code, even per CPU-second). Text receive is bound by UTF-8 \
     validation (simdutf8 for wsengine and fastwebsockets alike).";

/// Shown under the goals when an echo goal is missed.
const WHY_ECHO: &str = "Loopback echo, single connection: every server here is at the same \
     floor as fastwebsockets from 64 KiB up — one receive copy into the message (zero-copy \
     receive: `Connection::receive_buffer`, tokio's uninitialised `ReadBuf`, `read(2)` for the \
     blocking adapter), one in-place unmask, one vectored send from the message, the same \
     syscalls per message (strace), no page faults (perf stat) — and the ratio there is this \
     shared VM's noise. At 1 MiB the servers cost the same to within a percent: profiled \
     (2026-12-03, `perf record` on each server while the same client drove them in rotation, \
     9 × 500 binary echoes each), the kernel's copies in and out took 62–66 µs each per echo \
     for the tokio adapter and fastwebsockets alike, unmasking 27 µs against 30 µs, paired \
     median 0.997× (1.000× with each message sent as one frame, as fastwebsockets does); a \
     15-repetition run gave 1.006× (blocking) and 0.999× (tokio) for binary, 1.001× and \
     0.992× for text. fastwebsockets' own 1 MiB rate depends on where its buffer lands: on a \
     freshly started server its 1 MiB text echo ran at half the tokio adapter's (921 against \
     1 681–1 797 msg/s, 62% of its CPU in the kernel's copy into its buffer), because this \
     AMD EPYC's `rep movsb` runs 4–5× slower into a destination 1–31 bytes past the source's \
     64-byte alignment (134–150 against 617–669 µs per MiB received on a bare loopback \
     socket); the bench's order, every smaller size first, leaves it in its fast state. \
     On this machine (2026-12-03) the client's own CPU per \
     message, identical work whichever server it talks to, varied by up to 7% from one server \
     to the next, and single repetitions of one server by ±12%; a separate 15-repetition run of \
     the tokio adapter against fastwebsockets alone (scripted beside the bench, same client, \
     same CPU) gave paired medians of 1.007× (64 KiB text), 1.006× (64 KiB binary), 0.989× \
     (16 B text) and 1.018× (16 B binary). Over the last seven full runs (the native server code \
     unchanged in the last four): blocking 0.93–1.05× and the tokio adapter 0.90–1.05×. Small messages: a \
     16-byte echo costs each server ~10–13 µs of CPU, nearly all of it in the kernel, and the \
     tokio adapter runs ~470 more user-space instructions per message than fastwebsockets \
     (callgrind: 3 698 against 3 232), spread thin over the engine's event loop and the \
     adapter's plumbing — about 1%. Reading each message into the previous message's buffer \
     (an allocation-free read, as Beast's `read(buffer)`) was tried and measured no difference \
     (server CPU 9.36 against 9.35 µs per 16-byte echo), so it was not kept. 100 connections: \
     the blocking example server is a thread per connection (1.45 context switches per message \
     against 0.31 for an epoll loop, `perf stat`), 0.68–0.75×; the tokio adapter, same engine \
     in fastwebsockets' I/O model, 0.93–1.00×.";

/// Shown under the goals when the component's echo goal is missed.
const WHY_COMPONENT: &str = "Component: the host drives the component through async bindings \
     on a current-thread tokio runtime, relays each message as a `buffer` resource that never \
     leaves the component (`read-buffer` or `try-read-buffer`, then `write-buffer`; a `string` lifted out would be \
     validated again by wasmtime: std's `from_utf8` was 38% of the server's CPU for a 1 MiB \
     text echo through `read`/`write`), and keeps freed memory in its heap \
     (glibc gave each 1 MiB message's pages back and the next one faulted them in again, 9% of \
     the server's CPU). On the host's own TCP streams (`wasmtime:wsengine/host-tcp`: streams \
     that move up to 1 MiB per call, host/src/streams.rs) every size meets the goal since \
     2026-12-03 (1 MiB text / binary 0.44× / 0.50× → 0.58–0.62× in two full runs, 0.53× / 0.66× and \
     0.51× / 0.62× in two more): the guest copies the \
     frames it gathers into one write with simd128 instead of `memory.copy` (the host's \
     `rep movsb`, 15× slower on this AMD EPYC when the destination is 1–31 bytes past the \
     source's 64-byte alignment, as every frame header puts the next payload), the host hands \
     each read over as a `Vec` of its own (a shared `Bytes` cost wasmtime-wasi another copy of \
     the read), and reads stop at 512 KiB (larger ones pushed the bytes out of the cache before \
     they were unmasked; the client's CPU, same CPU, fell most). On wasmtime-wasi's own TCP \
     streams (`wasmtime:wsengine`) 1 MiB stays at 0.30–0.44× (four runs): they move at most 64 KiB per read or \
     write and zero a fresh buffer for every read, so a 1 MiB message is 16 `sendto`s each \
     waking the client, which on the shared CPU preempts the server each time — 8.6 context \
     switches per 1 MiB echo against 1.4 on the host's streams (`perf stat`, same component). \
     Those limits are in wasmtime-wasi (`MAX_READ_SIZE_ALLOC`), not settable by a host. A native \
     server copies each message twice (into the kernel and out of it); through the component \
     it is copied six times: kernel → host, host → guest, unmasked into the message, gathered \
     into the write, lifted out to the host, host → kernel.";

/// How the engine got its speed (kept with the report so readers see why the figures are what
/// they are).
const WHAT_MAKES_IT_FAST: &str = "How the engine gets there: \
     masking runs on 32-byte blocks (SSE2 everywhere, AVX2 when the CPU has it, detected at run \
     time) and 8-byte words below that; a payload is unmasked *while* it is copied into the \
     message, in one pass; when nothing is buffered, `receive()` moves a data frame's payload \
     straight into the message without passing through the input buffer, and the adapters read \
     the rest of a frame's payload into the message directly (zero-copy receive: \
     `receive_buffer`, unmasked in place); text is validated with \
     simdutf8's fast path; mask keys come from a per-thread pool of OS randomness (one `getrandom` \
     per 256 frames, not per 16); the blocking adapter writes large server messages with \
     vectored writes straight from the caller's buffer; messages go out in frames of up to 64 KiB \
     (`write_buffer_bytes`), one header and mask key per 64 KiB. One read syscall and one write syscall per \
     small echoed message.\n\n";

/// The native echo servers: name, build step, command (listening on `{addr}`).
const SERVERS: &[(&str, Cmd)] = &[
    (
        "wsengine",
        &[
            "{target}/release/examples/echo_server",
            "--addr",
            "{addr}",
            "--no-deflate",
        ],
    ),
    (
        "tungstenite",
        &[
            "{target}/release/wsbench",
            "serve",
            "tungstenite",
            "--addr",
            "{addr}",
        ],
    ),
    (
        "fastwebsockets",
        &[
            "{target}/release/wsbench",
            "serve",
            "fastwebsockets",
            "--addr",
            "{addr}",
        ],
    ),
];

/// Servers measured only in the many-connections run: the same engine under another I/O
/// model, to tell the engine's cost from the example server's thread per connection.
const MANY_ONLY: &[(&str, Cmd)] = &[(
    "wsengine-tokio",
    &[
        "{target}/release/wsbench",
        "serve",
        "wsengine-tokio",
        "--addr",
        "{addr}",
    ],
)];

const GROUPS: &[&str] = &["engine", "mask", "deflate", "echo", "memory", "faces"];

struct Opts {
    only: Vec<String>,
    quick: bool,
    report_only: bool,
    /// Run every benchmark process on this one CPU (`taskset -c N`), or not at all.
    pin: Option<String>,
}

fn usage() -> &'static str {
    "usage: cargo xtask bench [--only engine,mask,deflate,echo,memory,faces] [--quick] [--report-only]\n\
     \n\
     Runs every benchmark group (about 4 minutes after the build), writes\n\
     target/bench/results.json and regenerates BENCHMARKS.md and bench/chart.svg.\n\
     --only      run these groups; the other groups keep their previous results\n\
     --quick     fewer, shorter repetitions (a smoke run; figures are noisier)\n\
     --report-only  only regenerate BENCHMARKS.md and the chart from results.json\n\
     --pin N     run every benchmark process on CPU N (default 1, with taskset)\n\
     --no-pin    let the scheduler place them\n"
}

fn parse(args: &[String]) -> Result<Opts> {
    let mut o = Opts {
        only: GROUPS.iter().map(|s| s.to_string()).collect(),
        quick: false,
        report_only: false,
        pin: Some(PIN_CPU.to_string()),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--only" => {
                let v = it.next().ok_or("--only needs a value")?;
                o.only = v.split(',').map(|s| s.trim().to_string()).collect();
                for g in &o.only {
                    if !GROUPS.contains(&g.as_str()) {
                        return Err(format!(
                            "unknown group `{g}` (groups: {})",
                            GROUPS.join(",")
                        ));
                    }
                }
            }
            "--quick" => o.quick = true,
            "--no-pin" => o.pin = None,
            "--pin" => o.pin = Some(it.next().ok_or("--pin needs a CPU number")?.clone()),
            "--report-only" => o.report_only = true,
            "-h" | "--help" => {
                print!("{}", usage());
                return Err(String::new());
            }
            _ => return Err(format!("unknown argument `{a}`\n{}", usage())),
        }
    }
    Ok(o)
}

pub fn main(ctx: &Ctx, args: &[String]) -> Result<bool> {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => return Ok(true),
        Err(e) => return Err(e),
    };
    let dir = ctx.target.join("bench");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let results_path = dir.join("results.json");
    if o.report_only {
        let doc = read_results(&results_path)?;
        write_report(ctx, &doc)?;
        return Ok(true);
    }
    let started = Instant::now();
    build(ctx, &o)?;
    let mut lines: Vec<Value> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut run_group = |name: &str, f: &mut dyn FnMut() -> Result<Vec<Value>>| {
        if !o.only.iter().any(|g| g == name) {
            return;
        }
        let t = Instant::now();
        println!("bench: {name} ...");
        match f() {
            Ok(v) => {
                println!(
                    "bench: {name}: {} results in {}",
                    v.len(),
                    fmt_duration(t.elapsed())
                );
                lines.extend(v);
            }
            Err(e) => {
                println!("bench: {name}: FAILED: {e}");
                errors.push(format!("{name}: {e}"));
            }
        }
    };
    let q = o.quick;
    let pin = match &o.pin {
        Some(cpu)
            if proc::probe(
                Command::new("taskset").arg("--version"),
                Duration::from_secs(10),
            ) =>
        {
            println!(
                "bench: every benchmark process runs on CPU {cpu} (taskset; --no-pin to change)"
            );
            Some(cpu.as_str())
        }
        Some(_) => {
            println!("bench: taskset not found: processes are not pinned (figures are noisier)");
            None
        }
        None => None,
    };
    run_group("engine", &mut || {
        let (reps, ms) = if q { ("3", "20") } else { ("11", "40") };
        let mut c = bcmd(ctx, pin, &["{target}/release/wsbench", "engine"], &[]);
        c.args(["--reps", reps, "--ms", ms]);
        run_cmd_lines(ctx, "bench-engine", c)
    });
    run_group("mask", &mut || {
        let (reps, ms) = if q { ("3", "20") } else { ("11", "30") };
        let cmd: Cmd = &[
            "{target}/release/wsbench",
            "mask",
            "--sizes",
            "16,1k,64k,1m",
        ];
        let mut c = bcmd(ctx, pin, cmd, &[]);
        c.args(["--reps", reps, "--ms", ms]);
        run_cmd_lines(ctx, "bench-mask", c)
    });
    run_group("deflate", &mut || crate::bench_deflate::run(ctx, q, pin));
    run_group("memory", &mut || {
        run_lines(ctx, pin, "bench-memory", &["{target}/release/wsbench-mem"])
    });
    run_group("echo", &mut || echo(ctx, q, pin));
    run_group("faces", &mut || faces(ctx, pin));
    if proc::interrupted().is_some() {
        return Ok(false);
    }

    // Merge: groups not run this time keep their earlier results.
    let ran = |g: &str| -> bool {
        let top = g.split('.').next().unwrap_or(g);
        let top = if ["engine", "mask", "deflate", "echo", "memory"].contains(&top) {
            top
        } else {
            "faces"
        };
        o.only.iter().any(|x| x == top)
    };
    let mut all: Vec<Value> = match read_results(&results_path) {
        Ok(old) => old["results"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|l| !ran(l["group"].as_str().unwrap_or("external")))
            .collect(),
        Err(_) => Vec::new(),
    };
    all.extend(lines);
    let doc = json!({
        "meta": meta(ctx, started.elapsed(), &o, pin, &errors),
        "results": all,
    });
    let text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    fs::write(&results_path, text + "\n")
        .map_err(|e| format!("cannot write {}: {e}", results_path.display()))?;
    println!("bench: wrote {}", ctx.rel(&results_path));
    write_report(ctx, &doc)?;
    println!("bench: total {}", fmt_duration(started.elapsed()));
    Ok(errors.is_empty())
}

/// Builds the benchmark binaries and our echo server. `bench/` is a package of its own,
/// outside the workspace (its peers' dependency tree stays out of `cargo test --workspace`),
/// with its own Cargo.lock; it builds into the same target directory as the workspace, so
/// every binary is under `{target}/release`.
fn build(ctx: &Ctx, o: &Opts) -> Result<()> {
    let log = ctx.log("bench-build");
    let manifest = ctx.root.join("bench").join("Cargo.toml");
    let manifest = manifest.to_string_lossy().into_owned();
    let target = ctx.target.to_string_lossy().into_owned();
    let mut steps: Vec<Vec<&str>> = vec![
        vec![
            "build",
            "--release",
            "--manifest-path",
            &manifest,
            "--target-dir",
            &target,
            "--bins",
        ],
        vec![
            "build",
            "--release",
            "-p",
            "wsengine",
            "--example",
            "echo_server",
        ],
    ];
    if !o.only.iter().any(|g| g == "echo") {
        steps.pop();
    }
    for (i, s) in steps.iter().enumerate() {
        println!("bench: cargo {}", s.join(" "));
        let mut c = ctx.cargo(s);
        let r = if i == 0 {
            proc::run_logged_ok("cargo build", &mut c, &log, BUILD_TIMEOUT)
        } else {
            proc::run_appending_ok("cargo build", &mut c, &log, BUILD_TIMEOUT)
        };
        r.inspect_err(|_| proc::print_tail(&log, 30))?;
    }
    Ok(())
}

/// `cmd` with placeholders substituted, run under `taskset -c CPU` when pinning.
pub(crate) fn bcmd(ctx: &Ctx, pin: Option<&str>, cmd: Cmd, vars: &[(&str, String)]) -> Command {
    let c = command(ctx, cmd, vars);
    let Some(cpu) = pin else { return c };
    let mut t = Command::new("taskset");
    t.arg("-c").arg(cpu).arg(c.get_program()).args(c.get_args());
    if let Some(d) = c.get_current_dir() {
        t.current_dir(d);
    }
    t
}

/// Runs a command (placeholders substituted) and returns the JSON lines it printed.
fn run_lines(ctx: &Ctx, pin: Option<&str>, log: &str, cmd: Cmd) -> Result<Vec<Value>> {
    run_cmd_lines(ctx, log, bcmd(ctx, pin, cmd, &[]))
}

pub(crate) fn run_cmd_lines(ctx: &Ctx, log: &str, mut c: Command) -> Result<Vec<Value>> {
    let path = ctx.log(log);
    proc::run_logged_ok(log, &mut c, &path, RUN_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&path, 20))?;
    Ok(parse_lines(&path))
}

/// The JSON objects among a log's lines (other lines are ignored). A summary line in the JS
/// bench's shape (`{"bench":B,"sizes":[..],LIB:{size:rate},..}`) becomes one row per library
/// and size.
fn parse_lines(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| l.trim_start().starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .flat_map(explode_summary)
        .filter(|v| v.get("name").is_some() && v.get("msgs_per_s").is_some())
        .map(|mut v| {
            if v.get("group").is_none() {
                v["group"] = json!("external");
            }
            v
        })
        .collect()
}

/// `{"bench":"js-echo","sizes":[16],"wsengine":{"16":r},"ws":{"16":r},"ratio":..}` →
/// `{"group":"js.echo","name":"js:wsengine","size":16,"kind":"binary","msgs_per_s":r}` and the
/// same for `ws`; any other line is kept as it is.
fn explode_summary(v: Value) -> Vec<Value> {
    let (Some(bench), Some(sizes)) = (v["bench"].as_str(), v["sizes"].as_array()) else {
        return vec![v];
    };
    let group = bench.replace('-', ".");
    let mut out = Vec::new();
    for (lib, rates) in v.as_object().into_iter().flatten() {
        if !rates.is_object() || lib == "ratio" {
            continue;
        }
        let name = if lib == "wsengine" {
            "js:wsengine".to_string()
        } else {
            lib.clone()
        };
        for size in sizes.iter().filter_map(Value::as_u64) {
            if let Some(r) = rates[size.to_string()].as_f64() {
                out.push(json!({
                    "group": group, "name": name, "size": size, "kind": "binary", "msgs_per_s": r,
                }));
            }
        }
    }
    out
}

/// A free loopback port (bound and released; the server binds it right after).
fn free_port() -> Result<u16> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn start_server(ctx: &Ctx, pin: Option<&str>, name: &str, cmd: Cmd) -> Result<(Proc, SocketAddr)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()?));
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let log = ctx.log(&format!("bench-server-{slug}"));
    let mut c = bcmd(ctx, pin, cmd, &[("addr", addr.to_string())]);
    let mut p = Proc::spawn_logged(name, &mut c, &log)?;
    p.wait_for_port(addr, PORT_WAIT)
        .inspect_err(|_| proc::print_tail(&log, 20))?;
    Ok((p, addr))
}

fn echo(ctx: &Ctx, quick: bool, pin: Option<&str>) -> Result<Vec<Value>> {
    // (name, (process, address), the echo client's flag for it)
    let mut servers = Vec::new();
    for (name, cmd) in SERVERS {
        servers.push((
            name.to_string(),
            start_server(ctx, pin, name, cmd)?,
            "--target",
        ));
    }
    for (name, cmd) in MANY_ONLY {
        let s = start_server(ctx, pin, name, cmd)?;
        servers.push((name.to_string(), s, "--target-many"));
    }
    for f in FACES {
        let Some(cmd) = f.server else { continue };
        if !ctx.root.join(f.needs).exists() {
            continue;
        }
        for b in f.build {
            let log = ctx.log("bench-face-build");
            proc::run_appending_ok(f.name, &mut command(ctx, b, &[]), &log, BUILD_TIMEOUT)?;
        }
        match start_server(ctx, pin, f.name, cmd) {
            Ok(s) => {
                let flag = if f.concurrent {
                    "--target"
                } else {
                    "--target-single"
                };
                servers.push((f.name.to_string(), s, flag));
            }
            Err(e) => println!("bench: face {} server did not start: {e}", f.name),
        }
    }
    let (reps, ms) = if quick { ("2", "200") } else { ("7", "400") };
    let mut c = bcmd(ctx, pin, &["{target}/release/wsbench", "echo-client"], &[]);
    for (name, (_, addr), flag) in &servers {
        c.arg(flag).arg(format!("{name}={addr}"));
    }
    c.args([
        "--reps",
        reps,
        "--ms",
        ms,
        "--conns",
        "100",
        "--conn-sizes",
        "16",
    ]);
    let r = run_cmd_lines(ctx, "bench-echo", c);
    for (_, (mut p, _), _) in servers {
        p.stop();
    }
    r
}

fn faces(ctx: &Ctx, pin: Option<&str>) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let runnable: Vec<&Face> = FACES.iter().filter(|f| f.run.is_some()).collect();
    if runnable.iter().all(|f| !ctx.root.join(f.needs).exists()) {
        for f in FACES {
            println!(
                "bench: face {} skipped ({} does not exist yet)",
                f.name, f.needs
            );
        }
        return Ok(out);
    }
    let (mut native, addr) = start_server(ctx, pin, "wsengine", SERVERS[0].1)?;
    for f in runnable {
        if !ctx.root.join(f.needs).exists() {
            println!(
                "bench: face {} skipped ({} does not exist yet)",
                f.name, f.needs
            );
            continue;
        }
        let log = ctx.log("bench-face-build");
        let built = f.build.iter().try_for_each(|b| {
            proc::run_appending_ok(f.name, &mut command(ctx, b, &[]), &log, BUILD_TIMEOUT)
        });
        if let Err(e) = built {
            println!("bench: face {} not built: {e}", f.name);
            continue;
        }
        let run = f.run.expect("filtered");
        let c = bcmd(ctx, pin, run, &[("native_echo", addr.to_string())]);
        match run_cmd_lines(ctx, &format!("bench-face-{}", f.name.replace(':', "-")), c) {
            Ok(v) => out.extend(v),
            Err(e) => println!("bench: face {} failed: {e}", f.name),
        }
    }
    native.stop();
    Ok(out)
}

fn meta(ctx: &Ctx, took: Duration, o: &Opts, pin: Option<&str>, errors: &[String]) -> Value {
    let sh = |prog: &str, args: &[&str]| -> String {
        Command::new(prog)
            .args(args)
            .current_dir(&ctx.root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    json!({
        "date_unix": secs,
        "date": sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "git": sh("git", &["describe", "--always", "--dirty"]),
        "rustc": sh("rustc", &["--version"]),
        "cpu": cpu,
        "cores": cores,
        "seconds": took.as_secs(),
        "quick": o.quick,
        "pinned_cpu": pin,
        "groups": o.only,
        "errors": errors,
    })
}

fn read_results(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).map_err(|e| {
        format!(
            "cannot read {} (run `cargo xtask bench` first): {e}",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// The report

/// The results, indexed: (group, name, size, kind) → line.
pub(crate) struct Table<'a> {
    rows: BTreeMap<(String, String, u64, String), &'a Value>,
}

impl<'a> Table<'a> {
    fn new(doc: &'a Value) -> Table<'a> {
        let mut rows = BTreeMap::new();
        for l in doc["results"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let key = (
                l["group"].as_str().unwrap_or("external").to_string(),
                l["name"].as_str().unwrap_or("").to_string(),
                l["size"].as_u64().unwrap_or(0),
                l["kind"].as_str().unwrap_or("").to_string(),
            );
            rows.insert(key, l);
        }
        Table { rows }
    }

    pub(crate) fn get(&self, group: &str, name: &str, size: u64, kind: &str) -> Option<&'a Value> {
        self.rows
            .get(&(group.into(), name.into(), size, kind.into()))
            .copied()
    }

    fn rate(&self, group: &str, name: &str, size: u64, kind: &str) -> Option<f64> {
        self.get(group, name, size, kind)
            .and_then(|l| l["msgs_per_s"].as_f64())
            .filter(|r| *r > 0.0)
    }

    fn groups(&self) -> Vec<String> {
        let mut g: Vec<String> = self.rows.keys().map(|k| k.0.clone()).collect();
        g.dedup();
        g
    }

    /// (size, kind) pairs of a group, in size order.
    pub(crate) fn cases(&self, group: &str) -> Vec<(u64, String)> {
        let mut v: Vec<(u64, String)> = self
            .rows
            .keys()
            .filter(|k| k.0 == group)
            .map(|k| (k.2, k.3.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        v.dedup();
        v
    }

    pub(crate) fn names(&self, group: &str) -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for k in self.rows.keys().filter(|k| k.0 == group) {
            if !v.contains(&k.1) {
                v.push(k.1.clone());
            }
        }
        // wsengine first, then the peers in a fixed order.
        let order = |n: &str| match n {
            "wsengine" => 0,
            "tungstenite" => 1,
            "fastwebsockets" => 2,
            _ => 3,
        };
        v.sort_by_key(|n| order(n));
        v
    }
}

pub(crate) fn size_label(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} B")
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1} k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

pub(crate) fn fmt_mb(mb: f64) -> String {
    if mb >= 100.0 {
        format!("{mb:.0}")
    } else if mb >= 1.0 {
        format!("{mb:.1}")
    } else {
        format!("{mb:.2}")
    }
}

fn ratio_cell(r: Option<f64>, goal: f64) -> String {
    match r {
        None => "–".into(),
        Some(r) if r >= goal => format!("**{r:.2}×** ✓"),
        Some(r) => format!("{r:.2}× ✗"),
    }
}

/// One goal of issue 7 and whether this run met it.
struct Goal {
    what: String,
    measured: String,
    met: Option<bool>,
    /// What was found about the cause, shown when the goal is not met.
    why: &'static str,
}

fn goal_mark(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "met",
        Some(false) => "**not met**",
        None => "not measured",
    }
}

/// Names in the echo tables that are variants of wsengine itself (see [`MANY_ONLY`]).
const VARIANTS: &[&str] = &["wsengine-tokio"];

/// Whether `name` is another face of the engine measured beside native (a `wasmtime:…`
/// server in the echo table): its ratio is face ÷ native.
fn is_face(name: &str) -> bool {
    name.starts_with("wasmtime:")
}

/// A throughput table for a group with peers: one row per (size, kind), msgs/s and MB/s per
/// library, then wsengine's ratio to each peer against `goals` (peer → minimum ratio).
fn throughput_table(t: &Table, group: &str, goals: &[(&str, f64)], md: &mut String) {
    let names = t.names(group);
    if names.is_empty() {
        md.push_str("_(not measured in this run)_\n\n");
        return;
    }
    let _ = write!(md, "| size | kind |");
    for n in &names {
        let _ = write!(md, " {n} msg/s (MB/s) |");
    }
    // Ratios of wsengine (or, in a face's group, its first name) to each other name.
    let ours_name = if names.iter().any(|n| n == "wsengine") {
        "wsengine"
    } else {
        names[0].as_str()
    };
    let peers: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| *n != ours_name)
        .collect();
    for p in &peers {
        if is_face(p) {
            let _ = write!(md, " {p} ÷ {ours_name} |");
        } else {
            let _ = write!(md, " {ours_name} ÷ {p} |");
        }
    }
    md.push('\n');
    md.push_str("|---|---|");
    for _ in &names {
        md.push_str("---:|");
    }
    for _ in &peers {
        md.push_str("---:|");
    }
    md.push('\n');
    for (size, kind) in t.cases(group) {
        let _ = write!(md, "| {} | {kind} |", size_label(size));
        for n in &names {
            match t.get(group, n, size, &kind) {
                Some(l) => {
                    let r = l["msgs_per_s"].as_f64().unwrap_or(0.0);
                    let mb = l["mb_per_s"].as_f64().unwrap_or(r * size as f64 / 1e6);
                    if r > 0.0 {
                        let _ = write!(md, " {} ({}) |", fmt_rate(r), fmt_mb(mb));
                    } else {
                        let note = l["note"].as_str().unwrap_or("failed");
                        let _ = write!(md, " {} |", note.replace('|', "/"));
                    }
                }
                None => md.push_str(" – |"),
            }
        }
        let ours = t.rate(group, ours_name, size, &kind);
        for p in &peers {
            let theirs = t.rate(group, p, size, &kind);
            let cell = if is_face(p) {
                // Another face of the engine, against native: goal 0.5× (issue 7).
                ratio_cell(theirs.zip(ours).map(|(a, b)| a / b), 0.5)
            } else if VARIANTS.contains(p) {
                // A variant of ours, not a peer: the ratio without a goal.
                ours.zip(theirs)
                    .map_or("–".into(), |(a, b)| format!("{:.2}×", a / b))
            } else {
                let goal = goals.iter().find(|(g, _)| g == p).map_or(1.0, |(_, v)| *v);
                ratio_cell(ours.zip(theirs).map(|(a, b)| a / b), goal)
            };
            let _ = write!(md, " {cell} |");
        }
        md.push('\n');
    }
    md.push('\n');
}

/// Goals over a group: wsengine ÷ peer ≥ min at every case.
fn ratio_goal(t: &Table, group: &str, peer: &str, min: f64, what: &str, why: &'static str) -> Goal {
    ratio_goal_of(t, group, "wsengine", peer, min, what, why)
}

/// The lowest ratio `ours ÷ peer` over every case of `group`, against `min`.
fn ratio_goal_of(
    t: &Table,
    group: &str,
    ours: &str,
    peer: &str,
    min: f64,
    what: &str,
    why: &'static str,
) -> Goal {
    let mut worst: Option<(f64, String)> = None;
    let mut n = 0;
    for (size, kind) in t.cases(group) {
        if let (Some(a), Some(b)) = (
            t.rate(group, ours, size, &kind),
            t.rate(group, peer, size, &kind),
        ) {
            n += 1;
            let r = a / b;
            if worst.as_ref().is_none_or(|(w, _)| r < *w) {
                worst = Some((r, format!("{} {kind}", size_label(size))));
            }
        }
    }
    let (measured, met) = match worst {
        None => ("–".to_string(), None),
        Some((r, at)) => (
            format!("lowest {r:.2}× ({at}) over {n} cases"),
            Some(r >= min),
        ),
    };
    Goal {
        what: what.into(),
        measured,
        met,
        why,
    }
}

fn write_report(ctx: &Ctx, doc: &Value) -> Result<()> {
    let t = Table::new(doc);
    let meta = &doc["meta"];
    let mut md = String::new();
    let mut goals: Vec<Goal> = Vec::new();

    md.push_str(
        "# Benchmarks\n\n\
         <!-- Generated by `cargo xtask bench` from target/bench/results.json; edit xtask/src/bench.rs, not this file. -->\n\n\
         wsengine beside the fastest Rust peers, [tungstenite](https://crates.io/crates/tungstenite) 0.30 and\n\
         [fastwebsockets](https://crates.io/crates/fastwebsockets) 0.10, measured in one run on one machine.\n\
         Every figure is the **median** of repeated runs; within each repetition the libraries take turns\n\
         (in rotating order), so a noisy moment hurts them alike. Ratios are wsengine ÷ peer: above 1 is faster.\n\n\
         Rates are **per CPU-second**: the in-memory figures count the benchmark thread's CPU time\n\
         (`CLOCK_THREAD_CPUTIME_ID`), the echo figures the client's plus every server thread's\n\
         (`/proc/PID/task/*/schedstat`). These machines are shared, 2-vCPU and noisy: other processes\n\
         take the CPU away in bursts, and a wall-clock rate then measures them. Every process runs on\n\
         one CPU (`taskset`), where client and server take turns; on a quiet machine the two rates\n\
         agree, and results.json keeps the wall-clock rate of the echo runs (`wall_msgs_per_s`).\n\n\
         ```sh\n\
         cargo xtask bench               # everything, about 4 minutes after the build\n\
         cargo xtask bench --only echo   # one group; the others keep their previous results\n\
         cargo xtask bench --report-only # regenerate this file and the chart from results.json\n\
         ```\n\n",
    );
    let _ = writeln!(
        md,
        "Run: {} · {} · {} cores · {} · {} · `{}`{} · took {} s.\n",
        meta["date"].as_str().unwrap_or("?"),
        meta["cpu"].as_str().unwrap_or("?"),
        meta["cores"].as_u64().unwrap_or(0),
        match meta["pinned_cpu"].as_str() {
            Some(c) => format!("every process on CPU {c}"),
            None => "not pinned".to_string(),
        },
        meta["rustc"].as_str().unwrap_or("?"),
        meta["git"].as_str().unwrap_or("?"),
        if meta["quick"].as_bool().unwrap_or(false) {
            " · **--quick run (noisier)**"
        } else {
            ""
        },
        meta["seconds"].as_u64().unwrap_or(0),
    );
    let ran: Vec<&str> = meta["groups"]
        .as_array()
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !ran.is_empty() && ran.len() < GROUPS.len() {
        let _ = writeln!(
            md,
            "That run measured only: {}; the other groups are from earlier runs.\n",
            ran.join(", ")
        );
    }
    if let Some(errs) = meta["errors"].as_array().filter(|e| !e.is_empty()) {
        md.push_str("Errors in this run:\n\n");
        for e in errs {
            let _ = writeln!(md, "- {}", e.as_str().unwrap_or(""));
        }
        md.push('\n');
    }
    md.push_str("![wsengine ÷ peer, per size](bench/chart.svg)\n\n");

    // -------- goals (filled below, printed first)
    let goals_at = md.len();

    // -------- engine
    md.push_str(
        "## Engine in memory\n\n\
         The protocol work alone, no sockets: `wsbench engine` (bench/src/engine.rs).\n\n\
         **Receive** — server role, masked single-frame messages in, the same pre-built bytes for\n\
         every library. Each copies the input once into its own buffer (wsengine: `receive()` of\n\
         64 KiB slices; the peers: `read()` calls on an in-memory stream that returns at most\n\
         64 KiB per call), unmasks, validates UTF-8 for text, and delivers an owned payload:\n\
         wsengine `Event::Message` (`Vec<u8>` / `String`) from `next_event()`; tungstenite\n\
         `Message::Binary(Bytes)` / `Message::Text(Utf8Bytes)` from `WebSocket::read()`;\n\
         fastwebsockets a `Frame` with a `BytesMut` payload from `FragmentCollector::read_frame()`.\n\
         Text is JSON-like with 2-, 3- and 4-byte UTF-8 sequences mixed in.\n\n",
    );
    throughput_table(
        &t,
        "engine.recv",
        &[("tungstenite", 1.3), ("fastwebsockets", 1.0)],
        &mut md,
    );
    md.push_str(
        "**Send** — client role: frame and mask one message per call with a fresh random key, and\n\
         hand the bytes to a sink. wsengine `send_binary(&[u8])` / `send_text(&str)` then\n\
         `output()` + `consume_output()` (default `Config`: frames of at most 64 KiB, so a 1 MiB\n\
         message is 16 frames); tungstenite `send(Message)` with a refcounted clone of the payload\n\
         (its API takes owned payloads); fastwebsockets `write_frame(Frame::binary(Payload::Borrowed(..)))`\n\
         (it copies the payload to mask it). Every library copies the payload once.\n\n",
    );
    throughput_table(
        &t,
        "engine.send",
        &[("tungstenite", 1.3), ("fastwebsockets", 1.0)],
        &mut md,
    );
    for g in ["engine.recv", "engine.send"] {
        let dir = if g == "engine.recv" {
            "receive"
        } else {
            "send"
        };
        goals.push(ratio_goal(
            &t,
            g,
            "tungstenite",
            1.3,
            &format!("Engine {dir}: ≥ 1.3× tungstenite at every size"),
            WHY_ENGINE,
        ));
        goals.push(ratio_goal(
            &t,
            g,
            "fastwebsockets",
            1.0,
            &format!("Engine {dir}: ≥ 1.0× fastwebsockets at every size"),
            WHY_ENGINE,
        ));
    }

    // -------- mask
    md.push_str(
        "## Unmasking against memcpy\n\n\
         `wsbench mask`: XOR with a 4-byte key in place, against `copy_from_slice` (memcpy) of the\n\
         same size between two buffers 2 KiB apart modulo 4 KiB (on this CPU glibc's memcpy runs at\n\
         ~1 GB/s when source and destination sit within a few bytes of each other modulo 4 KiB,\n\
         which would flatter the ratio). fastwebsockets' `unmask`, a plain u64 loop and the\n\
         bytewise definition are shown for comparison. GB/s = 10^9 bytes per second.\n\n",
    );
    let mask_names = t.names("mask");
    if mask_names.is_empty() {
        md.push_str("_(not measured in this run)_\n\n");
    } else {
        md.push_str("| size |");
        for n in &mask_names {
            let _ = write!(md, " {n} GB/s |");
        }
        md.push_str(" apply_mask ÷ memcpy |\n|---|");
        for _ in &mask_names {
            md.push_str("---:|");
        }
        md.push_str("---:|\n");
        for (size, kind) in t.cases("mask") {
            let _ = write!(md, "| {} |", size_label(size));
            for n in &mask_names {
                let gb = t
                    .get("mask", n, size, &kind)
                    .and_then(|l| l["mb_per_s"].as_f64())
                    .map_or("–".into(), |mb| format!("{:.1}", mb / 1e3));
                let _ = write!(md, " {gb} |");
            }
            let r = t
                .rate("mask", "wsengine::mask::apply_mask", size, &kind)
                .zip(t.rate("mask", "memcpy", size, &kind))
                .map(|(a, b)| a / b);
            let _ = writeln!(md, " {} |", ratio_cell(r, 0.5));
            if size == 64 * 1024 {
                goals.push(Goal {
                    what: "Unmask 64 KiB ≥ 50% of memcpy".into(),
                    measured: r.map_or("–".into(), |r| format!("{:.0}%", r * 100.0)),
                    met: r.map(|r| r >= 0.5),
                    why: "",
                });
            }
        }
        md.push('\n');
    }

    // -------- echo
    md.push_str(
        "## Loopback echo\n\n\
         `wsbench echo-client` against each echo server on 127.0.0.1, one at a time. The client is\n\
         the same for every server: raw pre-built masked frames over a blocking `std::net::TcpStream`\n\
         (TCP_NODELAY), one message in flight, the echo read back and counted (not validated), so\n\
         its cost is identical whichever server it talks to. A fresh connection per measurement.\n\
         Servers: wsengine `examples/echo_server --no-deflate` (blocking `io::WebSocket`, a thread per\n\
         connection, `read()` then `write()`); tungstenite's blocking server (`accept`, a thread per\n\
         connection, `read()` then `send()`); fastwebsockets' own `examples/echo_server.rs` (hyper 1\n\
         upgrade, tokio current-thread runtime, `FragmentCollector`, `unconstrained` tasks);\n\
         `wasmtime:wsengine`, the WASI component in wasmtime 48 (`wsengine-host echo-server\n\
         --no-deflate`: the `websocket` world's listener on wasi:sockets, one instance serving every\n\
         connection through `server.wait`, the host relaying each message as a `buffer` that stays in the\n\
         component, `try-read-buffer()` then `write-buffer()`, through async bindings on a\n\
         current-thread tokio runtime);\n\
         `wasmtime:wsengine/host-tcp`, the same with `--host-tcp`: the host accepts on tokio and\n\
         hands each connection to the component's `accept-streams` as wasi:io streams that move up to\n\
         1 MiB per call (wasmtime-wasi's TCP streams: 64 KiB), an instance per connection, all served side by side. Every native server and the host-tcp\n\
         host set TCP_NODELAY (wasi:sockets 0.2 has no such option). Client and server run on the same CPU (see above): a ping-pong\n\
         between the two vCPUs of these machines is dominated by waking an idle vCPU (measured:\n\
         5 000 to 50 000 round trips/s from one run to the next), on one CPU it is the CPU cost of a\n\
         round trip: client, server and kernel. results.json also has each side's CPU µs per message.\n\n",
    );
    throughput_table(
        &t,
        "echo",
        &[("tungstenite", 1.0), ("fastwebsockets", 1.0)],
        &mut md,
    );
    goals.push(ratio_goal(
        &t,
        "echo",
        "fastwebsockets",
        1.0,
        "Loopback echo: ≥ fastwebsockets at every size",
        WHY_ECHO,
    ));
    goals.push(ratio_goal(
        &t,
        "echo",
        "tungstenite",
        1.0,
        "Loopback echo: no worse than tungstenite",
        WHY_ECHO,
    ));
    goals.push(ratio_goal_of(
        &t,
        "echo",
        "tokio:wsengine",
        "fastwebsockets",
        1.0,
        "Loopback echo, tokio adapter (issue 9): ≥ fastwebsockets (also tokio) at every size",
        WHY_ECHO,
    ));
    let conns: Vec<String> = t
        .groups()
        .into_iter()
        .filter(|g| g.starts_with("echo.conns"))
        .collect();
    for g in &conns {
        let n = g.trim_start_matches("echo.conns");
        goals.push(ratio_goal_of(
            &t,
            g,
            "tokio:wsengine",
            "fastwebsockets",
            1.0,
            &format!("{n} connections, tokio adapter: ≥ fastwebsockets (same I/O model)"),
            WHY_ECHO,
        ));
    }
    for g in &conns {
        let n = g.trim_start_matches("echo.conns");
        let _ = write!(
            md,
            "**{n} connections**, each with one message in flight: the client writes one message on\n\
             every connection, then reads every echo, and repeats (one client thread).\n\
             `tokio:wsengine` is the shipped tokio adapter (examples/tokio_echo_server, one thread);\n\
             `wsengine-tokio` is the bare engine in a hand-written tokio loop (bench/src/echo_tokio.rs),\n\
             showing what the adapter itself costs; `wsengine` is the blocking example server, a thread\n\
             per connection.\n\n"
        );
        throughput_table(
            &t,
            g,
            &[("tungstenite", 1.0), ("fastwebsockets", 1.0)],
            &mut md,
        );
    }

    // -------- compression
    crate::bench_deflate::report(&t, &mut md);

    // -------- memory
    md.push_str(
        "## Memory per connection\n\n\
         `wsbench-mem`: a counting global allocator counts the heap bytes each open connection holds\n\
         (only its own allocations: the peer end is built with counting off), plus `size_of` the\n\
         connection value (without the stream it owns). \"after 1 msg\": one message each way (16 B;\n\
         256 B with compression, above its 32-byte threshold, so the codec really runs). \"peak\n\
         during 1 MiB msg\": the most the engine held while receiving one 1 MiB JSON text message\n\
         (compressed by the peer when deflate is on) in 64 KiB reads; the note subtracts the message\n\
         itself. The deflate variants show what the options that trade ratio for memory change\n\
         (see `DeflateConfig`'s documentation: miniz_oxide's state is the same size whatever the\n\
         window; with context takeover it is kept between messages, without it released after each). The read buffers are socket-side buffers:\n\
         wsengine's blocking adapter reads into a 64 KiB buffer, tungstenite allocates its 128 KiB\n\
         read buffer up front, fastwebsockets 8 KiB. Neither peer implements permessage-deflate.\n\n",
    );
    let mem: Vec<&Value> = t
        .rows
        .iter()
        .filter(|(k, _)| k.0 == "memory")
        .map(|(_, v)| *v)
        .collect();
    if mem.is_empty() {
        md.push_str("_(not measured in this run)_\n\n");
    } else {
        md.push_str("| connection | state | bytes | breakdown |\n|---|---|---:|---|\n");
        let mut mem = mem;
        let order = |n: &str| {
            if n.starts_with("wsengine") {
                0
            } else if n.starts_with("tungstenite") {
                1
            } else {
                2
            }
        };
        mem.sort_by_key(|l| {
            (
                order(l["name"].as_str().unwrap_or("")),
                l["name"].as_str().unwrap_or("").to_string(),
                l["kind"].as_str().unwrap_or("") != "idle",
            )
        });
        for l in mem {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                l["name"].as_str().unwrap_or(""),
                l["kind"].as_str().unwrap_or(""),
                l["bytes"].as_u64().unwrap_or(0),
                l["note"].as_str().unwrap_or("").replace('|', "/"),
            );
        }
        md.push('\n');
        // The larger of "idle" and "after 1 msg": a long-lived connection has seen traffic.
        let idle = ["idle", "after 1 msg"]
            .iter()
            .filter_map(|k| t.get("memory", "wsengine", 0, k))
            .filter_map(|l| l["bytes"].as_u64())
            .max();
        goals.push(Goal {
            what: "Idle connection without compression: engine state ≤ 1 KiB".into(),
            measured: idle.map_or("–".into(), |b| format!("{b} B")),
            met: idle.map(|b| b <= 1024),
            why: "",
        });
    }

    // -------- other faces
    let known = [
        "engine.recv",
        "engine.send",
        "mask",
        "echo",
        "memory",
        "deflate.compress",
        "deflate.decompress",
    ];
    let others: Vec<String> = t
        .groups()
        .into_iter()
        .filter(|g| !known.contains(&g.as_str()) && !g.starts_with("echo.conns"))
        .collect();
    md.push_str("## Other faces\n\n");
    if others.is_empty() {
        md.push_str(
            "The wasmtime component and the JS package (against `ws`) plug in through `FACES` in\n\
             xtask/src/bench.rs; none reported in this run.\n\n",
        );
    }
    for g in &others {
        let _ = writeln!(md, "**{g}**\n");
        if g == "js.echo" {
            md.push_str(
                "From `js/bench/echo.js`: the JS package and `ws` 8.23 in Node, each library's own\n\
                 client and server (two processes), compression off, a window of binary messages in\n\
                 flight, round trips per wall-clock second, median of 3 rounds alternating the\n\
                 libraries (run under the same `taskset` as everything else).\n\n",
            );
        }
        throughput_table(&t, g, &[], &mut md);
    }
    // Component in wasmtime: its echo server is measured in the `echo` table.
    let wasm_names: Vec<String> = t
        .names("echo")
        .into_iter()
        .filter(|n| n.starts_with("wasmtime"))
        .collect();
    for n in &wasm_names {
        let mut worst: Option<f64> = None;
        for (size, kind) in t.cases("echo") {
            if let (Some(a), Some(b)) = (
                t.rate("echo", n, size, &kind),
                t.rate("echo", "wsengine", size, &kind),
            ) {
                worst = Some(worst.map_or(a / b, |w: f64| w.min(a / b)));
            }
        }
        goals.push(Goal {
            what: format!("Component in wasmtime ({n}): ≥ 0.5× native echo"),
            measured: worst.map_or("–".into(), |w| format!("lowest {w:.2}×")),
            met: worst.map(|w| w >= 0.5),
            why: WHY_COMPONENT,
        });
    }
    for g in &others {
        let names = t.names(g);
        let (Some(js), Some(_)) = (
            names.iter().find(|n| n.starts_with("js:")),
            names.iter().find(|n| *n == "ws"),
        ) else {
            continue;
        };
        let mut worst: Option<f64> = None;
        for (size, kind) in t.cases(g) {
            if let (Some(a), Some(b)) = (t.rate(g, js, size, &kind), t.rate(g, "ws", size, &kind)) {
                worst = Some(worst.map_or(a / b, |w: f64| w.min(a / b)));
            }
        }
        goals.push(Goal {
            what: format!("JS package ({g}): ≥ 1.0× ws"),
            measured: worst.map_or("–".into(), |w| format!("lowest {w:.2}×")),
            met: worst.map(|w| w >= 1.0),
            why: "",
        });
    }

    md.push_str(
        "## Adding a face\n\n\
         A face is a command that prints one JSON object per line on stdout (other lines are\n\
         ignored): `{\"group\":\"js.echo\",\"name\":\"js:wsengine\",\"size\":1024,\"kind\":\"binary\",\"msgs_per_s\":12345.6}`.\n\
         Keys: `name`, `size` (bytes) and `msgs_per_s` (a median) are required; `group` (default\n\
         `external`; one table per group), `kind` (`text`/`binary`), `mb_per_s`, `runs` (each\n\
         repetition) and `note` are optional. Name the JS engine `js:…` and the reference `ws` in\n\
         the same group to get the JS goal checked. Add a row to `FACES` in xtask/src/bench.rs:\n\
         `run` for such a command, or `server` for an echo server on `{addr}`, which the shared echo\n\
         client then measures beside the native servers (a wasmtime component named\n\
         `wasmtime:…` is checked against the native echo goal; `concurrent: false` leaves a server\n\
         that takes one connection at a time out of the 100-connection run). A row is skipped\n\
         until the file it `needs` exists.\n",
    );

    // Goals section, inserted near the top.
    let mut g = String::from("## Goals (issue 7)\n\n| goal | this run | |\n|---|---|---|\n");
    for goal in &goals {
        let _ = writeln!(
            g,
            "| {} | {} | {} |",
            goal.what,
            goal.measured,
            goal_mark(goal.met)
        );
    }
    if !goals
        .iter()
        .any(|g| g.what.starts_with("Component in wasmtime"))
    {
        g.push_str(
            "| Component in wasmtime ≥ 0.5× native echo | no face reported | not measured |\n",
        );
    }
    if !goals.iter().any(|g| g.what.starts_with("JS package")) {
        g.push_str("| JS package ≥ 1.0× `ws` | no face reported | not measured |\n");
    }
    g.push('\n');
    let mut whys: Vec<&str> = goals
        .iter()
        .filter(|g| g.met == Some(false) && !g.why.is_empty())
        .map(|g| g.why)
        .collect();
    whys.dedup();
    if !whys.is_empty() {
        g.push_str("Goals not met, and what was found about why:\n\n");
        for w in whys {
            let _ = writeln!(g, "- {w}");
        }
        g.push('\n');
    }
    g.push_str(WHAT_MAKES_IT_FAST);
    md.insert_str(goals_at, &g);

    let md_path = ctx.root.join("BENCHMARKS.md");
    fs::write(&md_path, md).map_err(|e| format!("cannot write {}: {e}", md_path.display()))?;
    let svg_path = ctx.root.join("bench").join("chart.svg");
    fs::write(&svg_path, chart(&t))
        .map_err(|e| format!("cannot write {}: {e}", svg_path.display()))?;
    let _ = fs::copy(&svg_path, ctx.target.join("bench").join("chart.svg"));
    println!("bench: wrote BENCHMARKS.md and {}", ctx.rel(&svg_path));
    for goal in &goals {
        println!(
            "  goal: {} — {} — {}",
            goal.what,
            goal.measured,
            goal_mark(goal.met).replace("**", "")
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The chart: wsengine ÷ peer per size, one panel per group, bars per (peer, kind).

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A chart slot (a group of bars): label, result group, message size.
type Slot = (String, &'static str, u64);

fn chart(t: &Table) -> String {
    // Panels of slots.
    let sizes: [u64; 4] = [16, 1024, 64 * 1024, 1 << 20];
    let slots =
        |g: &'static str| -> Vec<Slot> { sizes.iter().map(|s| (size_label(*s), g, *s)).collect() };
    let mut echo = slots("echo");
    for g in t
        .groups()
        .into_iter()
        .filter(|g| g.starts_with("echo.conns"))
    {
        let n = g.trim_start_matches("echo.conns").to_string();
        let g: &'static str = if n == "100" {
            "echo.conns100"
        } else {
            continue;
        };
        echo.push((format!("16 B × {n} conns"), g, 16));
    }
    let panels: Vec<(&str, Vec<Slot>, f64)> = vec![
        (
            "Engine in memory: receive (parse + unmask + validate)",
            slots("engine.recv"),
            1.3,
        ),
        (
            "Engine in memory: send (frame + mask)",
            slots("engine.send"),
            1.3,
        ),
        ("Loopback echo (client + server CPU time)", echo, 1.0),
    ];
    let peers = [("tungstenite", "#e07b39"), ("fastwebsockets", "#3b7dd8")];
    let kinds = ["text", "binary"];
    let (w, panel_h, top, left) = (960.0, 230.0, 64.0, 56.0);
    let plot_w = w - left - 70.0;
    let plot_h = panel_h - 70.0;
    let h = top + panel_h * panels.len() as f64 + 10.0;
    let ratio = |g: &str, p: &str, size: u64, k: &str| {
        t.rate(g, "wsengine", size, k)
            .zip(t.rate(g, p, size, k))
            .map(|(a, b)| a / b)
    };
    // A shared scale: 0 to the largest ratio (at least 2), capped at 6.
    let mut max_r: f64 = 2.0;
    for (_, slots, _) in &panels {
        for (_, g, size) in slots {
            for (p, _) in &peers {
                for k in &kinds {
                    if let Some(r) = ratio(g, p, *size, k) {
                        max_r = max_r.max(r);
                    }
                }
            }
        }
    }
    let max_r = (max_r * 1.1).min(6.0).ceil();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
         <text x=\"{left}\" y=\"24\" font-size=\"16\" font-weight=\"bold\">wsengine ÷ peer: messages per CPU-second, median (above 1: wsengine faster)</text>"
    );
    let mut lx = left;
    for (p, color) in &peers {
        for (ki, k) in kinds.iter().enumerate() {
            let op = if ki == 0 { "1" } else { "0.55" };
            let _ = writeln!(
                s,
                "<rect x=\"{lx}\" y=\"36\" width=\"12\" height=\"12\" fill=\"{color}\" fill-opacity=\"{op}\"/>\
                 <text x=\"{}\" y=\"46\">÷ {p} ({k})</text>",
                lx + 16.0
            );
            lx += 190.0;
        }
    }
    for (pi, (title, slots, goal)) in panels.iter().enumerate() {
        let y0 = top + pi as f64 * panel_h;
        let base = y0 + 26.0 + plot_h;
        let y_of = |r: f64| base - (r.min(max_r) / max_r) * plot_h;
        let _ = writeln!(
            s,
            "<text x=\"{left}\" y=\"{}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            y0 + 16.0,
            esc(title)
        );
        let step = if max_r > 4.0 { 1.0 } else { 0.5 };
        let mut r = 0.0;
        while r <= max_r + 1e-9 {
            let y = y_of(r);
            let _ = writeln!(
                s,
                "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e4e4\"/>\
                 <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#666\">{r:.1}×</text>",
                left + plot_w,
                left - 6.0,
                y + 4.0
            );
            r += step;
        }
        let mut lines = vec![(1.0, "#222", "none", "parity")];
        if *goal != 1.0 {
            lines.push((*goal, "#888", "5,4", "goal"));
        }
        for (v, color, dash, label) in lines {
            let y = y_of(v);
            let _ = writeln!(
                s,
                "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{color}\" stroke-dasharray=\"{dash}\"/>\
                 <text x=\"{}\" y=\"{:.1}\" font-size=\"10\" fill=\"{color}\">{label} {v:.1}×</text>",
                left + plot_w,
                left + plot_w + 4.0,
                y + 3.0
            );
        }
        let group_w = plot_w / slots.len().max(4) as f64;
        let bar_w = (group_w - 24.0) / 4.0;
        for (si, (label, g, size)) in slots.iter().enumerate() {
            let gx = left + si as f64 * group_w + 12.0;
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                gx + (group_w - 24.0) / 2.0,
                base + 16.0,
                esc(label)
            );
            let mut bi = 0;
            for (p, color) in &peers {
                for (ki, k) in kinds.iter().enumerate() {
                    let x = gx + bi as f64 * bar_w;
                    bi += 1;
                    let Some(r) = ratio(g, p, *size, k) else {
                        continue;
                    };
                    let y = y_of(r);
                    let op = if ki == 0 { "1" } else { "0.55" };
                    let _ = writeln!(
                        s,
                        "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{color}\" fill-opacity=\"{op}\">\
                         <title>{} {} {k}: {r:.2}×</title></rect>\
                         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\">{}{r:.2}</text>",
                        x + 1.0,
                        bar_w - 2.0,
                        (base - y).max(0.0),
                        esc(p),
                        esc(label),
                        x + bar_w / 2.0,
                        y - 3.0,
                        if r > max_r { "▲" } else { "" }
                    );
                }
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
