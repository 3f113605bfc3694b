//! Any split of the input yields the same events: byte at a time, random splits, all at once.

mod common;
use common::*;
use wsengine::{Config, Connection, Event, MessageKind};

/// A long conversation from a client: handshake, messages of many sizes, fragmented text
/// with multi-byte characters, pings between fragments, and a close.
fn conversation() -> Vec<u8> {
    let mut c = Connection::client(
        wsengine::ClientRequest::new("ws://localhost/x").unwrap(),
        Config::default(),
    )
    .unwrap();
    let mut wire = c.output().to_vec();
    let n = wire.len();
    c.consume_output(n);
    // Drive the client open with a server.
    let mut s = Connection::server(Config::default()).unwrap();
    s.receive(&wire);
    s.next_event().unwrap();
    pump(&mut s, &mut c);
    c.next_event().unwrap();
    for i in 0..40usize {
        let len = [0, 1, 125, 126, 3000, 70_000][i % 6];
        c.send_binary(&vec![i as u8; len]).unwrap();
        c.write_some(false, MessageKind::Text, "ünï".as_bytes())
            .unwrap();
        c.ping(format!("p{i}").as_bytes()).unwrap();
        c.write_some(true, MessageKind::Text, "cödé €𝄞".as_bytes())
            .unwrap();
        c.pong(b"unsolicited").unwrap();
    }
    c.close(1000, "done").unwrap();
    wire.extend_from_slice(c.output());
    wire
}

fn describe(e: &Event) -> String {
    match e {
        Event::Open(_) => "open".into(),
        other => format!("{other:?}"),
    }
}

fn run(wire: &[u8], splits: impl Iterator<Item = usize>) -> Vec<String> {
    let mut s = Connection::server(Config::default()).unwrap();
    let mut out = Vec::new();
    let mut pos = 0;
    for n in splits {
        if pos >= wire.len() {
            break;
        }
        let end = (pos + n.max(1)).min(wire.len());
        s.receive(&wire[pos..end]);
        pos = end;
        while let Some(e) = s.next_event().unwrap() {
            out.push(describe(&e));
        }
    }
    assert_eq!(pos, wire.len());
    out
}

struct XorShift(u64);
impl Iterator for XorShift {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Some((self.0 % 9000) as usize)
    }
}

#[test]
fn byte_at_a_time_yields_the_same_events_as_all_at_once() {
    let wire = conversation();
    let whole = run(&wire, std::iter::once(wire.len()));
    assert_eq!(
        whole.len(),
        1 + 40 * 4 + 1,
        "open, 4 events per round, close"
    );
    assert_eq!(run(&wire, std::iter::repeat(1)), whole);
}

#[test]
fn random_splits_yield_the_same_events_as_all_at_once() {
    let wire = conversation();
    let whole = run(&wire, std::iter::once(wire.len()));
    for seed in 1..20u64 {
        let splits = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).map(|n| {
            if n % 3 == 0 {
                n % 7
            } else {
                n
            }
        });
        assert_eq!(run(&wire, splits), whole, "seed {seed}");
    }
}

#[test]
fn streaming_mode_pieces_concatenate_to_the_same_messages_under_any_split() {
    let wire = conversation();
    let collect = |splits: &mut dyn Iterator<Item = usize>| {
        let mut s = Connection::server(Config::default()).unwrap();
        s.set_streaming(true);
        let (mut msgs, mut cur, mut pos) = (Vec::new(), Vec::new(), 0);
        for n in splits {
            if pos >= wire.len() {
                break;
            }
            let end = (pos + n.max(1)).min(wire.len());
            s.receive(&wire[pos..end]);
            pos = end;
            while let Some(e) = s.next_event().unwrap() {
                if let Event::Fragment(f) = e {
                    cur.extend(f.data);
                    if f.fin {
                        msgs.push(std::mem::take(&mut cur));
                    }
                }
            }
        }
        msgs
    };
    let whole = collect(&mut std::iter::once(wire.len()));
    assert_eq!(whole.len(), 80);
    assert_eq!(collect(&mut std::iter::repeat(1)), whole);
    assert_eq!(collect(&mut XorShift(77)), whole);
}
