//! Runs every case the Autobahn fuzzing server announces, echoing each message back, then
//! asks it to write its reports.
//!
//! `cargo run --release --example autobahn_client -- --url ws://127.0.0.1:9001 --agent NAME`

use wsengine::io::WebSocket;
use wsengine::{Config, DeflateConfig, Error};

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let url = arg(&args, "--url")
        .unwrap_or("ws://127.0.0.1:9001")
        .trim_end_matches('/')
        .to_owned();
    let agent = arg(&args, "--agent").unwrap_or("wsengine").to_owned();
    let mut config = Config::default();
    if !args.iter().any(|a| a == "--no-deflate") {
        config.deflate = Some(DeflateConfig::default());
    }

    let (mut ws, _) = WebSocket::connect(&format!("{url}/getCaseCount"), Config::default())?;
    let count: u32 = match ws.read()? {
        wsengine::Message::Text(t) => t.trim().parse().map_err(|_| bad(&t))?,
        other => return Err(bad(&format!("{other:?}"))),
    };
    drain(&mut ws);
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{url}/runCase?case={case}&agent={agent}");
        match WebSocket::connect(&url, config.clone()) {
            // A read error ends the case: a clean close, or a violation the case provoked.
            Ok((mut ws, _)) => {
                while let Ok(message) = ws.read() {
                    if ws.write(&message).is_err() {
                        break;
                    }
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }

    let (mut ws, _) = WebSocket::connect(
        &format!("{url}/updateReports?agent={agent}"),
        Config::default(),
    )?;
    drain(&mut ws);
    println!("reports updated");
    Ok(())
}

/// Reads until the server closes.
fn drain<S: wsengine::io::Transport>(ws: &mut WebSocket<S>) {
    while ws.read().is_ok() {}
}

fn bad(what: &str) -> Error {
    Error::Usage(wsengine::UsageError::InvalidOption(format!(
        "unexpected case count: {what}"
    )))
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}
