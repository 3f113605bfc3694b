//! The component's echo server on its own wasi:sockets listener: one instance serves every
//! connection, side by side: `server.wait` over the listener, each handshake under way and
//! each open websocket, then `try-accept`, `handshake.try-finish` and `try-read-buffer` on
//! those ready. A client that connects and stays silent, or sends half a message, holds up
//! only itself.
//!
//! Writes still wait until the peer has taken the echo (the `websocket` resource has no
//! non-blocking write): a peer that stops reading while it keeps sending holds the loop up to
//! `write-timeout-ms`, then its connection fails.

use anyhow::{anyhow, Result};
use wasmtime::component::ResourceAny;
use wasmtime::Store;
use wsengine_host::websocket_async::Websocket;
use wsengine_host::{Ctx, Options, Runtime, WsError};

/// How long to wait after `try-accept` failed before trying again.
const ACCEPT_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

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
        let (incoming, handshakes, sockets) = wait(&mut store, &w, listener, &conns).await?;
        // Before `accept`, which adds to the handshakes (new ones are tried next round).
        finish_handshakes(&mut store, &w, &mut conns, handshakes).await?;
        echo(&mut store, &w, &mut conns, sockets).await?;
        if incoming {
            accept(&mut store, &w, listener, &mut conns).await?;
        }
    }
}

/// Waits until the listener, a handshake or a websocket can make progress, or the earliest
/// of their timers is due; what is ready, as masks over `conns` (all set when a timer ended
/// the wait, so that every connection runs its timers).
async fn wait(
    store: &mut Store<Ctx>,
    w: &Websocket,
    listener: ResourceAny,
    conns: &Connections,
) -> Result<(bool, Vec<bool>, Vec<bool>)> {
    let server = w.wsengine_websocket_server();
    let r = server
        .call_wait(
            &mut *store,
            Some(listener),
            &conns.handshakes,
            &conns.sockets,
            None,
        )
        .await?;
    let timer = !r.listener && r.handshakes.is_empty() && r.websockets.is_empty();
    let mask = |n: usize, ready: &[u32]| {
        let mut m = vec![timer; n];
        for &i in ready {
            m[i as usize] = true;
        }
        m
    };
    Ok((
        r.listener,
        mask(conns.handshakes.len(), &r.handshakes),
        mask(conns.sockets.len(), &r.websockets),
    ))
}

/// The indices of `len` entries to try, given the `ready` mask from [`wait`]: backwards, so
/// that `swap_remove` only moves entries already visited, and with those added since the
/// wait (beyond the mask) included: a websocket's first message may come with its handshake.
fn turns(ready: &[bool], len: usize) -> impl Iterator<Item = usize> + '_ {
    (0..len)
        .rev()
        .filter(move |&i| ready.get(i).copied().unwrap_or(true))
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
            // Out of descriptors, or a connection reset before it was taken: not fatal.
            // The listener stays ready while descriptors run out, so pause before the next
            // try rather than spin (the connections already open wait that long too).
            Err(e) => {
                eprintln!("accept: {e:?}");
                tokio::time::sleep(ACCEPT_PAUSE).await;
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
    ready: Vec<bool>,
) -> Result<()> {
    let h = w.wsengine_websocket_server().handshake();
    for i in turns(&ready, conns.handshakes.len()) {
        let hs = conns.handshakes[i];
        let r = h.call_try_finish(&mut *store, hs).await?;
        if let Ok(None) = r {
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
async fn echo(
    store: &mut Store<Ctx>,
    w: &Websocket,
    conns: &mut Connections,
    ready: Vec<bool>,
) -> Result<()> {
    let s = w.wsengine_websocket_sockets().websocket();
    'sockets: for i in turns(&ready, conns.sockets.len()) {
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
    }
    Ok(())
}
