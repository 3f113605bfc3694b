//! `cargo xtask demo`: each face talks to a peer on loopback, and we show what happened.
//!
//! Each row of [`DEMOS`] is one step: build, start a server (optional), run a client, print
//! both outputs, stop the server. The wasm component and JS faces become more rows.

use std::collections::HashSet;
use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::autobahn::{command, port_from_env, Cmd};
use crate::ctx::Ctx;
use crate::proc::{self, describe_status, Proc, Result};

pub struct Demo {
    pub name: &'static str,
    /// Run first from the workspace root; a command shared by several demos runs once.
    pub build: &'static [Cmd],
    /// Listens on `{addr}` until killed.
    pub server: Option<Cmd>,
    /// Talks to `{url}` and exits 0 on success.
    pub client: Cmd,
}

pub const DEMOS: &[Demo] = &[
    Demo {
        name: "native client <-> native echo_server",
        build: &[&["cargo", "build", "--release", "--examples"]],
        server: Some(&["{target}/release/examples/echo_server", "--addr", "{addr}"]),
        client: &["{target}/release/examples/client", "--url", "{url}"],
    },
    Demo {
        name: "JS WebSocket in Node <-> native echo_server",
        build: &[
            &["cargo", "build", "--release", "--examples"],
            &["cargo", "xtask", "build-js"],
        ],
        server: Some(&["{target}/release/examples/echo_server", "--addr", "{addr}"]),
        client: &["node", "{root}/examples/js/node/client.js", "{url}"],
    },
    Demo {
        name: "composed component echo client (guest + websocket.wasm in wasmtime) <-> native echo_server",
        build: &[
            &["cargo", "build", "--release", "--examples"],
            &["cargo", "xtask", "build", "component"],
        ],
        server: Some(&["{target}/release/examples/echo_server", "--addr", "{addr}"]),
        client: &[
            "{target}/release/wsengine-host",
            "run",
            "{target}/component/echo-client-composed.wasm",
            "--url",
            "{url}",
        ],
    },
    Demo {
        name: "native client <-> component echo server (websocket.wasm in wasmtime)",
        build: &[
            &["cargo", "build", "--release", "--examples"],
            &["cargo", "xtask", "build", "component"],
        ],
        server: Some(&[
            "{target}/release/wsengine-host",
            "echo-server",
            "--component",
            "{target}/component/websocket.wasm",
            "--addr",
            "{addr}",
        ]),
        client: &["{target}/release/examples/client", "--url", "{url}"],
    },
];

pub const DEFAULT_PORT: u16 = 9002;
pub const ENV_PORT: &str = "XTASK_DEMO_PORT";
const BUILD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
const PORT_WAIT: Duration = Duration::from_secs(30);

/// The log's text without the `$ command` header line.
fn output(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.split_once('\n')
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_default()
}

fn show(label: &str, log: &Path) {
    let out = output(log);
    let lines: Vec<&str> = out.lines().collect();
    if lines.is_empty() {
        println!("  {label}: (no output)");
        return;
    }
    println!("  {label}:");
    let skip = lines.len().saturating_sub(60);
    if skip > 0 {
        println!("    | ... ({skip} lines omitted, see {})", log.display());
    }
    for l in &lines[skip..] {
        println!("    | {l}");
    }
}

fn run_one(ctx: &Ctx, demo: &Demo, port: u16, built: &mut HashSet<Cmd>) -> Result<()> {
    let slug: String = demo
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    for cmd in demo.build {
        if built.insert(cmd) {
            println!("  building: {}", cmd.join(" "));
            let log = ctx.log(&format!("demo-build-{}", built.len()));
            let mut c = command(ctx, cmd, &[]);
            proc::run_logged_ok("build", &mut c, &log, BUILD_TIMEOUT)
                .inspect_err(|_| proc::print_tail(&log, 40))?;
        }
    }
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let url = format!("ws://{addr}");
    let vars = [
        ("addr", addr.to_string()),
        ("host", addr.ip().to_string()),
        ("port", port.to_string()),
        ("url", url.clone()),
    ];
    let mut server = None;
    let slog = ctx.log(&format!("demo-{slug}-server"));
    if let Some(cmd) = demo.server {
        proc::ensure_port_free(addr, &format!("--port N or {ENV_PORT}=N"))?;
        let mut c = command(ctx, cmd, &vars);
        println!("  server: {}", proc::display(&c));
        let mut p = Proc::spawn_logged("server", &mut c, &slog)?;
        if let Err(e) = p.wait_for_port(addr, PORT_WAIT) {
            drop(p);
            show("server output", &slog);
            return Err(e);
        }
        server = Some(p);
    }
    let clog = ctx.log(&format!("demo-{slug}-client"));
    let mut c = command(ctx, demo.client, &vars);
    println!("  client: {}", proc::display(&c));
    let res = Proc::spawn_logged("client", &mut c, &clog).and_then(|mut p| p.wait(CLIENT_TIMEOUT));
    // Give the server a moment to log the end of the connection, then stop it.
    let server_status = server.as_mut().and_then(|s| {
        let _ = proc::sleep(Duration::from_millis(200));
        s.stop()
    });
    show("client output", &clog);
    if demo.server.is_some() {
        show("server output", &slog);
    }
    if let Some(st) = server_status {
        return Err(format!(
            "the server exited by itself ({})",
            describe_status(st)
        ));
    }
    let st = res?;
    if !st.success() {
        return Err(format!("the client failed ({})", describe_status(st)));
    }
    println!("  client exited successfully");
    Ok(())
}

/// `cargo xtask demo [--port N]`: Ok(true) if every demo worked.
pub fn main(ctx: &Ctx, args: &[String]) -> Result<bool> {
    let mut port = port_from_env(ENV_PORT, DEFAULT_PORT)?;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => {
                let v = it.next().ok_or("--port needs a value")?;
                port = v.parse().map_err(|_| format!("bad port `{v}`"))?;
            }
            _ => return Err(format!("unknown argument `{a}` for `cargo xtask demo`")),
        }
    }
    let mut built = HashSet::new();
    let mut ok = true;
    for demo in DEMOS.iter() {
        println!("demo: {}", demo.name);
        match run_one(ctx, demo, port, &mut built) {
            Ok(()) => println!("demo {}: ok", demo.name),
            Err(e) => {
                println!("demo {}: FAILED: {e}", demo.name);
                ok = false;
            }
        }
        if proc::interrupted().is_some() {
            return Ok(false);
        }
    }
    Ok(ok)
}
