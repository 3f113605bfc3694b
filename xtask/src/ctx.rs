//! Where things are: the workspace root, cargo's target directory, the log directory.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::proc::Result;

pub struct Ctx {
    /// The workspace root (where the root Cargo.toml is).
    pub root: PathBuf,
    /// Cargo's target directory (honours CARGO_TARGET_DIR and `build.target-dir`).
    pub target: PathBuf,
    /// The cargo that runs us (`$CARGO`), or `cargo`.
    pub cargo: PathBuf,
}

impl Ctx {
    pub fn new() -> Result<Ctx> {
        // The directory cargo ran us from (`cargo run` sets CARGO_MANIFEST_DIR), not the one
        // we were compiled in: with a target directory shared between checkouts (as
        // `.ci/run` does), cargo may reuse an xtask binary built in another checkout, whose
        // compile-time path would send every step to that checkout.
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .ok_or("xtask must live in a subdirectory of the workspace")?
            .to_path_buf();
        let cargo = env::var_os("CARGO")
            .map(PathBuf::from)
            .unwrap_or_else(|| "cargo".into());
        let target = target_dir(&cargo, &root).unwrap_or_else(|| root.join("target"));
        Ok(Ctx {
            root,
            target,
            cargo,
        })
    }

    /// `cargo ARGS...` run from the workspace root.
    pub fn cargo<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut c = Command::new(&self.cargo);
        c.current_dir(&self.root).args(args);
        c
    }

    /// `target/xtask-logs/NAME.log`.
    pub fn log(&self, name: &str) -> PathBuf {
        self.target.join("xtask-logs").join(format!("{name}.log"))
    }

    /// A path relative to the workspace root when possible, for messages.
    pub fn rel<'a>(&self, p: &'a Path) -> std::borrow::Cow<'a, str> {
        match p.strip_prefix(&self.root) {
            Ok(r) => r.to_string_lossy().into_owned().into(),
            Err(_) => p.to_string_lossy(),
        }
    }
}

/// Asks cargo for the target directory; None if cargo cannot read the workspace.
fn target_dir(cargo: &Path, root: &Path) -> Option<PathBuf> {
    let out = Command::new(cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    v.get("target_directory")?.as_str().map(PathBuf::from)
}
