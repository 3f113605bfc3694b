//! The hyper upgrade helper against a real hyper 1 server over loopback: refused requests get
//! the engine's 400/426, a good one opens with a subprotocol and permessage-deflate.

use std::convert::Infallible;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use wsengine::io::tokio::connect_async_with;
use wsengine::io::tokio::hyper::upgrade;
use wsengine::{Accept, ClientRequest, CloseCode, Config, DeflateConfig, Error, Message, Request};

const LIMIT: Duration = Duration::from_secs(20);

fn deflate() -> Config {
    Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    }
}

/// A hyper server whose every request is a WebSocket upgrade to an echo that speaks `chat`.
async fn server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = l.accept().await.unwrap();
            let service = service_fn(
                |mut req: hyper::Request<hyper::body::Incoming>| async move {
                    let accept = Box::new(|r: &Request| Ok(Accept::select_protocol(r, &["chat"])));
                    Ok::<_, Infallible>(match upgrade(&mut req, deflate(), Some(accept)) {
                        Ok((response, pending)) => {
                            tokio::spawn(async move {
                                let (mut ws, _) = pending.await.unwrap();
                                while let Ok(m) = ws.read().await {
                                    ws.write(&m).await.unwrap();
                                }
                            });
                            response
                        }
                        Err(refused) => refused.response,
                    })
                },
            );
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades(),
            );
        }
    });
    addr.to_string()
}

/// Sends a raw request head and returns the whole answer (the server closes after an error).
async fn raw(addr: &str, head: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn bad_requests_get_400_and_426() {
    timeout(LIMIT, async {
        let addr = server().await;
        let plain = raw(
            &addr,
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
        assert!(plain.contains("Upgrade: websocket"), "says why: {plain}");
        let old = raw(
            &addr,
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        )
        .await;
        assert!(old.starts_with("HTTP/1.1 426"), "{old}");
        assert!(
            old.to_ascii_lowercase()
                .contains("sec-websocket-version: 13"),
            "{old}"
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_good_upgrade_negotiates_subprotocol_and_compression() {
    timeout(LIMIT, async {
        let addr = server().await;
        let req = ClientRequest::new(&format!("ws://{addr}/chat"))
            .unwrap()
            .protocol("other")
            .protocol("chat");
        let (mut ws, info) = connect_async_with(req, deflate()).await.unwrap();
        assert_eq!(info.protocol.as_deref(), Some("chat"));
        let ext = info.extensions.unwrap();
        assert!(ext.starts_with("permessage-deflate"), "{ext}");
        let text = "over hyper ".repeat(10_000);
        ws.write_text(&text).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Message::Text(text));
        let blob: Vec<u8> = (0..500_000u32).map(|i| (i % 253) as u8).collect();
        ws.write_binary(&blob).await.unwrap();
        assert_eq!(ws.read().await.unwrap(), Message::Binary(blob));
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(matches!(ws.read().await, Err(Error::Closed)));
    })
    .await
    .unwrap();
}
