//! `wsbench serve wsengine-tokio`: the sans-IO engine driven by a tokio current-thread
//! runtime, the same I/O model as fastwebsockets' echo server (one thread, epoll, a task per
//! connection, `unconstrained`).
//!
//! Not the shipped tokio adapter (`wsengine::io::tokio`, measured as `tokio:wsengine`): the bare
//! engine in a hand-written loop, so the 100-connection run shows what the adapter itself costs
//! beside the cost of the I/O model (the blocking thread-per-connection example server pays a
//! thread wake-up and context switch per message that an epoll loop does not).

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsengine::{Config, Connection, Event};

/// One connection: read what is there, hand it to the engine, echo every message, write the
/// output, until the engine says to close.
async fn connection(mut stream: TcpStream) -> io::Result<()> {
    let mut ws = Connection::server(Config::default()).map_err(io::Error::other)?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        loop {
            match ws.next_event() {
                Ok(Some(Event::Message(m))) => ws.send(&m).map_err(io::Error::other)?,
                Ok(Some(_)) => {}
                Ok(None) => break,
                // The engine queued its close frame or HTTP error: flush it, then stop.
                Err(_) => break,
            }
        }
        let out = ws.output();
        if !out.is_empty() {
            stream.write_all(out).await?;
            let n = out.len();
            ws.consume_output(n);
        }
        if ws.should_close() || !ws.wants_read() {
            return Ok(());
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            ws.receive_eof();
        } else {
            ws.receive(&buf[..n]);
        }
    }
}

pub fn serve(addr: &str) -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!(
            "wsengine-tokio echo server on ws://{}",
            listener.local_addr()?
        );
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(tokio::task::unconstrained(async move {
                let _ = connection(stream).await;
            }));
        }
    })
}
