//! The tokio adapter end to end over loopback TCP and in-memory pipes: echo, fragmentation,
//! split halves in two tasks, back-pressure, timers, compression, Stream + Sink.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use wsengine::io::tokio::{accept_async, client_async, connect_async, WebSocketStream};
use wsengine::{
    ClientRequest, CloseCode, Config, DeflateConfig, Error, Event, Message, MessageKind,
    TimeoutKind,
};

/// Every test is bounded: a hang fails it instead of stalling the suite.
const LIMIT: Duration = Duration::from_secs(20);

async fn listener() -> (TcpListener, String) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/", l.local_addr().unwrap());
    (l, url)
}

/// An echo server for one connection; returns how the connection ended.
async fn echo_once(l: TcpListener, config: Config) -> Result<(), Error> {
    let (tcp, _) = l.accept().await.unwrap();
    let (mut ws, _) = accept_async(tcp, config).await?;
    loop {
        match ws.read().await {
            Ok(m) => ws.write(&m).await?,
            Err(Error::Closed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn echo_text_binary_and_large_then_close() {
    timeout(LIMIT, async {
        let (l, url) = listener().await;
        let server = tokio::spawn(echo_once(l, Config::default()));
        let (mut ws, info) = connect_async(&url, Config::default()).await.unwrap();
        assert_eq!(info.extensions, None);
        ws.write_text("hello").await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Message::Text("hello".into()));
        for n in [0, 1, 125, 126, 65_535, 65_536, 3_000_000] {
            let m = Message::Binary(payload(n));
            ws.write(&m).await.unwrap();
            assert_eq!(ws.read().await.unwrap(), m, "size {n}");
        }
        ws.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert_eq!(ws.peer_close().unwrap().code, CloseCode::NORMAL);
        server.await.unwrap().unwrap();
        // Everything after the close handshake reports the end.
        assert!(matches!(ws.read().await, Err(Error::Closed)));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn fragments_are_reassembled_and_can_be_read_piece_by_piece() {
    timeout(LIMIT, async {
        let (l, url) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let (mut ws, _) = accept_async(tcp, Config::default()).await.unwrap();
            // Whole-message read of a three-frame message.
            let whole = ws.read().await.unwrap();
            // Streaming read of the next one: pieces, the last one with fin.
            let mut pieces = Vec::new();
            loop {
                let f = ws.read_some().await.unwrap();
                pieces.extend_from_slice(&f.data);
                if f.fin {
                    break;
                }
            }
            ws.write(&whole).await.unwrap();
            ws.write_binary(&pieces).await.unwrap();
            assert!(matches!(ws.read().await, Err(Error::Closed)));
        });
        let (mut ws, _) = connect_async(&url, Config::default()).await.unwrap();
        ws.write_some(false, MessageKind::Text, b"written ")
            .await
            .unwrap();
        ws.write_some(false, MessageKind::Text, b"in three ")
            .await
            .unwrap();
        ws.write_some(true, MessageKind::Text, b"frames")
            .await
            .unwrap();
        let big = payload(200_000);
        for chunk in big.chunks(50_000) {
            let fin = chunk.as_ptr_range().end == big.as_ptr_range().end;
            ws.write_some(fin, MessageKind::Binary, chunk)
                .await
                .unwrap();
        }
        assert_eq!(
            ws.read().await.unwrap(),
            Message::Text("written in three frames".into())
        );
        assert_eq!(ws.read().await.unwrap(), Message::Binary(big));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stream_and_sink() {
    timeout(LIMIT, async {
        let (l, url) = listener().await;
        let server = tokio::spawn(echo_once(l, Config::default()));
        let (mut ws, _) = connect_async(&url, Config::default()).await.unwrap();
        for i in 0..10 {
            ws.send(Message::Text(format!("m{i}"))).await.unwrap();
        }
        for i in 0..10 {
            let m = ws.next().await.unwrap().unwrap();
            assert_eq!(m, Message::Text(format!("m{i}")));
        }
        // Sink::close sends the close frame; the stream ends after the server's reply.
        SinkExt::close(&mut ws).await.unwrap();
        assert!(ws.next().await.is_none());
        server.await.unwrap().unwrap();
    })
    .await
    .unwrap();
}

// Two worker threads: the halves really run at once and contend for the shared core.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_halves_in_two_tasks_with_pings_and_a_close_mid_stream() {
    timeout(LIMIT, async {
        let (l, url) = listener().await;
        // Server: one task reads (and so answers pings), another writes a flood of messages
        // until the connection is over.
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let (ws, _) = accept_async(tcp, Config::default()).await.unwrap();
            let (mut rx, mut tx) = ws.split();
            let writer = tokio::spawn(async move {
                let mut sent = 0u32;
                loop {
                    if tx.write_text(&format!("n{sent}")).await.is_err() {
                        return sent;
                    }
                    sent += 1;
                    if sent == 200_000 {
                        return sent;
                    }
                }
            });
            let mut got = Vec::new();
            let end = loop {
                match rx.read().await {
                    Ok(m) => got.push(m),
                    Err(e) => break e,
                }
            };
            let sent = writer.await.unwrap();
            (got, end, sent, rx.peer_close())
        });

        let (mut ws, _) = connect_async(&url, Config::default()).await.unwrap();
        let mut pongs = 0;
        let mut received = 0u32;
        for i in 0..20u8 {
            ws.ping(&[i]).await.unwrap();
            ws.write_text(&format!("c{i}")).await.unwrap();
            // Read until our ping's pong comes back, amid the server's flood.
            loop {
                match ws.read_event().await.unwrap() {
                    Event::Pong(p) if p == [i] => {
                        pongs += 1;
                        break;
                    }
                    Event::Message(Message::Text(t)) => {
                        assert_eq!(t, format!("n{received}"), "in order, none lost");
                        received += 1;
                    }
                    _ => {}
                }
            }
        }
        assert_eq!(pongs, 20);
        // Close while the server is still writing: its messages before the close reply are
        // still delivered, then the handshake ends the connection.
        ws.write_binary(b"").await.unwrap();
        ws.connection_mut()
            .close(CloseCode::GOING_AWAY, "enough")
            .unwrap();
        ws.flush().await.unwrap();
        loop {
            match ws.read_event().await {
                Ok(Event::Message(Message::Text(t))) => {
                    assert_eq!(t, format!("n{received}"));
                    received += 1;
                }
                Ok(Event::Close(_)) | Err(Error::Closed) => break,
                Ok(_) => {}
                Err(e) => panic!("{e}"),
            }
        }
        let (got, end, sent, peer_close) = server.await.unwrap();
        assert!(matches!(end, Error::Closed), "{end:?}");
        assert_eq!(peer_close.unwrap().code, CloseCode::GOING_AWAY);
        assert_eq!(got.len(), 21);
        assert_eq!(got[0], Message::Text("c0".into()));
        assert!(
            sent < 200_000,
            "the writer stopped when the connection closed"
        );
        assert!(received <= sent);
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_half_alone_answers_pings() {
    timeout(LIMIT, async {
        let (l, url) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let (ws, _) = accept_async(tcp, Config::default()).await.unwrap();
            // The write half is kept but never used.
            let (mut rx, _tx) = ws.split();
            let mut n = 0;
            while rx.read().await.is_ok() {
                n += 1;
            }
            n
        });
        let (mut ws, _) = connect_async(&url, Config::default()).await.unwrap();
        for i in 0..50u8 {
            ws.ping(&[i; 100]).await.unwrap();
            let ev = ws.read_event().await.unwrap();
            assert!(matches!(ev, Event::Pong(ref p) if p == &[i; 100]), "{ev:?}");
        }
        ws.write_text("one").await.unwrap();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert_eq!(server.await.unwrap(), 1);
    })
    .await
    .unwrap();
}

/// A client and a server engine joined by an in-memory pipe of `capacity` bytes.
async fn pipe(
    capacity: usize,
    config: Config,
) -> (
    WebSocketStream<tokio::io::DuplexStream>,
    WebSocketStream<tokio::io::DuplexStream>,
) {
    let (a, b) = tokio::io::duplex(capacity);
    let req = ClientRequest::new("ws://localhost/").unwrap();
    let cfg = config.clone();
    let (client, server) = tokio::join!(client_async(req, a, cfg), accept_async(b, config));
    (client.unwrap().0, server.unwrap().0)
}

#[tokio::test]
async fn a_write_completes_only_when_the_transport_took_it() {
    timeout(LIMIT, async {
        let (mut client, mut server) = pipe(4096, Config::default()).await;
        let big = payload(1 << 20);
        // Nobody reads the client side: the write cannot finish.
        let stalled = timeout(Duration::from_millis(300), server.write_binary(&big)).await;
        assert!(
            stalled.is_err(),
            "a 1 MiB write into a 4 KiB pipe must wait"
        );
        // What was framed stays bounded by the one message (plus its headers) ...
        let pending = server.connection().pending_output();
        assert!(pending > 0 && pending <= big.len() + 1024, "{pending}");
        // ... and further writes wait for it instead of queueing more.
        let second = timeout(Duration::from_millis(100), server.write_text("after")).await;
        assert!(second.is_err());
        assert_eq!(server.connection().pending_output(), pending);
        // Once the client reads, both complete, in order and intact.
        let (r, m) = tokio::join!(server.write_text("after"), client.read());
        r.unwrap();
        assert_eq!(m.unwrap(), Message::Binary(big));
        assert_eq!(client.read().await.unwrap(), Message::Text("after".into()));
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn handshake_idle_and_keepalive_timeouts_fire() {
    timeout(LIMIT, async {
        // Handshake: a TCP peer that never sends its request.
        let (l, _) = listener().await;
        let addr = l.local_addr().unwrap();
        let _silent = TcpStream::connect(addr).await.unwrap();
        let (tcp, _) = l.accept().await.unwrap();
        let cfg = Config {
            handshake_timeout_ms: Some(200),
            ..Config::default()
        };
        let started = tokio::time::Instant::now();
        let r = accept_async(tcp, cfg).await;
        assert!(matches!(r, Err(Error::Timeout(TimeoutKind::Handshake))));
        assert!(started.elapsed() >= Duration::from_millis(190));

        // Idle: an open peer that sends nothing.
        let cfg = Config {
            idle_timeout_ms: Some(200),
            ..Config::default()
        };
        let (_client, mut server) = pipe(1 << 16, cfg).await;
        let r = server.read().await;
        assert!(matches!(r, Err(Error::Timeout(TimeoutKind::Idle))), "{r:?}");

        // Keepalive: pings every 100 ms are answered by a reading peer, so the connection
        // stays up for many intervals ...
        let cfg = Config {
            keepalive_interval_ms: Some(100),
            keepalive_timeout_ms: 150,
            ..Config::default()
        };
        let (mut client, mut server) = pipe(1 << 16, cfg).await;
        let reader = tokio::spawn(async move {
            let mut pings = 0;
            loop {
                match client.read_event().await {
                    Ok(Event::Ping(_)) => pings += 1,
                    // The client runs the same keepalive and gets its own pongs.
                    Ok(Event::Pong(_)) => {}
                    Ok(Event::Message(_)) => return (pings, client),
                    other => panic!("{other:?}"),
                }
            }
        });
        let r = timeout(Duration::from_millis(700), server.read()).await;
        assert!(r.is_err(), "still open while pongs come back");
        server.write_text("stop").await.unwrap();
        let (pings, client) = reader.await.unwrap();
        assert!(pings >= 4, "{pings} pings");
        // ... and fails once the peer stops answering.
        let r = server.read().await;
        assert!(
            matches!(r, Err(Error::Timeout(TimeoutKind::Keepalive))),
            "{r:?}"
        );
        drop(client);
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn compression_is_negotiated_and_round_trips() {
    timeout(LIMIT, async {
        let deflate = Config {
            deflate: Some(DeflateConfig::default()),
            ..Config::default()
        };
        let (l, url) = listener().await;
        let server = tokio::spawn(echo_once(l, deflate.clone()));
        let (mut ws, info) = connect_async(&url, deflate).await.unwrap();
        let ext = info.extensions.unwrap();
        assert!(ext.starts_with("permessage-deflate"), "{ext}");
        let text = "compressible ".repeat(100_000);
        ws.write_text(&text).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Message::Text(text));
        let noise = payload(300_000);
        ws.write_binary(&noise).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Message::Binary(noise));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        server.await.unwrap().unwrap();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_bad_request_is_answered_with_an_http_error() {
    timeout(LIMIT, async {
        let (l, _) = listener().await;
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            accept_async(tcp, Config::default()).await.map(|_| ())
        });
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let req = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                   Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n";
        tcp.write_all(req.as_bytes()).await.unwrap();
        let mut answer = String::new();
        tcp.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 426"), "{answer}");
        assert!(matches!(server.await.unwrap(), Err(Error::Handshake(_))));
    })
    .await
    .unwrap();
}

/// Large server messages go out with vectored writes straight from the caller's buffer; a
/// write cancelled while the transport is full must leave the rest in the engine's output, so
/// every message still arrives whole and in order. (A write cancelled before its message was
/// framed — while earlier output was still waiting — sends nothing: also whole.)
#[tokio::test]
async fn cancelled_large_writes_still_deliver_whole_messages() {
    timeout(LIMIT, async {
        let (l, url) = listener().await;
        let server = tokio::spawn(async move {
            let (tcp, _) = l.accept().await.unwrap();
            let (mut ws, _) = accept_async(tcp, Config::default()).await.unwrap();
            let (mut cancelled, mut completed) = (0, Vec::new());
            for i in 0..6 {
                let m = payload((4 << 20) + i);
                match timeout(Duration::from_millis(1), ws.write_binary(&m)).await {
                    Ok(r) => {
                        r.unwrap();
                        completed.push(i);
                    }
                    Err(_) => cancelled += 1,
                }
            }
            ws.write_text("end").await.unwrap();
            assert!(matches!(ws.read().await, Err(Error::Closed)));
            (cancelled, completed)
        });
        let (mut ws, _) = connect_async(&url, Config::default()).await.unwrap();
        // Let the server fill the socket buffers before anything is read.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut got = Vec::new();
        loop {
            match ws.read().await.unwrap() {
                Message::Binary(b) => {
                    let i = b.len() - (4 << 20);
                    assert!(b == payload(b.len()), "message {i} corrupted");
                    got.push(i);
                }
                Message::Text(t) => {
                    assert_eq!(t, "end");
                    break;
                }
            }
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let (cancelled, completed) = server.await.unwrap();
        assert!(cancelled > 0, "the test must cancel at least one write");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "in order: {got:?}");
        assert!(
            completed.iter().all(|i| got.contains(i)),
            "{completed:?} written, {got:?} received"
        );
        assert!(
            got.len() > completed.len(),
            "a cancelled write still went out: {got:?}"
        );
    })
    .await
    .unwrap();
}

/// A peer that never reads: once the socket buffers are full, a write waits
/// `write_timeout_ms` without progress and fails with `Timeout(Write)`, small messages (framed
/// into the engine's output) and large ones (vectored) alike.
#[tokio::test]
async fn a_peer_that_never_reads_fails_writes_at_the_write_timeout() {
    timeout(LIMIT, async {
        for size in [1024, 64 * 1024] {
            let (l, url) = listener().await;
            let server = tokio::spawn(async move {
                let (tcp, _) = l.accept().await.unwrap();
                let cfg = Config {
                    write_timeout_ms: Some(300),
                    ..Config::default()
                };
                let (mut ws, _) = accept_async(tcp, cfg).await.unwrap();
                let m = payload(size);
                for _ in 0..(64 << 20) / size {
                    let started = std::time::Instant::now();
                    if let Err(e) = ws.write_binary(&m).await {
                        let after = ws.write_binary(b"more").await;
                        return (e, started.elapsed(), after);
                    }
                }
                panic!("64 MiB written to a peer that never reads");
            });
            // Connected, then never read (kept open until the server gives up).
            let (_ws, _) = connect_async(&url, Config::default()).await.unwrap();
            let (e, stalled, after) = server.await.unwrap();
            assert!(
                matches!(e, Error::Timeout(TimeoutKind::Write)),
                "{size}: {e:?}"
            );
            assert!(
                stalled >= Duration::from_millis(290) && stalled < Duration::from_millis(1500),
                "{size}: {stalled:?}"
            );
            assert!(matches!(after, Err(Error::Usage(_))), "{size}: {after:?}");
        }
    })
    .await
    .unwrap();
}
