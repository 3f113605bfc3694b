//! `server.wait`: one `wasi:io/poll` over a listener, handshakes and websockets, with
//! pollables that never leave the component (so dropping a connection never has to keep its
//! handles for a pollable the caller might still hold).

use super::exports::wsengine::websocket::server::{HandshakeBorrow, ListenerBorrow, Ready};
use super::exports::wsengine::websocket::sockets::WebsocketBorrow;
use super::listener::{HandshakeResource, ListenerResource};
use super::socket::{Socket, WebsocketResource};
use super::wasi::clocks::monotonic_clock;
use super::wasi::io::poll::{self, Pollable};

/// Who a pollable speaks for.
#[derive(Clone, Copy)]
enum Owner {
    Listener,
    Handshake(u32),
    Websocket(u32),
    /// The earliest timer or the caller's timeout.
    Clock,
}

impl Ready {
    fn mark(&mut self, who: Owner) {
        match who {
            Owner::Listener => self.listener = true,
            Owner::Handshake(i) => self.handshakes.push(i),
            Owner::Websocket(i) => self.websockets.push(i),
            Owner::Clock => {}
        }
    }
}

pub(super) fn wait(
    listener: Option<ListenerBorrow<'_>>,
    handshakes: Vec<HandshakeBorrow<'_>>,
    websockets: Vec<WebsocketBorrow<'_>>,
    timeout_ms: Option<u64>,
) -> Ready {
    let mut ready = Ready {
        listener: false,
        handshakes: Vec::new(),
        websockets: Vec::new(),
    };
    let mut polls: Vec<(Pollable, Owner)> = Vec::new();
    // The earliest engine deadline, in ns on the monotonic clock.
    let mut due: Option<u64> = None;
    let mut earliest = |d: Option<u64>| {
        if let Some(d) = d {
            due = Some(due.map_or(d, |e| e.min(d)));
        }
    };
    if let Some(l) = &listener {
        polls.push((l.get::<ListenerResource>().readiness(), Owner::Listener));
    }
    let mut add = |who: Owner, (p, d): (Option<Pollable>, Option<u64>)| {
        earliest(d);
        match p {
            Some(p) => polls.push((p, who)),
            None => ready.mark(who),
        }
    };
    for (i, h) in (0u32..).zip(&handshakes) {
        let state = h.get::<HandshakeResource>().with(Socket::wait_state);
        // A handshake that is over: `try-finish` answers at once.
        add(Owner::Handshake(i), state.unwrap_or((None, None)));
    }
    for (i, w) in (0u32..).zip(&websockets) {
        add(
            Owner::Websocket(i),
            w.get::<WebsocketResource>().with(Socket::wait_state),
        );
    }
    if let Some(ms) = timeout_ms {
        earliest(Some(
            monotonic_clock::now().saturating_add(ms.saturating_mul(1_000_000)),
        ));
    }
    let nothing_to_wait_on = polls.is_empty() && due.is_none();
    let ready_already = !ready.handshakes.is_empty() || !ready.websockets.is_empty();
    if nothing_to_wait_on || (ready_already && polls.is_empty()) {
        return ready;
    }
    // Something is ready already: only look at which others are too.
    let clock = match ready_already {
        true => Some(monotonic_clock::subscribe_duration(0)),
        false => due.map(monotonic_clock::subscribe_instant),
    };
    if let Some(c) = clock {
        polls.push((c, Owner::Clock));
    }
    let list: Vec<&Pollable> = polls.iter().map(|(p, _)| p).collect();
    for i in poll::poll(&list) {
        ready.mark(polls[i as usize].1);
    }
    ready
}
