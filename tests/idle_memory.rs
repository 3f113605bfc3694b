//! The engine's state for an idle open connection without compression stays within 1 KiB:
//! `size_of::<Connection>()` plus the heap bytes it holds after the opening handshake and after
//! one small message each way. `cargo xtask bench` reports the same figure (wsbench-mem);
//! this test keeps it from creeping up, in every feature set the suites build (the `tls`
//! suite runs it with `rustls`, whose error type once grew every connection by 24 bytes).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use wsengine::{ClientRequest, Config, Connection, Event, MessageKind};

const BUDGET: i64 = 1024;

/// Counts the live heap bytes allocated while `TRACK` is on (a `realloc` is counted through
/// the default `alloc` + `dealloc`). The test binary runs this one test, so no other thread
/// allocates meanwhile.
struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
static TRACK: AtomicBool = AtomicBool::new(false);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counting around it touches only atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if TRACK.load(Ordering::Relaxed) {
            LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if TRACK.load(Ordering::Relaxed) {
            LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` with counting on; returns its value and the heap bytes it left allocated.
fn counted<T>(f: impl FnOnce() -> T) -> (T, i64) {
    let before = LIVE.load(Ordering::Relaxed);
    TRACK.store(true, Ordering::Relaxed);
    let value = f();
    TRACK.store(false, Ordering::Relaxed);
    (value, LIVE.load(Ordering::Relaxed) - before)
}

/// Moves what `from` has to send into `buf` (which has room: no allocation).
fn take_output(from: &mut Connection, buf: &mut Vec<u8>) {
    let n = from.output().len();
    assert!(buf.capacity() - buf.len() >= n);
    buf.extend_from_slice(from.output());
    from.consume_output(n);
}

#[test]
fn an_idle_connection_without_compression_holds_at_most_1_kib() {
    // Only the server's allocations are counted: the client's happen with counting off, and
    // bytes cross through `wire`, allocated up front.
    let request = ClientRequest::new("ws://localhost/chat").unwrap();
    let mut client = Connection::client(request, Config::default()).unwrap();
    let mut wire = Vec::with_capacity(64 * 1024);
    take_output(&mut client, &mut wire);
    let inline = std::mem::size_of::<Connection>() as i64;

    let (mut server, heap) = counted(|| {
        let mut server = Connection::server(Config::default()).unwrap();
        server.receive(&wire);
        assert!(matches!(server.next_event(), Ok(Some(Event::Open(_)))));
        wire.clear();
        take_output(&mut server, &mut wire);
        server
    });
    client.receive(&wire);
    wire.clear();
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    assert!(
        inline + heap <= BUDGET,
        "idle: {inline} B inline + {heap} B heap > {BUDGET} B"
    );

    // One small message each way leaves nothing more behind.
    client
        .send_message(MessageKind::Binary, b"0123456789abcdef")
        .unwrap();
    take_output(&mut client, &mut wire);
    let ((), grown) = counted(|| {
        server.receive(&wire);
        wire.clear();
        match server.next_event() {
            Ok(Some(Event::Message(m))) => {
                assert_eq!(m.as_bytes(), b"0123456789abcdef");
                server.send_message(m.kind(), m.as_bytes()).unwrap();
            }
            other => panic!("expected the message, got {other:?}"),
        }
        take_output(&mut server, &mut wire);
    });
    client.receive(&wire);
    assert!(matches!(client.next_event(), Ok(Some(Event::Message(_)))));
    assert!(
        inline + heap + grown <= BUDGET,
        "after one message: {inline} B inline + {} B heap > {BUDGET} B",
        heap + grown
    );
}
