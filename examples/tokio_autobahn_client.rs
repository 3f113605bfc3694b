//! Runs every case the Autobahn fuzzing server announces over the tokio adapter, echoing each
//! message back, then asks it to write its reports.
//!
//! `cargo run --release --features tokio --example tokio_autobahn_client -- --url
//! ws://127.0.0.1:19202 --agent NAME [deflate flags]`

#[path = "support/args.rs"]
mod args;

use wsengine::io::tokio::{connect_async, ConnectStream, WebSocketStream};
use wsengine::{Config, Error, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    let url = args::arg(&args, "--url")
        .unwrap_or("ws://127.0.0.1:9001")
        .trim_end_matches('/')
        .to_owned();
    let agent = args::arg(&args, "--agent")
        .unwrap_or("wsengine-tokio")
        .to_owned();
    let config = args::config_from_args(&args);

    let (mut ws, _) = connect_async(&format!("{url}/getCaseCount"), Config::default()).await?;
    let count: u32 = match ws.read().await? {
        Message::Text(t) => t.trim().parse().map_err(|_| bad(&t))?,
        other => return Err(bad(&format!("{other:?}"))),
    };
    drain(&mut ws).await;
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{url}/runCase?case={case}&agent={agent}");
        match connect_async(&url, config.clone()).await {
            // A read error ends the case: a clean close, or a violation the case provoked.
            Ok((mut ws, _)) => {
                while let Ok(message) = ws.read().await {
                    if ws.write(&message).await.is_err() {
                        break;
                    }
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }

    let url = format!("{url}/updateReports?agent={agent}");
    let (mut ws, _) = connect_async(&url, Config::default()).await?;
    drain(&mut ws).await;
    println!("reports updated");
    Ok(())
}

/// Reads until the server closes.
async fn drain(ws: &mut WebSocketStream<ConnectStream>) {
    while ws.read().await.is_ok() {}
}

fn bad(what: &str) -> Error {
    Error::Usage(wsengine::UsageError::InvalidOption(format!(
        "unexpected case count: {what}"
    )))
}
