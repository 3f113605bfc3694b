//! Soak: 10 000 connect / echo / close cycles over loopback through the blocking adapter must
//! leave no file descriptors, heap or resident memory behind. Ignored by `cargo test` (it is
//! meant for release builds); `cargo xtask test soak` runs it:
//! `cargo test --release --test soak -- --ignored --nocapture`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::TcpListener;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use wsengine::io::WebSocket;
use wsengine::{Config, DeflateConfig, Error, Message};

/// Bytes allocated and not yet freed, by every thread.
static LIVE: AtomicIsize = AtomicIsize::new(0);

struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only a counter is updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const CYCLES: usize = 10_000;
const WARMUP: usize = 200;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Resident set size in bytes (`/proc/self/statm`, second field, in pages of 4 KiB).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[derive(Debug, Clone, Copy)]
struct Snapshot {
    fds: usize,
    heap: isize,
    rss: usize,
}

fn snapshot() -> Snapshot {
    Snapshot {
        fds: open_fds(),
        heap: LIVE.load(Ordering::SeqCst),
        rss: rss(),
    }
}

#[test]
#[ignore = "release-only soak: cargo xtask test soak"]
fn ten_thousand_connect_echo_close_cycles_leak_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    // Every other connection negotiates permessage-deflate (its codec is the largest
    // per-connection allocation).
    let config = |i: usize| Config {
        deflate: (i % 2 == 1).then(DeflateConfig::default),
        ..Config::default()
    };
    let server = thread::spawn(move || {
        for (i, stream) in listener.incoming().take(CYCLES).enumerate() {
            let stream = stream.unwrap();
            {
                let (mut ws, _) = WebSocket::accept(stream, config(i)).unwrap();
                loop {
                    match ws.read() {
                        Ok(m) => ws.write(&m).unwrap(),
                        Err(Error::Closed) => break,
                        Err(e) => panic!("server, cycle {i}: {e}"),
                    }
                }
            }
            // The connection (socket included) is dropped before the client goes on.
            done_tx.send(()).unwrap();
        }
    });
    let url = format!("ws://{addr}/soak");
    let started = Instant::now();
    let mut before = None;
    for i in 0..CYCLES {
        if i == WARMUP {
            before = Some(snapshot());
        }
        {
            let (mut ws, _) = WebSocket::connect(&url, config(i)).unwrap();
            let text = format!("cycle {i} {}", "x".repeat(i % 300));
            ws.write_text(&text).unwrap();
            assert_eq!(ws.read().unwrap(), Message::Text(text));
            ws.close(1000, "").unwrap();
        }
        done_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "cycle {i}: too slow"
        );
    }
    server.join().unwrap();
    let before = before.unwrap();
    let after = snapshot();
    let took = started.elapsed();
    eprintln!(
        "{CYCLES} cycles in {took:?}; after {WARMUP} warm-up cycles: fds {} -> {}, heap {} -> {} \
         bytes, RSS {} -> {} KiB",
        before.fds,
        after.fds,
        before.heap,
        after.heap,
        before.rss / 1024,
        after.rss / 1024
    );
    // The listener was dropped with the server thread: one descriptor fewer at most.
    assert!(after.fds <= before.fds, "fds {before:?} -> {after:?}");
    assert!(
        after.heap - before.heap <= 16 * 1024,
        "heap grew {} bytes",
        after.heap - before.heap
    );
    assert!(
        after.rss <= before.rss + 4 * 1024 * 1024,
        "RSS grew {} KiB",
        (after.rss - before.rss) / 1024
    );
    assert!(took < Duration::from_secs(60), "{took:?}");
}
