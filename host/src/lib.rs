//! A wasmtime host for the wsengine WASI 0.2 component (`wit/`, package
//! `wsengine:websocket@0.1.0`): it loads either world with networking allowed, and powers the
//! `wsengine-host` command (Autobahn agents, the echo server, running and composing guests)
//! and the integration tests in `tests/`.
//!
//! ```no_run
//! use wsengine_host::{options, Runtime};
//!
//! # fn main() -> anyhow::Result<()> {
//! let rt = Runtime::new()?;
//! let component = rt.load("target/component/websocket.wasm")?;
//! let (mut store, ws) = rt.websocket(&component)?;
//! let client = ws.wsengine_websocket_client();
//! let (socket, _open) = client
//!     .call_connect(&mut store, "ws://127.0.0.1:9002/", &options())??;
//! # let _ = socket; Ok(()) }
//! ```

pub mod compose;
mod memory;
mod paths;
pub mod streams;

pub use memory::MemoryWatch;

use anyhow::Result;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub use paths::component_dir;

/// Bindings for the `engine` world (the sans-IO connection; the host does the I/O).
pub mod engine {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "engine",
        // One set of option, message and error types for both worlds.
        with: {
            "wasi": wasmtime_wasi::p2::bindings::sync,
            "wsengine:websocket/types": crate::websocket::wsengine::websocket::types,
        },
        require_store_data_send: true,
    });
}

/// Bindings for the `websocket` world (clients and servers doing their own I/O).
pub mod websocket {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "websocket",
        with: { "wasi": wasmtime_wasi::p2::bindings::sync },
        require_store_data_send: true,
        // So that messages, options and errors can be compared in tests.
        additional_derives: [PartialEq],
    });
}

/// The `websocket` world with async exports over wasmtime-wasi's async `wasi:*` bindings,
/// for hosts that drive the component from a tokio runtime (see [`Runtime::websocket_async`]).
pub mod websocket_async {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "websocket",
        with: {
            "wasi": wasmtime_wasi::p2::bindings,
            "wsengine:websocket/types": crate::websocket::wsengine::websocket::types,
        },
        exports: { default: async },
        require_store_data_send: true,
    });
}

pub use websocket::wsengine::websocket::types::{
    Compression, Error as WsError, Message, MessageKind, Options, ReadyState, TimeoutKind,
};

/// Options with every field left to the engine's default.
pub fn options() -> Options {
    Options {
        protocols: Vec::new(),
        origin: None,
        headers: Vec::new(),
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
    }
}

/// permessage-deflate with the engine's defaults.
pub fn compression() -> Compression {
    Compression {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: None,
        client_max_window_bits: None,
        level: None,
        threshold: None,
    }
}

/// A store's data: the WASI context (networking allowed) and its resource table.
pub struct Ctx {
    wasi: WasiCtx,
    /// Public so that tests can make and drop `wasi:io` resources of their own.
    pub table: ResourceTable,
    /// How far the guest's linear memories have grown (tests check it for leaks).
    pub memory: MemoryWatch,
}

impl WasiView for Ctx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A wasmtime engine and linkers with every `wasi:*` 0.2 interface: one with
/// wasmtime-wasi's sync bindings, one with its async bindings. A compiled component works
/// with either.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Ctx>,
    linker_async: Linker<Ctx>,
}

impl Runtime {
    /// With `WSENGINE_HOST_PERFMAP=1` in the environment, compiled guest code is listed in
    /// `/tmp/perf-PID.map`, so that `perf report` names the guest's functions (a component
    /// built without `strip` keeps their names).
    pub fn new() -> Result<Runtime> {
        let mut config = Config::new();
        if std::env::var_os("WSENGINE_HOST_PERFMAP").is_some_and(|v| v == "1") {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        let mut linker_async = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker_async)?;
        Ok(Runtime {
            engine,
            linker,
            linker_async,
        })
    }

    /// The wasmtime engine (to compile components from bytes).
    pub fn engine_ref(&self) -> &Engine {
        &self.engine
    }

    /// Compiles a component file (the slow step: do it once and reuse the result).
    pub fn load(&self, path: impl AsRef<std::path::Path>) -> Result<Component> {
        let path = path.as_ref();
        Component::from_file(&self.engine, path)
            .map_err(|e| anyhow::anyhow!("loading {}: {e}", path.display()))
    }

    /// The names of a component's imports and exports (instances and functions).
    pub fn interface(&self, c: &Component) -> (Vec<String>, Vec<String>) {
        let ty = c.component_type();
        let imports = ty
            .imports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let exports = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        (imports, exports)
    }

    /// A fresh store whose WASI context may use the network and name lookup, and inherits
    /// stdio and `args` (for commands).
    pub fn store(&self, args: &[String]) -> Store<Ctx> {
        let wasi = WasiCtxBuilder::new()
            .inherit_stdio()
            .args(args)
            .inherit_network()
            .allow_ip_name_lookup(true)
            .allow_tcp(true)
            .build();
        let mut store = Store::new(
            &self.engine,
            Ctx {
                wasi,
                table: ResourceTable::new(),
                memory: MemoryWatch::default(),
            },
        );
        store.limiter(|c| &mut c.memory);
        store
    }

    /// Instantiates a component of the `websocket` world.
    pub fn websocket(&self, c: &Component) -> Result<(Store<Ctx>, websocket::Websocket)> {
        let mut store = self.store(&[]);
        let w = websocket::Websocket::instantiate(&mut store, c, &self.linker)?;
        Ok((store, w))
    }

    /// Instantiates a component of the `websocket` world for async calls (`call_*` return
    /// futures). Run them on a tokio runtime: wasmtime-wasi's sockets need one, and on a
    /// current-thread runtime the guest's waits become waits of that very thread on the
    /// sockets, where the sync bindings ([`Runtime::websocket`]) hand every wait to a
    /// background runtime and wake the calling thread from there (see the README's
    /// component section for what that costs).
    pub async fn websocket_async(
        &self,
        c: &Component,
    ) -> Result<(Store<Ctx>, websocket_async::Websocket)> {
        let mut store = self.store(&[]);
        let w = websocket_async::Websocket::instantiate_async(&mut store, c, &self.linker_async)
            .await?;
        Ok((store, w))
    }

    /// Instantiates a component of the `engine` world.
    pub fn engine(&self, c: &Component) -> Result<(Store<Ctx>, engine::Engine)> {
        let mut store = self.store(&[]);
        let w = engine::Engine::instantiate(&mut store, c, &self.linker)?;
        Ok((store, w))
    }

    /// Runs a `wasi:cli/command` component (e.g. a guest composed with the websocket
    /// component) with `args` (the first is the program name). Ok(false) if it exited with
    /// an error.
    pub fn run_command(&self, c: &Component, args: &[String]) -> Result<bool> {
        let mut store = self.store(args);
        let cmd =
            wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, c, &self.linker)?;
        Ok(cmd.wasi_cli_run().call_run(&mut store)?.is_ok())
    }
}
