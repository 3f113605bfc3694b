//! A native client that shows a short conversation with an echo server.
//!
//! `cargo run --release --example client -- --url ws://127.0.0.1:9002`
//!
//! `wss://` URLs need `--features rustls`; they trust the webpki roots, or with `--ca CA.pem`
//! only the certificates in that file (e.g. a test CA).

use wsengine::io::{ClientStream, WebSocket};
#[cfg(feature = "rustls")]
use wsengine::ClientRequest;
use wsengine::{CloseCode, Config, DeflateConfig, Error, Event, Message, MessageKind, OpenInfo};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let url = arg(&args, "--url").unwrap_or("ws://127.0.0.1:9002");
    let config = Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    };

    let (mut ws, info) = match arg(&args, "--ca") {
        None => WebSocket::connect(url, config)?,
        Some(ca) => connect_with_ca(url, config, ca)?,
    };
    println!(
        "native client: connected to {url} (extensions: {})",
        info.extensions.as_deref().unwrap_or("none")
    );

    ws.write_text("hello from the native client")?;
    println!("native client: sent text, got back {:?}", text(ws.read()?));

    let blob: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    ws.write_binary(&blob)?;
    let back = ws.read()?;
    println!(
        "native client: sent 1 MB binary, got back {} bytes, identical: {}",
        back.len(),
        back.as_bytes() == blob
    );

    ws.write_some(false, MessageKind::Text, b"written ")?;
    ws.write_some(false, MessageKind::Text, b"in three ")?;
    ws.write_some(true, MessageKind::Text, b"frames")?;
    println!(
        "native client: sent a 3-frame message, got back {:?}",
        text(ws.read()?)
    );

    ws.ping(b"are you there?")?;
    loop {
        if let Event::Pong(p) = ws.read_event()? {
            println!("native client: pong {:?}", String::from_utf8_lossy(&p));
            break;
        }
    }

    ws.close(CloseCode::NORMAL, "done")?;
    match ws.peer_close() {
        Some(c) => println!(
            "native client: closed cleanly, server answered {} {:?}",
            c.code, c.reason
        ),
        None => println!("native client: closed, server answered without a code"),
    }
    Ok(())
}

/// Connects trusting only the certificates in the PEM file `ca`.
#[cfg(feature = "rustls")]
fn connect_with_ca(
    url: &str,
    config: Config,
    ca: &str,
) -> Result<(WebSocket<ClientStream>, OpenInfo), Error> {
    let pem = std::fs::read(ca)?;
    let tls = wsengine::tls::client_config_with_roots(wsengine::tls::root_store_from_pem(&pem)?);
    WebSocket::connect_tls(ClientRequest::new(url)?, config, tls)
}

#[cfg(not(feature = "rustls"))]
fn connect_with_ca(
    _: &str,
    _: Config,
    _: &str,
) -> Result<(WebSocket<ClientStream>, OpenInfo), Error> {
    Err(wsengine::TlsError::NotEnabled.into())
}

fn text(m: Message) -> String {
    match m {
        Message::Text(t) => t,
        Message::Binary(b) => format!("<{} binary bytes>", b.len()),
    }
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
