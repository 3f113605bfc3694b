//! The guest's logic (wasm32-wasip2 only).

use std::process::ExitCode;

wit_bindgen::generate!({
    inline: "
        package wsengine:echo-client;

        world echo-client {
            import wsengine:websocket/client@0.1.0;
            import wsengine:websocket/sockets@0.1.0;
            import wasi:clocks/monotonic-clock@0.2.12;
        }
    ",
    path: "../../wit",
    generate_all,
});

use wasi::clocks::monotonic_clock;
use wasi::io::poll;
use wsengine::websocket::client;
use wsengine::websocket::sockets::Websocket;
use wsengine::websocket::types::{Message, Options};

/// How long `--two` waits for each echo before giving up.
const POLL_TIMEOUT_NS: u64 = 5_000_000_000;
/// How many polls `--two` allows per echo (a message may arrive in several reads).
const MAX_POLLS: usize = 100;

fn options() -> Options {
    Options {
        protocols: Vec::new(),
        origin: None,
        headers: Vec::new(),
        compression: None,
        max_message_size: None,
        max_frame_size: None,
        max_fragments: None,
        max_handshake_bytes: None,
        max_handshake_headers: None,
        max_handshake_body_bytes: None,
        auto_fragment: None,
        write_buffer_bytes: None,
        auto_pong: None,
        handshake_timeout_ms: None,
        close_timeout_ms: None,
        keepalive_interval_ms: None,
        keepalive_timeout_ms: None,
        idle_timeout_ms: None,
        write_timeout_ms: None,
        tls_roots_pem: None,
    }
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let url = arg(&args, "--url").unwrap_or("ws://127.0.0.1:9002");
    let count: usize = arg(&args, "--count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(3);
    let result = if args.iter().any(|a| a == "--two") {
        two(url)
    } else {
        echo(url, count)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn connect(url: &str) -> Result<Websocket, String> {
    let (ws, info) = client::connect(url, &options()).map_err(|e| format!("connect: {e:?}"))?;
    println!("connected to {url} (subprotocol {:?})", info.protocol);
    Ok(ws)
}

fn same(a: &Message, b: &Message) -> bool {
    match (a, b) {
        (Message::Text(a), Message::Text(b)) => a == b,
        (Message::Binary(a), Message::Binary(b)) => a == b,
        _ => false,
    }
}

fn check_echo<E: std::fmt::Debug>(sent: &Message, got: Result<Message, E>) -> Result<(), String> {
    match got {
        Ok(m) if same(&m, sent) => Ok(()),
        other => Err(format!("sent {sent:?}, got {other:?}")),
    }
}

/// Sends `count` text messages and one binary message, checks each echo, closes.
fn echo(url: &str, count: usize) -> Result<(), String> {
    let ws = connect(url)?;
    for i in 0..count {
        let m = Message::Text(format!("hello {i}"));
        ws.write(&m).map_err(|e| format!("write: {e:?}"))?;
        check_echo(&m, ws.read())?;
        println!("echoed {m:?}");
    }
    let m = Message::Binary(vec![0, 1, 2, 254, 255]);
    ws.write(&m).map_err(|e| format!("write: {e:?}"))?;
    check_echo(&m, ws.read())?;
    println!("echoed {m:?}");
    ws.close(1000, "bye").map_err(|e| format!("close: {e:?}"))?;
    println!("closed; the server said {:?}", ws.peer_close());
    Ok(())
}

/// Waits with one `poll` on both websockets (and a timer) until `target` has a message.
fn await_message(sockets: [&Websocket; 2], target: usize) -> Result<Message, String> {
    for _ in 0..MAX_POLLS {
        let (a, b) = (sockets[0].subscribe(), sockets[1].subscribe());
        let timer = monotonic_clock::subscribe_duration(POLL_TIMEOUT_NS);
        let ready = poll::poll(&[&a, &b, &timer]);
        // Pollables go before the websockets they came from.
        drop((a, b, timer));
        println!("poll: ready {ready:?}");
        if ready == [2] {
            return Err("timed out waiting for an echo".into());
        }
        let other = 1 - target;
        if ready.contains(&(other as u32)) {
            if let Some(m) = sockets[other].try_read().map_err(|e| format!("{e:?}"))? {
                return Err(format!("unexpected message on websocket {other}: {m:?}"));
            }
        }
        if ready.contains(&(target as u32)) {
            if let Some(m) = sockets[target].try_read().map_err(|e| format!("{e:?}"))? {
                return Ok(m);
            }
        }
    }
    Err("too many polls without a message".into())
}

/// Two websockets, one poll: each echo must wake the poll on its own websocket only.
fn two(url: &str) -> Result<(), String> {
    let a = connect(url)?;
    let b = connect(url)?;
    for (target, text) in [(1, "to b"), (0, "to a"), (1, "to b again")] {
        let m = Message::Text(text.into());
        [&a, &b][target]
            .write(&m)
            .map_err(|e| format!("write: {e:?}"))?;
        check_echo(&m, await_message([&a, &b], target))?;
        println!("websocket {target} echoed {m:?} (one poll over both)");
    }
    a.close(1000, "").map_err(|e| format!("close: {e:?}"))?;
    b.close(1000, "").map_err(|e| format!("close: {e:?}"))?;
    println!("both closed");
    Ok(())
}
