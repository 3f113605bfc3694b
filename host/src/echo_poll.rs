//! The component's echo server on its own wasi:sockets listener: one instance serves every
//! connection, side by side, from one `wasi:io/poll` over the listener, each handshake under
//! way and each open websocket (`try-accept`, `handshake.try-finish`, `try-read-buffer`).
//! A client that connects and stays silent, or sends half a message, holds up only itself.
//!
//! Writes still wait until the peer has taken the echo (the `websocket` resource has no
//! non-blocking write): a peer that stops reading while it keeps sending holds the loop up to
//! `write-timeout-ms`, then its connection fails.

use anyhow::{anyhow, Result};
use wasmtime::component::{Resource, ResourceAny};
use wasmtime::Store;
use wasmtime_wasi::clocks::WasiClocksView;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock::Host as _;
use wasmtime_wasi::p2::bindings::io::poll::Host as _;
use wasmtime_wasi::p2::DynPollable;
use wsengine_host::websocket_async::Websocket;
use wsengine_host::{Ctx, Options, Runtime, WsError};

/// What the loop holds: handshakes under way and open websockets.
#[derive(Default)]
struct Connections {
    handshakes: Vec<ResourceAny>,
    sockets: Vec<ResourceAny>,
}

/// Binds `addr` in one instance of `c` and echoes on every connection until killed.
pub async fn serve(
    rt: &Runtime,
    c: &wasmtime::component::Component,
    addr: &str,
    o: &Options,
) -> Result<()> {
    let (mut store, w) = rt.websocket_async(c).await?;
    let l = w.wsengine_websocket_server().listener();
    let listener = l
        .call_bind(&mut store, addr, o)
        .await?
        .map_err(|e| anyhow!("bind {addr}: {e:?}"))?;
    let local = l.call_local_address(&mut store, listener).await?;
    let local = local.map_err(|e| anyhow!("{e:?}"))?;
    println!("component echo server listening on ws://{local}");
    let mut conns = Connections::default();
    loop {
        wait(&mut store, &w, listener, &conns).await?;
        accept(&mut store, &w, listener, &mut conns).await?;
        finish_handshakes(&mut store, &w, &mut conns).await?;
        echo(&mut store, &w, &mut conns).await?;
    }
}

/// Waits until the listener, a handshake or a websocket can make progress, or the earliest
/// of their timers (handshake, keepalive, close, idle) is due.
async fn wait(
    store: &mut Store<Ctx>,
    w: &Websocket,
    listener: ResourceAny,
    conns: &Connections,
) -> Result<()> {
    let server = w.wsengine_websocket_server();
    let (l, h) = (server.listener(), server.handshake());
    let s = w.wsengine_websocket_sockets().websocket();
    let mut ps = vec![l.call_subscribe(&mut *store, listener).await?];
    let mut deadline: Option<u64> = None;
    let mut earliest = |d: Option<u64>| {
        if let Some(d) = d {
            deadline = Some(deadline.map_or(d, |e| e.min(d)));
        }
    };
    for &hs in &conns.handshakes {
        ps.push(h.call_subscribe(&mut *store, hs).await?);
        earliest(h.call_next_deadline(&mut *store, hs).await?);
    }
    for &ws in &conns.sockets {
        ps.push(s.call_subscribe(&mut *store, ws).await?);
        earliest(s.call_next_deadline(&mut *store, ws).await?);
    }
    if let Some(d) = deadline {
        ps.push(store.data_mut().clocks().subscribe_instant(d)?);
    }
    let table = &mut store.data_mut().table;
    let borrowed = ps.iter().map(|p| Resource::new_borrow(p.rep())).collect();
    let polled = table.poll(borrowed).await;
    for p in ps {
        table.delete::<DynPollable>(p)?;
    }
    polled?;
    Ok(())
}

/// Takes every waiting connection; its handshake starts.
async fn accept(
    store: &mut Store<Ctx>,
    w: &Websocket,
    listener: ResourceAny,
    conns: &mut Connections,
) -> Result<()> {
    let l = w.wsengine_websocket_server().listener();
    loop {
        match l.call_try_accept(&mut *store, listener).await? {
            Ok(Some(hs)) => conns.handshakes.push(hs),
            Ok(None) => return Ok(()),
            // Out of descriptors, or a connection reset before it was taken: not fatal,
            // and the next poll tries again.
            Err(e) => {
                eprintln!("accept: {e:?}");
                return Ok(());
            }
        }
    }
}

/// Takes each handshake as far as its bytes allow; the finished ones become websockets.
async fn finish_handshakes(
    store: &mut Store<Ctx>,
    w: &Websocket,
    conns: &mut Connections,
) -> Result<()> {
    let h = w.wsengine_websocket_server().handshake();
    let mut i = 0;
    while i < conns.handshakes.len() {
        let hs = conns.handshakes[i];
        let r = h.call_try_finish(&mut *store, hs).await?;
        if let Ok(None) = r {
            i += 1;
            continue;
        }
        hs.resource_drop_async(&mut *store).await?;
        conns.handshakes.swap_remove(i);
        match r {
            Ok(Some((ws, _))) => conns.sockets.push(ws),
            // A peer that hung up before its request was answered (a port probe, such as
            // the demo's readiness check) is not worth a line; refused requests are.
            Err(WsError::Handshake(e)) if e.status.is_none() => {}
            Err(e) => eprintln!("accept: {e:?}"),
            Ok(None) => {}
        }
    }
    Ok(())
}

/// Messages echoed on one websocket before the others get their turn: a peer that keeps
/// sending cannot starve the rest.
const TURN: usize = 16;

/// Echoes the messages that have arrived (up to [`TURN`] per websocket), each as a `buffer`
/// that stays in the component; drops the websockets that closed or failed.
async fn echo(store: &mut Store<Ctx>, w: &Websocket, conns: &mut Connections) -> Result<()> {
    let s = w.wsengine_websocket_sockets().websocket();
    let mut i = 0;
    'sockets: while i < conns.sockets.len() {
        let ws = conns.sockets[i];
        for _ in 0..TURN {
            let ended = match s.call_try_read_buffer(&mut *store, ws).await? {
                Ok(Some(buffer)) => {
                    let r = s.call_write_buffer(&mut *store, ws, buffer).await?;
                    buffer.resource_drop_async(&mut *store).await?;
                    match r {
                        Ok(()) => continue,
                        Err(e) => e,
                    }
                }
                Ok(None) => break,
                Err(e) => e,
            };
            ws.resource_drop_async(&mut *store).await?;
            conns.sockets.swap_remove(i);
            if !matches!(ended, WsError::Closed) {
                eprintln!("connection ended: {ended:?}");
            }
            continue 'sockets;
        }
        i += 1;
    }
    Ok(())
}
