//! Command-line tools built once per machine with `cargo install`, at pinned versions, into
//! `~/.cache/wsengine` (or `$WSENGINE_TOOLS`): outside the clone, so a fresh clone on a
//! machine that has them skips the build.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::ctx::Ctx;
use crate::proc::{self, Result};

const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Where tools built once per machine live: `$WSENGINE_TOOLS` or `~/.cache/wsengine`.
pub fn dir() -> PathBuf {
    if let Some(d) = env::var_os("WSENGINE_TOOLS").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    let home = env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    home.join(".cache/wsengine")
}

/// One crate's binary, pinned.
pub struct Tool {
    /// The crate `cargo install` builds.
    pub krate: &'static str,
    /// The binary whose `--version` is checked; it prints `BIN VERSION`.
    pub bin: &'static str,
    pub version: &'static str,
    /// Build with the crate's own Cargo.lock.
    pub locked: bool,
    /// Shown while installing ("~2 min").
    pub takes: &'static str,
}

/// The tool's binary, installed first if it is missing or another version. Installed
/// unoptimised (`--debug`): these tools transform one module or run cargo, and an unoptimised
/// build takes half the time (wasm-bindgen-cli: 99 s against 200 s on 2 cores, its output
/// byte-identical; cargo-fuzz: 30 s against 49 s).
pub fn ensure(ctx: &Ctx, tool: &Tool) -> Result<PathBuf> {
    let root = dir();
    let bin = root.join("bin").join(tool.bin);
    let wanted = format!("{} {}", tool.bin, tool.version);
    let version_ok = || {
        Command::new(&bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == wanted)
    };
    if version_ok() {
        return Ok(bin);
    }
    println!(
        "==> installing {} {} into {} (once per machine, {})",
        tool.krate,
        tool.version,
        root.display(),
        tool.takes
    );
    let log = ctx.log(&format!("install-{}", tool.bin));
    let mut c = ctx.cargo(["install", tool.krate, "--version", tool.version, "--debug"]);
    if tool.locked {
        c.arg("--locked");
    }
    c.arg("--root").arg(&root);
    // Its own target dir: the workspace's may be locked by the build that called us.
    c.env("CARGO_TARGET_DIR", root.join("build"));
    let what = format!("cargo install {}", tool.krate);
    proc::run_logged_ok(&what, &mut c, &log, INSTALL_TIMEOUT)
        .inspect_err(|_| proc::print_tail(&log, 20))?;
    let _ = fs::remove_dir_all(root.join("build"));
    if !version_ok() {
        return Err(format!(
            "{} is not {wanted} after installing it",
            bin.display()
        ));
    }
    Ok(bin)
}
