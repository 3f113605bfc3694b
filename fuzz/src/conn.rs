//! An open connection driven by a fuzz input, and the invariants checked after every step.
//!
//! Input format (`drive`): one flags byte, then operations until the input ends.
//!
//! flags: bit 0 permessage-deflate negotiated, bit 1 streaming reads, bit 2 auto-pong off.
//!
//! | op & 7 | operation | operands |
//! |---|---|---|
//! | 0 | receive `n` bytes (a chunk of the peer's stream; op bit 3: through `receive_buffer` where the engine offers room) | `n` = u8 + 1 |
//! | 1 | receive `n` bytes (op bit 3 as for 0) | `n` = u16 |
//! | 2 | send a whole message (op bit 3: text) of `n` copies of a byte (512 KiB per input at most) | `n` = u16 & 0x1fff, byte |
//! | 3 | `write_some(fin = op bit 3, text = op bit 4, data)` | u8 length, data |
//! | 4 | `ping(data)` (data may exceed 125: a usage error) | u8 length, data |
//! | 5 | `close(code, reason)` | u16 code, u8 length, reason bytes (lossy UTF-8) |
//! | 6 | write out everything pending (and hand it to the peer engine) | — |
//! | 7 | `handle_timeout(now + 10 * t)`; op bit 3: `receive_eof` | u16 `t` |
//!
//! The peer engine (the other end of a real handshake) receives all our output: whatever we
//! send must never be a protocol violation in its eyes.

use wsengine::frame::OpCode;
use wsengine::{
    ClientRequest, Config, Connection, Error, Event, MessageKind, ProtocolError, Role, State,
};

use crate::{small_config, wire, Input, MAX_MESSAGE};

/// The bytes a pending output may hold beyond what the caller asked to send since the last
/// write: owed pongs (the engine's 16 KiB high-water mark plus one pong), a close frame and a
/// keepalive ping, with headroom for framing.
pub const OUTPUT_SLACK: usize = 16 * 1024 + 2 * 131 + 4096;

/// Bytes of whole messages one input may ask to send.
const SEND_BUDGET: usize = 512 << 10;

/// An open pair: `ours` is under test, `peer` checks what `ours` sends.
pub struct Pair {
    /// The connection under test.
    pub ours: Connection,
    /// The other end, fed everything `ours` writes.
    pub peer: Connection,
}

/// Opens `role` against a peer with a real handshake; the handshake bytes are discarded.
pub fn open(role: Role, ours_cfg: Config, peer_cfg: Config) -> Pair {
    let req = || ClientRequest::new("ws://localhost/fuzz").unwrap();
    let (mut client, mut server) = match role {
        Role::Client => (
            Connection::client(req(), ours_cfg).unwrap(),
            Connection::server(peer_cfg).unwrap(),
        ),
        Role::Server => (
            Connection::client(req(), peer_cfg).unwrap(),
            Connection::server(ours_cfg).unwrap(),
        ),
    };
    let move_all = |from: &mut Connection, to: &mut Connection| {
        let n = from.output().len();
        to.receive(from.output());
        from.consume_output(n);
    };
    move_all(&mut client, &mut server);
    assert!(matches!(server.next_event(), Ok(Some(Event::Open(_)))));
    move_all(&mut server, &mut client);
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    match role {
        Role::Client => Pair {
            ours: client,
            peer: server,
        },
        Role::Server => Pair {
            ours: server,
            peer: client,
        },
    }
}

/// The pair `drive` runs on for `flags` (the seed generator records the peer's side of it).
pub fn open_for(role: Role, flags: u8) -> Pair {
    let deflate = flags & 1 != 0;
    let mut cfg = small_config(MAX_MESSAGE, deflate);
    cfg.auto_pong = flags & 4 == 0;
    // The peer only checks our output; it must not time out or run into its own limits.
    let peer_cfg = Config {
        deflate: deflate.then(Default::default),
        keepalive_interval_ms: None,
        idle_timeout_ms: None,
        ..Config::default()
    };
    open(role, cfg, peer_cfg)
}

/// What the driver remembers between steps to check invariants.
pub struct Tracker {
    /// Bytes the caller asked to send since the output was last written.
    asked: usize,
    /// Whether an error was reported (only one may be).
    failed: bool,
    max_message: usize,
}

impl Tracker {
    /// A tracker for a connection whose message limit is `max_message`.
    pub fn new(max_message: usize) -> Self {
        Tracker {
            asked: 0,
            failed: false,
            max_message,
        }
    }
}

/// Gives `bytes` to `conn`: with `zero_copy`, through `receive_buffer`/`commit_received` as
/// far as the engine offers room (as the adapters read), the rest through `receive`.
fn feed(conn: &mut Connection, mut bytes: &[u8], zero_copy: bool) {
    while zero_copy && !bytes.is_empty() {
        let Some(room) = conn.receive_buffer() else {
            break;
        };
        let n = room.len().min(bytes.len());
        assert!(n > 0, "receive_buffer offered no room");
        for (dst, &src) in room.iter_mut().zip(&bytes[..n]) {
            dst.write(src);
        }
        // SAFETY: the first `n` bytes of `room` were just written.
        unsafe { conn.commit_received(n) };
        bytes = &bytes[n..];
    }
    conn.receive(bytes);
}

/// Runs the program in `data` against an open connection in `role` (format: module docs).
pub fn drive(role: Role, data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let Pair { mut ours, mut peer } = open_for(role, flags);
    ours.set_streaming(flags & 2 != 0);
    let mut t = Tracker::new(MAX_MESSAGE);
    let mut now = 0u64;
    let mut sent_total = 0usize;
    ours.handle_timeout(now);
    while !input.is_empty() {
        let op = input.u8();
        // A caller honouring back-pressure: writes out before queueing more than 1 MiB (the
        // engine queues whatever the caller sends; the bound is the caller's to keep).
        if t.asked > 1 << 20 {
            write_out(&mut t, &mut ours, &mut peer, role);
        }
        match op & 7 {
            0 => {
                let n = usize::from(input.u8()) + 1;
                feed(&mut ours, input.bytes(n), op & 8 != 0);
            }
            1 => {
                let n = usize::from(input.u16());
                feed(&mut ours, input.bytes(n), op & 8 != 0);
            }
            2 => {
                // Up to 8 KiB (still two frames at the default 4 KiB `write_buffer_bytes`),
                // and 512 KiB per input in all: more only costs the fuzzer time (compressing it).
                let n = usize::from(input.u16() & 0x1fff);
                let b = input.u8();
                sent_total += n;
                if sent_total > SEND_BUDGET {
                    continue;
                }
                let r = if op & 8 != 0 {
                    let c = char::from(b & 0x7f).to_string();
                    ours.send_text(&c.repeat(n))
                } else {
                    ours.send_binary(&vec![b; n])
                };
                note_send(&mut t, &ours, r, n);
            }
            3 => {
                let n = usize::from(input.u8());
                let d = input.bytes(n);
                // Text parts must be UTF-8 (the caller's duty): ASCII stays valid in any split.
                let (kind, d) = if op & 16 != 0 {
                    (MessageKind::Text, d.iter().map(|b| b & 0x7f).collect())
                } else {
                    (MessageKind::Binary, d.to_vec())
                };
                let r = ours.write_some(op & 8 != 0, kind, &d);
                note_send(&mut t, &ours, r, d.len());
            }
            4 => {
                let n = usize::from(input.u8());
                let d = input.bytes(n);
                let r = ours.ping(d);
                if d.len() > 125 {
                    assert!(matches!(r, Err(Error::Usage(_))), "{r:?}");
                }
                note_send(&mut t, &ours, r, d.len());
            }
            5 => {
                let code = input.u16();
                let n = usize::from(input.u8());
                let reason = String::from_utf8_lossy(input.bytes(n)).into_owned();
                let r = ours.close(code, &reason);
                note_send(&mut t, &ours, r, reason.len());
            }
            6 => write_out(&mut t, &mut ours, &mut peer, role),
            _ => {
                now += 10 * u64::from(input.u16());
                ours.handle_timeout(now);
                if op & 8 != 0 {
                    ours.receive_eof();
                }
            }
        }
        poll(&mut t, &mut ours);
        assert!(
            ours.pending_output() <= t.asked + OUTPUT_SLACK,
            "pending output {} after asking to send {}",
            ours.pending_output(),
            t.asked
        );
        if let Some(d) = ours.next_deadline() {
            assert!(d >= now, "deadline {d} in the past (now {now})");
        }
    }
    write_out(&mut t, &mut ours, &mut peer, role);
}

/// A send call may fail only with a usage error or because the connection is closed; a
/// successful one counts towards the output bound (with framing overhead per fragment).
fn note_send(t: &mut Tracker, ours: &Connection, r: Result<(), Error>, n: usize) {
    match r {
        Ok(()) => {
            let frames = n / ours.config().write_buffer_bytes + 1;
            // Compressed output may exceed its input by a few bytes per block.
            t.asked += n + frames * 14 + n / 1000 + 16;
        }
        Err(Error::Usage(_)) | Err(Error::Closed) => {}
        Err(e) => panic!("send failed with {e:?}"),
    }
}

/// Pulls every event, checking each against the limits and the error contract.
pub fn poll(t: &mut Tracker, ours: &mut Connection) {
    loop {
        let state_before = ours.state();
        let out_before = ours.pending_output();
        match ours.next_event() {
            Ok(None) => return,
            Ok(Some(ev)) => check_event(t, &ev),
            Err(e) => {
                assert!(!t.failed, "a second error: {e:?}");
                t.failed = true;
                assert_eq!(ours.state(), State::Closed, "{e:?}");
                if let Error::Protocol(p) = &e {
                    check_protocol_error(ours, p, state_before, out_before);
                } else {
                    assert!(matches!(e, Error::Timeout(_)), "unexpected error {e:?}");
                }
                assert!(
                    matches!(ours.next_event(), Ok(None)),
                    "error reported twice"
                );
                return;
            }
        }
    }
}

fn check_event(t: &Tracker, ev: &Event) {
    match ev {
        Event::Open(_) => panic!("a second Open event"),
        Event::Message(m) => assert!(m.len() <= t.max_message, "message of {}", m.len()),
        Event::Fragment(f) => assert!(f.data.len() <= t.max_message),
        Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
        Event::Close(Some(c)) => {
            assert!(c.code.is_sendable(), "close code {}", c.code);
            assert!(c.reason.len() <= 123);
        }
        Event::Close(None) => {}
    }
}

/// A protocol error maps to the RFC's codes, and when the connection was open the matching
/// close frame is the last thing queued (1006 sends none).
fn check_protocol_error(
    ours: &Connection,
    p: &ProtocolError,
    state_before: State,
    out_before: usize,
) {
    let code = p.close_code().0;
    assert!(
        matches!(code, 1002 | 1006 | 1007 | 1009),
        "{p:?} maps to {code}"
    );
    let added = &ours.output()[out_before..];
    if state_before == State::Open && code != 1006 {
        let (frames, whole) = wire::frames(added).expect("our close frame parses");
        assert!(whole);
        let (h, payload) = frames.last().expect("a close frame was queued");
        assert_eq!(h.opcode, OpCode::Close);
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
    } else {
        assert!(added.is_empty(), "{p:?} in {state_before:?} queued output");
    }
}

/// Writes out everything pending into the peer, which must see no violation in it.
fn write_out(t: &mut Tracker, ours: &mut Connection, peer: &mut Connection, role: Role) {
    let out = ours.output().to_vec();
    ours.consume_output(out.len());
    t.asked = 0;
    if role == Role::Client {
        // A client masks every frame; check the framing before the peer does.
        let (frames, _) = wire::frames(&out).expect("our output parses");
        assert!(frames.iter().all(|(h, _)| h.mask.is_some()));
    }
    peer.receive(&out);
    loop {
        match peer.next_event() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => panic!("the peer rejects our output: {e:?}"),
        }
    }
}
