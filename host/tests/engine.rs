//! The `engine` world (no I/O of its own) driven by the host over std TCP on 127.0.0.1: the
//! host moves bytes and the component does the protocol.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use common::{echo_server, engine_component, native_config, runtime, IO_TIMEOUT};
use wasmtime::component::ResourceAny;
use wasmtime::Store;
use wsengine::io::WebSocket;
use wsengine::Message as NativeMessage;
use wsengine_host::engine::exports::wsengine::websocket::sans_io::{Event, GuestConnection};
use wsengine_host::engine::Engine;
use wsengine_host::{options, Ctx, Message, ReadyState, WsError};

/// Most read/write rounds one exchange may take.
const MAX_ROUNDS: usize = 1000;

struct Driven<'a> {
    store: Store<Ctx>,
    conn: &'a GuestConnection<'a>,
    c: ResourceAny,
    tcp: TcpStream,
}

impl Driven<'_> {
    /// Writes all pending output to the socket.
    fn flush(&mut self) {
        loop {
            let out = self
                .conn
                .call_output(&mut self.store, self.c, 65536)
                .unwrap();
            if out.is_empty() {
                return;
            }
            self.tcp.write_all(&out).unwrap();
            let n = out.len() as u32;
            self.conn
                .call_consume_output(&mut self.store, self.c, n)
                .unwrap();
        }
    }

    /// The next event, reading from the socket as needed.
    fn event(&mut self) -> Result<Event, WsError> {
        for _ in 0..MAX_ROUNDS {
            self.flush();
            if let Some(e) = self
                .conn
                .call_next_event(&mut self.store, self.c)
                .unwrap()?
            {
                self.flush();
                return Ok(e);
            }
            let mut buf = [0; 16384];
            match self.tcp.read(&mut buf).unwrap() {
                0 => self.conn.call_receive_eof(&mut self.store, self.c).unwrap(),
                n => self
                    .conn
                    .call_receive(&mut self.store, self.c, &buf[..n])
                    .unwrap(),
            }
        }
        panic!("no event after {MAX_ROUNDS} reads");
    }
}

fn instance() -> (Store<Ctx>, Engine) {
    runtime().engine(engine_component()).unwrap()
}

#[test]
fn host_driven_client_talks_to_a_native_server() {
    let addr = echo_server(native_config(false));
    let (mut store, e) = instance();
    let conn = e.wsengine_websocket_sans_io().connection();
    let c = conn
        .call_client(&mut store, &format!("ws://{addr}/"), &options())
        .unwrap()
        .unwrap();
    assert!(conn.call_next_deadline(&mut store, c).unwrap().is_some());
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut d = Driven {
        store,
        conn: &conn,
        c,
        tcp,
    };
    assert!(matches!(d.event(), Ok(Event::Open(_))));
    conn.call_send_text(&mut d.store, c, "over host I/O")
        .unwrap()
        .unwrap();
    match d.event() {
        Ok(Event::Message(Message::Text(t))) => assert_eq!(t, "over host I/O"),
        other => panic!("{other:?}"),
    }
    conn.call_ping(&mut d.store, c, b"hi").unwrap().unwrap();
    match d.event() {
        Ok(Event::Pong(p)) => assert_eq!(p, b"hi"),
        other => panic!("{other:?}"),
    }
    conn.call_close(&mut d.store, c, 1000, "").unwrap().unwrap();
    match d.event() {
        Ok(Event::Close(Some(ci))) => assert_eq!(ci.code, 1000),
        other => panic!("{other:?}"),
    }
    // The server closes TCP first; then the client may close too.
    let mut rest = Vec::new();
    d.tcp.read_to_end(&mut rest).unwrap();
    conn.call_receive_eof(&mut d.store, c).unwrap();
    assert!(matches!(
        d.conn.call_next_event(&mut d.store, c).unwrap(),
        Ok(None)
    ));
    assert!(conn.call_should_close(&mut d.store, c).unwrap());
    let state = conn.call_ready_state(&mut d.store, c).unwrap();
    assert_eq!(state, ReadyState::Closed);
    c.resource_drop(&mut d.store).unwrap();
}

#[test]
fn host_driven_server_answers_a_native_client() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let client = thread::spawn(move || {
        let (mut ws, _) = WebSocket::connect(&url, native_config(false)).unwrap();
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(IO_TIMEOUT))
            .unwrap();
        ws.write_binary(&[1, 2, 3]).unwrap();
        let echoed = ws.read().unwrap();
        ws.close(1001, "going").unwrap();
        echoed
    });
    let (tcp, _) = listener.accept().unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let (mut store, e) = instance();
    let conn = e.wsengine_websocket_sans_io().connection();
    let c = conn.call_server(&mut store, &options()).unwrap().unwrap();
    let mut d = Driven {
        store,
        conn: &conn,
        c,
        tcp,
    };
    match d.event() {
        Ok(Event::Open(info)) => assert!(info.request.is_some()),
        other => panic!("{other:?}"),
    }
    match d.event() {
        Ok(Event::Message(m)) => conn
            .call_send_binary(
                &mut d.store,
                c,
                match &m {
                    Message::Binary(b) => b,
                    Message::Text(_) => panic!("{m:?}"),
                },
            )
            .unwrap()
            .unwrap(),
        other => panic!("{other:?}"),
    }
    match d.event() {
        Ok(Event::Close(Some(ci))) => assert_eq!((ci.code, ci.reason.as_str()), (1001, "going")),
        other => panic!("{other:?}"),
    }
    d.flush();
    assert!(conn.call_should_close(&mut d.store, c).unwrap());
    drop(d.tcp);
    assert_eq!(client.join().unwrap(), NativeMessage::Binary(vec![1, 2, 3]));
}

#[test]
fn engine_reports_violations_and_misuse_as_typed_errors() {
    let (mut store, e) = instance();
    let conn = e.wsengine_websocket_sans_io().connection();
    let bad_url = conn
        .call_client(&mut store, "http//nope", &options())
        .unwrap();
    assert!(matches!(bad_url, Err(WsError::Usage(_))), "{bad_url:?}");
    let mut o = options();
    o.max_fragments = Some(0);
    assert!(matches!(
        conn.call_server(&mut store, &o).unwrap(),
        Err(WsError::Usage(_))
    ));

    let c = conn.call_server(&mut store, &options()).unwrap().unwrap();
    // Sending before the handshake: not open.
    let r = conn.call_send_text(&mut store, c, "early").unwrap();
    assert!(matches!(r, Err(WsError::Usage(_))), "{r:?}");
    // Output bounds are the caller's: asking for more than is pending is fine.
    conn.call_consume_output(&mut store, c, u32::MAX).unwrap();
    // Garbage instead of an opening request: 400, reported once, typed.
    conn.call_receive(&mut store, c, b"NOT HTTP AT ALL\r\n\r\n")
        .unwrap();
    match conn.call_next_event(&mut store, c).unwrap() {
        Err(WsError::Handshake(h)) => assert_eq!(h.status, Some(400)),
        other => panic!("{other:?}"),
    }
    let answer = conn.call_output(&mut store, c, 1 << 20).unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 400"));
    let r = conn.call_close(&mut store, c, 999, "").unwrap();
    assert!(matches!(r, Err(WsError::Usage(_))), "{r:?}");
}

#[test]
fn engine_world_exports_the_engine_and_does_no_io() {
    let (imports, exports) = runtime().interface(engine_component());
    assert_eq!(exports, ["wsengine:websocket/sans-io@0.1.0"]);
    // Randomness (mask keys), the types-only interface its functions use, and what Rust's
    // std for wasip2 links in (stdio, environment, exit); never sockets, clocks or files.
    for i in &imports {
        assert!(
            i.starts_with("wasi:random/")
                || i.starts_with("wasi:cli/")
                || i.starts_with("wasi:io/")
                || i == "wsengine:websocket/types@0.1.0",
            "unexpected import {i}"
        );
    }
    assert!(imports.iter().any(|i| i.starts_with("wasi:random/random")));
}
