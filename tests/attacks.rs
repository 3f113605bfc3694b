//! Hostile peers: one test per attack, each asserting the close code or HTTP status the
//! attack ends with AND a bound on the heap the attacked side used meanwhile.
//!
//! The heap is measured by a counting global allocator, per thread (the attacked side runs on
//! its own thread in the TCP tests), as the peak of bytes allocated and not yet freed since
//! the measurement started. Where timing matters the sans-IO engine runs on a synthetic
//! clock; the slow handshake, the keepalive and the never-reading peer run the blocking
//! adapter over loopback TCP with short timeouts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

mod common;
use common::*;
use wsengine::io::WebSocket;
use wsengine::{
    Config, Connection, Error, Event, HandshakeError, Limits, ProtocolError, State, TimeoutKind,
};

// ------------------------------------------------------------------ heap measurement

struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    // `try_with`: the thread's slots may be gone while it exits.
    let _ = CURRENT.try_with(|c| {
        let now = c.get() + delta;
        c.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Runs `f` and returns its result with the peak heap (bytes) this thread held during it
/// beyond what it held before.
fn peak_heap<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let r = f();
    let peak = PEAK.with(Cell::get) - start;
    eprintln!("peak heap: {peak} bytes");
    (r, peak.max(0) as usize)
}

/// Feeds `conn` and pulls events until an error, returning the events seen and the error.
fn until_error(conn: &mut Connection, chunks: impl Iterator<Item = Vec<u8>>) -> Option<Error> {
    for c in chunks {
        conn.receive(&c);
        loop {
            match conn.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => return Some(e),
            }
        }
    }
    None
}

const KIB: usize = 1024;

// ------------------------------------------------------------------ floods (sans-IO)

/// A text message sent as one-byte frames by the million, in 64 KiB reads: the fragment limit
/// (262 144 by default) fails it with 1009 long before the million, and the heap holds at
/// most the message so far (≤ 256 KiB, in a Vec that may double) plus one read.
#[test]
fn one_byte_fragments_by_the_million_end_with_1009() {
    let mut s = open_server(Config::default());
    let first = cframe(0x01, b"a");
    let cont = cframe(0x00, b"a");
    let chunk: Vec<u8> = cont
        .iter()
        .copied()
        .cycle()
        .take(cont.len() * 9362)
        .collect();
    let frames_per_chunk = chunk.len() / cont.len();
    let chunks =
        std::iter::once(first).chain(std::iter::repeat_n(chunk, 1_000_000 / frames_per_chunk + 1));
    let started = Instant::now();
    let (err, peak) = peak_heap(|| until_error(&mut s, chunks));
    assert!(
        matches!(
            err,
            Some(Error::Protocol(ProtocolError::TooManyFragments {
                limit: 262_144
            }))
        ),
        "{err:?}"
    );
    assert_eq!(sent_close_code(&s), Some(Some(1009)));
    assert!(peak <= 768 * KIB, "peak heap {peak} bytes");
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// The same flood under a message limit smaller than the fragment limit allows: 1009 once the
/// message would exceed 100 000 bytes, with the heap bounded by that limit.
#[test]
fn one_byte_fragments_hit_the_message_limit_first_when_it_is_smaller() {
    let cfg = Config {
        limits: Limits {
            max_message_size: 100_000,
            ..Limits::default()
        },
        ..Config::default()
    };
    let mut s = open_server(cfg);
    let cont = cframe(0x00, b"a");
    let chunk: Vec<u8> = cont
        .iter()
        .copied()
        .cycle()
        .take(cont.len() * 1000)
        .collect();
    let chunks = std::iter::once(cframe(0x02, b"a")).chain(std::iter::repeat_n(chunk, 1000));
    let (err, peak) = peak_heap(|| until_error(&mut s, chunks));
    assert!(
        matches!(
            err,
            Some(Error::Protocol(ProtocolError::MessageTooBig {
                limit: 100_000
            }))
        ),
        "{err:?}"
    );
    assert_eq!(sent_close_code(&s), Some(Some(1009)));
    assert!(peak <= 256 * KIB, "peak heap {peak} bytes");
}

/// A million pings while the caller never writes anything out (the peer never reads, so
/// nothing can be written): owed pongs collapse into one slot above 16 KiB of pending
/// output, so the output and the heap stay within 16 KiB + one pong (plus the reads).
#[test]
fn pings_faster_than_pongs_can_be_written_keep_the_heap_bounded() {
    let mut s = open_server(Config::default());
    let ping = cframe(0x89, &[b'p'; 125]);
    let chunk: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 500)
        .collect();
    let (pings, peak) = peak_heap(|| {
        let mut pings = 0u32;
        for _ in 0..2000 {
            s.receive(&chunk);
            while let Some(e) = s.next_event().unwrap() {
                assert!(matches!(e, Event::Ping(_)));
                pings += 1;
            }
        }
        pings
    });
    assert_eq!(pings, 1_000_000);
    assert_eq!(s.state(), State::Open, "a ping flood is not a violation");
    assert!(
        s.pending_output() <= 16 * KIB + 2 * 131,
        "{}",
        s.pending_output()
    );
    assert!(peak <= 160 * KIB, "peak heap {peak} bytes");
}

/// Header lines without end: 431 once the head passes 16 KiB, whatever arrives after, and the
/// heap holds no more than the head limit plus one read.
#[test]
fn headers_without_end_are_answered_431() {
    for line in [
        &b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"[..],
        b"a",
    ] {
        let mut s = Connection::server(Config::default()).unwrap();
        let mut fed = 0;
        let chunk: Vec<u8> = line.iter().copied().cycle().take(1024).collect();
        let chunks = std::iter::once(b"GET / HTTP/1.1\r\n".to_vec())
            .chain(std::iter::repeat_n(chunk, 1024))
            .inspect(|c| fed += c.len());
        let (err, peak) = peak_heap(|| until_error(&mut s, chunks));
        assert!(
            matches!(err, Some(Error::Handshake(HandshakeError::HeadTooLarge))),
            "{err:?}"
        );
        assert!(fed <= 16 * KIB + 1024 + 16, "failed only after {fed} bytes");
        assert!(s.output().starts_with(b"HTTP/1.1 431 "));
        assert!(peak <= 96 * KIB, "peak heap {peak} bytes");
        // Whatever the peer sends next is dropped.
        s.receive(&[b'x'; 4096]);
        assert!(s.next_event().unwrap().is_none());
    }
}

/// Many short headers: 431 at the 65th (default `max_headers` 64).
#[test]
fn too_many_headers_are_answered_431() {
    let mut s = Connection::server(Config::default()).unwrap();
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..100 {
        req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    let (err, peak) = peak_heap(|| until_error(&mut s, std::iter::once(req)));
    assert!(
        matches!(err, Some(Error::Handshake(HandshakeError::HeadTooLarge))),
        "{err:?}"
    );
    assert!(s.output().starts_with(b"HTTP/1.1 431 "));
    assert!(peak <= 64 * KIB, "peak heap {peak} bytes");
}

/// A close frame, then more data (in the same read and after): the close is answered with
/// 1000, nothing after it is parsed or kept, and the heap stays at one read.
#[test]
fn data_after_a_close_frame_is_dropped() {
    let mut s = open_server(Config::default());
    let mut first = cframe(0x88, &1000u16.to_be_bytes());
    let data = cframe(0x82, &[7u8; 1000]);
    while first.len() < 64 * KIB {
        first.extend_from_slice(&data);
    }
    let rest: Vec<u8> = data.iter().copied().cycle().take(64 * KIB).collect();
    let (events, peak) = peak_heap(|| {
        let mut events = Vec::new();
        for c in std::iter::once(first).chain(std::iter::repeat_n(rest, 100)) {
            s.receive(&c);
            while let Some(e) = s.next_event().unwrap() {
                events.push(e);
            }
        }
        events
    });
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(matches!(&events[0], Event::Close(Some(c)) if c.code.0 == 1000));
    assert_eq!(s.state(), State::Closed);
    assert_eq!(sent_close_code(&s), Some(Some(1000)));
    assert!(s.should_close() || s.pending_output() > 0);
    assert!(peak <= 160 * KIB, "peak heap {peak} bytes");
}

// ------------------------------------------------------------------ slow peers (TCP)

/// Runs `server` on the accepted side of a loopback connection (on its own thread, so its
/// heap is measured alone) and `attacker` on the connecting side; returns the server's
/// result and peak heap.
fn attack<R: Send + 'static>(
    server: impl FnOnce(TcpStream) -> R + Send + 'static,
    attacker: impl FnOnce(TcpStream),
) -> (R, usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        peak_heap(|| server(stream))
    });
    attacker(TcpStream::connect(addr).unwrap());
    handle.join().unwrap()
}

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

/// Reads until EOF or a reset; returns what arrived (bounded: stops after 1 MiB).
fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < 1 << 20 {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("attacker read: {e}"),
        }
    }
    got
}

/// A request trickling in one byte every 50 ms (a slowloris): the 400 ms handshake timeout
/// ends it, counted from the start and not re-armed by each byte, so the attack lasts the
/// timeout whatever the pace; the server holds its read buffer and little more.
#[test]
fn a_handshake_one_byte_at_a_time_times_out() {
    let cfg = Config {
        handshake_timeout_ms: Some(400),
        ..Config::default()
    };
    let started = Instant::now();
    let (result, peak) = attack(
        move |stream| {
            let r = WebSocket::accept(stream, cfg).map(|_| ());
            (r, started.elapsed())
        },
        |mut stream| {
            for b in REQUEST.iter().take(40) {
                if stream.write_all(&[*b]).is_err() {
                    return; // the server hung up: the attack is over
                }
                thread::sleep(Duration::from_millis(50));
            }
        },
    );
    let (r, took) = result;
    assert!(
        matches!(r, Err(Error::Timeout(TimeoutKind::Handshake))),
        "{r:?}"
    );
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(peak <= 128 * KIB, "peak heap {peak} bytes");
}

/// Keepalive through the blocking adapter: a peer that completes the handshake and then
/// never answers gets a ping after the interval, and the connection fails (1006: no close
/// frame is sent) when no pong arrives within the keepalive timeout.
#[test]
fn keepalive_fails_a_silent_peer_with_1006_through_the_blocking_adapter() {
    let cfg = Config {
        keepalive_interval_ms: Some(200),
        keepalive_timeout_ms: 200,
        ..Config::default()
    };
    let started = Instant::now();
    let mut seen = Vec::new();
    let (result, peak) = attack(
        move |stream| {
            let (mut ws, _) = WebSocket::accept(stream, cfg).unwrap();
            (ws.read().map(|_| ()), started.elapsed())
        },
        |mut stream| {
            stream.write_all(REQUEST).unwrap();
            seen = read_to_close(&mut stream);
        },
    );
    let (r, took) = result;
    assert!(
        matches!(r, Err(Error::Timeout(TimeoutKind::Keepalive))),
        "{r:?}"
    );
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(3));
    let head_end = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(seen.starts_with(b"HTTP/1.1 101 "));
    let frames = parse_frames(&seen[head_end..]);
    assert_eq!(
        frames,
        vec![(wsengine::OpCode::Ping, true, vec![])],
        "one ping, then no close frame (1006)"
    );
    assert!(peak <= 128 * KIB, "peak heap {peak} bytes");
}

/// A peer that never reads: the server's writes fill the socket buffers, then the engine's
/// write timeout (no progress for `write_timeout_ms`) fails the connection with
/// `Error::Timeout(Write)` — no close frame, since the peer reads nothing — and drops what
/// could not be sent. No socket option set by the caller: the adapter sets the transport's
/// write timeout from the engine's. Both write paths: small messages framed into the engine's
/// output, and large ones written vectored from the caller's buffer.
#[test]
fn a_peer_that_never_reads_fails_writes_at_the_write_timeout() {
    for size in [KIB, 64 * KIB] {
        let started = Instant::now();
        let done = Arc::new(AtomicBool::new(false));
        let server_done = done.clone();
        let cfg = Config {
            write_timeout_ms: Some(300),
            ..Config::default()
        };
        let (result, peak) = attack(
            move |stream| {
                let (mut ws, _) = WebSocket::accept(stream, cfg).unwrap();
                let msg = vec![0x5a; size];
                // At most 64 MiB in total: far beyond any loopback socket buffer.
                let mut r = Ok(());
                let mut stalled = started.elapsed();
                for _ in 0..(64 * 1024 * KIB / size) {
                    stalled = started.elapsed();
                    r = ws.write_binary(&msg);
                    if r.is_err() {
                        break;
                    }
                }
                let took = started.elapsed() - stalled;
                let after = ws.write_binary(b"more").map(|_| ());
                let pending = ws.connection().pending_output();
                server_done.store(true, Ordering::SeqCst);
                (r, took, after, pending)
            },
            |mut stream| {
                stream.write_all(REQUEST).unwrap();
                // Never read; keep the socket open until the server gives up (bounded).
                while !done.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(20) {
                    thread::sleep(Duration::from_millis(10));
                }
            },
        );
        let (r, took, after, pending) = result;
        assert!(
            matches!(r, Err(Error::Timeout(TimeoutKind::Write))),
            "{size}: {r:?}"
        );
        // The last write blocked from its start to the deadline: 300 ms of no progress (a
        // write that made progress first may take a little longer), never twice that.
        assert!(
            took >= Duration::from_millis(290) && took < Duration::from_millis(1500),
            "{size}: {took:?}"
        );
        assert!(matches!(after, Err(Error::Usage(_))), "{size}: {after:?}");
        assert_eq!(pending, 0, "{size}: unsent bytes dropped");
        assert!(peak <= 512 * KIB, "{size}: peak heap {peak} bytes");
    }
}
