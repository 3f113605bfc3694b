//! An echo client that knows nothing of sockets or the WebSocket protocol: it imports
//! `wsengine:websocket/client` and `wsengine:websocket/sockets` and nothing else of wsengine.
//! Composed with the `websocket` component (which exports them), it is one runnable
//! `wasi:cli` command:
//!
//! ```sh
//! wsengine-host compose component-echo-client.wasm --plug websocket.wasm -o echo.wasm
//! wsengine-host run echo.wasm --url ws://127.0.0.1:9002 [--count N] [--two]
//! ```
//!
//! `--two` opens two websockets and waits on both with a single `wasi:io/poll.poll`.

#[cfg(target_os = "wasi")]
mod guest;

#[cfg(target_os = "wasi")]
fn main() -> std::process::ExitCode {
    guest::main()
}

#[cfg(not(target_os = "wasi"))]
fn main() {
    eprintln!("build this example with --target wasm32-wasip2 and compose it (see its docs)");
}
