//! A tokio client that shows a short conversation with an echo server, then the same
//! connection split into a reading task and a writing task.
//!
//! `cargo run --release --features tokio --example tokio_client -- --url ws://127.0.0.1:19201
//! [deflate flags]`

#[path = "support/args.rs"]
mod args;

use wsengine::io::tokio::connect_async;
use wsengine::{CloseCode, Error, Event, Message, MessageKind};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let url = args::arg(&args, "--url").unwrap_or("ws://127.0.0.1:9002");
    let config = args::config_from_args(&args);

    let (mut ws, info) = connect_async(url, config).await?;
    println!(
        "tokio client: connected to {url} (extensions: {})",
        info.extensions.as_deref().unwrap_or("none")
    );

    ws.write_text("hello from the tokio client").await?;
    println!(
        "tokio client: sent text, got back {:?}",
        text(ws.read().await?)
    );

    let blob: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    ws.write_binary(&blob).await?;
    let back = ws.read().await?;
    println!(
        "tokio client: sent 1 MB binary, got back {} bytes, identical: {}",
        back.len(),
        back.as_bytes() == blob
    );

    ws.write_some(false, MessageKind::Text, b"written ").await?;
    ws.write_some(false, MessageKind::Text, b"in three ")
        .await?;
    ws.write_some(true, MessageKind::Text, b"frames").await?;
    println!(
        "tokio client: sent a 3-frame message, got back {:?}",
        text(ws.read().await?)
    );

    ws.ping(b"are you there?").await?;
    loop {
        if let Event::Pong(p) = ws.read_event().await? {
            println!("tokio client: pong {:?}", String::from_utf8_lossy(&p));
            break;
        }
    }

    // Two tasks: one writes ten messages and closes, the other reads the echoes until the
    // close handshake ends the connection.
    let (mut rx, mut tx) = ws.split();
    let writer = tokio::spawn(async move {
        for i in 0..10 {
            tx.write_text(&format!("split {i}")).await?;
        }
        tx.close(CloseCode::NORMAL, "done").await
    });
    let mut echoed = 0;
    loop {
        match rx.read().await {
            Ok(_) => echoed += 1,
            Err(Error::Closed) => break,
            Err(e) => return Err(e),
        }
    }
    writer.await.expect("writer task")?;
    println!("tokio client: split halves, {echoed} echoes read by the reading task");
    match rx.peer_close() {
        Some(c) => println!(
            "tokio client: closed cleanly, server answered {} {:?}",
            c.code, c.reason
        ),
        None => println!("tokio client: closed, server answered without a code"),
    }
    Ok(())
}

fn text(m: Message) -> String {
    match m {
        Message::Text(t) => t,
        Message::Binary(b) => format!("<{} binary bytes>", b.len()),
    }
}
