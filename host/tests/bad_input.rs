//! Bad input from the host — invalid options, closed streams, dropped pollables, calls after
//! the end — gets a typed error (or a documented outcome), never a trap.

mod common;

use common::{echo_server, native_config, websocket};
use wasmtime::component::Resource;
use wasmtime_wasi::p2::pipe::{ClosedInputStream, ClosedOutputStream, MemoryInputPipe};
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream};
use wsengine_host::{compression, options, Message, WsError};

#[test]
fn invalid_options_are_usage_errors() {
    let addr = echo_server(native_config(false));
    let url = format!("ws://{addr}/");
    let (mut store, w) = websocket();
    let client = w.wsengine_websocket_client();
    let mut cases = Vec::new();
    let mut o = options();
    o.write_buffer_bytes = Some(0);
    cases.push(("write-buffer-bytes 0", url.clone(), o));
    let mut o = options();
    let mut d = compression();
    d.client_max_window_bits = Some(7);
    o.compression = Some(d);
    cases.push(("window bits 7", url.clone(), o));
    let mut o = options();
    o.protocols = vec!["has space".into()];
    cases.push(("bad subprotocol", url.clone(), o));
    let mut o = options();
    o.headers = vec![("X-Ok".into(), "line\r\nbreak".into())];
    cases.push(("header injection", url.clone(), o));
    cases.push(("not a URL", "ftp://x/".into(), options()));
    // `wss://` in the build without TLS is a `tls` error, not a usage one: tests/tls.rs.
    for (what, url, o) in cases {
        let r = client.call_connect(&mut store, &url, &o).unwrap();
        assert!(matches!(r, Err(WsError::Usage(_))), "{what}: {r:?}");
    }
    // The instance is still fine after all that.
    let (ws, _) = client
        .call_connect(&mut store, &url, &options())
        .unwrap()
        .unwrap();
    ws.resource_drop(&mut store).unwrap();
}

#[test]
fn closed_or_truncated_streams_fail_the_handshake() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server();
    let client = w.wsengine_websocket_client();
    let streams = |store: &mut wasmtime::Store<wsengine_host::Ctx>, input: DynInputStream| {
        let i: Resource<DynInputStream> = store.data_mut().table.push(input).unwrap();
        let out: DynOutputStream = Box::new(ClosedOutputStream);
        let o: Resource<DynOutputStream> = store.data_mut().table.push(out).unwrap();
        (i, o)
    };
    let (i, o) = streams(&mut store, Box::new(ClosedInputStream));
    let r = server
        .call_accept_streams(&mut store, i, o, &options())
        .unwrap();
    assert!(matches!(r, Err(WsError::Handshake(_))), "{r:?}");

    // Half a request, then the end of the stream.
    let half = MemoryInputPipe::new(&b"GET / HTTP/1.1\r\nHost: x\r\n"[..]);
    let (i, o) = streams(&mut store, Box::new(half));
    let r = server
        .call_accept_streams(&mut store, i, o, &options())
        .unwrap();
    assert!(matches!(r, Err(WsError::Handshake(_))), "{r:?}");

    // A client whose output is closed cannot even send its request.
    let (i, o) = streams(&mut store, Box::new(ClosedInputStream));
    let r = client
        .call_connect_streams(&mut store, "ws://x/", &options(), i, o)
        .unwrap();
    assert!(matches!(r, Err(WsError::Io(_))), "{r:?}");
}

#[test]
fn pollables_can_be_dropped_in_any_order() {
    let addr = echo_server(native_config(false));
    let (mut store, w) = websocket();
    let client = w.wsengine_websocket_client();
    let s = w.wsengine_websocket_sockets().websocket();
    let url = format!("ws://{addr}/");

    // Subscribe, drop the pollable, and go on using the websocket.
    let (ws, _) = client
        .call_connect(&mut store, &url, &options())
        .unwrap()
        .unwrap();
    for _ in 0..3 {
        let p = s.call_subscribe(&mut store, ws).unwrap();
        store.data_mut().table.delete(p).unwrap();
    }
    let m = Message::Text("still here".into());
    s.call_write(&mut store, ws, &m).unwrap().unwrap();
    assert_eq!(s.call_read(&mut store, ws).unwrap().unwrap(), m);
    assert!(matches!(s.call_try_read(&mut store, ws).unwrap(), Ok(None)));

    // Drop the websocket while its pollable lives: no trap; the connection is shut down.
    let p = s.call_subscribe(&mut store, ws).unwrap();
    ws.resource_drop(&mut store).unwrap();
    store.data_mut().table.delete(p).unwrap();

    // The instance still works.
    let (ws, _) = client
        .call_connect(&mut store, &url, &options())
        .unwrap()
        .unwrap();
    s.call_close(&mut store, ws, 1000, "").unwrap().unwrap();
    let r = s.call_ping(&mut store, ws, &[0; 126]).unwrap();
    assert!(matches!(r, Err(WsError::Usage(_))), "{r:?}");
    ws.resource_drop(&mut store).unwrap();
}
