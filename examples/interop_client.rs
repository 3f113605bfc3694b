//! Holds a fixed conversation with an echo server (the same one `interop/messages.mjs` and
//! `interop/py_peer.py` hold), checks every echo, closes, and prints the negotiated
//! extensions. Exits 1 if any echo differs. Used by `cargo xtask test`'s interop suite.
//!
//! `cargo run --example interop_client -- --url ws://127.0.0.1:9002 [deflate flags]`

#[path = "support/args.rs"]
mod args;

use wsengine::io::WebSocket;
use wsengine::{CloseCode, Error, Message};

fn conversation() -> Vec<Message> {
    let mut out = Vec::new();
    for i in 0..50 {
        let rows: Vec<String> = (0..10 + i)
            .map(|j| format!(r#"{{"id":{j},"name":"user-{j}","active":{}}}"#, j % 3 == 0))
            .collect();
        out.push(Message::Text(format!(
            r#"{{"seq":{i},"rows":[{}]}}"#,
            rows.join(",")
        )));
    }
    for i in 0..5usize {
        out.push(Message::Binary(
            (0..100_000usize)
                .map(|j| ((j * (i + 7) + (j >> 5)) & 0xff) as u8)
                .collect(),
        ));
    }
    out.push(Message::Text("κόσμε €𝄞 ".repeat(100)));
    out.push(Message::Text(String::new()));
    out.push(Message::Text("x".repeat(1 << 20)));
    out
}

fn main() -> Result<(), Error> {
    let argv: Vec<String> = std::env::args().collect();
    let url = args::arg(&argv, "--url").unwrap_or("ws://127.0.0.1:9002/");
    let (mut ws, info) = WebSocket::connect(url, args::config_from_args(&argv))?;
    let expected = conversation();
    for (i, m) in expected.iter().enumerate() {
        ws.write(m)?;
        if ws.read()? != *m {
            eprintln!("interop_client: echo {i} differs");
            std::process::exit(1);
        }
    }
    ws.close(CloseCode::NORMAL, "done")?;
    println!(
        "extensions: {}",
        info.extensions.as_deref().unwrap_or("none")
    );
    Ok(())
}
