//! The component's Autobahn agents: an echo server and the fuzzing-server client, each a
//! thin loop over the `websocket` world's exports (the engine inside the component does the
//! protocol; the component does the I/O on wasi:sockets).

use anyhow::{anyhow, Result};
use wasmtime::component::{Component, ResourceAny};
use wasmtime::Store;
use wsengine_host::streams::tcp_streams;
use wsengine_host::websocket::Websocket;
use wsengine_host::{
    compression, options, websocket_async, Ctx, Message, Options, Runtime, WsError,
};

pub fn with_deflate(deflate: bool) -> Options {
    let mut o = options();
    if deflate {
        o.compression = Some(compression());
    }
    o
}

/// Echoes every message until the peer closes or the connection fails. Messages are read
/// and written as bytes (`read-bytes`, `write-some` with `fin`): text comes back out as it
/// went in, checked once by the engine, not lifted as a `string` (which wasmtime validates
/// again on the host).
fn echo(store: &mut Store<Ctx>, w: &Websocket, ws: ResourceAny) -> Result<()> {
    let sockets = w.wsengine_websocket_sockets().websocket();
    let result = loop {
        match sockets.call_read_bytes(&mut *store, ws)? {
            Ok(m) => {
                if let Err(e) = sockets.call_write_some(&mut *store, ws, true, m.kind, &m.data)? {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    ws.resource_drop(&mut *store)?;
    match result {
        Err(WsError::Closed) | Ok(()) => Ok(()),
        Err(e) => Err(anyhow!("connection ended: {e:?}")),
    }
}

/// Accepts one connection after another and echoes each (Autobahn runs its cases one at a
/// time). Runs until killed.
pub fn echo_server(rt: &Runtime, c: &Component, addr: &str, deflate: bool) -> Result<()> {
    let (mut store, w) = rt.websocket(c)?;
    let server = w.wsengine_websocket_server().listener();
    let listener = server
        .call_bind(&mut store, addr, &with_deflate(deflate))?
        .map_err(|e| anyhow!("bind {addr}: {e:?}"))?;
    let local = server.call_local_address(&mut store, listener)?;
    let local = local.map_err(|e| anyhow!("{e:?}"))?;
    println!("component echo server listening on ws://{local}");
    loop {
        match server.call_accept(&mut store, listener)? {
            Ok((ws, _)) => {
                if let Err(e) = echo(&mut store, &w, ws) {
                    eprintln!("{e}");
                }
            }
            // A peer that hung up before its request was answered (a port probe, such as
            // the demo's readiness check) is not worth a line; refused requests are.
            Err(WsError::Handshake(h)) if h.status.is_none() => {}
            Err(e) => eprintln!("accept: {e:?}"),
        }
    }
}

/// [`echo`] through the async bindings, relaying each message as a `buffer` that stays in
/// the component (`read-buffer`, `write-buffer`): the host never copies the bytes out and
/// back in. (The sync [`echo`], which the component's Autobahn client runs, keeps the
/// `read-bytes` path, so both are run through the testsuite.)
async fn echo_async(
    store: &mut Store<Ctx>,
    w: &websocket_async::Websocket,
    ws: ResourceAny,
) -> Result<()> {
    let sockets = w.wsengine_websocket_sockets().websocket();
    let result = loop {
        match sockets.call_read_buffer(&mut *store, ws).await? {
            Ok(buffer) => {
                let r = sockets.call_write_buffer(&mut *store, ws, buffer).await?;
                buffer.resource_drop_async(&mut *store).await?;
                if let Err(e) = r {
                    break Err(e);
                }
            }
            Err(e) => break Err(e),
        }
    };
    ws.resource_drop_async(&mut *store).await?;
    match result {
        Err(WsError::Closed) | Ok(()) => Ok(()),
        Err(e) => Err(anyhow!("connection ended: {e:?}")),
    }
}

/// The async echo server with the host accepting the TCP connections (tokio) and handing each
/// to the component as a stream pair (`accept-streams`, through [`tcp_streams`]): large
/// messages then cross in one call each way instead of 64 KiB pieces.
///
/// Each connection gets an instance of its own (wasmtime's model: stores are cheap), and all
/// of them are served side by side on this thread, so a client that stalls or stops reading
/// holds only its own connection, until its timeouts end it.
pub async fn echo_server_host_tcp(
    rt: &Runtime,
    c: &Component,
    addr: &str,
    deflate: bool,
) -> Result<()> {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    use std::future::poll_fn;
    use std::task::Poll;

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow!("bind {addr}: {e}"))?;
    println!(
        "component echo server (host TCP streams) listening on ws://{}",
        listener.local_addr()?
    );
    let o = with_deflate(deflate);
    let mut connections = FuturesUnordered::new();
    loop {
        // The next connection, while those already open make progress.
        let accepted = poll_fn(|cx| {
            while let Poll::Ready(Some(r)) = connections.poll_next_unpin(cx) {
                if let Err(e) = r {
                    eprintln!("{e}");
                }
            }
            listener.poll_accept(cx)
        })
        .await;
        match accepted {
            Ok((tcp, _)) => connections.push(serve_host_tcp(rt, c, tcp, &o)),
            // Out of descriptors or a connection reset before it was taken: not fatal.
            Err(e) => eprintln!("accept: {e}"),
        }
    }
}

/// One connection of [`echo_server_host_tcp`], in an instance of its own.
async fn serve_host_tcp(
    rt: &Runtime,
    c: &Component,
    tcp: tokio::net::TcpStream,
    o: &Options,
) -> Result<()> {
    // Small messages go out at once (the component flushes whole messages).
    let _ = tcp.set_nodelay(true);
    let (mut store, w) = rt.websocket_async(c).await?;
    let (input, output) = tcp_streams(&mut store, tcp)?;
    let server = w.wsengine_websocket_server();
    match server
        .call_accept_streams(&mut store, input, output, o)
        .await?
    {
        Ok((ws, _)) => echo_async(&mut store, &w, ws).await,
        // A peer that hung up before its request was answered (a port probe) is not worth
        // a line; refused requests are.
        Err(WsError::Handshake(h)) if h.status.is_none() => Ok(()),
        Err(e) => Err(anyhow!("accept: {e:?}")),
    }
}

fn connect(store: &mut Store<Ctx>, w: &Websocket, url: &str, o: &Options) -> Result<ResourceAny> {
    let client = w.wsengine_websocket_client();
    let (ws, _) = client
        .call_connect(&mut *store, url, o)?
        .map_err(|e| anyhow!("connect {url}: {e:?}"))?;
    Ok(ws)
}

/// Reads until the server closes.
fn drain(store: &mut Store<Ctx>, w: &Websocket, ws: ResourceAny) -> Result<Vec<Message>> {
    let sockets = w.wsengine_websocket_sockets().websocket();
    let mut got = Vec::new();
    while let Ok(m) = sockets.call_read(&mut *store, ws)? {
        got.push(m);
    }
    ws.resource_drop(&mut *store)?;
    Ok(got)
}

/// Runs every case the fuzzing server announces, echoing each message, then asks it to
/// write its reports (as `examples/autobahn_client.rs`).
pub fn autobahn_client(
    rt: &Runtime,
    c: &Component,
    url: &str,
    agent: &str,
    deflate: bool,
) -> Result<()> {
    let (mut store, w) = rt.websocket(c)?;
    let ws = connect(&mut store, &w, &format!("{url}/getCaseCount"), &options())?;
    let count: u32 = match drain(&mut store, &w, ws)?.first() {
        Some(Message::Text(t)) => t.trim().parse()?,
        other => return Err(anyhow!("unexpected case count: {other:?}")),
    };
    println!("{count} cases");
    let o = with_deflate(deflate);
    for case in 1..=count {
        let case_url = format!("{url}/runCase?case={case}&agent={agent}");
        match connect(&mut store, &w, &case_url, &o) {
            // A read error ends the case: a clean close, or a violation the case provoked.
            Ok(ws) => {
                let _ = echo(&mut store, &w, ws);
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }
    let ws = connect(
        &mut store,
        &w,
        &format!("{url}/updateReports?agent={agent}"),
        &options(),
    )?;
    drain(&mut store, &w, ws)?;
    println!("reports updated");
    Ok(())
}
