//! The component as a server driven through the async bindings on a current-thread tokio
//! runtime (as `wsengine-host echo-server` runs it), echoing large messages to the engine's
//! native client: the path where a message goes out frame by frame from the caller's
//! buffer, gathered into the output stream's writes. On wasi:sockets (the component's own
//! listener) and on TCP connections the host accepted and handed over as streams
//! (`wsengine_host::streams`, `--host-tcp`).

mod common;

use std::thread;

use common::{native_config, runtime, websocket_component, NeverReads, IO_TIMEOUT};
use wsengine::io::WebSocket;
use wsengine::{ClientRequest, Message as NativeMessage};
use wsengine_host::streams::tcp_streams;
use wsengine_host::{options, WsError};

/// Bytes that differ from their neighbours, so a byte dropped, doubled or moved shows.
fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251 + seed) as u8).collect()
}

/// How the component gets its connection.
#[derive(Clone, Copy)]
enum Accept {
    /// Its own listener on wasi:sockets; the host echoes with `read` and `write`.
    Listener,
    /// The host accepts on tokio and hands the connection over as wasi:io streams
    /// (`tcp_streams`, `accept-streams`); the host echoes with `read-bytes` and
    /// `write-some(fin)`, as `wsengine-host echo-server --host-tcp` does.
    HostTcp,
}

/// Echoes every message of one connection through the async bindings until the client
/// closes; returns how many were echoed.
fn serve_one(
    accept: Accept,
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
        let mut o = options();
        o.write_buffer_bytes = write_buffer_bytes;
        let s = w.wsengine_websocket_sockets().websocket();
        let mut echoed = 0;
        let (ws, client) = match accept {
            Accept::Listener => {
                let server = w.wsengine_websocket_server().listener();
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
                listener.resource_drop_async(&mut store).await.unwrap();
                (ws, client)
            }
            Accept::HostTcp => {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let client = thread::spawn(move || client(format!("ws://{addr}/")));
                let (tcp, _) = listener.accept().await.unwrap();
                let (input, output) = tcp_streams(&mut store, tcp).unwrap();
                let (ws, _) = w
                    .wsengine_websocket_server()
                    .call_accept_streams(&mut store, input, output, &o)
                    .await
                    .unwrap()
                    .unwrap();
                (ws, client)
            }
        };
        loop {
            let r = match accept {
                Accept::Listener => match s.call_read(&mut store, ws).await.unwrap() {
                    Ok(m) => s.call_write(&mut store, ws, &m).await.unwrap(),
                    Err(e) => Err(e),
                },
                Accept::HostTcp => match s.call_read_bytes(&mut store, ws).await.unwrap() {
                    Ok(f) => {
                        assert!(f.fin, "read-bytes returns whole messages");
                        s.call_write_some(&mut store, ws, true, f.kind, &f.data)
                            .await
                            .unwrap()
                    }
                    Err(e) => Err(e),
                },
            };
            match r {
                Ok(()) => echoed += 1,
                Err(WsError::Closed) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        ws.resource_drop_async(&mut store).await.unwrap();
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

/// From the size where sending skips the engine's output buffer, across chunk and frame
/// boundaries (64 KiB frames with 4-byte headers), text and binary.
fn large_messages() -> Vec<NativeMessage> {
    vec![
        NativeMessage::Binary(pattern(16 * 1024, 1)),
        NativeMessage::Binary(pattern(64 * 1024, 2)),
        NativeMessage::Binary(pattern(64 * 1024 + 1, 3)),
        NativeMessage::Text("é€x".repeat(40_000)),
        NativeMessage::Binary(pattern((1 << 20) + 7, 4)),
        NativeMessage::Text("κόσμε 𝄞 ".repeat(120_000)),
        NativeMessage::Binary(pattern(5, 5)),
    ]
}

/// 100 000-byte frames: 10-byte headers, and every frame spans two of wasmtime-wasi's
/// 64 KiB writes (and several frames make one of the host streams' 1 MiB writes).
fn messages_in_large_frames() -> Vec<NativeMessage> {
    vec![
        NativeMessage::Binary(pattern(100_000, 6)),
        NativeMessage::Binary(pattern(300_001, 7)),
        NativeMessage::Binary(pattern(1 << 20, 8)),
        NativeMessage::Binary(pattern(3 << 20, 9)),
    ]
}

/// Small messages: they still go through the engine's output buffer.
fn small_messages() -> Vec<NativeMessage> {
    vec![
        NativeMessage::Text("hello".into()),
        NativeMessage::Text(String::new()),
        NativeMessage::Binary(vec![]),
        NativeMessage::Binary(pattern(1000, 9)),
    ]
}

#[test]
fn large_messages_come_back_intact_in_default_frames() {
    let messages = large_messages();
    let n = messages.len();
    assert_eq!(serve_one(Accept::Listener, None, echo_client(messages)), n);
}

#[test]
fn large_messages_come_back_intact_in_frames_larger_than_a_write() {
    let messages = messages_in_large_frames();
    let n = messages.len();
    let echoed = serve_one(Accept::Listener, Some(100_000), echo_client(messages));
    assert_eq!(echoed, n);
}

#[test]
fn small_messages_come_back_intact_through_the_async_bindings() {
    let messages = small_messages();
    let n = messages.len();
    assert_eq!(serve_one(Accept::Listener, None, echo_client(messages)), n);
}

#[test]
fn host_tcp_streams_carry_every_size_intact_as_bytes() {
    // Through the host's streams (1 MiB per read and write) and the bytes API: text comes
    // back as text (the client compares kinds too).
    for (frames, messages) in [
        (None, small_messages()),
        (None, large_messages()),
        (Some(100_000), messages_in_large_frames()),
    ] {
        let n = messages.len();
        assert_eq!(serve_one(Accept::HostTcp, frames, echo_client(messages)), n);
    }
}

/// A peer that completes the handshake and never reads, on the host's streams: once the
/// socket buffers are full, the stream gives no permit, a write waits `write-timeout-ms`
/// and fails with `timeout(write)` (the host holds at most one write's bytes meanwhile).
#[test]
fn host_tcp_streams_stall_at_the_write_timeout_when_the_peer_never_reads() {
    use std::time::{Duration, Instant};
    use wsengine_host::{MessageKind, TimeoutKind};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .unwrap();
    for size in [1024usize, 1 << 20] {
        rt.block_on(async {
            let (mut store, w) = runtime()
                .websocket_async(websocket_component())
                .await
                .unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = NeverReads::connect(addr);
            let (tcp, _) = listener.accept().await.unwrap();
            let (input, output) = tcp_streams(&mut store, tcp).unwrap();
            let mut o = options();
            o.write_timeout_ms = Some(300);
            let (ws, _) = w
                .wsengine_websocket_server()
                .call_accept_streams(&mut store, input, output, &o)
                .await
                .unwrap()
                .unwrap();
            let s = w.wsengine_websocket_sockets().websocket();
            let data = vec![0x5a; size];
            let mut outcome = None;
            // At most 64 MiB: far beyond any loopback socket buffer.
            for _ in 0..(64 << 20) / size {
                let started = Instant::now();
                let r = s.call_write_some(&mut store, ws, true, MessageKind::Binary, &data);
                if let Err(e) = r.await.unwrap() {
                    outcome = Some((e, started.elapsed()));
                    break;
                }
            }
            client.stop();
            let (e, stalled) = outcome.expect("64 MiB written to a peer that never reads");
            assert!(
                matches!(e, WsError::Timeout(TimeoutKind::Write)),
                "{size}: {e:?}"
            );
            assert!(
                stalled >= Duration::from_millis(290) && stalled < Duration::from_secs(3),
                "{size}: {stalled:?}"
            );
            ws.resource_drop_async(&mut store).await.unwrap();
        });
    }
}

/// `wsengine-host echo-server` serves its connections side by side (`flags` choose the
/// server): a client that connects and never sends its request, and one that completes its
/// handshake and then stays silent, do not hold up the next one; the second is still served
/// after it.
fn serves_connections_side_by_side(flags: &[&str]) {
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// Kills the server however the test ends.
    struct Server(Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    // A free port, released for the server (the test's ports are loopback only).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let component = wsengine_host::component_dir().join("websocket.wasm");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_wsengine-host"))
            .args(["echo-server", "--no-deflate", "--addr", &addr])
            .args(flags)
            .arg("--component")
            .arg(&component)
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    let wordless = loop {
        match std::net::TcpStream::connect(&addr) {
            Ok(tcp) => break tcp,
            Err(_) => assert!(started.elapsed() < IO_TIMEOUT, "the server never listened"),
        }
        thread::sleep(Duration::from_millis(50));
    };
    // The clients run on a thread of their own, so that a server serving one connection at
    // a time fails the test (the next handshake is never answered) instead of hanging it.
    let (done, outcome) = mpsc::channel();
    thread::spawn(move || {
        let url = format!("ws://{addr}/");
        let (mut silent, _) = WebSocket::connect(&url, native_config(false)).unwrap();
        let (mut next, _) = WebSocket::connect(&url, native_config(false)).unwrap();
        next.write_text("second").unwrap();
        let second = next.read().unwrap();
        silent.write_text("first").unwrap();
        let first = silent.read().unwrap();
        let _ = next.close(1000, "");
        let _ = silent.close(1000, "");
        let _ = done.send((first, second));
    });
    let (first, second) = outcome
        .recv_timeout(Duration::from_secs(10))
        .expect("a second client served while the first stays silent");
    assert_eq!(second, NativeMessage::Text("second".into()));
    assert_eq!(first, NativeMessage::Text("first".into()));
    drop(wordless);
}

/// The default server: one instance, its own wasi:sockets listener, one poll over every
/// connection.
#[test]
fn the_wasi_sockets_echo_server_serves_connections_side_by_side() {
    serves_connections_side_by_side(&[]);
}

/// `--host-tcp`: an instance per connection on the host's TCP streams.
#[test]
fn the_host_tcp_echo_server_serves_connections_side_by_side() {
    serves_connections_side_by_side(&["--host-tcp"]);
}
