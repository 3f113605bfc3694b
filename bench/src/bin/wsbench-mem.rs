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
            LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
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
            LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if tracking() {
            LIVE.fetch_add(new as i64 - l.size() as i64, Ordering::Relaxed);
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

/// The sans-IO engine as a server, with or without permessage-deflate.
fn wsengine_engine(deflate: bool) {
    use wsengine::{ClientRequest, Config, Connection, DeflateConfig, Event};
    let mut cfg = Config::default();
    if deflate {
        cfg.deflate = Some(DeflateConfig::default());
    }
    let name = if deflate {
        "wsengine (deflate)"
    } else {
        "wsengine"
    };
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
        note: String::new(),
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
    emit(&Row {
        name,
        state: "after 1 msg",
        inline,
        heap: live() - before,
        buffer: 0,
        note: if deflate {
            "one compressed 256-byte message each way, context takeover on (default)".into()
        } else {
            String::new()
        },
    });
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
    wsengine_engine(false);
    wsengine_engine(true);
    wsengine_blocking();
    tungstenite_rows();
    fastwebsockets_rows();
}
