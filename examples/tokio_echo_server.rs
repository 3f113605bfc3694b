//! Echoes every text and binary message back, one tokio task per connection.
//!
//! `cargo run --release --features tokio --example tokio_echo_server -- --addr 127.0.0.1:19201
//! [deflate flags]`
//!
//! permessage-deflate is accepted unless `--no-deflate`; see `support/args.rs` for the flags.
//! `--threads N` runs a multi-thread runtime with N workers; the default is one thread (a
//! current-thread runtime, as fastwebsockets' echo server), which also serves many
//! connections: every task waits on epoll, none blocks a thread.

#[path = "support/args.rs"]
mod args;

use tokio::net::TcpListener;
use wsengine::io::tokio::accept_async;
use wsengine::Error;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args::arg(&args, "--threads")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(serve(&args))
}

async fn serve(args: &[String]) -> std::io::Result<()> {
    let addr = args::arg(args, "--addr").unwrap_or("127.0.0.1:9002");
    let config = args::config_from_args(args);
    let listener = TcpListener::bind(addr).await?;
    println!(
        "tokio echo server listening on ws://{}",
        listener.local_addr()?
    );
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let config = config.clone();
        // `unconstrained`, as fastwebsockets' echo server: an echo loop is all this task does,
        // so tokio's cooperative budget (which makes a busy task yield every 128 operations)
        // only adds bookkeeping per read and write.
        tokio::spawn(tokio::task::unconstrained(async move {
            let _ = stream.set_nodelay(true);
            let Ok((mut ws, _)) = accept_async(stream, config).await else {
                return;
            };
            loop {
                match ws.read().await {
                    Ok(message) => {
                        if ws.write(&message).await.is_err() {
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
        }));
    }
}
