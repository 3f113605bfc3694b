//! `cargo xtask test`: every suite in [`SUITES`], in order, then one closing line
//! `N passed, M failed`.
//!
//! A suite's output goes to `target/xtask-logs/<suite>.log`; on failure its tail is printed.
//! To add a suite (a wasm face, a JS package...), add a row to [`SUITES`].

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::autobahn::{self, Role};
use crate::ctx::Ctx;
use crate::proc::{self, describe_status, fmt_duration, Result};

pub struct Suite {
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn(&Ctx) -> Outcome,
}

pub const SUITES: &[Suite] = &[
    Suite {
        name: "fmt",
        about: "cargo fmt --all -- --check",
        run: fmt,
    },
    Suite {
        name: "clippy",
        about: "cargo clippy --workspace --all-targets -- -D warnings",
        run: clippy,
    },
    Suite {
        name: "rust",
        about: "cargo test --workspace --no-fail-fast (unit, integration and doc tests)",
        run: rust,
    },
    Suite {
        name: "tls",
        about: "clippy and cargo test --features rustls (tests/tls.rs: wss echo, rejected certificates, timeouts through TLS)",
        run: tls,
    },
    Suite {
        name: "fuzz",
        about: "every cargo-fuzz target for 12 s from its seeds alone (cargo xtask fuzz --seconds 12 keeps a corpus)",
        run: fuzz,
    },
    Suite {
        name: "soak",
        about: "10 000 connect/echo/close cycles on loopback leave no fds, heap or RSS behind (release)",
        run: soak,
    },
    Suite {
        name: "autobahn-client",
        about:
            "Autobahn cases 1-11 and a 12/13 compression subset against our client (cargo xtask autobahn --role client)",
        run: autobahn_client,
    },
    Suite {
        name: "autobahn-server",
        about:
            "Autobahn cases 1-11 and a 12/13 compression subset against our server (cargo xtask autobahn --role server)",
        run: autobahn_server,
    },
    Suite {
        name: "tokio",
        about: "the tokio adapter, hyper upgrades, wss: clippy --features hyper,tokio-rustls -D warnings, then their tests",
        run: tokio_suite,
    },
    Suite {
        name: "axum-chat",
        about: "examples/axum_chat.rs (hyper upgrade under axum) from ws, with and without deflate, and the JS package",
        run: crate::interop::axum_chat_suite,
    },
    Suite {
        name: "autobahn-tokio-client",
        about: "Autobahn default cases against the tokio adapter's client (--agent tokio --role client)",
        run: autobahn_tokio_client,
    },
    Suite {
        name: "autobahn-tokio-server",
        about: "Autobahn default cases against the tokio adapter's server (--agent tokio --role server)",
        run: autobahn_tokio_server,
    },
    Suite {
        name: "interop",
        about: "our client and server against Python websockets, the ws npm package and the WebSockets built into Deno and Bun, with and without permessage-deflate",
        run: crate::interop::suite,
    },
    Suite {
        name: "js-clippy",
        about: "cargo clippy for wasm32-unknown-unknown --features js -- -D warnings",
        run: crate::js::suite_clippy,
    },
    Suite {
        name: "js-node",
        about: "the JS package's tests under node --test (builds js/pkg, npm ci)",
        run: crate::js::suite_node,
    },
    Suite {
        name: "js-deno",
        about: "the same tests under deno test (Deno from npm)",
        run: crate::js::suite_deno,
    },
    Suite {
        name: "js-bun",
        about: "the same tests under bun test (Bun from npm)",
        run: crate::js::suite_bun,
    },
    Suite {
        name: "js-parity",
        about: "browser parity: one scenario script, headless Chromium vs the JS package",
        run: crate::js::suite_parity,
    },
    Suite {
        name: "autobahn-js-client",
        about: "Autobahn cases 1-11 against the JS client in Node (--agent js --role client)",
        run: autobahn_js_client,
    },
    Suite {
        name: "autobahn-js-server",
        about: "Autobahn cases 1-11 against the JS server in Node (--agent js --role server)",
        run: autobahn_js_server,
    },
    Suite {
        name: "component-build",
        about: "the WASI component: both worlds, the guest example and its composition, wsengine-host",
        run: crate::component::build_suite,
    },
    Suite {
        name: "component-clippy",
        about: "clippy -D warnings on wasm32-wasip2 (both worlds, the guest) and the host's tests",
        run: crate::component::clippy_suite,
    },
    Suite {
        name: "component",
        about: "the component in wasmtime over loopback TCP (cargo test --manifest-path host/Cargo.toml)",
        run: crate::component::test_suite,
    },
    Suite {
        name: "autobahn-component-client",
        about: "Autobahn default cases against the component client in wasmtime (--agent component)",
        run: crate::component::autobahn_client_suite,
    },
    Suite {
        name: "autobahn-component-server",
        about: "Autobahn default cases against the component server in wasmtime (--agent component)",
        run: crate::component::autobahn_server_suite,
    },
    Suite {
        name: "autobahn-component-host-tcp",
        about: "Autobahn default cases against the component server on the host's TCP streams (--agent component-host-tcp)",
        run: crate::component::autobahn_host_tcp_suite,
    },
];

const FMT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
const CLIPPY_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const TEST_TIMEOUT: Duration = Duration::from_secs(40 * 60);
const RUSTUP_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// What a suite did.
#[derive(Default)]
pub struct Outcome {
    pub passed: usize,
    pub failed: usize,
    /// False if the suite failed, even when no single test did (a build error, a timeout).
    pub ok: bool,
    /// Why it failed, for the suite line.
    pub note: Option<String>,
    /// Logs whose tails to print on failure.
    pub logs: Vec<PathBuf>,
}

impl Outcome {
    pub fn error(note: String, logs: Vec<PathBuf>) -> Outcome {
        Outcome {
            passed: 0,
            failed: 1,
            ok: false,
            note: Some(note),
            logs,
        }
    }
}

/// Runs a command that counts as one test.
fn single(ctx: &Ctx, name: &str, mut cmd: Command, timeout: Duration) -> Outcome {
    let log = ctx.log(name);
    match proc::run_logged(name, &mut cmd, &log, timeout) {
        Ok(st) if st.success() => Outcome {
            passed: 1,
            ok: true,
            ..Outcome::default()
        },
        Ok(st) => Outcome::error(describe_status(st), vec![log]),
        Err(e) => Outcome::error(e, vec![log]),
    }
}

/// Installs a rustup component if `cargo <sub> --version` does not work.
fn ensure_component(ctx: &Ctx, sub: &str, component: &str) -> Result<()> {
    if proc::probe(&mut ctx.cargo([sub, "--version"]), Duration::from_secs(60)) {
        return Ok(());
    }
    println!("==> installing rustup component {component}");
    let log = ctx.log(&format!("rustup-{component}"));
    let mut c = Command::new("rustup");
    c.args(["component", "add", component]);
    proc::run_logged_ok(
        &format!("rustup component add {component}"),
        &mut c,
        &log,
        RUSTUP_TIMEOUT,
    )
    .inspect_err(|_| proc::print_tail(&log, 20))
}

fn fmt(ctx: &Ctx) -> Outcome {
    if let Err(e) = ensure_component(ctx, "fmt", "rustfmt") {
        return Outcome::error(e, vec![]);
    }
    single(
        ctx,
        "fmt",
        ctx.cargo(["fmt", "--all", "--", "--check"]),
        FMT_TIMEOUT,
    )
}

fn clippy(ctx: &Ctx) -> Outcome {
    if let Err(e) = ensure_component(ctx, "clippy", "clippy") {
        return Outcome::error(e, vec![]);
    }
    let cmd = ctx.cargo([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    single(ctx, "clippy", cmd, CLIPPY_TIMEOUT)
}

/// Seconds each fuzz target runs in `cargo xtask test`: enough to replay the seeds and the
/// saved corpus and explore a little; the long runs are `cargo xtask fuzz --seconds 600`.
const FUZZ_SUITE_SECONDS: u64 = 12;

fn fuzz(ctx: &Ctx) -> Outcome {
    let targets: Vec<String> = crate::fuzz::TARGETS.iter().map(|t| t.to_string()).collect();
    let reports = match crate::fuzz::run(
        ctx,
        FUZZ_SUITE_SECONDS,
        &targets,
        crate::fuzz::Corpus::Fresh,
    ) {
        Ok(r) => r,
        Err(e) => return Outcome::error(e, vec![ctx.log("fuzz-build")]),
    };
    let bad: Vec<&crate::fuzz::Report> = reports.iter().filter(|r| !r.ok).collect();
    Outcome {
        passed: reports.len() - bad.len(),
        failed: bad.len(),
        ok: bad.is_empty(),
        note: (!bad.is_empty()).then(|| {
            let names: Vec<&str> = bad.iter().map(|r| r.target.as_str()).collect();
            format!("crashes in {}", names.join(", "))
        }),
        logs: bad.iter().map(|r| r.log.clone()).collect(),
    }
}

fn soak(ctx: &Ctx) -> Outcome {
    let cmd = ctx.cargo([
        "test",
        "--release",
        "--test",
        "soak",
        "--",
        "--ignored",
        "--nocapture",
    ]);
    single(ctx, "soak", cmd, TEST_TIMEOUT)
}

fn rust(ctx: &Ctx) -> Outcome {
    let cmd = ctx.cargo(["test", "--workspace", "--no-fail-fast"]);
    cargo_test(ctx, "rust", cmd)
}

/// Suite `tls`: the `rustls` feature, which the default suites leave off (they test the
/// build without it, where `wss://` is a typed error). Clippy with the feature, then the TLS
/// tests, the blocking adapter's tests and the idle-memory budget (the feature changes the
/// engine's error type, kept in every connection) with it.
fn tls(ctx: &Ctx) -> Outcome {
    feature_suite(ctx, "tls", "rustls", &["tls", "blocking", "idle_memory"])
}

/// Clippy with `features`, then those integration `tests` with them: for the parts of the
/// crate behind features, which neither `clippy` nor `rust` sees.
fn feature_suite(ctx: &Ctx, name: &str, features: &str, tests: &[&str]) -> Outcome {
    let clippy = ctx.cargo([
        "clippy",
        "--all-targets",
        "--features",
        features,
        "--",
        "-D",
        "warnings",
    ]);
    let lint = single(ctx, &format!("{name}-clippy"), clippy, CLIPPY_TIMEOUT);
    if !lint.ok {
        return lint;
    }
    let mut cmd = ctx.cargo(["test", "--features", features, "--no-fail-fast"]);
    for t in tests {
        cmd.args(["--test", t]);
    }
    let mut out = cargo_test(ctx, name, cmd);
    out.passed += lint.passed;
    out
}

/// Runs a `cargo test` command and counts its results.
fn cargo_test(ctx: &Ctx, name: &str, mut cmd: Command) -> Outcome {
    let log = ctx.log(name);
    let st = match proc::run_logged("cargo test", &mut cmd, &log, TEST_TIMEOUT) {
        Ok(st) => st,
        Err(e) => return Outcome::error(e, vec![log]),
    };
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let (passed, mut failed, results) = parse_cargo_test(&text);
    let mut note = None;
    if !st.success() {
        note = Some(if results == 0 {
            format!("cargo test {} before running any test", describe_status(st))
        } else {
            format!("cargo test {}", describe_status(st))
        });
        failed = failed.max(1);
    } else if results == 0 {
        note = Some("cargo test ran no test binary".into());
    }
    Outcome {
        passed,
        failed,
        ok: st.success() && failed == 0,
        note,
        logs: vec![log],
    }
}

/// Sums `test result: ok. N passed; M failed; ...` lines: (passed, failed, number of lines).
pub fn parse_cargo_test(text: &str) -> (usize, usize, usize) {
    let (mut passed, mut failed, mut n) = (0, 0, 0);
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        let Some((_, counts)) = rest.split_once(". ") else {
            continue;
        };
        n += 1;
        for part in counts.split(';') {
            let mut it = part.split_whitespace();
            if let (Some(num), Some(what)) = (it.next(), it.next()) {
                let num: usize = num.parse().unwrap_or(0);
                match what {
                    "passed" => passed += num,
                    "failed" => failed += num,
                    _ => {}
                }
            }
        }
    }
    (passed, failed, n)
}

fn autobahn_role(ctx: &Ctx, role: Role) -> Outcome {
    autobahn_agent_role(ctx, "native", role)
}

/// The tokio adapter and its hyper and TLS parts.
fn tokio_suite(ctx: &Ctx) -> Outcome {
    feature_suite(
        ctx,
        "tokio",
        "hyper,tokio-rustls",
        &["tokio", "hyper", "tokio_tls"],
    )
}

fn autobahn_tokio_client(ctx: &Ctx) -> Outcome {
    autobahn_agent_role(ctx, "tokio", Role::Client)
}

fn autobahn_tokio_server(ctx: &Ctx) -> Outcome {
    autobahn_agent_role(ctx, "tokio", Role::Server)
}

fn autobahn_js_client(ctx: &Ctx) -> Outcome {
    autobahn_agent_role(ctx, "js", Role::Client)
}

fn autobahn_js_server(ctx: &Ctx) -> Outcome {
    autobahn_agent_role(ctx, "js", Role::Server)
}

fn autobahn_agent_role(ctx: &Ctx, agent: &str, role: Role) -> Outcome {
    let mut opts = match autobahn::Options::defaults() {
        Ok(o) => o,
        Err(e) => return Outcome::error(e, vec![]),
    };
    opts.agent = match autobahn::find_agent(agent) {
        Ok(a) => a,
        Err(e) => return Outcome::error(e, vec![]),
    };
    opts.roles = vec![role];
    let run = autobahn::run_role(ctx, &opts, role);
    run.print(ctx);
    let (passed, failed) = run.counts();
    Outcome {
        passed,
        failed,
        ok: run.ok(),
        note: run.error.as_ref().map(|_| "see above".to_string()),
        logs: vec![],
    }
}

fn autobahn_client(ctx: &Ctx) -> Outcome {
    autobahn_role(ctx, Role::Client)
}

fn autobahn_server(ctx: &Ctx) -> Outcome {
    autobahn_role(ctx, Role::Server)
}

pub fn usage() -> String {
    let mut s = String::from("suites (run in this order):\n");
    for su in SUITES {
        s.push_str(&format!("  {:<26} {}\n", su.name, su.about));
    }
    s
}

/// `cargo xtask test [SUITE...]`: Ok(true) if everything passed.
pub fn main(ctx: &Ctx, args: &[String]) -> Result<bool> {
    if args.iter().any(|a| a == "--list") {
        print!("{}", usage());
        return Ok(true);
    }
    if let Some(a) = args.iter().find(|a| a.starts_with('-')) {
        return Err(format!("unknown argument `{a}` for `cargo xtask test`"));
    }
    for a in args {
        if !SUITES.iter().any(|s| s.name == a) {
            return Err(format!("unknown suite `{a}`\n{}", usage()));
        }
    }
    let selected: Vec<&Suite> = SUITES
        .iter()
        .filter(|s| args.is_empty() || args.iter().any(|a| a == s.name))
        .collect();

    let (mut passed, mut failed, mut all_ok) = (0, 0, true);
    let t0 = Instant::now();
    for suite in selected {
        if proc::interrupted().is_some() {
            all_ok = false;
            break;
        }
        println!("==> {}: {}", suite.name, suite.about);
        let t = Instant::now();
        let o = (suite.run)(ctx);
        passed += o.passed;
        failed += o.failed;
        let took = fmt_duration(t.elapsed());
        if o.ok {
            println!(
                "suite {}: ok ({} passed, {} failed) in {took}",
                suite.name, o.passed, o.failed
            );
        } else {
            all_ok = false;
            let note = o.note.map(|n| format!("; {n}")).unwrap_or_default();
            println!(
                "suite {}: FAILED ({} passed, {} failed{note}) in {took}",
                suite.name, o.passed, o.failed
            );
            for l in &o.logs {
                proc::print_tail(l, 40);
            }
        }
    }
    println!("==> total time {}", fmt_duration(t0.elapsed()));
    println!("{passed} passed, {failed} failed");
    Ok(all_ok && failed == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_cargo_test_results() {
        let out = "\
running 2 tests
test a ... ok
test b ... FAILED
test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

     Running tests/smoke.rs
test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s
   Doc-tests wsengine
test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
";
        assert_eq!(parse_cargo_test(out), (6, 1, 3));
        assert_eq!(parse_cargo_test("error[E0425]: nope\n"), (0, 0, 0));
    }

    #[test]
    fn suite_names_are_unique() {
        let mut names: Vec<_> = SUITES.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), SUITES.len());
    }
}
