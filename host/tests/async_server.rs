//! The component as a server driven through the async bindings on a current-thread tokio
//! runtime (as `wsengine-host echo-server` runs it), echoing large messages to the engine's
//! native client: the path where a message goes out frame by frame from the caller's
//! buffer, gathered into the output stream's writes.

mod common;

use std::thread;

use common::{native_config, runtime, websocket_component, IO_TIMEOUT};
use wsengine::io::WebSocket;
use wsengine::{ClientRequest, Message as NativeMessage};
use wsengine_host::{options, WsError};

/// Bytes that differ from their neighbours, so a byte dropped, doubled or moved shows.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251 + seed) as u8).collect()
}

/// Echoes every message of one connection through the async bindings until the client
/// closes; returns how many were echoed.
fn serve_one(
    write_buffer_bytes: Option<u32>,
    client: impl FnOnce(String) + Send + 'static,
) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let (mut store, w) = runtime()
            .websocket_async(websocket_component())
            .await
            .unwrap();
        let server = w.wsengine_websocket_server().listener();
        let mut o = options();
        o.write_buffer_bytes = write_buffer_bytes;
        let listener = server
            .call_bind(&mut store, "127.0.0.1:0", &o)
            .await
            .unwrap()
            .unwrap();
        let addr = server
            .call_local_address(&mut store, listener)
            .await
            .unwrap()
            .unwrap();
        let client = thread::spawn(move || client(format!("ws://{addr}/")));
        let (ws, _) = server
            .call_accept(&mut store, listener)
            .await
            .unwrap()
            .unwrap();
        let s = w.wsengine_websocket_sockets().websocket();
        let mut echoed = 0;
        loop {
            match s.call_read(&mut store, ws).await.unwrap() {
                Ok(m) => {
                    s.call_write(&mut store, ws, &m).await.unwrap().unwrap();
                    echoed += 1;
                }
                Err(WsError::Closed) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        ws.resource_drop_async(&mut store).await.unwrap();
        listener.resource_drop_async(&mut store).await.unwrap();
        client.join().unwrap();
        echoed
    })
}

/// Sends each message and checks that the echo is the same message.
fn echo_client(messages: Vec<NativeMessage>) -> impl FnOnce(String) + Send + 'static {
    move |url| {
        let req = ClientRequest::new(&url).unwrap();
        let (mut ws, _) = WebSocket::connect_with(req, native_config(false)).unwrap();
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(IO_TIMEOUT))
            .unwrap();
        for m in &messages {
            match m {
                NativeMessage::Text(t) => ws.write_text(t).unwrap(),
                NativeMessage::Binary(b) => ws.write_binary(b).unwrap(),
            }
            let got = ws.read().unwrap();
            assert!(
                got == *m,
                "echo of a {}-byte message differs",
                m.as_bytes().len()
            );
        }
        ws.close(1000, "done").unwrap();
    }
}

#[test]
fn large_messages_come_back_intact_in_default_frames() {
    // From the size where sending skips the engine's output buffer, across chunk and
    // frame boundaries (64 KiB frames with 4-byte headers), text and binary.
    let messages = vec![
        NativeMessage::Binary(pattern(16 * 1024, 1)),
        NativeMessage::Binary(pattern(64 * 1024, 2)),
        NativeMessage::Binary(pattern(64 * 1024 + 1, 3)),
        NativeMessage::Text("é€x".repeat(40_000)),
        NativeMessage::Binary(pattern((1 << 20) + 7, 4)),
        NativeMessage::Binary(pattern(5, 5)),
    ];
    let n = messages.len();
    assert_eq!(serve_one(None, echo_client(messages)), n);
}

#[test]
fn large_messages_come_back_intact_in_frames_larger_than_a_write() {
    // 100 000-byte frames: 10-byte headers, and every frame spans two of the output
    // stream's 64 KiB writes.
    let messages = vec![
        NativeMessage::Binary(pattern(100_000, 6)),
        NativeMessage::Binary(pattern(300_001, 7)),
        NativeMessage::Binary(pattern(1 << 20, 8)),
    ];
    let n = messages.len();
    assert_eq!(serve_one(Some(100_000), echo_client(messages)), n);
}

#[test]
fn small_messages_come_back_intact_through_the_async_bindings() {
    // Small messages through the same path as the echo server's (they still go through
    // the engine's output buffer).
    let messages = vec![
        NativeMessage::Text("hello".into()),
        NativeMessage::Binary(vec![]),
        NativeMessage::Binary(pattern(1000, 9)),
    ];
    let n = messages.len();
    assert_eq!(serve_one(None, echo_client(messages)), n);
}
