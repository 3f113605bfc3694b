//! `cargo xtask <command>`: wsengine's developer tasks (`cargo xtask help`).

mod autobahn;
mod bench;
mod bench_deflate;
mod component;
mod ctx;
mod demo;
mod fuzz;
mod interop;
mod js;
mod proc;
mod test;
mod tools;

use std::process::ExitCode;
use std::time::Duration;

use ctx::Ctx;
use proc::Result;

const BUILD_TIMEOUT: Duration = Duration::from_secs(60 * 60);

fn usage() -> String {
    let agents: Vec<String> = autobahn::AGENTS
        .iter()
        .map(|a| format!("      {:<10} {}", a.name, a.about))
        .collect();
    format!(
        "\
usage: cargo xtask <command> [options]

commands:
  test [SUITE...] [--list]
      Runs every suite (or the named ones) and ends with `N passed, M failed`;
      exits non-zero if anything failed. Installs what is missing (rustfmt,
      clippy, the Autobahn testsuite). Logs: target/xtask-logs/.
  autobahn [--role client|server|both] [--cases \"1.*,2.*\"] [--full] [--agent NAME]
           [--client-port N] [--server-port N]
      Runs the Autobahn testsuite (default: cases 1.* to 11.*, both roles,
      agent native; --full runs every case). Ports default to {cp} (wstest's
      fuzzing server, tests our client) and {sp} (our server under test), or
      ${ecp} / ${esp}. Reports: target/autobahn/reports/{{clients,servers}}/AGENT/.
      Agents:
{agents}
  demo [--port N]
      Builds the examples and runs each client against a server on
      127.0.0.1:{dp} (or ${edp}), printing what happened.
  bench [--only engine,mask,echo,memory,faces] [--quick] [--report-only]
      Benchmarks beside tungstenite and fastwebsockets (medians of repeated
      runs): target/bench/results.json, BENCHMARKS.md and bench/chart.svg.
  build [component]
      cargo build --release --workspace --examples, then build-js, then the
      WASI component face into target/component/ (engine.wasm, websocket.wasm,
      the example guest and its composition; `component`: only that)
  fuzz [--seconds N] [--seed] [TARGET...]
      Builds the cargo-fuzz targets in fuzz/ (installs nightly and cargo-fuzz
      into ~/.cache/wsengine when missing) and runs each for N seconds
      (default 60), one at a time; prints executions, coverage and crashes and
      fails on any crash. --seed regenerates fuzz/seeds/. Targets: {fuzz}.
  build-js
      The JS package's engine: wasm32-unknown-unknown with --features js,
      wasm-bindgen into js/pkg/ (installs the target and wasm-bindgen-cli
      {wbg} into ~/.cache/wsengine when missing)

{suites}",
        cp = autobahn::DEFAULT_CLIENT_PORT,
        sp = autobahn::DEFAULT_SERVER_PORT,
        ecp = autobahn::ENV_CLIENT_PORT,
        esp = autobahn::ENV_SERVER_PORT,
        dp = demo::DEFAULT_PORT,
        edp = demo::ENV_PORT,
        agents = agents.join("\n"),
        suites = test::usage(),
        wbg = js::WASM_BINDGEN_VERSION,
        fuzz = fuzz::TARGETS.join(", "),
    )
}

fn build(ctx: &Ctx, args: &[String]) -> Result<bool> {
    // `build component`: only the WASI component face (what its Autobahn agent needs).
    if args.first().map(String::as_str) == Some("component") && args.len() == 1 {
        component::build(ctx, &ctx.log("component-build"))?;
        return Ok(true);
    }
    if let Some(a) = args.first() {
        return Err(format!("unknown argument `{a}` for `cargo xtask build`"));
    }
    let mut c = ctx.cargo(["build", "--release", "--workspace", "--examples"]);
    let st = proc::run_inherit("cargo build", &mut c, BUILD_TIMEOUT)?;
    if !st.success() {
        return Ok(false);
    }
    js::build(ctx)?;
    component::build(ctx, &ctx.log("component-build"))?;
    Ok(true)
}

fn run(args: &[String]) -> Result<bool> {
    let Some(cmd) = args.first() else {
        eprint!("{}", usage());
        return Ok(false);
    };
    let rest = &args[1..];
    if matches!(cmd.as_str(), "help" | "-h" | "--help") {
        print!("{}", usage());
        return Ok(true);
    }
    let ctx = Ctx::new()?;
    match cmd.as_str() {
        "test" => test::main(&ctx, rest),
        "autobahn" => autobahn::main(&ctx, rest),
        "demo" => demo::main(&ctx, rest),
        "bench" => bench::main(&ctx, rest),
        "build" => build(&ctx, rest),
        "build-js" => js::main(&ctx, rest),
        "fuzz" => fuzz::main(&ctx, rest),
        _ => Err(format!("unknown command `{cmd}`\n\n{}", usage())),
    }
}

fn main() -> ExitCode {
    proc::install_signal_handlers();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = run(&args);
    if let Some(sig) = proc::interrupted() {
        eprintln!("xtask: interrupted by signal {sig}; children stopped");
        return ExitCode::from(128 + sig as u8);
    }
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
