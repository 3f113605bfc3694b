//! Soak: thousands of connect / echo / close cycles through the component, as a server and as
//! a client, must leave no file descriptors (each wasi:sockets socket is a host fd), no guest
//! memory growth and no resident-memory growth behind once warmed up.

mod common;

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{listen, native_config, websocket, IO_TIMEOUT};
use wsengine::io::WebSocket;
use wsengine::Message as NativeMessage;
use wsengine_host::{options, Ctx, MemoryWatch, Message, WsError};

/// Cycles per direction, and a time cap so a slow machine ends the loop early instead of
/// hanging (the check then covers the cycles that ran, at least `MIN_MEASURED` after warm-up).
const CYCLES: usize = 10_000;
const TIME_CAP: Duration = Duration::from_secs(150);
const WARMUP: usize = 300;
const MIN_MEASURED: usize = 1_000;
/// Resident memory may move by allocator noise, not by a per-cycle leak (10 000 cycles
/// leaking even 100 bytes each would be 1 MB).
const RSS_SLACK: usize = 768 * 1024;
/// One more wasm page (64 KiB) may come from where the heap happens to be fragmented; a leak
/// of 8 bytes a cycle over the measured cycles would already be more.
const GUEST_SLACK: usize = 64 * 1024;
/// The native peer runs in this process, between two cycles it may hold a socket or two.
const FD_SLACK: usize = 2;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[derive(Debug)]
struct Snapshot {
    fds: usize,
    rss: usize,
    guest: MemoryWatch,
}

fn snapshot(store: &wasmtime::Store<Ctx>) -> Snapshot {
    Snapshot {
        fds: open_fds(),
        rss: rss(),
        guest: store.data().memory,
    }
}

fn check(what: &str, cycles: usize, before: &Snapshot, after: &Snapshot) {
    println!(
        "{what}: {cycles} cycles; after {WARMUP} warm-up cycles: fds {} -> {}, guest memory \
         {} -> {} bytes ({} -> {} grows), RSS {} -> {} KiB",
        before.fds,
        after.fds,
        before.guest.peak_bytes,
        after.guest.peak_bytes,
        before.guest.grows,
        after.guest.grows,
        before.rss / 1024,
        after.rss / 1024
    );
    assert!(
        cycles >= WARMUP + MIN_MEASURED,
        "{what}: only {cycles} cycles in {TIME_CAP:?}"
    );
    assert!(
        after.fds <= before.fds + FD_SLACK,
        "{what}: fds grew: {before:?} -> {after:?}"
    );
    assert!(
        after.guest.peak_bytes <= before.guest.peak_bytes + GUEST_SLACK,
        "{what}: the guest's memory kept growing: {before:?} -> {after:?}"
    );
    assert!(
        after.rss <= before.rss + RSS_SLACK,
        "{what}: RSS grew: {before:?} -> {after:?}"
    );
}

#[test]
fn component_server_survives_thousands_of_connections() {
    let (mut store, w) = websocket();
    let server = w.wsengine_websocket_server().listener();
    let (listener, addr) = listen(&mut store, &w, &options());
    let s = w.wsengine_websocket_sockets().websocket();

    // The client tells the server loop how many connections to expect: it stops at the cap.
    let (go, next) = mpsc::sync_channel::<bool>(1);
    let url = format!("ws://{addr}/");
    let client = thread::spawn(move || {
        let t0 = Instant::now();
        let mut done = 0;
        while done < CYCLES && t0.elapsed() < TIME_CAP {
            go.send(true).unwrap();
            let (mut ws, _) = WebSocket::connect(&url, native_config(false)).unwrap();
            ws.get_ref()
                .tcp()
                .set_read_timeout(Some(IO_TIMEOUT))
                .unwrap();
            ws.write_text("ping").unwrap();
            assert_eq!(ws.read().unwrap(), NativeMessage::Text("ping".into()));
            ws.close(1000, "").unwrap();
            done += 1;
        }
        go.send(false).unwrap();
        done
    });

    let mut before = None;
    let mut served = 0;
    while next.recv().unwrap() {
        let (ws, _) = server.call_accept(&mut store, listener).unwrap().unwrap();
        loop {
            match s.call_read(&mut store, ws).unwrap() {
                Ok(m) => s.call_write(&mut store, ws, &m).unwrap().unwrap(),
                Err(WsError::Closed) => break,
                Err(e) => panic!("{e:?}"),
            }
        }
        ws.resource_drop(&mut store).unwrap();
        served += 1;
        if served == WARMUP {
            before = Some(snapshot(&store));
        }
    }
    let cycles = client.join().unwrap();
    assert_eq!(cycles, served);
    let after = snapshot(&store);
    check("component server", cycles, &before.unwrap(), &after);
    listener.resource_drop(&mut store).unwrap();
}

#[test]
fn component_client_survives_thousands_of_connections() {
    // A native echo server that serves connections one after another, for as long as the
    // test runs.
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = tcp.local_addr().unwrap();
    thread::spawn(move || {
        for stream in tcp.incoming() {
            let Ok(stream) = stream else { continue };
            stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            let Ok((mut ws, _)) = WebSocket::accept(stream, native_config(false)) else {
                continue;
            };
            // Until the client closes (Err(Closed)) or fails.
            while let Ok(m) = ws.read() {
                if ws.write(&m).is_err() {
                    break;
                }
            }
        }
    });

    let (mut store, w) = websocket();
    let client = w.wsengine_websocket_client();
    let s = w.wsengine_websocket_sockets().websocket();
    let url = format!("ws://{addr}/");
    let t0 = Instant::now();
    let (mut cycles, mut before) = (0, None);
    while cycles < CYCLES && t0.elapsed() < TIME_CAP {
        let (ws, _) = client
            .call_connect(&mut store, &url, &options())
            .unwrap()
            .unwrap();
        let m = Message::Text("ping".into());
        s.call_write(&mut store, ws, &m).unwrap().unwrap();
        match s.call_read(&mut store, ws).unwrap() {
            Ok(Message::Text(t)) => assert_eq!(t, "ping"),
            other => panic!("{other:?}"),
        }
        s.call_close(&mut store, ws, 1000, "").unwrap().unwrap();
        ws.resource_drop(&mut store).unwrap();
        cycles += 1;
        if cycles == WARMUP {
            before = Some(snapshot(&store));
        }
    }
    let after = snapshot(&store);
    check("component client", cycles, &before.unwrap(), &after);
}
