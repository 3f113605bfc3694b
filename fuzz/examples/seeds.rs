//! Writes the seed corpora into `fuzz/seeds/<target>/` (run by `cargo xtask fuzz --seed`):
//! RFC 6455 §1.2/§4/§5.7 and RFC 7692 §7.2.3 examples, and recorded traffic of typical
//! conversations (plain and compressed) produced by the engine itself, in each target's input
//! format. Deterministic except for mask keys, which the engine draws at random.

use std::fs;
use std::path::{Path, PathBuf};

use wsengine::{Connection, MessageKind, Role};
use wsengine_fuzz::{conn, wire};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let mut n = 0;
    for (target, seeds) in [
        ("close_frame", close_frame()),
        ("handshake_request", handshake_request()),
        ("handshake_response", handshake_response()),
        ("client", connection(Role::Client)),
        ("server", connection(Role::Server)),
        ("deflate", deflate()),
    ] {
        let dir = root.join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seeds {
            write(&dir, &name, &bytes);
            n += 1;
        }
    }
    println!("wrote {n} seeds under {}", root.display());
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).unwrap();
}

type Seeds = Vec<(String, Vec<u8>)>;

fn close_frame() -> Seeds {
    let code = |c: u16, r: &[u8]| [&c.to_be_bytes()[..], r].concat();
    vec![
        ("empty".into(), vec![]),
        ("one-byte".into(), vec![0x03]),
        ("1000".into(), code(1000, b"")),
        ("1000-bye".into(), code(1000, b"bye")),
        ("1001-going-away".into(), code(1001, b"going away")),
        ("1005-not-sendable".into(), code(1005, b"")),
        ("999".into(), code(999, b"")),
        ("3000-app".into(), code(3000, b"app")),
        ("4999".into(), code(4999, b"")),
        ("5000".into(), code(5000, b"")),
        ("reason-bad-utf8".into(), code(1000, b"\xce\xba\xe1\xbd")),
        ("reason-123".into(), code(1000, &[b'r'; 123])),
        ("reason-utf8".into(), code(1000, "κόσμε".as_bytes())),
    ]
}

/// RFC 6455 §1.2's request.
const RFC_REQUEST: &str =
    "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

fn handshake_request() -> Seeds {
    // Byte 0: chunk size; byte 1: flags (see wsengine_fuzz::handshake).
    let seed = |size: u8, flags: u8, s: &str| [&[size, flags][..], s.as_bytes()].concat();
    let deflate = RFC_REQUEST.replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, \
         permessage-deflate; server_no_context_takeover; server_max_window_bits=10\r\n\r\n",
    );
    let mut big = RFC_REQUEST.replace("\r\n\r\n", "\r\n");
    for i in 0..20 {
        big.push_str(&format!("X-Filler-{i}: {}\r\n", "a".repeat(100)));
    }
    big.push_str("\r\n");
    let with_frame = [seed(0, 0, RFC_REQUEST), wire::frame(0x81, true, b"Hello")].concat();
    vec![
        ("rfc".into(), seed(0, 0, RFC_REQUEST)),
        ("rfc-bytewise".into(), seed(1, 0, RFC_REQUEST)),
        ("rfc-chat-callback".into(), seed(7, 2, RFC_REQUEST)),
        (
            "rfc-reject".into(),
            seed(0, 2, &RFC_REQUEST.replace("/chat", "/reject")),
        ),
        ("deflate".into(), seed(0, 1, &deflate)),
        (
            "version-8".into(),
            seed(0, 0, &RFC_REQUEST.replace("Version: 13", "Version: 8")),
        ),
        (
            "post".into(),
            seed(0, 0, &RFC_REQUEST.replace("GET", "POST")),
        ),
        (
            "http10".into(),
            seed(0, 0, &RFC_REQUEST.replace("HTTP/1.1", "HTTP/1.0")),
        ),
        (
            "bad-key".into(),
            seed(
                0,
                0,
                &RFC_REQUEST.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"),
            ),
        ),
        ("too-many-headers".into(), seed(64, 0, &big)),
        ("frame-after".into(), with_frame),
        (
            "lf-only".into(),
            seed(0, 0, &RFC_REQUEST.replace("\r\n", "\n")),
        ),
    ]
}

fn handshake_response() -> Seeds {
    let seed = |size: u8, flags: u8, s: &str| [&[size, flags][..], s.as_bytes()].concat();
    let ok = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: {accept}\r\n\r\n";
    let with = |h: &str| ok.replace("\r\n\r\n", &format!("\r\n{h}\r\n\r\n"));
    let after = [seed(0, 0, ok), wire::frame(0x81, false, b"Hello")].concat();
    vec![
        ("rfc".into(), seed(0, 0, ok)),
        ("rfc-bytewise".into(), seed(1, 0, ok)),
        (
            "chat".into(),
            seed(0, 2, &with("Sec-WebSocket-Protocol: chat")),
        ),
        (
            "unoffered-protocol".into(),
            seed(0, 2, &with("Sec-WebSocket-Protocol: other")),
        ),
        (
            "deflate".into(),
            seed(
                0,
                1,
                &with("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12"),
            ),
        ),
        (
            "deflate-no-takeover".into(),
            seed(
                3,
                1,
                &with("Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
            ),
        ),
        (
            "bad-accept".into(),
            seed(0, 0, &ok.replace("{accept}", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")),
        ),
        (
            "403-body".into(),
            seed(
                0,
                0,
                "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden",
            ),
        ),
        (
            "302-redirect".into(),
            seed(
                5,
                0,
                "HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 0\r\n\r\n",
            ),
        ),
        (
            "body-until-eof".into(),
            seed(0, 0, "HTTP/1.1 500 Oops\r\n\r\nsomething broke"),
        ),
        ("frame-after".into(), after),
    ]
}

/// Operation codes of `wsengine_fuzz::conn`.
mod op {
    pub const RECV_SMALL: u8 = 0;
    pub const RECV: u8 = 1;
    /// With RECV_SMALL or RECV: through `receive_buffer`.
    pub const ZERO_COPY: u8 = 8;
    pub const SEND_TEXT: u8 = 2 | 8;
    pub const WRITE_SOME_FIN_TEXT: u8 = 3 | 8 | 16;
    pub const WRITE_SOME_BINARY: u8 = 3;
    pub const PING: u8 = 4;
    pub const CLOSE: u8 = 5;
    pub const WRITE_OUT: u8 = 6;
    pub const TIME: u8 = 7;
}

/// A program for `conn::drive`.
struct Program(Vec<u8>);

impl Program {
    fn new(flags: u8) -> Self {
        Program(vec![flags])
    }
    /// Receives `bytes` in chunks of `chunk` (≤ 256: small receives; otherwise u16 receives).
    fn recv(&mut self, bytes: &[u8], chunk: usize) -> &mut Self {
        self.recv_with(bytes, chunk, 0)
    }
    /// As `recv`, through the zero-copy `receive_buffer` where the engine offers room.
    fn recv_zero_copy(&mut self, bytes: &[u8], chunk: usize) -> &mut Self {
        self.recv_with(bytes, chunk, op::ZERO_COPY)
    }
    fn recv_with(&mut self, bytes: &[u8], chunk: usize, bits: u8) -> &mut Self {
        for c in bytes.chunks(chunk.max(1)) {
            if c.len() <= 256 && chunk <= 256 {
                self.0.push(op::RECV_SMALL | bits);
                self.0.push((c.len() - 1) as u8);
            } else {
                self.0.push(op::RECV | bits);
                self.0.extend_from_slice(&(c.len() as u16).to_le_bytes());
            }
            self.0.extend_from_slice(c);
        }
        self
    }
    fn raw(&mut self, ops: &[u8]) -> &mut Self {
        self.0.extend_from_slice(ops);
        self
    }
}

/// The peer's output of one conversation, made on the same pair the target opens.
fn record(role: Role, flags: u8, talk: impl FnOnce(&mut Connection)) -> Vec<u8> {
    let mut pair = conn::open_for(role, flags);
    talk(&mut pair.peer);
    pair.peer.output().to_vec()
}

fn connection(role: Role) -> Seeds {
    let masked = role == Role::Server;
    let mut seeds: Seeds = Vec::new();
    // RFC 6455 §5.7 examples (as the peer of `role` sends them).
    let hello = wire::frame(0x81, masked, b"Hello");
    let frag = [
        wire::frame(0x01, masked, b"Hel"),
        wire::frame(0x80, masked, b"lo"),
    ]
    .concat();
    let ping = wire::frame(0x89, masked, b"Hello");
    let pong = wire::frame(0x8a, masked, b"Hello");
    let b256 = wire::frame(0x82, masked, &[0xab; 256]);
    let b64k = wire::frame(0x82, masked, &[0xcd; 65536]);
    let close = wire::frame(0x88, masked, &[0x03, 0xe8, b'b', b'y', b'e']);
    for (name, bytes) in [
        ("rfc-hello", &hello),
        ("rfc-fragmented", &frag),
        ("rfc-ping", &ping),
        ("rfc-pong", &pong),
        ("rfc-256", &b256),
        ("rfc-64k", &b64k),
        ("rfc-close", &close),
    ] {
        let mut p = Program::new(0);
        p.recv(bytes, 4096).raw(&[op::WRITE_OUT]);
        seeds.push((name.into(), p.0));
    }
    let mut p = Program::new(0);
    p.recv(&[hello.clone(), ping.clone(), frag.clone()].concat(), 1);
    seeds.push(("rfc-bytewise".into(), p.0));
    // Zero-copy receives: a large frame and a fragmented text message with a ping inside.
    let mut p = Program::new(0);
    p.recv_zero_copy(&[b64k.clone(), frag.clone(), ping.clone()].concat(), 1000);
    seeds.push(("zero-copy-64k".into(), p.0));
    let mut p = Program::new(2);
    p.recv_zero_copy(&[hello.clone(), b256.clone(), frag.clone()].concat(), 7);
    seeds.push(("zero-copy-streaming".into(), p.0));

    // Recorded conversations, plain (flags 0), streaming (2) and compressed (1, 3).
    for flags in [0u8, 1, 2, 3] {
        let out = record(role, flags, |peer| {
            peer.send_text("Hello").unwrap();
            peer.send_text(&"json {\"k\": 1} ".repeat(40)).unwrap();
            peer.send_binary(&[7u8; 10_000]).unwrap();
            peer.ping(b"are you there").unwrap();
            peer.write_some(false, MessageKind::Text, b"part one, ")
                .unwrap();
            peer.pong(b"unsolicited").unwrap();
            peer.write_some(true, MessageKind::Text, b"part two")
                .unwrap();
            peer.close(1000, "done").unwrap();
        });
        let mut p = Program::new(flags);
        // Our side talks too: a text, a fragmented binary, a ping; then the peer's stream in
        // odd chunks, writes, a timer step and our close.
        p.raw(&[op::SEND_TEXT, 200, 0, b'x']);
        p.raw(&[op::WRITE_SOME_BINARY, 3, 1, 2, 3, op::PING, 2, b'h', b'i']);
        p.raw(&[op::WRITE_SOME_FIN_TEXT, 0]);
        p.recv(&out, if flags & 2 != 0 { 37 } else { 1000 });
        p.raw(&[op::WRITE_OUT, op::TIME, 10, 0]);
        seeds.push((format!("conversation-{flags}"), p.0));
    }
    // We close first; the peer answers; the close timeout runs out otherwise.
    let answer = record(role, 0, |peer| peer.close(1000, "").unwrap());
    let mut p = Program::new(0);
    p.raw(&[op::CLOSE, 0xe8, 0x03, 3, b'b', b'y', b'e', op::WRITE_OUT]);
    p.recv(&answer, 256);
    seeds.push(("we-close".into(), p.0));
    let mut p = Program::new(0);
    p.raw(&[op::CLOSE, 0xe8, 0x03, 0, op::TIME, 100, 0]);
    seeds.push(("close-timeout".into(), p.0));
    // Keepalive: the interval passes, a ping goes out, no pong comes: 1006.
    let mut p = Program::new(0);
    p.raw(&[op::TIME, 0xc8, 0, op::WRITE_OUT, op::TIME, 0x50, 0]);
    seeds.push(("keepalive-no-pong".into(), p.0));
    // EOF in the middle of a message.
    let mut p = Program::new(0);
    p.recv(&wire::frame(0x01, masked, b"Hel"), 256)
        .raw(&[op::TIME | 8, 0, 0]);
    seeds.push(("eof-mid-message".into(), p.0));
    seeds
}

fn deflate() -> Seeds {
    // Frame: b0, mode (bit 0: compress the data), u16 length, data.
    let frame =
        |b0: u8, mode: u8, d: &[u8]| [&[b0, mode][..], &(d.len() as u16).to_le_bytes(), d].concat();
    // RFC 7692 §7.2.3.1: "Hello" compressed in one frame.
    let rfc_hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let bomb = wire::deflate_message(&vec![0u8; 1 << 20]);
    let mut seeds: Seeds = Vec::new();
    for flags in [0u8, 1, 4] {
        let f = |s: &mut Seeds, name: &str, frames: Vec<Vec<u8>>| {
            s.push((
                format!("{name}-{flags}"),
                [vec![flags], frames.concat()].concat(),
            ))
        };
        f(&mut seeds, "rfc-hello", vec![frame(0xc1, 0, &rfc_hello)]);
        f(
            &mut seeds,
            "rfc-hello-fragmented",
            vec![
                frame(0x41, 0, &rfc_hello[..3]),
                frame(0x80, 0, &rfc_hello[3..]),
            ],
        );
        f(
            &mut seeds,
            "two-messages",
            vec![
                frame(0xc1, 1, b"Hello Hello Hello"),
                frame(0xc2, 1, &[9u8; 3000]),
                frame(0x81, 0, b"plain"),
            ],
        );
        f(&mut seeds, "bomb", vec![frame(0xc2, 0, &bomb)]);
        f(
            &mut seeds,
            "bomb-fragmented",
            bomb.chunks(200)
                .enumerate()
                .map(|(i, c)| {
                    let first = if i == 0 { 0x42 } else { 0x00 };
                    frame(first, 0, c)
                })
                .collect(),
        );
        f(&mut seeds, "rsv1-on-ping", vec![frame(0xc9, 0, b"")]);
        f(
            &mut seeds,
            "corrupt",
            vec![frame(0xc1, 0, &[0xff, 0xff, 0xff, 0xff])],
        );
    }
    seeds
}
