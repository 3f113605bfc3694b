//! Echoes every text and binary message back, one thread per connection.
//!
//! `cargo run --release --example echo_server -- --addr 127.0.0.1:9002 [deflate flags]`
//!
//! permessage-deflate is accepted unless `--no-deflate`; see `support/args.rs` for the flags.

#[path = "support/args.rs"]
mod args;

use std::net::TcpListener;
use std::thread;

use wsengine::io::WebSocket;
use wsengine::Error;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args::arg(&args, "--addr").unwrap_or("127.0.0.1:9002");
    let config = args::config_from_args(&args);
    let listener = TcpListener::bind(addr)?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let config = config.clone();
        thread::spawn(move || {
            let _ = stream.set_nodelay(true);
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
        });
    }
    Ok(())
}
