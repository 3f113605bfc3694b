//! Echoes every text and binary message back, one thread per connection.
//!
//! `cargo run --release --example echo_server -- --addr 127.0.0.1:9002 [deflate flags]`
//!
//! permessage-deflate is accepted unless `--no-deflate`; see `support/args.rs` for the flags.
//! With `--tls-cert CERT.pem --tls-key KEY.pem` (build with `--features rustls`) it serves
//! `wss://`: each TCP stream is wrapped in a rustls server stream and accepted as is.

#[path = "support/args.rs"]
mod args;

use std::net::{TcpListener, TcpStream};
use std::thread;

use wsengine::io::{Transport, WebSocket};
use wsengine::{Config, Error};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args::arg(&args, "--addr").unwrap_or("127.0.0.1:9002");
    let config = args::config_from_args(&args);
    let tls = tls_config(&args)?;
    let listener = TcpListener::bind(addr)?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!(
        "echo server listening on {scheme}://{}",
        listener.local_addr()?
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let config = config.clone();
        let tls = tls.clone();
        thread::spawn(move || match tls {
            None => echo(stream, config),
            Some(tls) => echo_tls(tls, stream, config),
        });
    }
    Ok(())
}

#[cfg(feature = "rustls")]
type TlsConfig = std::sync::Arc<rustls::ServerConfig>;
/// Without TLS support there is no config to hold (and `tls_config` refuses the flags).
#[cfg(not(feature = "rustls"))]
#[derive(Clone)]
enum TlsConfig {}

/// The server's TLS config from `--tls-cert` / `--tls-key`, if given.
fn tls_config(args: &[String]) -> Result<Option<TlsConfig>, Box<dyn std::error::Error>> {
    let (cert, key) = match (args::arg(args, "--tls-cert"), args::arg(args, "--tls-key")) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    #[cfg(feature = "rustls")]
    {
        let config = wsengine::tls::server_config_from_pem(
            &std::fs::read(cert).map_err(|e| format!("{cert}: {e}"))?,
            &std::fs::read(key).map_err(|e| format!("{key}: {e}"))?,
        )?;
        Ok(Some(config))
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = (cert, key);
        Err("--tls-cert needs TLS: build with --features rustls".into())
    }
}

#[cfg(feature = "rustls")]
fn echo_tls(tls: TlsConfig, stream: TcpStream, config: Config) {
    match rustls::ServerConnection::new(tls) {
        Ok(conn) => echo(rustls::StreamOwned::new(conn, stream), config),
        Err(e) => eprintln!("TLS: {e}"),
    }
}

#[cfg(not(feature = "rustls"))]
fn echo_tls(tls: TlsConfig, _: TcpStream, _: Config) {
    match tls {}
}

/// Echoes over any transport, plain or TLS: the WebSocket does not know the difference.
fn echo<S: Transport>(stream: S, config: Config) {
    let Ok((mut ws, _)) = WebSocket::accept(stream, config) else {
        return;
    };
    loop {
        match ws.read() {
            Ok(message) => {
                if ws.write(&message).is_err() {
                    return;
                }
            }
            Err(Error::Closed) => return,
            Err(e) => {
                eprintln!("connection ended: {e}");
                return;
            }
        }
    }
}
