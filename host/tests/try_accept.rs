//! One component instance serving several connections side by side: `listener.subscribe`,
//! `try-accept` and the `handshake` resource, waited on with the host's `wasi:io/poll`.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::{listen, native_config, websocket, IO_TIMEOUT};
use wasmtime::component::{Resource, ResourceAny};
use wasmtime::Store;
use wasmtime_wasi::p2::bindings::io::poll::Host as _;
use wasmtime_wasi::p2::DynPollable;
use wsengine::io::WebSocket;
use wsengine::Message as NativeMessage;
use wsengine_host::{options, Ctx, TimeoutKind, WsError};

/// Waits on `ps` through the host's `wasi:io/poll` for at most `limit`; the indices of those
/// ready (none if the limit passed). Deletes the pollables.
fn poll(store: &mut Store<Ctx>, ps: Vec<Resource<DynPollable>>, limit: Duration) -> Vec<u32> {
    let borrowed = ps.iter().map(|p| Resource::new_borrow(p.rep())).collect();
    let table = &mut store.data_mut().table;
    let ready = wasmtime_wasi::runtime::in_tokio(async {
        tokio::time::timeout(limit, table.poll(borrowed)).await
    });
    for p in ps {
        table.delete(p).unwrap();
    }
    match ready {
        Ok(r) => r.unwrap(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn a_silent_client_holds_up_only_its_own_handshake() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server();
    let (l, h) = (server.listener(), server.handshake());
    let s = w.wsengine_websocket_sockets().websocket();
    let mut o = options();
    o.handshake_timeout_ms = Some(1_500);
    let (listener, addr) = listen(&mut store, &w, &o);

    // Nothing waits yet: `none`, at once.
    assert!(l
        .call_try_accept(&mut store, listener)
        .unwrap()
        .unwrap()
        .is_none());

    // A client that connects and never sends its request: the listener's pollable says so.
    let mut silent = TcpStream::connect(&addr).unwrap();
    silent.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let p = l.call_subscribe(&mut store, listener).unwrap();
    assert_eq!(poll(&mut store, vec![p], IO_TIMEOUT), vec![0]);
    let first = l
        .call_try_accept(&mut store, listener)
        .unwrap()
        .unwrap()
        .expect("the silent client is waiting");
    let mut handshakes: Vec<(ResourceAny, Instant)> = vec![(first, Instant::now())];

    // A client that connects and hangs up without a word.
    drop(TcpStream::connect(&addr).unwrap());

    // Then a client that echoes two messages and closes.
    let url = format!("ws://{addr}/second");
    let talker = thread::spawn(move || {
        let (mut ws, _) = WebSocket::connect(&url, native_config(false)).unwrap();
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(IO_TIMEOUT))
            .unwrap();
        let mut got = Vec::new();
        for text in ["one", "two"] {
            ws.write_text(text).unwrap();
            got.push(ws.read().unwrap());
        }
        ws.close(1000, "done").unwrap();
        got
    });

    // The server: one poll over the listener, every handshake and every websocket.
    let started = Instant::now();
    let mut sockets: Vec<ResourceAny> = Vec::new();
    let (mut echoed, mut closed) = (0, 0);
    let mut timed_out = None;
    let mut served = None;
    let mut hung_up = 0;
    while (closed < 1 || timed_out.is_none() || hung_up < 1)
        && started.elapsed() < Duration::from_secs(10)
    {
        // Everything in one wait, the silent handshake's timer included (the timeout here
        // only bounds a test that would otherwise hang).
        let pending: Vec<ResourceAny> = handshakes.iter().map(|(hs, _)| *hs).collect();
        server
            .call_wait(&mut store, Some(listener), &pending, &sockets, Some(5_000))
            .unwrap();

        while let Some(hs) = l.call_try_accept(&mut store, listener).unwrap().unwrap() {
            handshakes.push((hs, Instant::now()));
        }
        let mut i = 0;
        while i < handshakes.len() {
            let (hs, since) = handshakes[i];
            let r = h.call_try_finish(&mut store, hs).unwrap();
            if let Ok(None) = r {
                i += 1;
                continue;
            }
            // Over either way: later calls say `closed`.
            let again = h.call_try_finish(&mut store, hs).unwrap();
            assert!(matches!(again, Err(WsError::Closed)), "{again:?}");
            hs.resource_drop(&mut store).unwrap();
            handshakes.swap_remove(i);
            match r {
                Ok(Some((ws, info))) => {
                    let target = info.request.as_ref().map(|r| r.target.as_str());
                    assert_eq!(target, Some("/second"));
                    sockets.push(ws);
                }
                Err(WsError::Timeout(k)) => timed_out = Some((k, since.elapsed())),
                Err(_) => hung_up += 1,
                Ok(None) => unreachable!(),
            }
        }
        let mut i = 0;
        while i < sockets.len() {
            let ws = sockets[i];
            match s.call_try_read(&mut store, ws).unwrap() {
                Ok(Some(m)) => {
                    s.call_write(&mut store, ws, &m).unwrap().unwrap();
                    echoed += 1;
                }
                Ok(None) => i += 1,
                Err(e) => {
                    assert!(matches!(e, WsError::Closed), "{e:?}");
                    closed += 1;
                    ws.resource_drop(&mut store).unwrap();
                    sockets.swap_remove(i);
                }
            }
        }
        if closed == 1 && served.is_none() {
            served = Some(started.elapsed());
            // Served while the silent client's handshake was still pending.
            assert!(
                timed_out.is_none(),
                "the talker waited for the silent client"
            );
        }
    }
    assert_eq!((echoed, closed), (2, 1));
    let served = served.unwrap();
    assert!(served < Duration::from_millis(1_000), "{served:?}");
    let got = talker.join().unwrap();
    assert_eq!(
        got,
        vec![
            NativeMessage::Text("one".into()),
            NativeMessage::Text("two".into())
        ]
    );

    // The silent client: refused when its handshake timer fired, and hung up on.
    let (kind, after) = timed_out.expect("the silent client's handshake timed out");
    assert_eq!(kind, TimeoutKind::Handshake);
    // `wait` woke for the handshake timer, not for its own 5 s timeout.
    assert!(
        after >= Duration::from_millis(1_400) && after < Duration::from_millis(2_500),
        "{after:?}"
    );
    let mut rest = Vec::new();
    silent.read_to_end(&mut rest).unwrap();

    // The client that hung up before its request: its handshake failed and, dropped, let go
    // of the socket at once (no pollable of it ever left the component): no server-side
    // socket of this listener is left half-closed.
    assert_eq!(hung_up, 1);
    let port = addr.rsplit(':').next().unwrap();
    let port = format!("{:04X}", port.parse::<u16>().unwrap());
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let close_wait = tcp
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[1].ends_with(&format!(":{port}")) && f[3] == "08"
        })
        .count();
    assert_eq!(close_wait, 0, "server sockets left in CLOSE_WAIT");
    listener.resource_drop(&mut store).unwrap();
}

#[test]
fn a_refused_request_ends_its_handshake_with_the_status_sent() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server();
    let (l, h) = (server.listener(), server.handshake());
    let (listener, addr) = listen(&mut store, &w, &options());

    let mut raw = TcpStream::connect(&addr).unwrap();
    raw.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    std::io::Write::write_all(&mut raw, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let deadline = Instant::now() + IO_TIMEOUT;
    let hs = loop {
        let p = l.call_subscribe(&mut store, listener).unwrap();
        poll(&mut store, vec![p], Duration::from_millis(100));
        if let Some(hs) = l.call_try_accept(&mut store, listener).unwrap().unwrap() {
            break hs;
        }
        assert!(Instant::now() < deadline, "no connection to accept");
    };
    let r = loop {
        let p = h.call_subscribe(&mut store, hs).unwrap();
        poll(&mut store, vec![p], Duration::from_millis(100));
        match h.call_try_finish(&mut store, hs).unwrap() {
            Ok(None) => assert!(Instant::now() < deadline, "the request was never read"),
            r => break r,
        }
    };
    match r {
        Err(WsError::Handshake(e)) => assert_eq!(e.status, Some(400)),
        other => panic!("{other:?}"),
    }
    let mut answer = String::new();
    let _ = raw.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    hs.resource_drop(&mut store).unwrap();
    listener.resource_drop(&mut store).unwrap();
}

#[test]
fn a_listener_dropped_before_its_pollable_does_not_trap() {
    let (mut store, w) = websocket();
    let l = w.wsengine_websocket_server().listener();
    let (listener, _) = listen(&mut store, &w, &options());
    let p = l.call_subscribe(&mut store, listener).unwrap();
    listener.resource_drop(&mut store).unwrap();
    store.data_mut().table.delete(p).unwrap();
    // The instance still works.
    let (listener, addr) = listen(&mut store, &w, &options());
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    listener.resource_drop(&mut store).unwrap();
}
