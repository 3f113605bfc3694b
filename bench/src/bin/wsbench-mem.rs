//! `wsbench-mem`: bytes held per idle open connection, counted with a global allocator.
//!
//! Only allocations made (and freed) by this thread while tracking is on are counted, so the
//! peer end of each connection (built with tracking off) is not. A connection's figure is
//! `size_of` its value (without the stream it owns, for the stream-owning types) plus the live
//! heap bytes it holds. Each connection is measured right after the opening handshake
//! ("idle") and again after one 16-byte message each way ("after 1 msg"; 256 bytes with
//! compression, above its threshold), which is what a long-lived idle connection looks like. Prints JSON lines (group `memory`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::task::{Context, Poll};

use wsengine_bench::{block_on, engine::open_pair, push_frame, Line};

struct Counting;

static LIVE: AtomicI64 = AtomicI64::new(0);
/// The highest `LIVE` since the last [`reset_peak`].
static PEAK: AtomicI64 = AtomicI64::new(0);

fn grow(by: i64) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

thread_local! {
    static TRACK: Cell<bool> = const { Cell::new(false) };
}

fn tracking() -> bool {
    TRACK.try_with(Cell::get).unwrap_or(false)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the
// counting around it touches only an atomic and a const-initialised thread-local.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if tracking() {
            grow(l.size() as i64);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if tracking() {
            LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if tracking() {
            grow(l.size() as i64);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if tracking() {
            grow(new as i64 - l.size() as i64);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` with tracking on and returns its value.
fn tracked<T>(f: impl FnOnce() -> T) -> T {
    TRACK.with(|t| t.set(true));
    let v = f();
    TRACK.with(|t| t.set(false));
    v
}

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

fn peak() -> i64 {
    PEAK.load(Ordering::Relaxed)
}

/// A stream for the peers: reads from a script given up front, writes into a buffer whose
/// capacity was reserved untracked (so the peer's output costs nothing here).
struct Pipe {
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
}

impl Pipe {
    fn new() -> Pipe {
        Pipe {
            input: Vec::with_capacity(4096),
            pos: 0,
            output: Vec::with_capacity(1 << 20),
        }
    }
    fn push(&mut self, bytes: &[u8]) {
        assert!(self.input.len() + bytes.len() <= self.input.capacity());
        self.input.extend_from_slice(bytes);
    }
    fn read_into(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        n
    }
    fn write_from(&mut self, buf: &[u8]) -> usize {
        let n = buf.len().min(self.output.capacity() - self.output.len());
        self.output.extend_from_slice(&buf[..n]);
        n
    }
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.read_into(buf) {
            0 => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }
}
impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.write_from(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
impl tokio::io::AsyncRead for Pipe {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let n = this.read_into(buf.initialize_unfilled());
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}
impl tokio::io::AsyncWrite for Pipe {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, b: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.get_mut().write_from(b)))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

struct Row {
    name: &'static str,
    state: &'static str,
    inline: usize,
    heap: i64,
    /// Part of `heap` (or of `inline`) that is a socket-side read buffer.
    buffer: i64,
    note: String,
}

fn emit(r: &Row) {
    let total = r.inline as i64 + r.heap;
    Line {
        group: "memory".into(),
        name: r.name.into(),
        size: 0,
        kind: Some(r.state.into()),
        bytes: Some(total.max(0) as u64),
        note: Some(format!(
            "inline {} + heap {} = {} B; of which read buffer {} B; without it {} B{}{}",
            r.inline,
            r.heap,
            total,
            r.buffer,
            total - r.buffer,
            if r.note.is_empty() { "" } else { "; " },
            r.note
        )),
        ..Line::default()
    }
    .emit();
}

const MSG: &[u8] = b"0123456789abcdef";

/// A variant of the engine's configuration measured by [`wsengine_engine`].
struct Variant {
    name: &'static str,
    deflate: Option<wsengine::DeflateConfig>,
    note: &'static str,
}

/// The size of the large message whose peak memory is measured.
const LARGE: usize = 1 << 20;

/// The sans-IO engine as a server, with or without permessage-deflate: idle, after one
/// message each way, and the peak while it receives one large (1 MiB) text message.
fn wsengine_engine(v: &Variant) {
    use wsengine::{ClientRequest, Config, Connection, Event};
    let cfg = Config {
        deflate: v.deflate.clone(),
        ..Config::default()
    };
    let name = v.name;
    let deflate = v.deflate.is_some();
    let mut client =
        Connection::client(ClientRequest::new("ws://localhost/m").unwrap(), cfg.clone()).unwrap();
    let request = client.output().to_vec();
    client.consume_output(request.len());
    let mut response = Vec::with_capacity(4096);

    let before = live();
    let mut server = tracked(|| {
        let mut s = Connection::server(cfg.clone()).unwrap();
        s.receive(&request);
        assert!(matches!(s.next_event(), Ok(Some(Event::Open(_)))));
        response.extend_from_slice(s.output());
        let n = s.output().len();
        s.consume_output(n);
        s
    });
    let inline = std::mem::size_of::<Connection>();
    emit(&Row {
        name,
        state: "idle",
        inline,
        heap: live() - before,
        buffer: 0,
        note: v.note.into(),
    });

    client.receive(&response);
    assert!(matches!(client.next_event(), Ok(Some(Event::Open(_)))));
    // Above the default compression threshold (32 bytes), so deflate really runs.
    let msg = if deflate {
        wsengine_bench::payload(256, true)
    } else {
        MSG.to_vec()
    };
    client.send_binary(&msg).unwrap();
    let frame = client.output().to_vec();
    client.consume_output(frame.len());
    tracked(|| {
        server.receive(&frame);
        match server.next_event() {
            Ok(Some(Event::Message(m))) => assert_eq!(m.as_bytes(), &msg[..]),
            other => panic!("{other:?}"),
        }
        server.send_binary(&msg).unwrap();
        let n = server.output().len();
        server.consume_output(n);
    });
    let after_one = live() - before;
    let what = if deflate {
        "one compressed 256-byte message each way"
    } else {
        "one 16-byte message each way"
    };
    emit(&Row {
        name,
        state: "after 1 msg",
        inline,
        heap: after_one,
        buffer: 0,
        note: format!("{what}; {}", v.note).trim_end_matches("; ").into(),
    });

    // A large message of JSON records (compressed by the client when deflate is on), fed in
    // 64 KiB reads as the blocking adapter would: the peak counts the growing message itself.
    let big = wsengine_bench::corpus::messages("json", LARGE, 1).remove(0);
    client.send_text(&big).unwrap();
    let wire = client.output().to_vec();
    client.consume_output(wire.len());
    reset_peak();
    let got = tracked(|| {
        let mut got = None;
        for chunk in wire.chunks(64 * 1024) {
            server.receive(chunk);
            if let Ok(Some(Event::Message(m))) = server.next_event() {
                got = Some(m);
            }
        }
        got
    });
    let peak_heap = peak() - before;
    let got = got.expect("the large message arrived");
    assert_eq!(got.len(), big.len());
    let capacity = match &got {
        wsengine::Message::Text(t) => t.capacity(),
        wsengine::Message::Binary(b) => b.capacity(),
    };
    emit(&Row {
        name,
        state: "peak during 1 MiB msg",
        inline,
        heap: peak_heap,
        buffer: 0,
        note: format!(
            "receiving one {} B JSON text message{} in 64 KiB reads; of which the message itself \
             {} B (its capacity), so the connection's own state peaks at {} B",
            big.len(),
            if deflate {
                format!(" compressed to {} B", wire.len())
            } else {
                String::new()
            },
            capacity,
            peak_heap + inline as i64 - capacity as i64,
        ),
    });
    tracked(|| drop(got));
    tracked(|| drop(server));
}

/// The blocking adapter over a Unix socket pair (its 64 KiB read buffer is the socket buffer).
fn wsengine_blocking() {
    use std::os::unix::net::UnixStream;
    use wsengine::io::WebSocket;
    use wsengine::{ClientRequest, Config, Connection};
    let (mut peer, ours) = UnixStream::pair().unwrap();
    let mut client = Connection::client(
        ClientRequest::new("ws://localhost/m").unwrap(),
        Config::default(),
    )
    .unwrap();
    peer.write_all(client.output()).unwrap();
    let n = client.output().len();
    client.consume_output(n);
    let before = live();
    let mut ws = tracked(|| WebSocket::accept(ours, Config::default()).unwrap().0);
    let inline = std::mem::size_of::<WebSocket<UnixStream>>() - std::mem::size_of::<UnixStream>();
    let buffer = 64 * 1024;
    emit(&Row {
        name: "wsengine io::WebSocket",
        state: "idle",
        inline,
        heap: live() - before,
        buffer,
        note: "blocking adapter: engine + 64 KiB read buffer".into(),
    });
    let mut f = Vec::new();
    push_frame(&mut f, MSG, false, true);
    peer.write_all(&f).unwrap();
    tracked(|| {
        let m = ws.read().unwrap();
        ws.write(&m).unwrap();
    });
    emit(&Row {
        name: "wsengine io::WebSocket",
        state: "after 1 msg",
        inline,
        heap: live() - before,
        buffer,
        note: "blocking adapter: engine + 64 KiB read buffer".into(),
    });
    tracked(|| drop(ws));
}

fn tungstenite_rows() {
    use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
    let mut pipe = Pipe::new();
    let mut f = Vec::new();
    push_frame(&mut f, MSG, false, true);
    pipe.push(&f);
    let before = live();
    let mut ws = tracked(|| WebSocket::from_raw_socket(pipe, Role::Server, None));
    let inline = std::mem::size_of::<WebSocket<Pipe>>() - std::mem::size_of::<Pipe>();
    let buffer = WebSocketConfig::default().read_buffer_size as i64;
    let note = "read_buffer_size 128 KiB (default), allocated up front".to_string();
    emit(&Row {
        name: "tungstenite",
        state: "idle",
        inline,
        heap: live() - before,
        buffer,
        note: note.clone(),
    });
    tracked(|| {
        let m = ws.read().unwrap();
        ws.send(m).unwrap();
    });
    emit(&Row {
        name: "tungstenite",
        state: "after 1 msg",
        inline,
        heap: live() - before,
        buffer,
        note,
    });
    tracked(|| drop(ws));
}

fn fastwebsockets_rows() {
    use fastwebsockets::{FragmentCollector, Role, WebSocket};
    let mut pipe = Pipe::new();
    let mut f = Vec::new();
    push_frame(&mut f, MSG, false, true);
    pipe.push(&f);
    let before = live();
    let mut ws = tracked(|| FragmentCollector::new(WebSocket::after_handshake(pipe, Role::Server)));
    let inline = std::mem::size_of::<FragmentCollector<Pipe>>() - std::mem::size_of::<Pipe>();
    let buffer = 8192;
    let note = "FragmentCollector; 8 KiB read buffer allocated up front".to_string();
    emit(&Row {
        name: "fastwebsockets",
        state: "idle",
        inline,
        heap: live() - before,
        buffer,
        note: note.clone(),
    });
    tracked(|| {
        block_on(async {
            let frame = ws.read_frame().await.unwrap();
            ws.write_frame(frame).await.unwrap();
        })
    });
    emit(&Row {
        name: "fastwebsockets",
        state: "after 1 msg",
        inline,
        heap: live() - before,
        buffer,
        note,
    });
    tracked(|| drop(ws));
}

fn main() {
    // Touch the lazily initialised pieces of std (stdout, thread-locals) before counting.
    let _ = open_pair(Default::default(), Default::default());
    Line::default().to_json();
    use wsengine::DeflateConfig;
    for v in [
        Variant {
            name: "wsengine",
            deflate: None,
            note: "",
        },
        Variant {
            name: "wsengine (deflate)",
            deflate: Some(DeflateConfig::default()),
            note: "context takeover on (default)",
        },
        Variant {
            name: "wsengine (deflate, no context takeover)",
            deflate: Some(DeflateConfig {
                server_no_context_takeover: true,
                client_no_context_takeover: true,
                ..DeflateConfig::default()
            }),
            note: "server_no_context_takeover + client_no_context_takeover",
        },
        Variant {
            name: "wsengine (deflate, 9-bit windows)",
            deflate: Some(DeflateConfig {
                server_max_window_bits: Some(9),
                client_max_window_bits: Some(9),
                ..DeflateConfig::default()
            }),
            note: "server_max_window_bits=9, client_max_window_bits=9",
        },
    ] {
        wsengine_engine(&v);
    }
    wsengine_blocking();
    tungstenite_rows();
    fastwebsockets_rows();
}
