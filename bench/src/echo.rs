//! Loopback echo: the peers' echo servers and one client for all of them.
//!
//! The client speaks raw frames over a blocking `std::net::TcpStream` (its cost is the same
//! whichever server it talks to): it writes one pre-built masked frame, reads the echoed
//! message back (any number of frames, payload counted but not copied or validated), and
//! repeats. One message is in flight per connection.
//!
//! Rates are per CPU-second of client + server (the client's thread CPU time plus the server
//! process's, found through the listening socket in /proc), with the wall-clock rate beside
//! them: see the crate documentation for why.

use std::collections::HashMap;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::{median, payload, push_frame, thread_cpu, Line, KEY};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A client connection with its own read buffer.
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Client {
    /// Connects and performs the opening handshake.
    pub fn connect(addr: SocketAddr) -> io::Result<Client> {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        let req = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream.write_all(req.as_bytes())?;
        let mut c = Client {
            stream,
            buf: vec![0; 256 * 1024],
            start: 0,
            end: 0,
        };
        loop {
            if let Some(p) = c.buf[..c.end].windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&c.buf[..p]).into_owned();
                if !head.starts_with("HTTP/1.1 101") {
                    return Err(io::Error::other(format!("handshake refused: {head}")));
                }
                c.start = p + 4;
                return Ok(c);
            }
            if c.end == c.buf.len() {
                return Err(io::Error::other("handshake response too long"));
            }
            c.fill()?;
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > self.buf.len() / 2 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = self.stream.read(&mut self.buf[self.end..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.end += n;
        Ok(())
    }

    fn need(&mut self, n: usize) -> io::Result<()> {
        while self.end - self.start < n {
            self.fill()?;
        }
        Ok(())
    }

    /// Reads one whole data message (skipping control frames); returns its payload length.
    pub fn read_message(&mut self) -> io::Result<usize> {
        let mut total = 0;
        loop {
            self.need(2)?;
            let b0 = self.buf[self.start];
            let b1 = self.buf[self.start + 1];
            let (len, hlen) = match b1 & 0x7F {
                126 => {
                    self.need(4)?;
                    let s = self.start;
                    (
                        u16::from_be_bytes([self.buf[s + 2], self.buf[s + 3]]) as u64,
                        4,
                    )
                }
                127 => {
                    self.need(10)?;
                    let s = self.start;
                    let b: [u8; 8] = self.buf[s + 2..s + 10].try_into().unwrap();
                    (u64::from_be_bytes(b), 10)
                }
                n => (n as u64, 2),
            };
            let hlen = hlen + if b1 & 0x80 != 0 { 4 } else { 0 };
            self.need(hlen)?;
            self.start += hlen;
            // Skip the payload without copying it.
            let mut left = len as usize;
            while left > 0 {
                if self.start == self.end {
                    self.fill()?;
                }
                let n = left.min(self.end - self.start);
                self.start += n;
                left -= n;
            }
            let opcode = b0 & 0x0F;
            if opcode == 0x8 {
                return Err(io::Error::other("server sent close"));
            }
            if opcode >= 0x8 {
                continue;
            }
            total += len as usize;
            if b0 & 0x80 != 0 {
                return Ok(total);
            }
        }
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends a close frame (1000) and waits briefly for the server's answer.
    pub fn close(mut self) {
        let mut f = vec![0x88, 0x82];
        f.extend_from_slice(&KEY);
        f.extend_from_slice(&[0x03 ^ KEY[0], 0xE8 ^ KEY[1]]);
        let _ = self.stream.write_all(&f);
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(500)));
        let mut sink = [0u8; 4096];
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            match self.stream.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

/// A server under test: a name and an address.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub addr: SocketAddr,
    /// The server's process, if found (for its CPU time).
    pub pid: Option<u32>,
    /// Whether it serves connections concurrently: a server that accepts one connection at a
    /// time (the wasmtime component's echo loop) is left out of the many-connections run,
    /// where it would never answer the second connection's handshake.
    pub concurrent: bool,
    /// Measured only in the many-connections run (a variant that only matters there).
    pub many_only: bool,
}

impl Target {
    pub fn new(name: &str, addr: SocketAddr) -> Target {
        Target {
            name: name.into(),
            addr,
            pid: listener_pid(addr),
            concurrent: true,
            many_only: false,
        }
    }
}

/// The process listening on `addr` (TCP, IPv4), from /proc/net/tcp and /proc/*/fd.
pub fn listener_pid(addr: SocketAddr) -> Option<u32> {
    let tcp = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let want = format!(":{:04X}", addr.port());
    let inode = tcp.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() > 9 && f[1].ends_with(&want) && f[3] == "0A").then(|| f[9].to_string())
    })?;
    let target = format!("socket:[{inode}]");
    for p in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(p.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy() == target) {
                return Some(pid);
            }
        }
    }
    None
}

/// CPU time (ns) of each thread of `pid`.
fn task_cpu(pid: u32) -> HashMap<u32, u64> {
    let mut m = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return m;
    };
    for t in dir.flatten() {
        let Ok(tid) = t.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
            if let Some(ns) = s.split_whitespace().next().and_then(|v| v.parse().ok()) {
                m.insert(tid, ns);
            }
        }
    }
    m
}

/// Wall clock and CPU time (client thread + server threads) over a measurement.
struct Clock {
    wall: Instant,
    client: Duration,
    server: Option<(u32, HashMap<u32, u64>)>,
}

impl Clock {
    fn start(t: &Target) -> Clock {
        Clock {
            server: t.pid.map(|p| (p, task_cpu(p))),
            client: thread_cpu(),
            wall: Instant::now(),
        }
    }

    /// (wall seconds, client CPU seconds, server CPU seconds if readable).
    fn read(&self) -> (f64, f64, Option<f64>) {
        let wall = self.wall.elapsed().as_secs_f64();
        let client = thread_cpu().saturating_sub(self.client).as_secs_f64();
        let server = self.server.as_ref().map(|(pid, before)| {
            // Threads that ended in between are lost; they are earlier connections' and idle.
            task_cpu(*pid)
                .iter()
                .map(|(tid, ns)| ns.saturating_sub(*before.get(tid).unwrap_or(&0)))
                .sum::<u64>() as f64
                / 1e9
        });
        (wall, client, server)
    }
}

/// Messages per CPU-second (or per wall second if the CPU time is unknown), and per wall
/// second.
#[derive(Clone, Copy, Debug)]
struct Rate {
    cpu: Option<f64>,
    wall: f64,
    /// CPU microseconds per message: client, server.
    client_us: f64,
    server_us: Option<f64>,
}

impl Rate {
    fn of(count: u64, c: &Clock) -> Rate {
        let (wall, client, server) = c.read();
        let n = count.max(1) as f64;
        Rate {
            cpu: server
                .map(|s| s + client)
                .filter(|s| *s > 0.0)
                .map(|s| n / s),
            wall: n / wall,
            client_us: client * 1e6 / n,
            server_us: server.map(|s| s * 1e6 / n),
        }
    }
}

pub struct Opts {
    pub targets: Vec<Target>,
    pub sizes: Vec<usize>,
    pub kinds: Vec<bool>,
    pub reps: usize,
    pub budget: Duration,
    /// Upper bound on messages per measurement (besides the time budget).
    pub max_msgs: u64,
    /// Connections for the many-connections run (0: skip it).
    pub conns: usize,
    pub conn_sizes: Vec<usize>,
}

/// One measurement on one fresh connection.
fn one_conn(t: &Target, frame: &[u8], size: usize, o: &Opts) -> io::Result<Rate> {
    let mut c = Client::connect(t.addr)?;
    // Warm up.
    for _ in 0..3 {
        c.write_all(frame)?;
        let n = c.read_message()?;
        if n != size {
            return Err(io::Error::other(format!("echoed {n} bytes, sent {size}")));
        }
    }
    let clock = Clock::start(t);
    let mut count = 0u64;
    loop {
        c.write_all(frame)?;
        let n = c.read_message()?;
        if n != size {
            return Err(io::Error::other(format!("echoed {n} bytes, sent {size}")));
        }
        count += 1;
        if clock.wall.elapsed() >= o.budget || count >= o.max_msgs {
            let r = Rate::of(count, &clock);
            c.close();
            return Ok(r);
        }
    }
}

/// `conns` connections, each with one message in flight: write on all, then read from all.
fn many_conns(t: &Target, frame: &[u8], size: usize, conns: usize, o: &Opts) -> io::Result<Rate> {
    let mut cs = Vec::with_capacity(conns);
    for _ in 0..conns {
        cs.push(Client::connect(t.addr)?);
    }
    let round = |cs: &mut Vec<Client>| -> io::Result<()> {
        for c in cs.iter_mut() {
            c.write_all(frame)?;
        }
        for c in cs.iter_mut() {
            let n = c.read_message()?;
            if n != size {
                return Err(io::Error::other(format!("echoed {n} bytes, sent {size}")));
            }
        }
        Ok(())
    };
    round(&mut cs)?;
    let clock = Clock::start(t);
    let mut count = 0u64;
    loop {
        round(&mut cs)?;
        count += conns as u64;
        if clock.wall.elapsed() >= o.budget || count >= o.max_msgs {
            let r = Rate::of(count, &clock);
            for c in cs {
                c.close();
            }
            return Ok(r);
        }
    }
}

fn emit(group: &str, t: &Target, size: usize, kind: &str, runs: &[Rate], err: Option<String>) {
    let cpu = !runs.is_empty() && runs.iter().all(|r| r.cpu.is_some());
    let mut main: Vec<f64> = runs
        .iter()
        .map(|r| if cpu { r.cpu.unwrap_or(0.0) } else { r.wall })
        .collect();
    let mut wall: Vec<f64> = runs.iter().map(|r| r.wall).collect();
    let mut extra = vec![("cpu", if cpu { 1.0 } else { 0.0 })];
    if cpu {
        extra.push(("wall_msgs_per_s", median(&mut wall)));
        let mut server: Vec<f64> = runs.iter().filter_map(|r| r.server_us).collect();
        extra.push(("server_cpu_us_per_msg", median(&mut server)));
    }
    let mut client: Vec<f64> = runs.iter().map(|r| r.client_us).collect();
    if !client.is_empty() {
        extra.push(("client_cpu_us_per_msg", median(&mut client)));
    }
    Line {
        group: group.into(),
        name: t.name.clone(),
        size,
        kind: Some(kind.into()),
        runs: main.clone(),
        msgs_per_s: median(&mut main),
        note: err,
        extra,
        ..Line::default()
    }
    .emit();
}

pub fn run(o: &Opts) {
    let n = o.targets.len();
    for &size in &o.sizes {
        for &text in &o.kinds {
            let kind = if text { "text" } else { "binary" };
            let mut frame = Vec::new();
            push_frame(&mut frame, &payload(size, text), text, true);
            let mut runs: Vec<Vec<Rate>> = vec![Vec::new(); n];
            let mut errs: Vec<Option<String>> = vec![None; n];
            for rep in 0..o.reps {
                for k in 0..n {
                    let i = (k + rep) % n;
                    if errs[i].is_some() || o.targets[i].many_only {
                        continue;
                    }
                    match one_conn(&o.targets[i], &frame, size, o) {
                        Ok(r) => runs[i].push(r),
                        Err(e) => {
                            eprintln!("echo {} {size} {kind}: {e}", o.targets[i].name);
                            errs[i] = Some(format!("error: {e}"));
                        }
                    }
                }
            }
            for i in (0..n).filter(|&i| !o.targets[i].many_only) {
                emit("echo", &o.targets[i], size, kind, &runs[i], errs[i].take());
            }
        }
    }
    if o.conns == 0 {
        return;
    }
    for &size in &o.conn_sizes {
        let mut frame = Vec::new();
        push_frame(&mut frame, &payload(size, false), false, true);
        let mut runs: Vec<Vec<Rate>> = vec![Vec::new(); n];
        let mut errs: Vec<Option<String>> = vec![None; n];
        for rep in 0..o.reps {
            for k in 0..n {
                let i = (k + rep) % n;
                if errs[i].is_some() || !o.targets[i].concurrent {
                    continue;
                }
                match many_conns(&o.targets[i], &frame, size, o.conns, o) {
                    Ok(r) => runs[i].push(r),
                    Err(e) => {
                        eprintln!("echo x{} {} {size}: {e}", o.conns, o.targets[i].name);
                        errs[i] = Some(format!("error: {e}"));
                    }
                }
            }
        }
        for i in (0..n).filter(|&i| o.targets[i].concurrent) {
            let group = format!("echo.conns{}", o.conns);
            emit(
                &group,
                &o.targets[i],
                size,
                "binary",
                &runs[i],
                errs[i].take(),
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// The peers' echo servers.

/// wsengine's echo server as `examples/echo_server.rs` (blocking `io::WebSocket`, a thread per
/// connection), with `Config` changes for variants: `auto_fragment = false` sends each
/// message as one frame instead of frames of `write_buffer_bytes`; `frame_bytes` sets
/// `write_buffer_bytes` (else the default).
pub fn serve_wsengine(addr: &str, no_fragment: bool, frame_bytes: Option<usize>) -> io::Result<()> {
    let mut config = wsengine::Config {
        auto_fragment: !no_fragment,
        ..Default::default()
    };
    if let Some(n) = frame_bytes {
        config.write_buffer_bytes = n;
    }
    let listener = TcpListener::bind(addr)?;
    println!("wsengine echo server on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let config = config.clone();
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let Ok((mut ws, _)) = wsengine::io::WebSocket::accept(stream, config) else {
                return;
            };
            while let Ok(m) = ws.read() {
                if ws.write(&m).is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

/// tungstenite's echo server: blocking, one thread per connection (its README's server).
pub fn serve_tungstenite(addr: &str) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    println!("tungstenite echo server on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let Ok(mut ws) = tungstenite::accept(stream) else {
                return;
            };
            loop {
                match ws.read() {
                    Ok(msg @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                        if ws.send(msg).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
    }
    Ok(())
}

/// fastwebsockets' echo server, as its `examples/echo_server.rs`: hyper 1 upgrade, tokio
/// current-thread runtime, `FragmentCollector`, each connection `unconstrained`.
/// `multi_thread` uses tokio's multi-thread runtime instead.
pub fn serve_fastwebsockets(addr: &str, multi_thread: bool) -> io::Result<()> {
    use fastwebsockets::{upgrade, OpCode, WebSocketError};
    use http_body_util::Empty;
    use hyper::body::{Bytes, Incoming};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response};

    async fn handle_client(fut: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
        let mut ws = fastwebsockets::FragmentCollector::new(fut.await?);
        loop {
            let frame = ws.read_frame().await?;
            match frame.opcode {
                OpCode::Close => break,
                OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
                _ => {}
            }
        }
        Ok(())
    }

    async fn server_upgrade(
        mut req: Request<Incoming>,
    ) -> Result<Response<Empty<Bytes>>, WebSocketError> {
        let (response, fut) = upgrade::upgrade(&mut req)?;
        tokio::task::spawn(async move {
            let _ = tokio::task::unconstrained(handle_client(fut)).await;
        });
        Ok(response)
    }

    let rt = if multi_thread {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    };
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        println!(
            "fastwebsockets echo server on ws://{}",
            listener.local_addr()?
        );
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = http1::Builder::new()
                    .serve_connection(io, service_fn(server_upgrade))
                    .with_upgrades()
                    .await;
            });
        }
    })
}
