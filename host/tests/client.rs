//! The component as a client (its own I/O on wasi:sockets) against the engine's native echo
//! server, over real TCP on 127.0.0.1.

mod common;

use common::{echo_server, echo_server_with, native_config, websocket};
use wsengine_host::{compression, options, Message, MessageKind, ReadyState, WsError};

#[test]
fn echoes_text_binary_and_large_messages() {
    let addr = echo_server(native_config(false));
    let (mut store, w) = websocket();
    let (ws, info) = w
        .wsengine_websocket_client()
        .call_connect(&mut store, &format!("ws://{addr}/chat"), &options())
        .unwrap()
        .unwrap();
    assert_eq!(info.protocol, None);
    assert_eq!(info.response.as_ref().map(|r| r.status), Some(101));
    let s = w.wsengine_websocket_sockets().websocket();
    assert_eq!(
        s.call_ready_state(&mut store, ws).unwrap(),
        ReadyState::Open
    );
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    for m in [
        Message::Text("hello".into()),
        Message::Text(String::new()),
        Message::Binary(vec![0, 1, 2, 255]),
        Message::Binary(big),
    ] {
        s.call_write(&mut store, ws, &m).unwrap().unwrap();
        assert_eq!(s.call_read(&mut store, ws).unwrap().unwrap(), m);
    }
    s.call_close(&mut store, ws, 1000, "bye").unwrap().unwrap();
    // The echo server answers our close frame with our code (RFC 6455 §5.5.1).
    let peer = s.call_peer_close(&mut store, ws).unwrap().unwrap();
    assert_eq!(peer.code, 1000);
    assert_eq!(
        s.call_ready_state(&mut store, ws).unwrap(),
        ReadyState::Closed
    );
    // After the close every call is a typed error, never a trap.
    let err = s
        .call_write(&mut store, ws, &Message::Text("late".into()))
        .unwrap();
    assert!(matches!(err, Err(WsError::Usage(_))), "{err:?}");
    assert!(matches!(
        s.call_read(&mut store, ws).unwrap(),
        Err(WsError::Closed)
    ));
    ws.resource_drop(&mut store).unwrap();
}

#[test]
fn compression_subprotocols_fragments_and_pings() {
    let addr = echo_server_with(native_config(true), Some(&["b", "chat"]));
    let (mut store, w) = websocket();
    let mut o = options();
    o.compression = Some(compression());
    o.protocols = vec!["chat".into(), "b".into()];
    o.write_buffer_bytes = Some(1000);
    let (ws, info) = w
        .wsengine_websocket_client()
        .call_connect(&mut store, &format!("ws://{addr}/"), &o)
        .unwrap()
        .unwrap();
    // The server takes the client's first offer it supports.
    assert_eq!(info.protocol.as_deref(), Some("chat"));
    assert!(info.extensions.unwrap().starts_with("permessage-deflate"));
    let s = w.wsengine_websocket_sockets().websocket();

    let text = "compressible ".repeat(10_000);
    let m = Message::Text(text.clone());
    s.call_write(&mut store, ws, &m).unwrap().unwrap();
    assert_eq!(s.call_read(&mut store, ws).unwrap().unwrap(), m);

    // A message in three write-some parts with a ping between them; the echo comes back
    // whole, and read-some returns it in pieces that add up to it.
    s.call_write_some(&mut store, ws, false, MessageKind::Binary, b"abc")
        .unwrap()
        .unwrap();
    s.call_ping(&mut store, ws, b"p").unwrap().unwrap();
    s.call_write_some(&mut store, ws, false, MessageKind::Binary, b"def")
        .unwrap()
        .unwrap();
    // Another kind in the middle of a message is a typed usage error.
    let e = s
        .call_write_some(&mut store, ws, true, MessageKind::Text, b"x")
        .unwrap();
    assert!(matches!(e, Err(WsError::Usage(_))), "{e:?}");
    s.call_write_some(&mut store, ws, true, MessageKind::Binary, b"ghi")
        .unwrap()
        .unwrap();
    let mut got = Vec::new();
    for _ in 0..100 {
        let f = s.call_read_some(&mut store, ws).unwrap().unwrap();
        assert_eq!(f.kind, MessageKind::Binary);
        got.extend_from_slice(&f.data);
        if f.fin {
            break;
        }
    }
    assert_eq!(got, b"abcdefghi");
    s.call_close(&mut store, ws, 4000, "done").unwrap().unwrap();
    ws.resource_drop(&mut store).unwrap();
}

#[test]
fn refused_connection_is_a_typed_error() {
    // Bind and drop a listener: nothing listens on that port any more.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (mut store, w) = websocket();
    let r = w
        .wsengine_websocket_client()
        .call_connect(&mut store, &format!("ws://{addr}/"), &options())
        .unwrap();
    match r {
        Err(WsError::Io(msg)) => assert!(msg.contains("connection-refused"), "{msg}"),
        other => panic!("{other:?}"),
    }
}
