//! Child processes: output to log files, bounded waits, and cleanup.
//!
//! Every child is wrapped in a [`Proc`], which kills the child and all of its descendants when it
//! is dropped while still running (on an error, a timeout, a panic or an interrupt). Every wait
//! polls, so it is bounded in time and notices SIGINT/SIGTERM/SIGHUP sent to the xtask (see
//! [`install_signal_handlers`]); the caller then returns an error and the guards clean up.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub type Result<T, E = String> = std::result::Result<T, E>;

/// How often the polling loops look at their children.
const POLL: Duration = Duration::from_millis(50);
/// How long a child gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(3);

mod sys {
    //! The two libc functions we need; std links libc anyway.
    extern "C" {
        pub fn kill(pid: i32, sig: i32) -> i32;
        pub fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    }
    pub const SIGHUP: i32 = 1;
    pub const SIGINT: i32 = 2;
    pub const SIGKILL: i32 = 9;
    pub const SIGTERM: i32 = 15;
}

/// The signal that interrupted us, or 0.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: i32) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(sig, Ordering::SeqCst);
}

/// Turns SIGINT, SIGTERM and SIGHUP into a flag that every wait checks, so that the xtask can
/// stop its children before it exits (instead of dying and leaving servers behind).
pub fn install_signal_handlers() {
    for sig in [sys::SIGINT, sys::SIGTERM, sys::SIGHUP] {
        // SAFETY: `on_signal` only stores to an atomic, which is async-signal-safe.
        unsafe {
            sys::signal(sig, on_signal);
        }
    }
}

/// The signal number if the xtask was asked to stop.
pub fn interrupted() -> Option<i32> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

fn check_interrupt() -> Result<()> {
    match interrupted() {
        Some(sig) => Err(format!("interrupted (signal {sig})")),
        None => Ok(()),
    }
}

/// Sleeps up to `d`, returning early with an error if the xtask is interrupted.
pub fn sleep(d: Duration) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        check_interrupt()?;
        let now = Instant::now();
        if now >= end {
            return Ok(());
        }
        thread::sleep(POLL.min(end - now));
    }
}

/// `prog arg arg` for messages and log headers.
pub fn display(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.is_empty() || a.contains([' ', '"', '\'', '*']) {
            let _ = write!(s, " '{a}'");
        } else {
            let _ = write!(s, " {a}");
        }
    }
    s
}

pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Creates (or appends to) a log file and writes a header naming the command.
fn open_log(log: &Path, cmd: &Command, append: bool) -> Result<File> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut f = fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(log)
        .map_err(|e| format!("cannot create log {}: {e}", log.display()))?;
    let cwd = cmd
        .get_current_dir()
        .map(|d| format!(" (in {})", d.display()))
        .unwrap_or_default();
    let _ = writeln!(f, "$ {}{cwd}", display(cmd));
    Ok(f)
}

/// A running child that is killed, with its descendants, when dropped.
pub struct Proc {
    child: Child,
    name: String,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `cmd` with stdin closed and stdout+stderr in `log` (truncated first).
    pub fn spawn_logged(name: &str, cmd: &mut Command, log: &Path) -> Result<Proc> {
        Proc::spawn_log(name, cmd, log, false)
    }

    /// Starts `cmd` with stdin closed and stdout+stderr in `log`, which is created or appended
    /// to.
    pub fn spawn_log(name: &str, cmd: &mut Command, log: &Path, append: bool) -> Result<Proc> {
        check_interrupt()?;
        let out = open_log(log, cmd, append)?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", display(cmd)))?;
        Ok(Proc {
            child,
            name: name.to_string(),
            status: None,
        })
    }

    /// Starts `cmd` with inherited stdout/stderr (for commands whose output the user wants).
    pub fn spawn_inherit(name: &str, cmd: &mut Command) -> Result<Proc> {
        check_interrupt()?;
        cmd.stdin(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {name} ({}): {e}", display(cmd)))?;
        Ok(Proc {
            child,
            name: name.to_string(),
            status: None,
        })
    }

    /// The exit status if the child has exited.
    pub fn try_status(&mut self) -> Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .map_err(|e| format!("waiting for {}: {e}", self.name))?;
        }
        Ok(self.status)
    }

    /// Waits for the child to exit, at most `timeout`; on timeout or interrupt the child is
    /// killed and an error returned.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status()? {
                return Ok(st);
            }
            if let Err(e) = check_interrupt() {
                self.stop();
                return Err(e);
            }
            if Instant::now() >= end {
                self.stop();
                return Err(format!(
                    "{} timed out after {} and was killed",
                    self.name,
                    fmt_duration(timeout)
                ));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until `addr` accepts TCP connections (at most `timeout`), failing early if the
    /// child exits first.
    pub fn wait_for_port(&mut self, addr: SocketAddr, timeout: Duration) -> Result<()> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_status()? {
                return Err(format!(
                    "{} exited ({}) before listening on {addr}",
                    self.name,
                    describe_status(st)
                ));
            }
            check_interrupt()?;
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= end {
                return Err(format!(
                    "{} did not listen on {addr} within {}",
                    self.name,
                    fmt_duration(timeout)
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the child and its descendants: SIGTERM, then SIGKILL after a grace period.
    /// Returns the child's exit status if it had already exited by itself.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(st)) = self.try_status() {
            return Some(st);
        }
        let pid = self.child.id() as i32;
        let tree = descendants(pid);
        signal_all(&tree, sys::SIGTERM);
        signal_all(&[pid], sys::SIGTERM);
        let end = Instant::now() + GRACE;
        while Instant::now() < end {
            let child_done = matches!(self.child.try_wait(), Ok(Some(_)));
            if child_done && tree.iter().all(|&p| !alive(p)) {
                break;
            }
            thread::sleep(POLL);
        }
        // Only those still alive: a pid that is gone may already belong to someone else.
        let survivors: Vec<i32> = tree.iter().copied().filter(|&p| alive(p)).collect();
        signal_all(&survivors, sys::SIGKILL);
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `cmd` to completion with its output in `log`, bounded by `timeout`.
pub fn run_logged(
    name: &str,
    cmd: &mut Command,
    log: &Path,
    timeout: Duration,
) -> Result<ExitStatus> {
    Proc::spawn_logged(name, cmd, log)?.wait(timeout)
}

/// Like [`run_logged`] but an unsuccessful exit is an error too.
pub fn run_logged_ok(name: &str, cmd: &mut Command, log: &Path, timeout: Duration) -> Result<()> {
    run_ok(name, cmd, log, timeout, false)
}

/// Like [`run_logged_ok`] but appends to the log.
pub fn run_appending_ok(
    name: &str,
    cmd: &mut Command,
    log: &Path,
    timeout: Duration,
) -> Result<()> {
    run_ok(name, cmd, log, timeout, true)
}

fn run_ok(
    name: &str,
    cmd: &mut Command,
    log: &Path,
    timeout: Duration,
    append: bool,
) -> Result<()> {
    let st = Proc::spawn_log(name, cmd, log, append)?.wait(timeout)?;
    if st.success() {
        Ok(())
    } else {
        Err(format!(
            "{name} failed ({}); see {}",
            describe_status(st),
            log.display()
        ))
    }
}

/// Runs `cmd` with inherited output, bounded by `timeout`.
pub fn run_inherit(name: &str, cmd: &mut Command, timeout: Duration) -> Result<ExitStatus> {
    Proc::spawn_inherit(name, cmd)?.wait(timeout)
}

/// Runs `cmd` quietly and returns whether it succeeded (for probes like `cargo fmt --version`).
pub fn probe(cmd: &mut Command, timeout: Duration) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let Ok(child) = cmd.spawn() else {
        return false;
    };
    let mut p = Proc {
        child,
        name: "probe".into(),
        status: None,
    };
    matches!(p.wait(timeout), Ok(st) if st.success())
}

pub fn describe_status(st: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (st.code(), st.signal()) {
        (Some(c), _) => format!("exit status {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => st.to_string(),
    }
}

fn signal_all(pids: &[i32], sig: i32) {
    for &p in pids {
        if p > 1 {
            // SAFETY: plain syscall on a pid we collected from our own process tree.
            unsafe {
                sys::kill(p, sig);
            }
        }
    }
}

/// Whether `pid` exists and is not a zombie.
fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => parse_stat(&s).is_some_and(|(state, _)| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

/// (state, ppid) from the text of /proc/PID/stat (the command name may contain spaces and
/// parentheses, so parse from the last ')').
fn parse_stat(s: &str) -> Option<(char, i32)> {
    let rest = &s[s.rfind(')')? + 1..];
    let mut it = rest.split_whitespace();
    let state = it.next()?.chars().next()?;
    let ppid = it.next()?.parse().ok()?;
    Some((state, ppid))
}

/// All descendants of `root` (not `root` itself), from /proc.
fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if let Ok(s) = fs::read_to_string(e.path().join("stat")) {
                if let Some((_, ppid)) = parse_stat(&s) {
                    children.entry(ppid).or_default().push(pid);
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        for &c in children.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
            if seen.insert(c) {
                out.push(c);
                stack.push(c);
            }
        }
    }
    out
}

/// Fails with a clear message if something already listens on `addr` (or it cannot be bound).
pub fn ensure_port_free(addr: SocketAddr, hint: &str) -> Result<()> {
    let in_use = || {
        format!(
            "port {} on {} is already in use (a stale server from an earlier run?); \
             stop it or pick another port: {hint}",
            addr.port(),
            addr.ip()
        )
    };
    if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
        return Err(in_use());
    }
    match TcpListener::bind(addr) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(in_use()),
        Err(e) => Err(format!("cannot bind {addr}: {e}")),
    }
}

/// The last `lines` lines of a (possibly large) log file.
pub fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(64 * 1024);
    let _ = f.seek(SeekFrom::Start(start));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Prints the tail of a log, indented, under a heading (to stdout, to keep the order).
pub fn print_tail(path: &Path, lines: usize) {
    let t = tail(path, lines);
    if t.trim().is_empty() {
        println!("    (log {} is empty)", path.display());
        return;
    }
    println!("    --- last lines of {} ---", path.display());
    for l in t.lines().map(strip_ansi) {
        let l = l.as_str();
        if l.chars().count() > 300 {
            let short: String = l.chars().take(300).collect();
            println!("    | {short} ...");
        } else {
            println!("    | {l}");
        }
    }
}

/// Removes terminal escape sequences (colors) that some tools write even into files.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match it.next() {
            // CSI: parameters and intermediates, then one final byte in '@'..='~'.
            Some('[') => {
                for d in it.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            // Character set selection such as ESC ( B: one more char.
            Some('(' | ')') => {
                it.next();
            }
            _ => {}
        }
    }
    out
}

/// Adds a rustup target unless rustup lists it as installed already (output appended to
/// `log`), so install steps skip what a machine has.
pub fn ensure_rustup_target(target: &str, log: &Path, timeout: Duration) -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == target)
    {
        return Ok(());
    }
    println!("==> installing rustup target {target}");
    let mut c = Command::new("rustup");
    c.args(["target", "add", target]);
    run_appending_ok("rustup target add", &mut c, log, timeout)
}

#[cfg(test)]
mod tests {
    #[test]
    fn strips_colors() {
        assert_eq!(
            super::strip_ansi("\x1b[31m-    let\x1b(B\x1b[m x"),
            "-    let x"
        );
    }

    use super::*;

    #[test]
    fn parses_proc_stat() {
        let s = "1234 (my (weird) prog) S 1000 1234 1234 0 -1 4194560 100";
        assert_eq!(parse_stat(s), Some(('S', 1000)));
    }

    #[test]
    fn kills_descendants() {
        let dir = std::env::temp_dir().join(format!("xtask-proc-test-{}", std::process::id()));
        let log = dir.join("sleep.log");
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "sleep 30 & sleep 30; echo never"]);
        let mut p = Proc::spawn_logged("sh", &mut cmd, &log).unwrap();
        thread::sleep(Duration::from_millis(200));
        let tree = descendants(p.child.id() as i32);
        assert!(!tree.is_empty());
        let err = p.wait(Duration::from_millis(100)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        for pid in tree {
            assert!(!alive(pid), "descendant {pid} survived");
        }
        let _ = fs::remove_dir_all(dir);
    }
}
