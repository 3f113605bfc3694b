//! `read-buffer` and `write-buffer`: messages relayed between websockets of one instance
//! without their bytes crossing into the host, talking to native clients over real TCP.

mod common;

use std::sync::mpsc;
use std::thread;

use common::{listen, native_config, websocket, IO_TIMEOUT};
use wsengine::io::WebSocket;
use wsengine::{ClientRequest, Message as NativeMessage};
use wsengine_host::websocket::wsengine::websocket::types::UsageError;
use wsengine_host::{compression, options, MessageKind, WsError};

/// A native client that connects, sends `send`, then reads `expect` messages and closes.
fn client(
    addr: String,
    deflate: bool,
    send: Vec<NativeMessage>,
    expect: usize,
    go: mpsc::Receiver<()>,
) -> thread::JoinHandle<Vec<NativeMessage>> {
    thread::spawn(move || {
        let url = format!("ws://{addr}/");
        let req = ClientRequest::new(&url).unwrap();
        let (mut ws, _) = WebSocket::connect_with(req, native_config(deflate)).unwrap();
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(IO_TIMEOUT))
            .unwrap();
        // Both clients connect before either sends: the host accepts them in turn.
        go.recv().unwrap();
        for m in &send {
            ws.write(m).unwrap();
        }
        let got = (0..expect).map(|_| ws.read().unwrap()).collect();
        ws.close(1000, "done").unwrap();
        got
    })
}

#[test]
fn buffers_relay_messages_to_other_websockets_and_back() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server().listener();
    let s = w.wsengine_websocket_sockets().websocket();
    let b = w.wsengine_websocket_sockets().buffer();
    let mut o = options();
    o.compression = Some(compression());
    let (listener, addr) = listen(&mut store, &w, &o);

    // 200 000 bytes: past the size the component sends from the caller's buffer itself,
    // and several frames.
    let text = "héllo, wörld ✓ ".repeat(4);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let (go_a, rx_a) = mpsc::channel();
    let (go_b, rx_b) = mpsc::channel();
    // A (with permessage-deflate) sends two messages and gets one back; B (without) gets
    // each of A's messages, the text one twice.
    let a = client(
        addr.clone(),
        true,
        vec![
            NativeMessage::Text(text.clone()),
            NativeMessage::Binary(big.clone()),
        ],
        1,
        rx_a,
    );
    let (ws_a, _) = server.call_accept(&mut store, listener).unwrap().unwrap();
    let c = client(addr, false, Vec::new(), 3, rx_b);
    let (ws_b, _) = server.call_accept(&mut store, listener).unwrap().unwrap();
    go_a.send(()).unwrap();
    go_b.send(()).unwrap();

    let first = s.call_read_buffer(&mut store, ws_a).unwrap().unwrap();
    assert_eq!(b.call_kind(&mut store, first).unwrap(), MessageKind::Text);
    assert_eq!(b.call_len(&mut store, first).unwrap() as usize, text.len());
    assert_eq!(b.call_bytes(&mut store, first).unwrap(), text.as_bytes());
    s.call_write_buffer(&mut store, ws_b, first)
        .unwrap()
        .unwrap();
    s.call_write_buffer(&mut store, ws_b, first)
        .unwrap()
        .unwrap();
    // Unchanged by being written.
    assert_eq!(b.call_bytes(&mut store, first).unwrap(), text.as_bytes());

    let second = s.call_read_buffer(&mut store, ws_a).unwrap().unwrap();
    assert_eq!(
        b.call_kind(&mut store, second).unwrap(),
        MessageKind::Binary
    );
    assert_eq!(b.call_len(&mut store, second).unwrap() as usize, big.len());
    // A message begun with `write-some` must be finished first.
    s.call_write_some(&mut store, ws_b, false, MessageKind::Text, b"par")
        .unwrap()
        .unwrap();
    match s.call_write_buffer(&mut store, ws_b, second).unwrap() {
        Err(WsError::Usage(UsageError::MessageInProgress)) => {}
        other => panic!("{other:?}"),
    }
    s.call_write_some(&mut store, ws_b, true, MessageKind::Text, b"t")
        .unwrap()
        .unwrap();
    s.call_write_buffer(&mut store, ws_a, second)
        .unwrap()
        .unwrap();
    first.resource_drop(&mut store).unwrap();
    second.resource_drop(&mut store).unwrap();

    // Each client closes once it has its messages: the reads end with `closed`.
    for ws in [ws_a, ws_b] {
        match s.call_read_buffer(&mut store, ws).unwrap() {
            Err(WsError::Closed) => {}
            other => panic!("{other:?}"),
        }
        ws.resource_drop(&mut store).unwrap();
    }
    assert_eq!(a.join().unwrap(), vec![NativeMessage::Binary(big)]);
    assert_eq!(
        c.join().unwrap(),
        vec![
            NativeMessage::Text(text.clone()),
            NativeMessage::Text(text),
            NativeMessage::Text("part".into()),
        ]
    );
    listener.resource_drop(&mut store).unwrap();
}
