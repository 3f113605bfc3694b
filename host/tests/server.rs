//! The component as a server (its own wasi:sockets listener) with the engine's native client,
//! over real TCP on 127.0.0.1.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;

use common::{listen, native_config, websocket, NeverReads, IO_TIMEOUT};
use wsengine::io::WebSocket;
use wsengine::{ClientRequest, Message as NativeMessage};
use wsengine_host::{compression, options, WsError};

#[test]
fn native_clients_talk_to_the_component_server() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server().listener();
    let mut o = options();
    o.compression = Some(compression());
    o.protocols = vec!["echo".into()];
    let (listener, addr) = listen(&mut store, &w, &o);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");

    // A native client: two messages, then a close; and a raw TCP client with a bad request.
    let url = format!("ws://{addr}/x");
    let client = thread::spawn(move || {
        let req = ClientRequest::new(&url).unwrap().protocol("echo");
        let (mut ws, info) = WebSocket::connect_with(req, native_config(true)).unwrap();
        assert_eq!(info.protocol.as_deref(), Some("echo"));
        assert!(info.extensions.is_some());
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(IO_TIMEOUT))
            .unwrap();
        ws.write_text("one").unwrap();
        assert_eq!(ws.read().unwrap(), NativeMessage::Text("one".into()));
        ws.write_binary(&[7; 70_000]).unwrap();
        assert_eq!(ws.read().unwrap(), NativeMessage::Binary(vec![7; 70_000]));
        ws.close(1000, "client done").unwrap();

        let mut raw = TcpStream::connect(&addr).unwrap();
        raw.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        raw.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = raw.read_to_string(&mut answer);
        answer
    });

    let s = w.wsengine_websocket_sockets().websocket();
    let (ws, info) = server.call_accept(&mut store, listener).unwrap().unwrap();
    assert_eq!(info.protocol.as_deref(), Some("echo"));
    assert_eq!(info.request.as_ref().map(|r| r.target.as_str()), Some("/x"));
    let mut echoed = 0;
    loop {
        match s.call_read(&mut store, ws).unwrap() {
            Ok(m) => {
                s.call_write(&mut store, ws, &m).unwrap().unwrap();
                echoed += 1;
            }
            Err(WsError::Closed) => break,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(echoed, 2);
    let peer = s.call_peer_close(&mut store, ws).unwrap().unwrap();
    assert_eq!((peer.code, peer.reason.as_str()), (1000, "client done"));
    ws.resource_drop(&mut store).unwrap();

    // A request without the WebSocket headers: answered 400, reported typed, and the
    // listener goes on.
    match server.call_accept(&mut store, listener).unwrap() {
        Err(WsError::Handshake(h)) => assert_eq!(h.status, Some(400)),
        other => panic!("{other:?}"),
    }
    let answer = client.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    listener.resource_drop(&mut store).unwrap();
}

#[test]
fn bind_rejects_bad_addresses_and_options_with_typed_errors() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server().listener();
    for addr in ["", "localhost:80", "127.0.0.1", "999.0.0.1:80"] {
        let r = server.call_bind(&mut store, addr, &options()).unwrap();
        assert!(matches!(r, Err(WsError::Usage(_))), "{addr}: {r:?}");
    }
    let mut o = options();
    o.write_buffer_bytes = Some(0);
    let r = server.call_bind(&mut store, "127.0.0.1:0", &o).unwrap();
    assert!(matches!(r, Err(WsError::Usage(_))), "{r:?}");
    // Binding a port in use is an I/O error from wasi:sockets.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let r = server.call_bind(&mut store, &addr, &options()).unwrap();
    assert!(matches!(r, Err(WsError::Io(_))), "{r:?}");
}

/// A peer that completes the handshake and then never reads: once the socket buffers are
/// full, a write waits `write-timeout-ms` without progress and fails with
/// `timeout(write)`, for small messages (the engine's output) and large ones (written from
/// the caller's buffer) alike; the connection is then over. Dropping it returns at once
/// while that peer is still connected (wasmtime-wasi's TCP stream would wait for the stuck
/// write forever), and the listener goes on serving.
#[test]
fn a_peer_that_never_reads_fails_writes_at_the_write_timeout() {
    use std::time::{Duration, Instant};
    use wsengine_host::TimeoutKind;

    for size in [1024usize, 64 * 1024] {
        let (mut store, w) = websocket();
        let server = w.wsengine_websocket_server().listener();
        let mut o = options();
        o.write_timeout_ms = Some(300);
        let (listener, addr) = listen(&mut store, &w, &o);
        let client = NeverReads::connect(addr.clone());
        let s = w.wsengine_websocket_sockets().websocket();
        let (ws, _) = server.call_accept(&mut store, listener).unwrap().unwrap();
        let m = wsengine_host::Message::Binary(vec![0x5a; size]);
        let mut outcome = None;
        // At most 64 MiB: far beyond any loopback socket buffer.
        for _ in 0..(64 << 20) / size {
            let started = Instant::now();
            if let Err(e) = s.call_write(&mut store, ws, &m).unwrap() {
                outcome = Some((e, started.elapsed()));
                break;
            }
        }
        let (e, stalled) = outcome.expect("64 MiB written to a peer that never reads");
        assert!(
            matches!(e, WsError::Timeout(TimeoutKind::Write)),
            "{size}: {e:?}"
        );
        assert!(
            stalled >= Duration::from_millis(290) && stalled < Duration::from_secs(3),
            "{size}: {stalled:?}"
        );
        assert!(
            s.call_write(&mut store, ws, &m).unwrap().is_err(),
            "{size}: nothing more is sent"
        );
        let started = Instant::now();
        ws.resource_drop(&mut store).unwrap();
        let dropped = started.elapsed();
        assert!(
            dropped < Duration::from_secs(3),
            "{size}: drop took {dropped:?}"
        );

        // The instance is not stuck: the next client is served while the first still
        // holds its connection.
        let url = format!("ws://{addr}/");
        let next = thread::spawn(move || {
            let (mut ws, _) = WebSocket::connect(&url, native_config(false)).unwrap();
            ws.write_text("next").unwrap();
            let echoed = ws.read().unwrap();
            ws.close(1000, "").unwrap();
            echoed
        });
        let (ws, _) = server.call_accept(&mut store, listener).unwrap().unwrap();
        let got = s.call_read(&mut store, ws).unwrap().unwrap();
        s.call_write(&mut store, ws, &got).unwrap().unwrap();
        let _ = s.call_read(&mut store, ws).unwrap();
        ws.resource_drop(&mut store).unwrap();
        assert_eq!(next.join().unwrap(), NativeMessage::Text("next".into()));
        client.stop();
        listener.resource_drop(&mut store).unwrap();
    }
}
