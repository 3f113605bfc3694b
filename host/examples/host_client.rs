//! A minimal wasmtime host for the `websocket` world, written as a third-party host would:
//! its own `bindgen!`, a WASI context with networking allowed, and calls to the component's
//! exports. Sends one message to an echo server and prints the answer.
//!
//! ```sh
//! cargo xtask build component        # target/component/websocket.wasm
//! cargo run --release --example echo_server -- --addr 127.0.0.1:9002 &
//! cargo run --release --manifest-path host/Cargo.toml --target-dir target --example host_client -- ws://127.0.0.1:9002/
//! ```

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "websocket",
    // The component's wasi:* imports are served by wasmtime-wasi's own implementation.
    with: { "wasi": wasmtime_wasi::p2::bindings::sync },
    require_store_data_send: true,
});

// `crate::`: the dev-dependency `wsengine` (the Rust crate) has the same name.
use crate::wsengine::websocket::types::{Message, Options};

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let engine = Engine::new(&Config::new())?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/component/websocket.wasm"
    );
    let component = Component::from_file(&engine, path)?;

    // The component may only reach the network if the host says so: TCP and name lookup.
    let wasi = WasiCtxBuilder::new()
        .inherit_network()
        .allow_ip_name_lookup(true)
        .allow_tcp(true)
        .build();
    let table = ResourceTable::new();
    let mut store = Store::new(&engine, State { wasi, table });
    let ws = Websocket::instantiate(&mut store, &component, &linker)?;

    // Every option left `None` takes the engine's default.
    let options = Options {
        protocols: vec![],
        origin: None,
        headers: vec![],
        compression: None,
        max_message_size: None,
        max_frame_size: None,
        max_fragments: None,
        max_handshake_bytes: None,
        max_handshake_headers: None,
        max_handshake_body_bytes: None,
        auto_fragment: None,
        write_buffer_bytes: None,
        auto_pong: None,
        handshake_timeout_ms: None,
        close_timeout_ms: None,
        keepalive_interval_ms: None,
        keepalive_timeout_ms: None,
        idle_timeout_ms: None,
        write_timeout_ms: None,
        tls_roots_pem: None,
    };
    // Outer `?`: a trap (never expected); inner: the component's typed `error`.
    let (socket, info) = ws
        .wsengine_websocket_client()
        .call_connect(&mut store, &url, &options)?
        .map_err(|e| anyhow::anyhow!("connect: {e:?}"))?;
    println!("connected; extensions {:?}", info.extensions);

    let sockets = ws.wsengine_websocket_sockets().websocket();
    let hello = Message::Text("hello from a wasmtime host".into());
    sockets
        .call_write(&mut store, socket, &hello)?
        .map_err(|e| anyhow::anyhow!("write: {e:?}"))?;
    let echo = sockets.call_read(&mut store, socket)?;
    println!("echo: {echo:?}");
    sockets
        .call_close(&mut store, socket, 1000, "bye")?
        .map_err(|e| anyhow::anyhow!("close: {e:?}"))?;
    println!(
        "peer close: {:?}",
        sockets.call_peer_close(&mut store, socket)?
    );
    // Guest resources are dropped explicitly (the store cannot know when a handle dies).
    socket.resource_drop(&mut store)?;
    Ok(())
}
