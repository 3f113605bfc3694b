//! `cargo xtask fuzz [--seconds N] [--seed] [TARGET...]`: the cargo-fuzz targets in `fuzz/`.
//!
//! Installs what is missing (the nightly toolchain, `cargo-fuzz` into `~/.cache/wsengine`),
//! builds every target once (release, debug assertions and AddressSanitizer on), then runs the
//! chosen targets one after another for N seconds each, on the committed seeds
//! (`fuzz/seeds/<target>`) plus a corpus kept in `target/fuzz/corpus/<target>`. Prints per
//! target the executions, coverage (libFuzzer's `cov:` edges and `ft:` features) and crashes;
//! fails on any crash, out-of-memory or hang.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::proc::{self, Result};

/// Every target, in the order they run.
pub const TARGETS: &[&str] = &[
    "client",
    "server",
    "handshake_request",
    "handshake_response",
    "deflate",
    "close_frame",
];

/// libFuzzer options shared by every run. The engine's limits in the targets are small
/// (64 KiB messages, 4 KiB in `deflate`, 2 KiB handshake heads), so no single allocation may
/// exceed 64 MiB and the process stays under 512 MiB; one input may take at most 10 s.
const LIBFUZZER_ARGS: &[&str] = &[
    "-malloc_limit_mb=64",
    "-rss_limit_mb=512",
    "-timeout=10",
    "-max_len=16384",
    "-print_final_stats=1",
];

/// The cargo-fuzz release installed into `~/.cache/wsengine` (pinned like every tool here).
const CARGO_FUZZ_VERSION: &str = "0.13.2";
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const BUILD_TIMEOUT: Duration = Duration::from_secs(40 * 60);

/// What one target's run showed.
pub struct Report {
    pub target: String,
    pub execs: u64,
    pub execs_per_s: u64,
    pub cov: u64,
    pub features: u64,
    pub corpus: u64,
    /// Crash, leak, OOM or timeout inputs libFuzzer wrote.
    pub artifacts: Vec<PathBuf>,
    pub ok: bool,
    pub log: PathBuf,
}

impl Report {
    pub fn line(&self) -> String {
        format!(
            "{:<19} {:>9} execs ({:>5}/s)  cov: {:>5}  ft: {:>6}  corpus: {:>5}  crashes: {}",
            self.target,
            self.execs,
            self.execs_per_s,
            self.cov,
            self.features,
            self.corpus,
            self.artifacts.len() + usize::from(!self.ok && self.artifacts.is_empty()),
        )
    }
}

fn fuzz_dir(ctx: &Ctx) -> PathBuf {
    ctx.root.join("fuzz")
}

fn out_dir(ctx: &Ctx) -> PathBuf {
    ctx.target.join("fuzz")
}

/// A command on the nightly toolchain, with the variables the calling (stable) cargo set
/// removed so that nothing inside falls back to stable.
fn nightly(program: &str) -> Command {
    let mut c = Command::new("rustup");
    c.args(["run", "nightly", program]);
    for v in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
    ] {
        c.env_remove(v);
    }
    let tools = crate::tools::dir().join("bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![tools];
    paths.extend(std::env::split_paths(&path));
    c.env("PATH", std::env::join_paths(paths).unwrap_or(path));
    c
}

fn ensure_nightly(ctx: &Ctx) -> Result<()> {
    if proc::probe(nightly("rustc").arg("--version"), Duration::from_secs(60)) {
        return Ok(());
    }
    println!("==> installing the nightly toolchain (for cargo-fuzz)");
    let mut c = Command::new("rustup");
    c.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
    proc::run_logged_ok(
        "rustup toolchain install nightly",
        &mut c,
        &ctx.log("install-nightly"),
        INSTALL_TIMEOUT,
    )
}

fn ensure_cargo_fuzz(ctx: &Ctx) -> Result<PathBuf> {
    crate::tools::ensure(
        ctx,
        &crate::tools::Tool {
            krate: "cargo-fuzz",
            bin: "cargo-fuzz",
            version: CARGO_FUZZ_VERSION,
            locked: true,
            takes: "~1 min",
        },
    )
}

/// Installs what is missing and builds every target; returns the directory of the binaries.
pub fn build(ctx: &Ctx) -> Result<PathBuf> {
    ensure_nightly(ctx)?;
    ensure_cargo_fuzz(ctx)?;
    println!("==> building the fuzz targets (cargo +nightly fuzz build -O)");
    let log = ctx.log("fuzz-build");
    let mut c = nightly("cargo");
    c.current_dir(fuzz_dir(ctx))
        .args(["fuzz", "build", "-O", "--debug-assertions", "--target-dir"])
        .arg(out_dir(ctx));
    proc::run_logged_ok("cargo fuzz build", &mut c, &log, BUILD_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&log, 30))?;
    // cargo-fuzz builds for the host triple: target/fuzz/<triple>/release/<target>.
    let entries = fs::read_dir(out_dir(ctx)).map_err(|e| format!("{e}"))?;
    for e in entries.flatten() {
        let release = e.path().join("release");
        if release.join(TARGETS[0]).is_file() {
            return Ok(release);
        }
    }
    Err(format!(
        "no fuzz binaries under {} after building",
        out_dir(ctx).display()
    ))
}

/// Where a run keeps what it finds: `Kept` grows across runs (long runs build on earlier
/// ones); `Fresh` starts from the seeds alone each time, so a short run's cost does not grow
/// with the corpus (libFuzzer replays the whole corpus before the clock matters).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Corpus {
    Kept,
    Fresh,
}

/// Runs `target` for `seconds` and reads libFuzzer's statistics from its log.
pub fn run_target(
    ctx: &Ctx,
    bins: &Path,
    target: &str,
    seconds: u64,
    kind: Corpus,
) -> Result<Report> {
    let corpus = match kind {
        Corpus::Kept => out_dir(ctx).join("corpus").join(target),
        Corpus::Fresh => {
            let dir = out_dir(ctx).join("corpus-fresh").join(target);
            let _ = fs::remove_dir_all(&dir);
            dir
        }
    };
    let artifacts = out_dir(ctx).join("artifacts").join(target);
    fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    fs::create_dir_all(&artifacts).map_err(|e| format!("{}: {e}", artifacts.display()))?;
    let before: Vec<PathBuf> = list(&artifacts);
    let log = ctx.log(&format!("fuzz-{target}"));
    let mut c = Command::new(bins.join(target));
    c.args(LIBFUZZER_ARGS)
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&corpus)
        .arg(fuzz_dir(ctx).join("seeds").join(target));
    // ASan keeps freed memory in a quarantine (256 MiB by default) to catch use after free,
    // and that counts toward `-rss_limit_mb`: with a grown corpus, loading it alone reached
    // 516 MiB with 27 MiB live (an "out-of-memory" artifact that does not reproduce alone).
    // A 64 MiB quarantine keeps the limit about the targets' own memory.
    let asan = std::env::var("ASAN_OPTIONS").unwrap_or_default();
    let sep = if asan.is_empty() { "" } else { ":" };
    c.env("ASAN_OPTIONS", format!("{asan}{sep}quarantine_size_mb=64"));
    // Generous: loading the corpus and the final merge take time beyond max_total_time.
    let limit = Duration::from_secs(seconds + 120);
    let st = proc::run_logged(&format!("fuzz {target}"), &mut c, &log, limit)?;
    let text = fs::read_to_string(&log).unwrap_or_default();
    let mut r = parse_stats(target, &text);
    r.artifacts = list(&artifacts)
        .into_iter()
        .filter(|p| !before.contains(p))
        .collect();
    r.ok = st.success() && r.artifacts.is_empty();
    r.log = log;
    Ok(r)
}

fn list(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Reads the last status line (`#N DONE cov: C ft: F corp: K/..b ... exec/s: E`) and the
/// final `stat::number_of_executed_units`.
fn parse_stats(target: &str, text: &str) -> Report {
    let mut r = Report {
        target: target.into(),
        execs: 0,
        execs_per_s: 0,
        cov: 0,
        features: 0,
        corpus: 0,
        artifacts: Vec::new(),
        ok: false,
        log: PathBuf::new(),
    };
    let field = |line: &str, key: &str| -> Option<u64> {
        let rest = &line[line.find(key)? + key.len()..];
        let num: String = rest
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        num.parse().ok()
    };
    for line in text.lines() {
        if line.starts_with('#') && line.contains("cov: ") {
            r.execs = line[1..]
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(r.execs);
            r.cov = field(line, "cov:").unwrap_or(r.cov);
            r.features = field(line, "ft:").unwrap_or(r.features);
            r.corpus = field(line, "corp:").unwrap_or(r.corpus);
            r.execs_per_s = field(line, "exec/s:").unwrap_or(r.execs_per_s);
        }
        if let Some(n) = field(line, "stat::number_of_executed_units:") {
            r.execs = n;
        }
        if let Some(n) = field(line, "stat::average_exec_per_sec:") {
            r.execs_per_s = n;
        }
    }
    r
}

/// Regenerates `fuzz/seeds/` from `fuzz/examples/seeds.rs` (stable toolchain).
fn seed(ctx: &Ctx) -> Result<()> {
    let log = ctx.log("fuzz-seeds");
    let mut c = ctx.cargo(["run", "--example", "seeds", "--manifest-path"]);
    c.arg(fuzz_dir(ctx).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", out_dir(ctx).join("stable"));
    proc::run_logged_ok("seeds", &mut c, &log, BUILD_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&log, 20))?;
    print!("{}", proc::tail(&log, 1));
    Ok(())
}

/// Builds, then runs `targets` for `seconds` each; the reports in order.
pub fn run(ctx: &Ctx, seconds: u64, targets: &[String], kind: Corpus) -> Result<Vec<Report>> {
    let bins = build(ctx)?;
    let mut reports = Vec::new();
    for t in targets {
        println!("==> fuzzing {t} for {seconds} s");
        let r = run_target(ctx, &bins, t, seconds, kind)?;
        println!("{}", r.line());
        for a in &r.artifacts {
            println!(
                "    artifact: {} (reproduce: {} {})",
                a.display(),
                bins.join(t).display(),
                a.display()
            );
        }
        if !r.ok {
            println!("    log: {}", ctx.rel(&r.log));
        }
        reports.push(r);
    }
    Ok(reports)
}

pub fn main(ctx: &Ctx, args: &[String]) -> Result<bool> {
    let mut seconds = 60;
    let mut targets = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a number")?;
            }
            "--seed" => return seed(ctx).map(|()| true),
            t if TARGETS.contains(&t) => targets.push(t.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz argument `{other}` (targets: {})",
                    TARGETS.join(", ")
                ))
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    let reports = run(ctx, seconds, &targets, Corpus::Kept)?;
    let bad = reports.iter().filter(|r| !r.ok).count();
    println!("{} targets clean, {bad} failed", reports.len() - bad);
    Ok(bad == 0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_libfuzzer_stats() {
        let log = "#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #42482\tDONE   cov: 1036 ft: 1065 corp: 28/1237b lim: 465 exec/s: 2655 rss: 141Mb\n\
                   stat::number_of_executed_units: 42490\n\
                   stat::average_exec_per_sec:     2656\n";
        let r = super::parse_stats("close_frame", log);
        assert_eq!(
            (r.execs, r.execs_per_s, r.cov, r.features, r.corpus),
            (42490, 2656, 1036, 1065, 28)
        );
    }
}
