//! Shared by the host tests: one runtime and one compiled copy of each component per test
//! binary, and native peers (the engine's blocking adapter) on 127.0.0.1.

#![allow(dead_code)] // each test binary uses its own part

use std::net::{SocketAddr, TcpListener};
use std::sync::OnceLock;
use std::thread;
use std::time::Duration;

use wasmtime::component::Component;
use wasmtime::Store;
use wsengine::io::WebSocket;
use wsengine::{Config, DeflateConfig, Error};
use wsengine_host::websocket::Websocket;
use wsengine_host::{component_dir, Ctx, Runtime};

/// Most connections a native echo server serves before its thread ends.
const MAX_CONNECTIONS: usize = 64;
/// Socket timeouts of the native peers: a stuck test fails instead of hanging.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| Runtime::new().expect("wasmtime runtime"))
}

fn load(name: &str) -> Component {
    let path = component_dir().join(name);
    runtime()
        .load(&path)
        .unwrap_or_else(|e| panic!("{e} (build it first: cargo xtask build)"))
}

pub fn websocket_component() -> &'static Component {
    static C: OnceLock<Component> = OnceLock::new();
    C.get_or_init(|| load("websocket.wasm"))
}

pub fn engine_component() -> &'static Component {
    static C: OnceLock<Component> = OnceLock::new();
    C.get_or_init(|| load("engine.wasm"))
}

/// A fresh instance of the websocket world.
pub fn websocket() -> (Store<Ctx>, Websocket) {
    runtime()
        .websocket(websocket_component())
        .expect("instantiate websocket.wasm")
}

/// A component listener bound to a free port on 127.0.0.1 with `o`, and its address.
pub fn listen(
    store: &mut Store<Ctx>,
    w: &Websocket,
    o: &wsengine_host::Options,
) -> (wasmtime::component::ResourceAny, String) {
    let server = w.wsengine_websocket_server().listener();
    let listener = server
        .call_bind(&mut *store, "127.0.0.1:0", o)
        .unwrap()
        .unwrap();
    let addr = server
        .call_local_address(&mut *store, listener)
        .unwrap()
        .unwrap();
    (listener, addr)
}

pub fn native_config(deflate: bool) -> Config {
    let mut c = Config::default();
    if deflate {
        c.deflate = Some(DeflateConfig::default());
    }
    c
}

/// A native echo server on 127.0.0.1 (any port), one thread per connection.
pub fn echo_server(config: Config) -> SocketAddr {
    echo_server_with(config, None)
}

/// As [`echo_server`], selecting subprotocols from `protocols`.
pub fn echo_server_with(config: Config, protocols: Option<&'static [&'static str]>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().take(MAX_CONNECTIONS) {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            thread::spawn(move || {
                stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let opened = match protocols {
                    Some(p) => WebSocket::accept_with(
                        stream,
                        config,
                        Box::new(move |req| Ok(wsengine::Accept::select_protocol(req, p))),
                    ),
                    None => WebSocket::accept(stream, config),
                };
                let Ok((mut ws, _)) = opened else { return };
                loop {
                    match ws.read() {
                        Ok(m) => {
                            if ws.write(&m).is_err() {
                                return;
                            }
                        }
                        Err(Error::Closed) | Err(_) => return,
                    }
                }
            });
        }
    });
    addr
}

/// A raw TCP client that sends a valid opening request and then never reads, keeping the
/// socket open until [`NeverReads::stop`] (or [`IO_TIMEOUT`]): the peer that fills the
/// server's socket buffers.
pub struct NeverReads {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: thread::JoinHandle<()>,
}

impl NeverReads {
    pub fn connect(addr: impl std::net::ToSocketAddrs + Send + 'static) -> NeverReads {
        use std::io::Write;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::time::Instant;

        let done = Arc::new(AtomicBool::new(false));
        let client_done = done.clone();
        let thread = thread::spawn(move || {
            let mut raw = std::net::TcpStream::connect(addr).unwrap();
            raw.write_all(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            )
            .unwrap();
            let started = Instant::now();
            while !client_done.load(Ordering::SeqCst) && started.elapsed() < IO_TIMEOUT {
                thread::sleep(Duration::from_millis(10));
            }
        });
        NeverReads { done, thread }
    }

    /// Closes the connection (ends the thread) and waits for it.
    pub fn stop(self) {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}
