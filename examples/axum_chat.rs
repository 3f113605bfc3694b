//! A broadcast chat server on axum: every text message a client sends goes to every client.
//! The WebSocket upgrade goes through `wsengine::io::tokio::hyper::upgrade` (the engine checks
//! the request and negotiates subprotocol and permessage-deflate).
//!
//! `cargo run --release --features hyper --example axum_chat -- --addr 127.0.0.1:19220
//! [deflate flags]`
//!
//! Clients connect to `ws://ADDR/chat` (subprotocol `chat` is agreed if offered); `GET /`
//! answers a plain-text hint.

#[path = "support/args.rs"]
mod args;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::broadcast;
use wsengine::io::tokio::hyper::{upgrade, HyperWebSocket};
use wsengine::{Accept, Config, Error, Message};

#[derive(Clone)]
struct Chat {
    config: Config,
    /// Every message, to every connection. A connection that falls more than this many
    /// messages behind skips the ones it missed rather than making the others wait.
    tx: broadcast::Sender<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args::arg(&args, "--addr").unwrap_or("127.0.0.1:19220");
    let chat = Chat {
        config: args::config_from_args(&args),
        tx: broadcast::channel(256).0,
    };
    let app = Router::new()
        .route("/", get(|| async { "connect a WebSocket to /chat\n" }))
        .route("/chat", get(join))
        .with_state(chat);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("axum chat on ws://{}/chat", listener.local_addr()?);
    axum::serve(listener, app).await
}

async fn join(State(chat): State<Chat>, mut req: Request) -> Response {
    let accept = Box::new(|r: &wsengine::Request| Ok(Accept::select_protocol(r, &["chat"])));
    match upgrade(&mut req, chat.config.clone(), Some(accept)) {
        Ok((response, pending)) => {
            tokio::spawn(async move {
                match pending.await {
                    Ok((ws, _)) => talk(ws, chat.tx).await,
                    Err(e) => eprintln!("upgrade failed: {e}"),
                }
            });
            response.into_response()
        }
        Err(refused) => refused.response.into_response(),
    }
}

/// One task reads the client's messages into the broadcast; this one writes the broadcast to
/// the client. Either ending ends both.
async fn talk(ws: HyperWebSocket, tx: broadcast::Sender<String>) {
    let (mut rx_ws, mut tx_ws) = ws.split();
    let mut feed = tx.subscribe();
    let mut reader = tokio::spawn(async move {
        loop {
            match rx_ws.read().await {
                Ok(Message::Text(t)) => {
                    let _ = tx.send(t);
                }
                Ok(Message::Binary(_)) => {}
                Err(Error::Closed) => return,
                Err(e) => {
                    eprintln!("client left: {e}");
                    return;
                }
            }
        }
    });
    loop {
        tokio::select! {
            _ = &mut reader => break,
            m = feed.recv() => match m {
                Ok(text) => {
                    if tx_ws.write_text(&text).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    reader.abort();
}
