//! The WASI 0.2 component face: builds `target/component/` (the `engine` and `websocket`
//! worlds, the example guest and its composition with the websocket component) and the
//! `wsengine-host` runner, and provides the suites and Autobahn agent that test them.
//!
//! | file in `target/component/`    | what                                                  |
//! |--------------------------------|-------------------------------------------------------|
//! | `engine.wasm`                  | `--features component`: the sans-IO engine world      |
//! | `websocket.wasm`               | `--features component-websocket`: the socket world    |
//! | `websocket-tls.wasm`           | `--features component-tls`: the same with `wss://`    |
//! | `component-echo-client.wasm`   | the guest example (imports `wsengine:websocket` only) |
//! | `echo-client-composed.wasm`    | the guest plugged with `websocket.wasm`: a command    |

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::autobahn::{self, Role};
use crate::ctx::Ctx;
use crate::proc::{self, describe_status, fmt_duration, Result};
use crate::test::{parse_cargo_test, Outcome};

const TARGET: &str = "wasm32-wasip2";
const BUILD_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const TEST_TIMEOUT: Duration = Duration::from_secs(20 * 60);
const RUSTUP_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The `component` profile: release, stripped, optimized for size. Measured on the
/// websocket world: 4.1 MB with the release profile's line tables, 440 KB stripped, 375 KB
/// stripped with opt-level "s" and LTO. Defined here (not in Cargo.toml) so that it only
/// exists for these builds.
///
/// Except the two crates every message's bytes go through, at opt-level 3 with wasm `simd128`
/// (see [`SIMD`]). The engine: at "s" LLVM does not vectorise, and the (un)masking loop,
/// written for the vectoriser, ran a byte at a time — 47 % of the echo server's CPU at 1 MiB
/// (perf with `WSENGINE_HOST_PERFMAP=1`). Measured with `cargo xtask bench` (wasmtime 48, CPU
/// per message): 1 MiB binary echo 0.2× → 0.45× native, 64 KiB 0.27× → 0.4×; the websocket
/// world grows from 376 KB to 461 KB. simdutf8: at "s" its per-block check stays an
/// out-of-line call; at 3 it is inlined into the validation loop, and UTF-8 validation falls
/// from 20 % to 14 % of the echo server's CPU on 1 MiB text (perf, wasmtime 48; +2.6 KB).
const PROFILE: &[&str] = &[
    "--profile",
    "component",
    "--config",
    "profile.component.inherits=\"release\"",
    "--config",
    "profile.component.opt-level=\"s\"",
    "--config",
    "profile.component.package.wsengine.opt-level=3",
    "--config",
    "profile.component.package.simdutf8.opt-level=3",
    "--config",
    "profile.component.lto=true",
    "--config",
    "profile.component.codegen-units=1",
    "--config",
    "profile.component.debug=false",
    "--config",
    "profile.component.strip=true",
];

/// wasm `simd128` for the component builds (every runtime that runs WASI 0.2 components —
/// wasmtime, and V8 through jco — has it). Set through the target's own variable, as the JS
/// build does, so that a user's RUSTFLAGS stay theirs and host builds are untouched.
const SIMD: (&str, &str) = (
    "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
    "-C target-feature=+simd128",
);

/// The host crate and the guest example, by manifest: this works whether they are members
/// of the root workspace or excluded from it (then each resolves on its own), and
/// `--target-dir` puts their output beside everything else.
const HOST: &str = "host/Cargo.toml";
const GUEST: &str = "examples/component-echo-client/Cargo.toml";

/// `cargo SUB --manifest-path MANIFEST --target-dir TARGET`.
fn cargo_in(ctx: &Ctx, sub: &str, manifest: &str) -> Command {
    let mut c = ctx.cargo([sub, "--manifest-path"]);
    c.arg(ctx.root.join(manifest))
        .arg("--target-dir")
        .arg(&ctx.target);
    c
}

/// `target/component`.
pub fn dir(ctx: &Ctx) -> PathBuf {
    ctx.target.join("component")
}

/// Adds the wasm32-wasip2 target unless rustup already has it.
fn ensure_target(log: &Path) -> Result<()> {
    proc::ensure_rustup_target(TARGET, log, RUSTUP_TIMEOUT)
}

fn step(what: &str, mut cmd: Command, log: &Path) -> Result<()> {
    proc::run_appending_ok(what, &mut cmd, log, BUILD_TIMEOUT)
}

fn copy(from: &Path, to: &Path) -> Result<u64> {
    fs::copy(from, to).map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

/// Builds everything in `target/component/` and the release `wsengine-host`; prints sizes.
pub fn build(ctx: &Ctx, log: &Path) -> Result<()> {
    let t0 = Instant::now();
    if let Some(d) = log.parent() {
        fs::create_dir_all(d).map_err(|e| e.to_string())?;
    }
    fs::write(log, "").map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    ensure_target(log)?;
    let out = dir(ctx);
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let built = ctx.target.join(TARGET).join("component");
    let mut sizes = Vec::new();
    for (features, name) in [
        ("component", "engine.wasm"),
        ("component-websocket", "websocket.wasm"),
        ("component-tls", "websocket-tls.wasm"),
    ] {
        let mut c = ctx.cargo(["build", "--target", TARGET, "--features", features]);
        c.args(PROFILE).env(SIMD.0, SIMD.1);
        step(&format!("building {name}"), c, log)?;
        sizes.push((name, copy(&built.join("wsengine.wasm"), &out.join(name))?));
    }
    let guest = "component-echo-client.wasm";
    let mut c = cargo_in(ctx, "build", GUEST);
    c.args(["--target", TARGET])
        .args(PROFILE)
        .env(SIMD.0, SIMD.1);
    step("building the guest example", c, log)?;
    sizes.push((guest, copy(&built.join(guest), &out.join(guest))?));

    let mut c = cargo_in(ctx, "build", HOST);
    c.arg("--release");
    step("building wsengine-host", c, log)?;
    let composed = out.join("echo-client-composed.wasm");
    let mut c = Command::new(host(ctx));
    c.arg("compose")
        .arg(out.join(guest))
        .arg("--plug")
        .arg(out.join("websocket.wasm"))
        .arg("-o")
        .arg(&composed);
    step("composing the guest example", c, log)?;
    let size = fs::metadata(&composed).map_err(|e| e.to_string())?.len();
    sizes.push(("echo-client-composed.wasm", size));
    for (name, size) in sizes {
        println!("  {:<28} {:>9} bytes", name, size);
    }
    println!(
        "component: built in {} into {}",
        fmt_duration(t0.elapsed()),
        ctx.rel(&out)
    );
    Ok(())
}

/// The release `wsengine-host` binary.
fn host(ctx: &Ctx) -> PathBuf {
    ctx.target.join("release").join("wsengine-host")
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

fn passed() -> Outcome {
    Outcome {
        passed: 1,
        ok: true,
        ..Outcome::default()
    }
}

/// Suite `component-build`.
pub fn build_suite(ctx: &Ctx) -> Outcome {
    let log = ctx.log("component-build");
    match build(ctx, &log) {
        Ok(()) => passed(),
        Err(e) => failed(e, vec![log]),
    }
}

/// Suite `component-clippy`: clippy on the wasm target for both worlds and the guest, and
/// on the host with its tests; rustfmt on the host and the guest (which `cargo fmt --all`
/// does not reach while they are outside the workspace).
pub fn clippy_suite(ctx: &Ctx) -> Outcome {
    let log = ctx.log("component-clippy");
    let _ = fs::write(&log, "");
    if let Err(e) = ensure_target(&log) {
        return failed(e, vec![log]);
    }
    let mut runs = Vec::new();
    for features in ["component", "component-websocket", "component-tls"] {
        runs.push(ctx.cargo(["clippy", "--target", TARGET, "--features", features]));
    }
    let mut c = cargo_in(ctx, "clippy", GUEST);
    c.args(["--target", TARGET]);
    runs.push(c);
    let mut c = cargo_in(ctx, "clippy", HOST);
    c.args(["--all-targets", "--features", "component-tests"]);
    runs.push(c);
    for mut c in runs {
        c.args(["--", "-D", "warnings"]);
        let what = proc::display(&c);
        if let Err(e) = proc::run_appending_ok(&what, &mut c, &log, BUILD_TIMEOUT) {
            return failed(e, vec![log]);
        }
    }
    for manifest in [HOST, GUEST] {
        let mut c = ctx.cargo(["fmt", "--manifest-path"]);
        c.arg(ctx.root.join(manifest)).args(["--", "--check"]);
        if let Err(e) = proc::run_appending_ok("cargo fmt --check", &mut c, &log, BUILD_TIMEOUT) {
            return failed(e, vec![log]);
        }
    }
    passed()
}

/// Suite `component`: the host's integration tests (real TCP on 127.0.0.1), in release.
pub fn test_suite(ctx: &Ctx) -> Outcome {
    let log = ctx.log("component");
    let mut c = cargo_in(ctx, "test", HOST);
    c.args([
        "--release",
        "--features",
        "component-tests",
        "--no-fail-fast",
    ]);
    c.env("WSENGINE_COMPONENT_DIR", dir(ctx));
    let st = match proc::run_logged("cargo test (component)", &mut c, &log, TEST_TIMEOUT) {
        Ok(st) => st,
        Err(e) => return failed(e, vec![log]),
    };
    let text = fs::read_to_string(&log).unwrap_or_default();
    let (passed, failed_n, results) = parse_cargo_test(&text);
    let ok = st.success() && failed_n == 0 && results > 0;
    Outcome {
        passed,
        failed: if ok { 0 } else { failed_n.max(1) },
        ok,
        note: (!ok).then(|| format!("cargo test {}", describe_status(st))),
        logs: vec![log],
    }
}

fn autobahn_suite(ctx: &Ctx, agent: &str, role: Role) -> Outcome {
    let mut opts = match autobahn::Options::defaults() {
        Ok(o) => o,
        Err(e) => return failed(e, vec![]),
    };
    match autobahn::find_agent(agent) {
        Ok(a) => opts.agent = a,
        Err(e) => return failed(e, vec![]),
    }
    opts.roles = vec![role];
    let run = autobahn::run_role(ctx, &opts, role);
    run.print(ctx);
    let (passed, failed_n) = run.counts();
    Outcome {
        passed,
        failed: failed_n,
        ok: run.ok(),
        note: run.error.as_ref().map(|_| "see above".to_string()),
        logs: vec![],
    }
}

/// Suite `autobahn-component-client`.
pub fn autobahn_client_suite(ctx: &Ctx) -> Outcome {
    autobahn_suite(ctx, "component", Role::Client)
}

/// Suite `autobahn-component-server`.
pub fn autobahn_server_suite(ctx: &Ctx) -> Outcome {
    autobahn_suite(ctx, "component", Role::Server)
}

/// Suite `autobahn-component-host-tcp`: the server again, on the host's TCP streams.
pub fn autobahn_host_tcp_suite(ctx: &Ctx) -> Outcome {
    autobahn_suite(ctx, "component-host-tcp", Role::Server)
}
