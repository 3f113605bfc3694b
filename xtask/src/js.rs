//! The JS package (`js/`): its build, the tools it needs, and its test suites.
//!
//! * `cargo xtask build-js` (also part of `cargo xtask build`): the engine for
//!   `wasm32-unknown-unknown` with the `js` feature, `wasm-bindgen --target web` into
//!   `js/pkg/`, and `js/pkg/wasm_base64.js` (the module the package loads the engine from).
//! * Installs when missing, skipped when present: the rustup target, `wasm-bindgen-cli`
//!   (into `~/.cache/wsengine/bin`, or `$WSENGINE_TOOLS/bin`, outside the clone so that it
//!   is built once per machine), `npm ci` in `js/`, and Chromium (apt) for the parity suite.
//! * Suites: the same tests under `node --test`, `deno test` and `bun test` (Deno and Bun
//!   come from npm), the browser-parity scenarios, and clippy for the wasm build.

use std::env;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::proc::{self, describe_status, Proc, Result};
use crate::test::Outcome;

/// Must equal the `wasm-bindgen` version pinned in Cargo.toml.
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

const INSTALL_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const SUITE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const PORT_WAIT: Duration = Duration::from_secs(30);

fn js_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("js")
}

/// Where tools built once per machine live: `$WSENGINE_TOOLS` or `~/.cache/wsengine`.
pub(crate) fn tools_dir() -> PathBuf {
    if let Some(d) = env::var_os("WSENGINE_TOOLS").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/wsengine")
}

fn ensure_wasm_target(ctx: &Ctx) -> Result<()> {
    proc::ensure_rustup_target(WASM_TARGET, &ctx.log("rustup-wasm32"), INSTALL_TIMEOUT)
}

/// The wasm-bindgen CLI of exactly [`WASM_BINDGEN_VERSION`], installing it if needed.
fn ensure_wasm_bindgen(ctx: &Ctx) -> Result<PathBuf> {
    let root = tools_dir();
    let bin = root.join("bin/wasm-bindgen");
    let version_ok = |b: &Path| {
        Command::new(b).arg("--version").output().is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).trim()
                == format!("wasm-bindgen {WASM_BINDGEN_VERSION}")
        })
    };
    if version_ok(&bin) {
        return Ok(bin);
    }
    println!(
        "==> installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} into {} (once per machine, ~2 min)",
        root.display()
    );
    let log = ctx.log("install-wasm-bindgen");
    let mut c = ctx.cargo([
        "install",
        "wasm-bindgen-cli",
        "--version",
        WASM_BINDGEN_VERSION,
        // Unoptimised: builds in half the time (measured: 99 s against 200 s on 2 cores),
        // and binding the package's 271 KiB module then takes 0.3 s instead of 0.06 s, with
        // byte-identical output.
        "--debug",
        "--root",
    ]);
    c.arg(&root);
    // Its own target dir: the workspace's may be locked by the build that called us.
    c.env("CARGO_TARGET_DIR", root.join("build"));
    proc::run_logged_ok(
        "cargo install wasm-bindgen-cli",
        &mut c,
        &log,
        INSTALL_TIMEOUT,
    )
    .inspect_err(|_| proc::print_tail(&log, 20))?;
    let _ = fs::remove_dir_all(root.join("build"));
    if !version_ok(&bin) {
        return Err(format!(
            "{} is not wasm-bindgen {WASM_BINDGEN_VERSION} after installing it",
            bin.display()
        ));
    }
    Ok(bin)
}

/// Builds the wasm engine and the generated files in `js/pkg/`.
pub fn build(ctx: &Ctx) -> Result<()> {
    ensure_wasm_target(ctx)?;
    let bindgen = ensure_wasm_bindgen(ctx)?;
    let log = ctx.log("build-js");
    let mut c = ctx.cargo([
        "build",
        "--release",
        "--lib",
        "-p",
        "wsengine",
        "--target",
        WASM_TARGET,
        "--features",
        "js",
    ]);
    // SIMD for (un)masking and inflating: every runtime the package targets (V8 in Node,
    // Deno and workerd; JavaScriptCore in Bun) has wasm simd128. Measured: 64 KiB echo
    // -30 % CPU. Set through the target's own variable so that a user's RUSTFLAGS stay
    // theirs and host builds are untouched.
    c.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        "-C target-feature=+simd128",
    );
    proc::run_logged_ok(
        "cargo build (wasm, js feature)",
        &mut c,
        &log,
        BUILD_TIMEOUT,
    )
    .inspect_err(|_| proc::print_tail(&log, 30))?;
    let wasm = ctx.target.join(WASM_TARGET).join("release/wsengine.wasm");
    let pkg = js_dir(ctx).join("pkg");
    let mut c = Command::new(bindgen);
    c.args(["--target", "web", "--out-name", "wsengine", "--out-dir"])
        .arg(&pkg)
        .arg(&wasm);
    proc::run_appending_ok("wasm-bindgen", &mut c, &log, BUILD_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&log, 30))?;
    let bytes = fs::read(pkg.join("wsengine_bg.wasm"))
        .map_err(|e| format!("reading the wasm-bindgen output: {e}"))?;
    let module = format!(
        "// Generated by `cargo xtask build-js`: the engine's wasm ({} bytes) as base64.\nexport const wasmBase64 =\n  \"{}\";\n",
        bytes.len(),
        base64(&bytes)
    );
    fs::write(pkg.join("wasm_base64.js"), module)
        .map_err(|e| format!("writing js/pkg/wasm_base64.js: {e}"))?;
    println!(
        "js: built {} ({} KiB wasm)",
        ctx.rel(&pkg),
        bytes.len() / 1024
    );
    Ok(())
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `npm ci` in js/ unless node_modules matches package-lock.json already.
pub fn ensure_npm(ctx: &Ctx) -> Result<()> {
    let dir = js_dir(ctx);
    let lock = fs::read(dir.join("package-lock.json"))
        .map_err(|e| format!("js/package-lock.json: {e}"))?;
    let stamp = dir.join("node_modules/.xtask-lock");
    if fs::read(&stamp).ok().as_deref() == Some(&lock[..]) {
        return Ok(());
    }
    println!("==> npm ci in js/");
    let log = ctx.log("npm-ci");
    let mut c = Command::new("npm");
    c.args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir);
    proc::run_logged_ok("npm ci", &mut c, &log, INSTALL_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&log, 20))?;
    fs::write(&stamp, lock).map_err(|e| e.to_string())
}

/// Chromium for the parity suite: Debian's, installed with apt when missing.
fn ensure_chromium(ctx: &Ctx) -> Result<PathBuf> {
    let bin = PathBuf::from("/usr/bin/chromium");
    if bin.exists() {
        return Ok(bin);
    }
    println!("==> installing chromium (apt)");
    let log = ctx.log("apt-chromium");
    let mut c = Command::new("apt-get");
    c.arg("update");
    proc::run_logged_ok("apt-get update", &mut c, &log, INSTALL_TIMEOUT)?;
    let mut c = Command::new("apt-get");
    c.args(["install", "-y", "--no-install-recommends", "chromium"])
        .env("DEBIAN_FRONTEND", "noninteractive");
    proc::run_appending_ok("apt-get install chromium", &mut c, &log, INSTALL_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&log, 20))?;
    Ok(bin)
}

fn free_port() -> Result<u16> {
    let l =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("no free port: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// Builds and starts the native echo server for the suites that talk to it.
fn start_echo_server(ctx: &Ctx) -> Result<(Proc, String)> {
    let log = ctx.log("js-echo-server-build");
    let mut c = ctx.cargo(["build", "--release", "--example", "echo_server"]);
    proc::run_logged_ok("cargo build echo_server", &mut c, &log, BUILD_TIMEOUT)?;
    let port = free_port()?;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut c = Command::new(ctx.target.join("release/examples/echo_server"));
    c.args(["--addr", &addr.to_string()]);
    let mut p = Proc::spawn_logged("echo_server", &mut c, &ctx.log("js-echo-server"))?;
    p.wait_for_port(addr, PORT_WAIT)?;
    Ok((p, format!("ws://{addr}")))
}

/// Everything a JS suite needs before it runs.
fn prepare(ctx: &Ctx) -> Result<()> {
    build(ctx)?;
    ensure_npm(ctx)
}

fn failed(note: String, logs: Vec<PathBuf>) -> Outcome {
    Outcome {
        passed: 0,
        failed: 1,
        ok: false,
        note: Some(note),
        logs,
    }
}

/// Which runner's summary to read.
#[derive(Clone, Copy)]
enum Runner {
    Node,
    Deno,
    Bun,
}

/// (passed, failed) from a runner's output, or None if it printed no summary.
fn parse_counts(runner: Runner, text: &str) -> Option<(usize, usize)> {
    let num = |s: &str| s.trim().parse::<usize>().ok();
    let (mut pass, mut fail) = (None, None);
    for line in text.lines().map(proc::strip_ansi) {
        let l = line.trim();
        match runner {
            // TAP: "# pass 12" / "# fail 0"
            Runner::Node => {
                if let Some(n) = l.strip_prefix("# pass ") {
                    pass = num(n);
                } else if let Some(n) = l.strip_prefix("# fail ") {
                    fail = num(n);
                }
            }
            // "ok | 12 passed | 0 failed (1s)" or "FAILED | 11 passed | 1 failed (1s)"
            Runner::Deno => {
                if (l.starts_with("ok |") || l.starts_with("FAILED |")) && l.contains(" passed") {
                    for part in l.split('|') {
                        let mut w = part.split_whitespace();
                        if let (Some(n), Some(what)) = (w.next(), w.next()) {
                            match what {
                                "passed" => pass = num(n),
                                "failed" => fail = num(n),
                                _ => {}
                            }
                        }
                    }
                }
            }
            // " 12 pass" / " 0 fail"
            Runner::Bun => {
                if let Some(n) = l.strip_suffix(" pass") {
                    pass = num(n).or(pass);
                } else if let Some(n) = l.strip_suffix(" fail") {
                    fail = num(n).or(fail);
                }
            }
        }
    }
    Some((pass?, fail.unwrap_or(0)))
}

fn run_tests(ctx: &Ctx, name: &str, runner: Runner) -> Outcome {
    if let Err(e) = prepare(ctx) {
        return failed(e, vec![]);
    }
    let (_server, echo_url) = match start_echo_server(ctx) {
        Ok(s) => s,
        Err(e) => return failed(e, vec![ctx.log("js-echo-server")]),
    };
    let dir = js_dir(ctx);
    let bin = dir.join("node_modules");
    let files = test_files(&dir);
    let mut c = match runner {
        Runner::Node => {
            let mut c = Command::new("node");
            c.args(["--test", "--test-reporter=tap", "--test-concurrency=1"]);
            c
        }
        Runner::Deno => {
            let mut c = Command::new(bin.join("@deno/linux-x64-glibc/deno"));
            c.args(["test", "-A", "--no-check"]);
            c
        }
        Runner::Bun => {
            let mut c = Command::new(bin.join("@oven/bun-linux-x64/bin/bun"));
            c.args(["test", "--timeout", "60000"]);
            c
        }
    };
    c.args(&files)
        .current_dir(&dir)
        .env("WSENGINE_ECHO_URL", &echo_url)
        .env("NO_COLOR", "1")
        .env("DENO_NO_UPDATE_CHECK", "1");
    let log = ctx.log(name);
    let st = match proc::run_logged(name, &mut c, &log, SUITE_TIMEOUT) {
        Ok(st) => st,
        Err(e) => return failed(e, vec![log]),
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    let Some((passed, mut fails)) = parse_counts(runner, &text) else {
        return failed(
            format!("no test summary ({})", describe_status(st)),
            vec![log],
        );
    };
    if !st.success() {
        fails = fails.max(1);
    }
    println!("{name}: {passed} passed, {fails} failed");
    Outcome {
        passed,
        failed: fails,
        ok: st.success() && fails == 0,
        note: (!st.success()).then(|| describe_status(st)),
        logs: vec![log],
    }
}

/// `js/test/*.test.js`, sorted, relative to js/.
fn test_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir.join("test"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".test.js"))
        .map(|n| format!("test/{n}"))
        .collect();
    v.sort();
    v
}

pub fn suite_node(ctx: &Ctx) -> Outcome {
    run_tests(ctx, "js-node", Runner::Node)
}

pub fn suite_deno(ctx: &Ctx) -> Outcome {
    run_tests(ctx, "js-deno", Runner::Deno)
}

pub fn suite_bun(ctx: &Ctx) -> Outcome {
    run_tests(ctx, "js-bun", Runner::Bun)
}

/// The browser-parity scenarios: the same script against Chromium's WebSocket and ours.
pub fn suite_parity(ctx: &Ctx) -> Outcome {
    if let Err(e) = prepare(ctx) {
        return failed(e, vec![]);
    }
    let chromium = match ensure_chromium(ctx) {
        Ok(c) => c,
        Err(e) => return failed(e, vec![ctx.log("apt-chromium")]),
    };
    let dir = js_dir(ctx);
    let mut c = Command::new("node");
    c.arg("test/parity/run.js")
        .current_dir(&dir)
        .env("CHROMIUM", chromium);
    let log = ctx.log("js-parity");
    let st = match proc::run_logged("parity", &mut c, &log, SUITE_TIMEOUT) {
        Ok(st) => st,
        Err(e) => return failed(e, vec![log]),
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    let counts = text.lines().rev().find_map(|l| {
        let (p, f) = l.trim().split_once(" passed, ")?;
        Some((p.parse().ok()?, f.strip_suffix(" failed")?.parse().ok()?))
    });
    let Some((passed, mut fails)) = counts else {
        return failed(format!("no summary ({})", describe_status(st)), vec![log]);
    };
    if !st.success() {
        fails = usize::max(fails, 1);
    }
    Outcome {
        passed,
        failed: fails,
        ok: st.success() && fails == 0,
        note: None,
        logs: vec![log],
    }
}

/// clippy for the wasm build of the `js` feature (the host clippy never compiles it).
pub fn suite_clippy(ctx: &Ctx) -> Outcome {
    if let Err(e) = ensure_wasm_target(ctx) {
        return failed(e, vec![]);
    }
    let log = ctx.log("js-clippy");
    let mut c = ctx.cargo([
        "clippy",
        "-p",
        "wsengine",
        "--lib",
        "--target",
        WASM_TARGET,
        "--features",
        "js",
        "--",
        "-D",
        "warnings",
    ]);
    match proc::run_logged("clippy (wasm, js)", &mut c, &log, BUILD_TIMEOUT) {
        Ok(st) if st.success() => Outcome {
            passed: 1,
            failed: 0,
            ok: true,
            note: None,
            logs: vec![],
        },
        Ok(st) => failed(describe_status(st), vec![log]),
        Err(e) => failed(e, vec![log]),
    }
}

/// `cargo xtask build-js`.
pub fn main(ctx: &Ctx, args: &[String]) -> Result<bool> {
    if let Some(a) = args.first() {
        return Err(format!("unknown argument `{a}` for `cargo xtask build-js`"));
    }
    build(ctx)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_base64() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn reads_runner_summaries() {
        let node = "TAP version 13\n# tests 5\n# pass 4\n# fail 1\n";
        assert_eq!(parse_counts(Runner::Node, node), Some((4, 1)));
        let deno = "ok | 12 passed | 0 failed (2s)\n";
        assert_eq!(parse_counts(Runner::Deno, deno), Some((12, 0)));
        let deno_bad = "FAILED | 11 passed | 1 failed (2s)\n";
        assert_eq!(parse_counts(Runner::Deno, deno_bad), Some((11, 1)));
        let bun = "\n 20 pass\n 2 fail\n 40 expect() calls\n";
        assert_eq!(parse_counts(Runner::Bun, bun), Some((20, 2)));
        assert_eq!(parse_counts(Runner::Bun, "error: oops\n"), None);
    }
}
