//! `wsengine-host`: runs the wsengine WASI component inside wasmtime.
//!
//! ```text
//! wsengine-host echo-server --addr 127.0.0.1:9002 [--component PATH] [--no-deflate] [--sync | --host-tcp]
//! wsengine-host autobahn-client --url ws://127.0.0.1:9001 --agent NAME [--component PATH]
//! wsengine-host compose GUEST.wasm --plug WEBSOCKET.wasm -o OUT.wasm
//! wsengine-host run COMPONENT.wasm [ARGS...]
//! wsengine-host inspect COMPONENT.wasm
//! ```
//!
//! The first two are the component's Autobahn agents: the loops are the same as the native
//! examples', but every WebSocket call goes through the component's exports.

mod agents;
mod echo_poll;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use wsengine_host::{component_dir, compose, Runtime};

const USAGE: &str = "\
usage:
  wsengine-host echo-server --addr ADDR [--component PATH] [--no-deflate] [--sync | --host-tcp]
  wsengine-host autobahn-client --url URL --agent NAME [--component PATH] [--no-deflate]
  wsengine-host compose GUEST.wasm --plug WEBSOCKET.wasm -o OUT.wasm
  wsengine-host run COMPONENT.wasm [ARGS...]
  wsengine-host inspect COMPONENT.wasm      (lists its imports and exports)
PATH defaults to websocket.wasm in $WSENGINE_COMPONENT_DIR or target/component.
echo-server drives the component through async bindings on a current-thread tokio
runtime. The component listens and accepts on wasi:sockets itself, and one instance
serves every connection side by side (server.wait, then try-accept, try-finish,
try-read-buffer); --sync: the sync bindings and blocking calls, one connection after
another (for comparison); --host-tcp: the host accepts and hands each connection to an
instance of its own, as a wasi:io stream pair that moves up to 1 MiB per call
(wasmtime-wasi's TCP streams: 64 KiB), and serves them side by side.";

/// Every message that crosses the component boundary is lifted into a fresh host `Vec` of its
/// size (wasmtime's `list<u8>` lift) and freed soon after. With glibc's defaults, freed
/// memory at the top of the heap beyond a few MiB goes back to the kernel, so the next
/// 1 MiB message faults its pages in again: 9% of the echo server's CPU for 1 MiB messages
/// (perf, `page-faults` all in those lifts). Keeping freed memory in the heap (the trim
/// threshold raised, large blocks from the heap rather than fresh `mmap`s) holds the host's
/// memory at its peak instead.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MIB: libc::c_int = 1 << 20;
        // SAFETY: mallopt only sets allocator parameters; called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * MIB);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 * MIB);
        }
    }
}

/// The value after `name`, if given.
pub(crate) fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn websocket_component(args: &[String]) -> PathBuf {
    arg(args, "--component")
        .map(PathBuf::from)
        .unwrap_or_else(|| component_dir().join("websocket.wasm"))
}

fn main() -> ExitCode {
    keep_freed_memory();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("wsengine-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<bool> {
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return Ok(false);
    };
    let rest = &args[1..];
    let deflate = !rest.iter().any(|a| a == "--no-deflate");
    match cmd.as_str() {
        "echo-server" => {
            let addr = arg(rest, "--addr").unwrap_or("127.0.0.1:9002");
            let rt = Runtime::new()?;
            let c = rt.load(websocket_component(rest))?;
            let flag = |name: &str| rest.iter().any(|a| a == name);
            if flag("--sync") {
                agents::echo_server(&rt, &c, addr, deflate)?;
            } else {
                let tokio = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .enable_time()
                    .build()?;
                if flag("--host-tcp") {
                    tokio.block_on(agents::echo_server_host_tcp(&rt, &c, addr, deflate))?;
                } else {
                    let o = agents::with_deflate(deflate);
                    tokio.block_on(echo_poll::serve(&rt, &c, addr, &o))?;
                }
            }
            Ok(true)
        }
        "autobahn-client" => {
            let url = arg(rest, "--url").unwrap_or("ws://127.0.0.1:9001");
            let agent = arg(rest, "--agent").unwrap_or("wsengine-component");
            let rt = Runtime::new()?;
            let c = rt.load(websocket_component(rest))?;
            agents::autobahn_client(&rt, &c, url.trim_end_matches('/'), agent, deflate)?;
            Ok(true)
        }
        "compose" => {
            let guest = rest.first().filter(|a| !a.starts_with('-'));
            let (Some(guest), Some(plug), Some(out)) =
                (guest, arg(rest, "--plug"), arg(rest, "-o"))
            else {
                bail!("{USAGE}");
            };
            let bytes = compose::plug(guest.as_ref(), plug.as_ref())?;
            std::fs::write(out, &bytes).with_context(|| format!("writing {out}"))?;
            println!("composed {guest} + {plug} -> {out} ({} bytes)", bytes.len());
            Ok(true)
        }
        "run" => {
            let Some(path) = rest.first() else {
                bail!("{USAGE}");
            };
            let rt = Runtime::new()?;
            let c = rt.load(path)?;
            rt.run_command(&c, rest)
        }
        "inspect" => {
            let Some(path) = rest.first() else {
                bail!("{USAGE}");
            };
            let rt = Runtime::new()?;
            let (imports, exports) = rt.interface(&rt.load(path)?);
            for i in imports {
                println!("import {i}");
            }
            for e in exports {
                println!("export {e}");
            }
            Ok(true)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => bail!("unknown command `{other}`\n{USAGE}"),
    }
}
