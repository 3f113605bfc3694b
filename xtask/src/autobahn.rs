//! `cargo xtask autobahn`: the Autobahn testsuite against our client and server faces.
//!
//! * Installs the testsuite (Python 2.7) into `target/autobahn/venv` if it is missing.
//! * Role `client`: `wstest -m fuzzingserver` listens, our client under test connects to it.
//! * Role `server`: our echo server listens, `wstest -m fuzzingclient` connects to it.
//! * Reads `target/autobahn/reports/{clients,servers}/<agent>/index.json` and summarizes
//!   (a directory and spec per face, so runs of different faces can go at once).
//!
//! The faces under test are rows of [`AGENTS`]; a new face (a wasm component, a JS package, a
//! tokio adapter) is one more row.

use std::collections::BTreeMap;
use std::env;
use std::fmt;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::ctx::Ctx;
use crate::proc::{self, describe_status, fmt_duration, Proc, Result};

/// The testsuite version (PyPI `autobahntestsuite`); transitive pins are in
/// `autobahn/constraints-py27.txt`.
pub const TESTSUITE: &str = "autobahntestsuite==25.10.1";
/// The virtualenv that can still create Python 2.7 environments.
const VIRTUALENV: &str = "virtualenv<20.22";

const HOST: Ipv4Addr = Ipv4Addr::LOCALHOST;
pub const DEFAULT_CLIENT_PORT: u16 = 9001;
pub const DEFAULT_SERVER_PORT: u16 = 9002;
pub const ENV_CLIENT_PORT: &str = "XTASK_AUTOBAHN_CLIENT_PORT";
pub const ENV_SERVER_PORT: &str = "XTASK_AUTOBAHN_SERVER_PORT";

const PORT_WAIT: Duration = Duration::from_secs(30);
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const INSTALL_STEP_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const RUN_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// A full run of the native agent took ~24 min (client) and ~29 min (server) here on a busy
/// 2-core machine, and over an hour when five runs shared those cores; groups 12-13
/// (permessage-deflate, Python compressing on the testsuite's side) are almost all of it. The
/// timeout only guards against a hang, so it leaves room for a loaded machine.
const RUN_TIMEOUT_FULL: Duration = Duration::from_secs(3 * 60 * 60);

/// A command line. Placeholders, replaced in every argument:
/// `{root}` workspace root, `{target}` cargo target dir, `{url}` the WebSocket URL to connect
/// to (client role), `{addr}` / `{host}` / `{port}` where to listen (server role), `{agent}`
/// the agent name to report. A leading `cargo` is the cargo that runs the xtask.
pub type Cmd = &'static [&'static str];

/// One face of the library under test.
pub struct Agent {
    /// What `--agent` selects.
    pub name: &'static str,
    /// The agent name in Autobahn's reports.
    pub report_name: &'static str,
    pub about: &'static str,
    /// How to test this face as a client (against `wstest -m fuzzingserver`).
    pub client: Option<Face>,
    /// How to test this face as a server (with `wstest -m fuzzingclient`).
    pub server: Option<Face>,
}

pub struct Face {
    /// Commands run first, from the workspace root (builds).
    pub build: &'static [Cmd],
    /// The client (runs all cases, then exits 0) or the server (runs until killed).
    pub run: Cmd,
}

pub const AGENTS: &[Agent] = &[
    Agent {
        name: "native",
        report_name: "wsengine",
        about:
            "the Rust library over std::net (examples/autobahn_client.rs, examples/echo_server.rs)",
        client: Some(Face {
            build: &[&[
                "cargo",
                "build",
                "--release",
                "--example",
                "autobahn_client",
            ]],
            run: &[
                "{target}/release/examples/autobahn_client",
                "--url",
                "{url}",
                "--agent",
                "{agent}",
            ],
        }),
        server: Some(Face {
            build: &[&["cargo", "build", "--release", "--example", "echo_server"]],
            run: &["{target}/release/examples/echo_server", "--addr", "{addr}"],
        }),
    },
    Agent {
        name: "tokio",
        report_name: "wsengine-tokio",
        about: "the tokio adapter (examples/tokio_autobahn_client.rs, examples/tokio_echo_server.rs)",
        client: Some(Face {
            build: &[&[
                "cargo",
                "build",
                "--release",
                "--features",
                "tokio",
                "--example",
                "tokio_autobahn_client",
            ]],
            run: &[
                "{target}/release/examples/tokio_autobahn_client",
                "--url",
                "{url}",
                "--agent",
                "{agent}",
            ],
        }),
        server: Some(Face {
            build: &[&[
                "cargo",
                "build",
                "--release",
                "--features",
                "tokio",
                "--example",
                "tokio_echo_server",
            ]],
            run: &[
                "{target}/release/examples/tokio_echo_server",
                "--addr",
                "{addr}",
            ],
        }),
    },
    Agent {
        name: "js",
        report_name: "wsengine-js",
        about: "the JS package in Node (examples/js/node/autobahn_client.js, echo_server.js)",
        client: Some(Face {
            build: &[&["cargo", "xtask", "build-js"]],
            run: &[
                "node",
                "{root}/examples/js/node/autobahn_client.js",
                "--url",
                "{url}",
                "--agent",
                "{agent}",
            ],
        }),
        server: Some(Face {
            build: &[&["cargo", "xtask", "build-js"]],
            run: &[
                "node",
                "{root}/examples/js/node/echo_server.js",
                "--addr",
                "{addr}",
            ],
        }),
    },
    Agent {
        name: "component",
        report_name: "wsengine-component",
        about: "the WASI component inside wasmtime (wsengine-host over target/component/websocket.wasm)",
        client: Some(Face {
            build: &[&["cargo", "xtask", "build", "component"]],
            run: &[
                "{target}/release/wsengine-host",
                "autobahn-client",
                "--component",
                "{target}/component/websocket.wasm",
                "--url",
                "{url}",
                "--agent",
                "{agent}",
            ],
        }),
        server: Some(Face {
            build: &[&["cargo", "xtask", "build", "component"]],
            run: &[
                "{target}/release/wsengine-host",
                "echo-server",
                "--component",
                "{target}/component/websocket.wasm",
                "--addr",
                "{addr}",
            ],
        }),
    },
    Agent {
        name: "component-host-tcp",
        report_name: "wsengine-component-host-tcp",
        about: "the WASI component server on TCP streams of the host's (wsengine-host echo-server --host-tcp)",
        client: None,
        server: Some(Face {
            build: &[&["cargo", "xtask", "build", "component"]],
            run: &[
                "{target}/release/wsengine-host",
                "echo-server",
                "--host-tcp",
                "--component",
                "{target}/component/websocket.wasm",
                "--addr",
                "{addr}",
            ],
        }),
    },
];

pub fn find_agent(name: &str) -> Result<&'static Agent> {
    AGENTS.iter().find(|a| a.name == name).ok_or_else(|| {
        let names: Vec<_> = AGENTS.iter().map(|a| a.name).collect();
        format!("unknown agent `{name}`; known: {}", names.join(", "))
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Tests our client: wstest is the fuzzing server.
    Client,
    /// Tests our server: wstest is the fuzzing client.
    Server,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Client => "client",
            Role::Server => "server",
        })
    }
}

pub struct Options {
    pub roles: Vec<Role>,
    /// Case patterns as in Autobahn specs: `1.*`, `6.4.3`, `*`.
    pub cases: Vec<String>,
    pub agent: &'static Agent,
    pub client_port: u16,
    pub server_port: u16,
    pub timeout: Duration,
}

impl Options {
    /// Groups 1–11 (there is no group 8 or 11 today; the patterns match nothing then), both
    /// roles, the `native` agent, ports from the environment or the defaults.
    pub fn defaults() -> Result<Options> {
        Ok(Options {
            roles: vec![Role::Client, Role::Server],
            cases: default_cases(),
            agent: &AGENTS[0],
            client_port: port_from_env(ENV_CLIENT_PORT, DEFAULT_CLIENT_PORT)?,
            server_port: port_from_env(ENV_SERVER_PORT, DEFAULT_SERVER_PORT)?,
            timeout: RUN_TIMEOUT,
        })
    }

    /// Parses the `cargo xtask autobahn` arguments.
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut o = Options::defaults()?;
        let mut full = false;
        let mut cases = None;
        let mut role_given = false;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next().cloned())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag {
                "--role" => {
                    role_given = true;
                    o.roles = match value()?.as_str() {
                        "client" => vec![Role::Client],
                        "server" => vec![Role::Server],
                        "both" => vec![Role::Client, Role::Server],
                        r => {
                            return Err(format!("--role must be client, server or both, not `{r}`"))
                        }
                    }
                }
                "--cases" => cases = Some(parse_cases(&value()?)?),
                "--full" => full = true,
                "--agent" => o.agent = find_agent(&value()?)?,
                "--client-port" => o.client_port = parse_port(&value()?)?,
                "--server-port" => o.server_port = parse_port(&value()?)?,
                _ => return Err(format!("unknown argument `{a}` for `cargo xtask autobahn`")),
            }
        }
        if !role_given {
            // Without --role: whichever faces the agent has.
            let agent = o.agent;
            o.roles.retain(|&r| face(agent, r).is_ok());
        }
        if full {
            o.cases = vec!["*".into()];
            o.timeout = RUN_TIMEOUT_FULL;
        }
        if let Some(c) = cases {
            if c.iter().any(|p| p == "*") {
                o.timeout = RUN_TIMEOUT_FULL;
            }
            o.cases = c;
        }
        Ok(o)
    }
}

/// Groups 1–11, plus a compression subset: the four smallest cases of every 12.x and 13.x
/// group (every permessage-deflate parameter combination, each in a few seconds; the whole of
/// 12–13 takes most of a full run's ~25 min). Ids are listed, not patterned, because Autobahn
/// anchors patterns only at the start (`12.1.1*` would also match 12.1.10–18).
pub fn default_cases() -> Vec<String> {
    let mut cases: Vec<String> = (1..=11).map(|g| format!("{g}.*")).collect();
    for (group, subgroups) in [(12, 5), (13, 7)] {
        for sub in 1..=subgroups {
            cases.extend((1..=4).map(|case| format!("{group}.{sub}.{case}")));
        }
    }
    cases
}

/// `"1.*, 2.*,6.4.3"` → patterns. Autobahn turns `.` into a literal dot and `*` into `.*` and
/// matches from the start of the case id, so `1.*` is group 1 only (not 10, 11, 12…).
pub fn parse_cases(s: &str) -> Result<Vec<String>> {
    let v: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from)
        .collect();
    if v.is_empty() {
        return Err("--cases is empty".into());
    }
    for p in &v {
        if !p
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '*')
        {
            return Err(format!(
                "bad case pattern `{p}`: use case ids and `*`, e.g. \"1.*,6.4.3\""
            ));
        }
    }
    Ok(v)
}

fn parse_port(s: &str) -> Result<u16> {
    s.parse::<u16>()
        .ok()
        .filter(|&p| p != 0)
        .ok_or_else(|| format!("bad port `{s}`"))
}

pub fn port_from_env(var: &str, default: u16) -> Result<u16> {
    match env::var(var) {
        Ok(v) if !v.is_empty() => parse_port(&v).map_err(|e| format!("{var}: {e}")),
        _ => Ok(default),
    }
}

/// Substitutes the placeholders of a [`Cmd`] and makes a [`Command`] run from the root.
pub fn command(ctx: &Ctx, cmd: Cmd, vars: &[(&str, String)]) -> Command {
    let subst = |s: &str| {
        let mut s = s.replace("{root}", &ctx.root.to_string_lossy());
        s = s.replace("{target}", &ctx.target.to_string_lossy());
        for (k, v) in vars {
            s = s.replace(&format!("{{{k}}}"), v);
        }
        s
    };
    let prog = subst(cmd[0]);
    let mut c = if prog == "cargo" {
        Command::new(&ctx.cargo)
    } else {
        Command::new(prog)
    };
    c.current_dir(&ctx.root)
        .args(cmd[1..].iter().map(|a| subst(a)));
    c
}

// ---------------------------------------------------------------------------------------------
// Installation

fn autobahn_dir(ctx: &Ctx) -> PathBuf {
    ctx.target.join("autobahn")
}

/// Ensures `target/autobahn/venv/bin/wstest` exists, installing the testsuite if needed.
/// Quiet when it is already there; the install's output goes to `target/autobahn/install.log`.
pub fn ensure_installed(ctx: &Ctx) -> Result<PathBuf> {
    let dir = autobahn_dir(ctx);
    let venv = dir.join("venv");
    let wstest = venv.join("bin/wstest");
    let marker = venv.join(".xtask-installed");
    let constraints = ctx.root.join("autobahn/constraints-py27.txt");
    let want = format!("{TESTSUITE}\n{}", read(&constraints).unwrap_or_default());
    if wstest.exists() && read(&marker).as_deref() == Some(want.as_str()) {
        return Ok(wstest);
    }
    let log = dir.join("install.log");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    fs::write(&log, "").map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    println!(
        "autobahn: installing {TESTSUITE} into {} (log: {})",
        ctx.rel(&venv),
        ctx.rel(&log)
    );
    let t0 = Instant::now();
    let result = install(ctx, &dir, &venv, &constraints, &log);
    if let Err(e) = result {
        proc::print_tail(&log, 30);
        return Err(format!("installing the Autobahn testsuite failed: {e}"));
    }
    if !wstest.exists() {
        proc::print_tail(&log, 30);
        return Err(format!(
            "the Autobahn install finished but {} is missing",
            wstest.display()
        ));
    }
    fs::write(&marker, want).map_err(|e| e.to_string())?;
    println!("autobahn: installed in {}", fmt_duration(t0.elapsed()));
    Ok(wstest)
}

fn read(p: &Path) -> Option<String> {
    fs::read_to_string(p).ok()
}

/// Runs one install step, appending its output to the install log.
fn step(name: &str, cmd: &mut Command, log: &Path) -> Result<()> {
    proc::run_appending_ok(name, cmd, log, INSTALL_STEP_TIMEOUT)
}

fn install(ctx: &Ctx, dir: &Path, venv: &Path, constraints: &Path, log: &Path) -> Result<()> {
    let python2 = find_python27()?;
    let virtualenv = ensure_virtualenv(dir, log)?;
    if venv.exists() {
        fs::remove_dir_all(venv).map_err(|e| format!("cannot remove {}: {e}", venv.display()))?;
    }
    let mut c = virtualenv;
    c.arg("-p").arg(&python2).arg(venv);
    step("virtualenv", &mut c, log)?;
    let mut c = Command::new(venv.join("bin/pip"));
    c.args(["install", "--disable-pip-version-check", "--no-input"]);
    if constraints.exists() {
        c.arg("-c").arg(constraints);
    }
    c.arg(TESTSUITE).current_dir(&ctx.root);
    step("pip install autobahntestsuite", &mut c, log)
}

/// A working Python 2.7: pyenv's, then `python2.7`/`python2` on PATH.
fn find_python27() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    let mut roots = Vec::new();
    if let Some(r) = env::var_os("PYENV_ROOT") {
        roots.push(PathBuf::from(r));
    }
    if let Some(h) = env::var_os("HOME") {
        roots.push(PathBuf::from(h).join(".pyenv"));
    }
    for r in &roots {
        candidates.push(r.join("versions/2.7.18/bin/python2.7"));
        if let Ok(rd) = fs::read_dir(r.join("versions")) {
            let mut vs: Vec<_> = rd
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("2.7"))
                .map(|e| e.path().join("bin/python2.7"))
                .collect();
            vs.sort();
            vs.reverse();
            candidates.extend(vs);
        }
    }
    candidates.push("python2.7".into());
    candidates.push("python2".into());
    for c in &candidates {
        let mut cmd = Command::new(c);
        cmd.args(["-c", "import sys; sys.exit(sys.version_info[:2] != (2, 7))"]);
        if proc::probe(&mut cmd, Duration::from_secs(20)) {
            return Ok(c.clone());
        }
    }
    Err(format!(
        "the Autobahn testsuite needs Python 2.7 and none works here (tried {}); \
         install one, e.g. `pyenv install 2.7.18`",
        candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// A `virtualenv` old enough to create Python 2.7 environments: installed into a private
/// Python 3 venv (`target/autobahn/py3`) so nothing outside `target/` changes; falls back to
/// `pip install --user` when Python 3 has no `venv` module.
fn ensure_virtualenv(dir: &Path, log: &Path) -> Result<Command> {
    let py3 = dir.join("py3");
    let bin = py3.join("bin/virtualenv");
    let marker = py3.join(".xtask-installed");
    if bin.exists() && read(&marker).as_deref() == Some(VIRTUALENV) {
        return Ok(Command::new(bin));
    }
    let python3 = find_python3()?;
    let _ = fs::remove_dir_all(&py3);
    let mut c = Command::new(&python3);
    c.args(["-m", "venv"]).arg(&py3);
    if step("python3 -m venv", &mut c, log).is_ok() {
        let mut c = Command::new(py3.join("bin/pip"));
        c.args([
            "install",
            "--disable-pip-version-check",
            "--no-input",
            VIRTUALENV,
        ]);
        step("pip install virtualenv", &mut c, log)?;
        fs::write(&marker, VIRTUALENV).map_err(|e| e.to_string())?;
        return Ok(Command::new(bin));
    }
    let _ = fs::remove_dir_all(&py3);
    let mut c = Command::new(&python3);
    c.args([
        "-m",
        "pip",
        "install",
        "--user",
        "--disable-pip-version-check",
        "--no-input",
        VIRTUALENV,
    ]);
    step("pip install --user virtualenv", &mut c, log)?;
    let mut c = Command::new(python3);
    c.args(["-m", "virtualenv"]);
    Ok(c)
}

pub fn find_python3() -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = vec!["python3".into()];
    if let Some(h) = env::var_os("HOME") {
        candidates.push(PathBuf::from(h).join(".pyenv/versions/3.11.7/bin/python3"));
    }
    candidates.push("/usr/bin/python3".into());
    for c in &candidates {
        let mut cmd = Command::new(c);
        cmd.args(["-c", "import sys; sys.exit(sys.version_info < (3, 7))"]);
        if proc::probe(&mut cmd, Duration::from_secs(20)) {
            return Ok(c.clone());
        }
    }
    Err("installing the Autobahn testsuite needs Python >= 3.7 (for virtualenv); none found".into())
}

// ---------------------------------------------------------------------------------------------
// Running

/// The outcome of one role for one agent.
pub struct RoleRun {
    pub role: Role,
    pub agent: &'static str,
    /// None if the run could not produce a report.
    pub report: Option<Summary>,
    /// What went wrong outside the cases (build failure, crash, timeout...).
    pub error: Option<String>,
    /// Logs worth showing when something went wrong.
    pub logs: Vec<PathBuf>,
}

impl RoleRun {
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.report.as_ref().is_some_and(|s| s.bad() == 0)
    }

    /// (passed, failed) as counted by `cargo xtask test`: a role that could not run counts as
    /// at least one failure.
    pub fn counts(&self) -> (usize, usize) {
        let (p, f) = self
            .report
            .as_ref()
            .map(|s| (s.passed(), s.bad()))
            .unwrap_or((0, 0));
        if self.error.is_some() && f == 0 {
            (p, 1)
        } else {
            (p, f)
        }
    }

    /// Prints the summary line, the bad cases and any error (with log tails).
    pub fn print(&self, ctx: &Ctx) {
        let label = if self.agent == AGENTS[0].name {
            format!("autobahn {}", self.role)
        } else {
            format!("autobahn {} ({})", self.role, self.agent)
        };
        match &self.report {
            Some(s) => {
                println!("{label}: {}", s.line());
                const MAX: usize = 40;
                for b in s.bad_cases.iter().take(MAX) {
                    println!("  {b}");
                }
                if s.bad_cases.len() > MAX {
                    println!(
                        "  ... and {} more (see the report)",
                        s.bad_cases.len() - MAX
                    );
                }
                if s.bad() > 0 {
                    println!("  report: {}", ctx.rel(&s.html));
                }
            }
            None => println!("{label}: no report"),
        }
        if let Some(e) = &self.error {
            println!("{label}: error: {e}");
            let logs = if proc::interrupted().is_some() {
                &[][..]
            } else {
                &self.logs[..]
            };
            for l in logs {
                proc::print_tail(l, 25);
            }
        }
    }
}

/// Runs the selected roles of `opts.agent`; never returns early so that every role reports.
pub fn run(ctx: &Ctx, opts: &Options) -> Vec<RoleRun> {
    let mut runs = Vec::new();
    for &role in &opts.roles {
        if proc::interrupted().is_some() {
            break;
        }
        runs.push(run_role(ctx, opts, role));
    }
    runs
}

pub fn run_role(ctx: &Ctx, opts: &Options, role: Role) -> RoleRun {
    let agent = opts.agent;
    let mut logs = Vec::new();
    let r = match role {
        Role::Client => run_client_role(ctx, opts, &mut logs),
        Role::Server => run_server_role(ctx, opts, &mut logs),
    };
    let (report, error) = match r {
        Ok((s, err)) => (Some(s), err),
        Err(e) => (None, Some(e)),
    };
    RoleRun {
        role,
        agent: agent.name,
        report,
        error,
        logs,
    }
}

type RoleResult = Result<(Summary, Option<String>)>;

fn log_name(agent: &Agent, role: Role, what: &str) -> String {
    format!("autobahn-{}-{role}-{what}", agent.name)
}

fn build(ctx: &Ctx, agent: &Agent, role: Role, face: &Face, logs: &mut Vec<PathBuf>) -> Result<()> {
    let log = ctx.log(&log_name(agent, role, "build"));
    logs.push(log.clone());
    for cmd in face.build {
        let mut c = command(ctx, cmd, &[]);
        proc::run_logged_ok(
            &format!("build ({})", cmd.join(" ")),
            &mut c,
            &log,
            BUILD_TIMEOUT,
        )?;
    }
    logs.pop();
    Ok(())
}

fn face(agent: &'static Agent, role: Role) -> Result<&'static Face> {
    match role {
        Role::Client => agent.client.as_ref(),
        Role::Server => agent.server.as_ref(),
    }
    .ok_or_else(|| format!("agent `{}` has no {role} face", agent.name))
}

/// Writes the spec template `autobahn/<name>` with `fill`'s keys set, as `<stem>-<agent>.json`
/// in the Autobahn directory: one spec (and one report directory, see the callers) per agent and mode, so that
/// runs of different faces can go at once.
fn write_spec(ctx: &Ctx, name: &str, agent: &str, fill: Value) -> Result<PathBuf> {
    let template = ctx.root.join("autobahn").join(name);
    let text = fs::read_to_string(&template)
        .map_err(|e| format!("cannot read {}: {e}", template.display()))?;
    let mut spec: Value = serde_json::from_str(&text)
        .map_err(|e| format!("bad JSON in {}: {e}", template.display()))?;
    let obj = spec
        .as_object_mut()
        .ok_or_else(|| format!("{} is not a JSON object", template.display()))?;
    for (k, v) in fill.as_object().into_iter().flatten() {
        obj.insert(k.clone(), v.clone());
    }
    let stem = name.trim_end_matches(".json");
    let out = autobahn_dir(ctx).join(format!("{stem}-{agent}.json"));
    fs::create_dir_all(autobahn_dir(ctx)).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&spec).map_err(|e| e.to_string())? + "\n";
    fs::write(&out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(out)
}

fn wstest_cmd(ctx: &Ctx, wstest: &Path, mode: &str, spec: &Path) -> Command {
    let mut c = Command::new(wstest);
    // `-u 0`: no embedded web server (it would also want port 8080).
    c.args(["-m", mode, "-u", "0", "-s"])
        .arg(spec)
        .current_dir(autobahn_dir(ctx))
        // So that its log is complete even when we kill it.
        .env("PYTHONUNBUFFERED", "1");
    c
}

fn run_client_role(ctx: &Ctx, opts: &Options, logs: &mut Vec<PathBuf>) -> RoleResult {
    let agent = opts.agent;
    let face = face(agent, Role::Client)?;
    build(ctx, agent, Role::Client, face, logs)?;
    let wstest = ensure_installed(ctx)?;

    let addr = SocketAddr::from((HOST, opts.client_port));
    let url = format!("ws://{addr}");
    proc::ensure_port_free(
        addr,
        &format!("--client-port N or {ENV_CLIENT_PORT}=N (wstest fuzzingserver)"),
    )?;
    let outdir = format!("reports/clients/{}", agent.report_name);
    let spec = write_spec(
        ctx,
        "fuzzingserver.json",
        agent.report_name,
        json!({ "url": url, "outdir": outdir, "cases": opts.cases }),
    )?;
    let index = autobahn_dir(ctx).join(&outdir).join("index.json");
    let _ = fs::remove_file(&index);

    let start = Instant::now();
    let wslog = ctx.log(&log_name(agent, Role::Client, "wstest"));
    logs.push(wslog.clone());
    let mut server = Proc::spawn_logged(
        "wstest fuzzingserver",
        &mut wstest_cmd(ctx, &wstest, "fuzzingserver", &spec),
        &wslog,
    )?;
    server.wait_for_port(addr, PORT_WAIT)?;

    let clog = ctx.log(&log_name(agent, Role::Client, "client"));
    logs.push(clog.clone());
    let vars = [
        ("url", url.clone()),
        ("agent", agent.report_name.to_string()),
    ];
    let mut c = command(ctx, face.run, &vars);
    let left = opts.timeout.saturating_sub(start.elapsed());
    let st = Proc::spawn_logged("client under test", &mut c, &clog)?.wait(left)?;
    let mut error = None;
    if !st.success() {
        error = Some(format!(
            "the client under test failed ({}); see {}",
            describe_status(st),
            ctx.rel(&clog)
        ));
    }
    if let Some(st) = server.try_status()? {
        error.get_or_insert(format!(
            "wstest fuzzingserver exited during the run ({})",
            describe_status(st)
        ));
    }
    drop(server);
    let expected = expected_cases(&wslog);
    let summary = summarize(&index, agent.report_name, expected.as_deref()).map_err(|e| {
        error
            .clone()
            .map_or(e.clone(), |first| format!("{first}; {e}"))
    })?;
    Ok((summary, error))
}

fn run_server_role(ctx: &Ctx, opts: &Options, logs: &mut Vec<PathBuf>) -> RoleResult {
    let agent = opts.agent;
    let face = face(agent, Role::Server)?;
    build(ctx, agent, Role::Server, face, logs)?;
    let wstest = ensure_installed(ctx)?;

    let addr = SocketAddr::from((HOST, opts.server_port));
    proc::ensure_port_free(
        addr,
        &format!("--server-port N or {ENV_SERVER_PORT}=N (our server under test)"),
    )?;
    let start = Instant::now();
    let slog = ctx.log(&log_name(agent, Role::Server, "server"));
    logs.push(slog.clone());
    let vars = [
        ("addr", addr.to_string()),
        ("host", HOST.to_string()),
        ("port", opts.server_port.to_string()),
        ("agent", agent.report_name.to_string()),
    ];
    let mut server = Proc::spawn_logged(
        "server under test",
        &mut command(ctx, face.run, &vars),
        &slog,
    )?;
    server.wait_for_port(addr, PORT_WAIT)?;

    let outdir = format!("reports/servers/{}", agent.report_name);
    let spec = write_spec(
        ctx,
        "fuzzingclient.json",
        agent.report_name,
        json!({
            "outdir": outdir,
            "servers": [{ "agent": agent.report_name, "url": format!("ws://{addr}") }],
            "cases": opts.cases,
        }),
    )?;
    let index = autobahn_dir(ctx).join(&outdir).join("index.json");
    let _ = fs::remove_file(&index);

    let wslog = ctx.log(&log_name(agent, Role::Server, "wstest"));
    logs.push(wslog.clone());
    let left = opts.timeout.saturating_sub(start.elapsed());
    let st = Proc::spawn_logged(
        "wstest fuzzingclient",
        &mut wstest_cmd(ctx, &wstest, "fuzzingclient", &spec),
        &wslog,
    )?
    .wait(left)?;
    let mut error = None;
    if let Some(sst) = server.try_status()? {
        error = Some(format!(
            "the server under test exited during the run ({}); see {}",
            describe_status(sst),
            ctx.rel(&slog)
        ));
    }
    drop(server);
    if !st.success() {
        error.get_or_insert(format!(
            "wstest fuzzingclient failed ({}); see {}",
            describe_status(st),
            ctx.rel(&wslog)
        ));
    }
    if let Some(refused) = fs::read_to_string(&wslog)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Connection to ") && l.contains(" failed"))
    {
        error.get_or_insert(format!("wstest: {refused}"));
    }
    let expected = expected_cases(&wslog);
    let summary = summarize(&index, agent.report_name, expected.as_deref()).map_err(|e| {
        error
            .clone()
            .map_or(e.clone(), |first| format!("{first}; {e}"))
    })?;
    Ok((summary, error))
}

// ---------------------------------------------------------------------------------------------
// Reports

/// The result classes, from best to worst; a case's class is the worse of its `behavior` and
/// its `behaviorClose`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Ok,
    Informational,
    Unimplemented,
    NonStrict,
    Failed,
}

/// Maps a `behavior` or `behaviorClose` value onto a class. Autobahn's close behaviors are
/// OK, INFORMATIONAL, WRONG CODE (shown as non-strict in its report), FAILED BY CLIENT (the
/// peer under test did not close TCP first as RFC 6455 §7.1.1 says it SHOULD; shown as
/// "almost"), UNCLEAN and FAILED (shown as failed). Anything unknown is a failure.
pub fn classify(behavior: &str) -> Class {
    match behavior {
        "OK" => Class::Ok,
        "INFORMATIONAL" => Class::Informational,
        "UNIMPLEMENTED" => Class::Unimplemented,
        "NON-STRICT" | "WRONG CODE" | "FAILED BY CLIENT" => Class::NonStrict,
        _ => Class::Failed,
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub informational: usize,
    pub unimplemented: usize,
    pub non_strict: usize,
    pub failed: usize,
    /// Cases wstest meant to run that have no result.
    pub missing: usize,
    /// One line per NON-STRICT / FAILED / missing case, in case order.
    pub bad_cases: Vec<String>,
    pub html: PathBuf,
}

impl Summary {
    pub fn total(&self) -> usize {
        self.ok
            + self.informational
            + self.unimplemented
            + self.non_strict
            + self.failed
            + self.missing
    }
    pub fn passed(&self) -> usize {
        self.ok + self.informational + self.unimplemented
    }
    pub fn bad(&self) -> usize {
        self.non_strict + self.failed + self.missing
    }
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} cases: {} OK, {} NON-STRICT, {} INFORMATIONAL, {} UNIMPLEMENTED, {} FAILED",
            self.total(),
            self.ok,
            self.non_strict,
            self.informational,
            self.unimplemented,
            self.failed
        );
        if self.missing > 0 {
            s.push_str(&format!(", {} MISSING", self.missing));
        }
        s
    }
}

/// The case ids wstest announced (`Cases = ['1.1.1', ...]` in its output).
pub fn expected_cases(wstest_log: &Path) -> Option<Vec<String>> {
    parse_expected_cases(&fs::read_to_string(wstest_log).ok()?)
}

pub fn parse_expected_cases(log: &str) -> Option<Vec<String>> {
    let line = log.lines().find_map(|l| l.strip_prefix("Cases = ["))?;
    let inner = line.trim_end().strip_suffix(']')?;
    Some(
        inner
            .split(',')
            .map(|s| {
                s.trim()
                    .trim_start_matches('u')
                    .trim_matches('\'')
                    .to_string()
            })
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

fn case_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

/// Reads `index.json` and counts `agent`'s cases.
pub fn summarize(index: &Path, agent: &str, expected: Option<&[String]>) -> Result<Summary> {
    let text = fs::read_to_string(index)
        .map_err(|e| format!("no Autobahn report at {}: {e}", index.display()))?;
    let dir = index.parent().unwrap_or(Path::new("."));
    let mut s = summarize_json(&text, agent, expected, dir)?;
    s.html = dir.join("index.html");
    Ok(s)
}

pub fn summarize_json(
    text: &str,
    agent: &str,
    expected: Option<&[String]>,
    dir: &Path,
) -> Result<Summary> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("bad index.json: {e}"))?;
    let all = v.as_object().ok_or("index.json is not an object")?;
    let cases = all.get(agent).and_then(Value::as_object).ok_or_else(|| {
        let names: Vec<_> = all.keys().cloned().collect();
        format!(
            "index.json has no results for agent `{agent}` (it has: {})",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        )
    })?;
    let mut ids: BTreeMap<Vec<u32>, (&String, &Value)> = BTreeMap::new();
    for (id, c) in cases {
        ids.insert(case_key(id), (id, c));
    }
    if let Some(exp) = expected {
        for id in exp {
            if !cases.contains_key(id) {
                ids.entry(case_key(id)).or_insert((id, &Value::Null));
            }
        }
    }
    let mut s = Summary::default();
    // A run of consecutive missing cases (the peer crashed, say) is listed as one line.
    let mut missing_run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, out: &mut Vec<String>| {
        match run.as_slice() {
            [] => {}
            [one] => out.push(format!("{one}: MISSING (no result)")),
            [first, .., last] => out.push(format!(
                "{first} to {last}: MISSING ({} cases without a result)",
                run.len()
            )),
        }
        run.clear();
    };
    for (id, c) in ids.values() {
        if c.is_null() {
            s.missing += 1;
            missing_run.push(id);
            continue;
        }
        flush(&mut missing_run, &mut s.bad_cases);
        let b = c.get("behavior").and_then(Value::as_str).unwrap_or("?");
        let bc = c
            .get("behaviorClose")
            .and_then(Value::as_str)
            .unwrap_or("?");
        let class = classify(b).max(classify(bc));
        match class {
            Class::Ok => s.ok += 1,
            Class::Informational => s.informational += 1,
            Class::Unimplemented => s.unimplemented += 1,
            Class::NonStrict => s.non_strict += 1,
            Class::Failed => s.failed += 1,
        }
        if class >= Class::NonStrict {
            let mut line = format!("{id}: behavior {b}, behaviorClose {bc}");
            if let Some(why) = case_reason(dir, c, classify(b), classify(bc)) {
                line.push_str(&format!(" ({why})"));
            }
            s.bad_cases.push(line);
        }
    }
    flush(&mut missing_run, &mut s.bad_cases);
    Ok(s)
}

/// Autobahn's explanation (`result` and/or `resultClose` from the case's own report file) of
/// whichever of the two behaviors is bad, shortened.
fn case_reason(dir: &Path, c: &Value, b: Class, bc: Class) -> Option<String> {
    let file = c.get("reportfile")?.as_str()?;
    let v: Value = serde_json::from_str(&fs::read_to_string(dir.join(file)).ok()?).ok()?;
    let mut parts = Vec::new();
    // For NON-STRICT, `result` only says that the events matched the non-strict expectation.
    for (k, bad) in [
        ("result", b == Class::Failed),
        ("resultClose", bc >= Class::NonStrict),
    ] {
        if let Some(t) = v
            .get(k)
            .and_then(Value::as_str)
            .filter(|t| bad && !t.is_empty())
        {
            parts.push(t.chars().take(120).collect::<String>());
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// `cargo xtask autobahn ...`: exit code 0 iff every role ran and no case was NON-STRICT or
/// FAILED.
pub fn main(ctx: &Ctx, args: &[String]) -> Result<bool> {
    let opts = Options::parse(args)?;
    let runs = run(ctx, &opts);
    let mut ok = runs.len() == opts.roles.len();
    for r in &runs {
        r.print(ctx);
        ok &= r.ok();
    }
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_cases_are_groups_1_to_11_plus_a_compression_subset() {
        let c = default_cases();
        assert_eq!(
            c[..11],
            (1..=11).map(|g| format!("{g}.*")).collect::<Vec<_>>()[..]
        );
        // Cases 1-4 of 12.1-12.5 and 13.1-13.7, as exact ids (no pattern may reach 12.x.10+).
        assert_eq!(c.len(), 11 + 4 * (5 + 7));
        assert!(c[11..].iter().all(|id| !id.contains('*')));
        assert_eq!(c[11], "12.1.1");
        assert_eq!(c.last().unwrap(), "13.7.4");
    }

    #[test]
    fn parses_case_lists() {
        assert_eq!(parse_cases(" 1.*, 6.4.3 ,").unwrap(), vec!["1.*", "6.4.3"]);
        assert!(parse_cases("1.*;rm").is_err());
        assert!(parse_cases(" , ").is_err());
    }

    #[test]
    fn parses_options() {
        let args: Vec<String> = ["--role", "server", "--cases=2.*", "--server-port", "9100"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let o = Options::parse(&args).unwrap();
        assert_eq!(o.roles, vec![Role::Server]);
        assert_eq!(o.cases, vec!["2.*"]);
        assert_eq!(o.server_port, 9100);
        let o = Options::parse(&["--full".to_string()]).unwrap();
        assert_eq!(o.cases, vec!["*"]);
        assert_eq!(o.timeout, RUN_TIMEOUT_FULL);
        assert!(Options::parse(&["--agent".into(), "nope".into()]).is_err());
        assert!(Options::parse(&["--role".into()]).is_err());
    }

    #[test]
    fn worse_of_behavior_and_close_counts() {
        let json = r#"{
          "wsengine": {
            "1.1.1": {"behavior": "OK", "behaviorClose": "OK"},
            "1.1.2": {"behavior": "OK", "behaviorClose": "UNCLEAN"},
            "6.4.3": {"behavior": "NON-STRICT", "behaviorClose": "OK"},
            "7.1.6": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL"},
            "7.3.1": {"behavior": "OK", "behaviorClose": "WRONG CODE"},
            "10.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "UNIMPLEMENTED"},
            "2.1": {"behavior": "FAILED", "behaviorClose": "OK"}
          },
          "other": {}
        }"#;
        let expected: Vec<String> = ["1.1.1", "1.1.2", "2.1", "2.2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s =
            summarize_json(json, "wsengine", Some(&expected), Path::new("/nonexistent")).unwrap();
        assert_eq!(
            (
                s.ok,
                s.informational,
                s.unimplemented,
                s.non_strict,
                s.failed,
                s.missing
            ),
            (1, 1, 1, 2, 2, 1)
        );
        assert_eq!(s.total(), 8);
        assert_eq!((s.passed(), s.bad()), (3, 5));
        let ids: Vec<&str> = s
            .bad_cases
            .iter()
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(ids, ["1.1.2", "2.1", "2.2", "6.4.3", "7.3.1"]);
        assert_eq!(
            s.line(),
            "8 cases: 1 OK, 2 NON-STRICT, 1 INFORMATIONAL, 1 UNIMPLEMENTED, 2 FAILED, 1 MISSING"
        );
        let three: Vec<String> = ["1.1.1", "3.1", "3.2", "4.1.1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = summarize_json(json, "wsengine", Some(&three), Path::new("/")).unwrap();
        assert_eq!(s.missing, 3);
        assert!(s
            .bad_cases
            .contains(&"3.1 to 4.1.1: MISSING (3 cases without a result)".to_string()));
        assert!(summarize_json(json, "nobody", None, Path::new("/")).is_err());
    }

    #[test]
    fn parses_announced_cases() {
        let log = "Autobahn ...\nOk, will run 3 test cases for any clients connecting\n\
                   Cases = ['1.1.1', '1.1.2', '10.1.1']\n";
        assert_eq!(
            parse_expected_cases(log).unwrap(),
            vec!["1.1.1", "1.1.2", "10.1.1"]
        );
        assert_eq!(
            parse_expected_cases("Cases = []\n").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(parse_expected_cases("nothing"), None);
    }
}
