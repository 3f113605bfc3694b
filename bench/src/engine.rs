//! In-memory benchmarks: the protocol work alone, no sockets.
//!
//! **Receive** (server role, masked frames in): the same pre-built buffer of single-frame
//! client messages is fed to each library, and each delivers every message as an owned,
//! unmasked, (for text) UTF-8-validated payload:
//!
//! - wsengine: `Connection::receive(&chunk)` with chunks of [`READ_CHUNK`] bytes sliced from the
//!   buffer (the engine copies them into its input buffer), then `next_event()` until
//!   `Event::Message` (`Vec<u8>` / `String`).
//! - tungstenite: `WebSocket::from_raw_socket(stream, Role::Server, None).read()` over a
//!   [`LoopStream`] that copies at most [`READ_CHUNK`] bytes per read into tungstenite's
//!   buffer (`Message::Binary(Bytes)` / `Message::Text(Utf8Bytes)`).
//! - fastwebsockets: `FragmentCollector::new(WebSocket::after_handshake(stream,
//!   Role::Server)).read_frame()` over the same [`LoopStream`] (payload `BytesMut`).
//!
//! So each library copies the input once into its own buffer, unmasks, validates text, and
//! hands over an owned payload.
//!
//! **Send** (client role): each library frames and masks one message per call and the bytes
//! are handed to a sink: wsengine `send_binary(&data)` / `send_text(&str)` then `output()` +
//! `consume_output`; tungstenite `send(Message::Binary(bytes.clone()))` (a refcount clone: its
//! API takes owned payloads); fastwebsockets `write_frame(Frame::binary(Payload::Borrowed(&data)))`.
//! Every library copies the payload once and masks it with a fresh random key.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use crate::{batch_len, block_on, median, payload, push_frame, rate, Line, LoopStream, READ_CHUNK};

pub const LIBS: &[&str] = &["wsengine", "tungstenite", "fastwebsockets"];

/// An open server engine (the handshake done in memory, its output discarded).
pub fn open_server(cfg: wsengine::Config) -> wsengine::Connection {
    let (_, server) = open_pair(wsengine::Config::default(), cfg);
    server
}

/// An open client engine.
pub fn open_client(cfg: wsengine::Config) -> wsengine::Connection {
    let (client, _) = open_pair(cfg, wsengine::Config::default());
    client
}

/// A client and a server engine with the opening handshake done and both outputs drained.
pub fn open_pair(
    client_cfg: wsengine::Config,
    server_cfg: wsengine::Config,
) -> (wsengine::Connection, wsengine::Connection) {
    use wsengine::{ClientRequest, Connection, Event};
    let req = ClientRequest::new("ws://localhost/bench").expect("valid url");
    let mut client = Connection::client(req, client_cfg).expect("client");
    let mut server = Connection::server(server_cfg).expect("server");
    let out = client.output().to_vec();
    client.consume_output(out.len());
    server.receive(&out);
    assert!(matches!(server.next_event(), Ok(Some(Event::Open(_)))));
    let out = server.output().to_vec();
    server.consume_output(out.len());
    client.receive(&out);
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    (client, server)
}

/// Something that receives `n` messages per call.
trait Receiver {
    fn recv(&mut self, n: usize);
}

struct EngineRecv {
    conn: wsengine::Connection,
    data: Arc<Vec<u8>>,
    pos: usize,
    size: usize,
}

impl Receiver for EngineRecv {
    fn recv(&mut self, n: usize) {
        use wsengine::{Event, Message};
        let mut got = 0;
        while got < n {
            match self.conn.next_event() {
                Ok(Some(Event::Message(m))) => {
                    let len = match &m {
                        Message::Text(t) => t.len(),
                        Message::Binary(b) => b.len(),
                    };
                    assert_eq!(len, self.size);
                    black_box(m);
                    got += 1;
                }
                Ok(Some(other)) => panic!("unexpected event {other:?}"),
                Ok(None) => {
                    if self.pos == self.data.len() {
                        self.pos = 0;
                    }
                    let end = (self.pos + READ_CHUNK).min(self.data.len());
                    self.conn.receive(&self.data[self.pos..end]);
                    self.pos = end;
                }
                Err(e) => panic!("wsengine: {e}"),
            }
        }
    }
}

struct TungRecv {
    ws: tungstenite::WebSocket<LoopStream>,
    size: usize,
}

impl Receiver for TungRecv {
    fn recv(&mut self, n: usize) {
        use tungstenite::Message;
        for _ in 0..n {
            match self.ws.read() {
                Ok(Message::Text(t)) => {
                    assert_eq!(t.len(), self.size);
                    black_box(t);
                }
                Ok(Message::Binary(b)) => {
                    assert_eq!(b.len(), self.size);
                    black_box(b);
                }
                other => panic!("tungstenite: {other:?}"),
            }
        }
    }
}

struct FwsRecv {
    ws: fastwebsockets::FragmentCollector<LoopStream>,
    size: usize,
}

impl Receiver for FwsRecv {
    fn recv(&mut self, n: usize) {
        use fastwebsockets::OpCode;
        block_on(async {
            for _ in 0..n {
                let f = self.ws.read_frame().await.expect("fastwebsockets read");
                assert!(matches!(f.opcode, OpCode::Text | OpCode::Binary));
                assert_eq!(f.payload.len(), self.size);
                black_box(f);
            }
        })
    }
}

fn make_receiver(lib: &str, data: &Arc<Vec<u8>>, size: usize) -> Box<dyn Receiver> {
    match lib {
        "wsengine" => Box::new(EngineRecv {
            conn: open_server(wsengine::Config::default()),
            data: data.clone(),
            pos: 0,
            size,
        }),
        "tungstenite" => Box::new(TungRecv {
            ws: tungstenite::WebSocket::from_raw_socket(
                LoopStream::new(data.clone()),
                tungstenite::protocol::Role::Server,
                None,
            ),
            size,
        }),
        "fastwebsockets" => Box::new(FwsRecv {
            ws: fastwebsockets::FragmentCollector::new(fastwebsockets::WebSocket::after_handshake(
                LoopStream::new(data.clone()),
                fastwebsockets::Role::Server,
            )),
            size,
        }),
        other => panic!("unknown library {other}"),
    }
}

/// Something that sends one message per call.
trait Sender {
    fn send(&mut self);
}

struct EngineSend {
    conn: wsengine::Connection,
    data: Vec<u8>,
    /// The same payload as a `String` when sending text (`send_text` takes `&str`).
    text: Option<String>,
}

impl Sender for EngineSend {
    fn send(&mut self) {
        match &self.text {
            Some(s) => self.conn.send_text(s).expect("send"),
            None => self.conn.send_binary(&self.data).expect("send"),
        }
        let n = self.conn.output().len();
        black_box(self.conn.output());
        self.conn.consume_output(n);
    }
}

struct TungSend {
    ws: tungstenite::WebSocket<LoopStream>,
    msg: tungstenite::Message,
}

impl Sender for TungSend {
    fn send(&mut self) {
        self.ws.send(self.msg.clone()).expect("send");
    }
}

struct FwsSend {
    ws: fastwebsockets::WebSocket<LoopStream>,
    data: Vec<u8>,
    text: bool,
}

impl Sender for FwsSend {
    fn send(&mut self) {
        use fastwebsockets::{Frame, Payload};
        let p = Payload::Borrowed(&self.data);
        let f = if self.text {
            Frame::text(p)
        } else {
            Frame::binary(p)
        };
        block_on(self.ws.write_frame(f)).expect("send");
    }
}

fn make_sender(lib: &str, size: usize, text: bool) -> Box<dyn Sender> {
    let data = payload(size, text);
    match lib {
        "wsengine" => Box::new(EngineSend {
            conn: open_client(wsengine::Config::default()),
            text: text.then(|| String::from_utf8(data.clone()).expect("utf8")),
            data,
        }),
        "tungstenite" => {
            let msg = if text {
                tungstenite::Message::Text(String::from_utf8(data).expect("utf8").into())
            } else {
                tungstenite::Message::Binary(data.into())
            };
            Box::new(TungSend {
                ws: tungstenite::WebSocket::from_raw_socket(
                    LoopStream::new(Arc::new(Vec::new())),
                    tungstenite::protocol::Role::Client,
                    None,
                ),
                msg,
            })
        }
        "fastwebsockets" => Box::new(FwsSend {
            ws: fastwebsockets::WebSocket::after_handshake(
                LoopStream::new(Arc::new(Vec::new())),
                fastwebsockets::Role::Client,
            ),
            data,
            text,
        }),
        other => panic!("unknown library {other}"),
    }
}

/// Options of the in-memory runs.
pub struct Opts {
    pub sizes: Vec<usize>,
    pub libs: Vec<String>,
    pub reps: usize,
    pub budget: Duration,
    pub recv: bool,
    pub send: bool,
    pub kinds: Vec<bool>,
    /// Stop each measurement after this many steps (for instruction counting under
    /// callgrind, where time budgets mean little).
    pub max_steps: u64,
}

/// Runs every (direction, size, kind, library) `reps` times, interleaving the libraries
/// within each repetition (rotating their order), and prints one median line each.
pub fn run(o: &Opts) {
    let mut dirs = Vec::new();
    if o.recv {
        dirs.push("engine.recv");
    }
    if o.send {
        dirs.push("engine.send");
    }
    for dir in dirs {
        for &size in &o.sizes {
            for &text in &o.kinds {
                let kind = if text { "text" } else { "binary" };
                let n_msgs = batch_len(size);
                let mut buf = Vec::with_capacity(n_msgs * (size + 14));
                if dir == "engine.recv" {
                    let p = payload(size, text);
                    for _ in 0..n_msgs {
                        push_frame(&mut buf, &p, text, true);
                    }
                }
                let data = Arc::new(buf);
                let per_step = if dir == "engine.recv" {
                    n_msgs as u64
                } else {
                    (n_msgs as u64 / 4).max(1)
                };
                let mut runs: Vec<Vec<f64>> = vec![Vec::new(); o.libs.len()];
                for rep in 0..o.reps {
                    for k in 0..o.libs.len() {
                        let i = (k + rep) % o.libs.len();
                        let lib = o.libs[i].as_str();
                        let r = if dir == "engine.recv" {
                            let mut rx = make_receiver(lib, &data, size);
                            // Warm up: one pass over the buffer.
                            rx.recv(n_msgs);
                            rate(o.budget, o.max_steps, per_step, || rx.recv(n_msgs))
                        } else {
                            let mut tx = make_sender(lib, size, text);
                            for _ in 0..per_step {
                                tx.send();
                            }
                            rate(o.budget, o.max_steps, per_step, || {
                                for _ in 0..per_step {
                                    tx.send();
                                }
                            })
                        };
                        runs[i].push(r);
                    }
                }
                for (i, lib) in o.libs.iter().enumerate() {
                    let mut r = runs[i].clone();
                    Line {
                        group: dir.into(),
                        name: lib.clone(),
                        size,
                        kind: Some(kind.into()),
                        msgs_per_s: median(&mut r),
                        runs: runs[i].clone(),
                        extra: vec![("cpu", 1.0)],
                        ..Line::default()
                    }
                    .emit();
                }
            }
        }
    }
}

/// Other ways to (un)mask, for comparison with `wsengine::mask::apply_mask`.
pub mod mask_variants {
    /// One u64 at a time (what a hand-written word loop does).
    pub fn mask_u64(buf: &mut [u8], key: [u8; 4]) {
        let k = u32::from_ne_bytes(key) as u64;
        let k = k | k << 32;
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            let w = u64::from_ne_bytes(c.try_into().unwrap()) ^ k;
            c.copy_from_slice(&w.to_ne_bytes());
        }
        for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
            *b ^= key[i & 3];
        }
    }

    /// The byte-at-a-time definition.
    pub fn mask_bytes(buf: &mut [u8], key: [u8; 4]) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[i & 3];
        }
    }
}

/// Raw (un)masking throughput against `memcpy` of the same size.
pub fn run_mask(sizes: &[usize], reps: usize, budget: Duration) {
    let key = crate::KEY;
    for &size in sizes {
        // memcpy's source and destination 2 KiB apart modulo 4 KiB: on this machine's CPU,
        // glibc's memcpy (rep movsb) drops to ~1 GB/s when they are within a few bytes of each
        // other modulo 4 KiB, which would make any baseline meaningless.
        let src_store = payload(size + 128, false);
        let src_off = (64 - src_store.as_ptr() as usize % 64) % 64;
        let src = &src_store[src_off..src_off + size];
        let mut dst_store = vec![0u8; size + 8192];
        let want = (src.as_ptr() as usize + 2048) % 4096;
        let dst_off = (want + 4096 - dst_store.as_ptr() as usize % 4096) % 4096;
        let dst = &mut dst_store[dst_off..dst_off + size];
        let mut buf = src.to_vec();
        let per_step = ((1 << 22) / size.max(1)).max(1) as u64;
        type F<'a> = Box<dyn FnMut() + 'a>;
        let names = [
            "memcpy",
            "wsengine::mask::apply_mask",
            "fastwebsockets::unmask",
            "u64 words",
            "bytewise",
        ];
        let mut runs: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        for rep in 0..reps {
            for k in 0..names.len() {
                let i = (k + rep) % names.len();
                let mut f: F = match i {
                    0 => Box::new(|| {
                        for _ in 0..per_step {
                            dst.copy_from_slice(black_box(src));
                            black_box(&mut *dst);
                        }
                    }),
                    1 => Box::new(|| {
                        for _ in 0..per_step {
                            wsengine::mask::apply_mask(black_box(&mut buf), key, 0);
                        }
                    }),
                    2 => Box::new(|| {
                        for _ in 0..per_step {
                            fastwebsockets::unmask(black_box(&mut buf), key);
                        }
                    }),
                    3 => Box::new(|| {
                        for _ in 0..per_step {
                            mask_variants::mask_u64(black_box(&mut buf), key);
                        }
                    }),
                    _ => Box::new(|| {
                        for _ in 0..per_step {
                            mask_variants::mask_bytes(black_box(&mut buf), key);
                        }
                    }),
                };
                f();
                let r = rate(budget, u64::MAX, per_step, &mut f);
                runs[i].push(r);
            }
        }
        for (i, name) in names.iter().enumerate() {
            let mut r = runs[i].clone();
            Line {
                group: "mask".into(),
                name: (*name).into(),
                size,
                kind: Some("binary".into()),
                msgs_per_s: median(&mut r),
                runs: runs[i].clone(),
                extra: vec![("cpu", 1.0)],
                ..Line::default()
            }
            .emit();
        }
    }
}
