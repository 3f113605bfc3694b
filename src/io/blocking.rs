//! A blocking WebSocket over any [`Transport`], with Beast's vocabulary: `read`,
//! `read_some`, `write`, `write_some`, `ping`, `pong`, `close`.

use std::io::{self, ErrorKind, IoSlice};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{ClientStream, Transport};
use crate::close::{CloseCode, CloseFrame};
use crate::config::Config;
use crate::connection::{AcceptFn, Connection, State, UNBUFFERED_MIN};
#[cfg(not(feature = "rustls"))]
use crate::error::TlsError;
use crate::error::{Error, TimeoutKind};
use crate::event::{Event, Fragment, Message, MessageKind, OpenInfo};
use crate::handshake::ClientRequest;

/// A WebSocket over a blocking stream. One call at a time (`&mut self`): a read may write
/// (pongs, close replies) and every write is flushed before it returns, so the caller's pace
/// is the back-pressure.
#[derive(Debug)]
pub struct WebSocket<S: Transport> {
    stream: S,
    conn: Connection,
    buf: Box<[u8]>,
    started: Instant,
    read_timeout: Option<Option<Duration>>,
    /// The write timeout last set on the stream, and whether the stream has write timeouts.
    write_timeout: Option<Option<Duration>>,
    writes_time_out: bool,
}

impl WebSocket<ClientStream> {
    /// Connects to a `ws://` or `wss://` URL and completes the opening handshake (TLS first,
    /// for `wss://`). Returns the socket and what was agreed.
    ///
    /// `wss://` needs the cargo feature `rustls` (it then trusts the webpki roots, see
    /// [`tls::default_client_config`](crate::tls)); without it, it fails with
    /// [`TlsError::NotEnabled`](crate::TlsError::NotEnabled). The handshake timeout bounds the TLS handshake too.
    pub fn connect(url: &str, config: Config) -> Result<(Self, OpenInfo), Error> {
        Self::connect_with(ClientRequest::new(url)?, config)
    }

    /// [`connect`](Self::connect) with a full request (subprotocols, origin, headers).
    pub fn connect_with(request: ClientRequest, config: Config) -> Result<(Self, OpenInfo), Error> {
        if request.url.tls {
            #[cfg(feature = "rustls")]
            return Self::connect_tls(request, config, crate::tls::default_client_config());
            #[cfg(not(feature = "rustls"))]
            return Err(TlsError::NotEnabled.into());
        }
        let tcp = tcp_connect(&request, &config)?;
        Self::client(ClientStream::Plain(tcp), request, config)
    }

    /// [`connect_with`](Self::connect_with) with a TLS client config of your own for
    /// `wss://` (custom roots, client certificates, ALPN...); a `ws://` URL ignores it.
    ///
    /// A certificate the config does not accept fails with
    /// [`TlsError::Rustls`](crate::TlsError::Rustls) (`rustls::Error::InvalidCertificate`).
    #[cfg(feature = "rustls")]
    pub fn connect_tls(
        request: ClientRequest,
        config: Config,
        tls: std::sync::Arc<rustls::ClientConfig>,
    ) -> Result<(Self, OpenInfo), Error> {
        if !request.url.tls {
            let tcp = tcp_connect(&request, &config)?;
            return Self::client(ClientStream::Plain(tcp), request, config);
        }
        let name = super::tls::server_name(&request.url.host)?;
        let tcp = tcp_connect(&request, &config)?;
        let timeout = config.handshake_timeout_ms.map(Duration::from_millis);
        let stream = super::tls::client_handshake(tls, name, tcp, timeout)?;
        Self::client(ClientStream::Tls(Box::new(stream)), request, config)
    }
}

/// Opens TCP to the request's host, trying each address in turn within the handshake
/// timeout, with Nagle off (the engine coalesces frames already).
fn tcp_connect(request: &ClientRequest, config: &Config) -> Result<TcpStream, Error> {
    let timeout = config.handshake_timeout_ms.map(Duration::from_millis);
    let mut last = None;
    for addr in (request.url.host.as_str(), request.url.port).to_socket_addrs()? {
        let attempt = match timeout {
            Some(t) => TcpStream::connect_timeout(&addr, t),
            None => TcpStream::connect(addr),
        };
        match attempt {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .unwrap_or_else(|| io::Error::new(ErrorKind::NotFound, "host has no address"))
        .into())
}

impl<S: Transport> WebSocket<S> {
    /// Performs the client's opening handshake over `stream`.
    pub fn client(
        stream: S,
        request: ClientRequest,
        config: Config,
    ) -> Result<(Self, OpenInfo), Error> {
        let conn = Connection::client(request, config)?;
        Self::open(stream, conn)
    }

    /// Performs the server's opening handshake over `stream`, accepting any valid request.
    /// An invalid one is answered (400/426/431) and returned as `Error::Handshake`.
    pub fn accept(stream: S, config: Config) -> Result<(Self, OpenInfo), Error> {
        Self::open(stream, Connection::server(config)?)
    }

    /// Like [`accept`](Self::accept), with a callback that chooses the subprotocol, adds
    /// headers, or rejects the request with a response.
    pub fn accept_with(
        stream: S,
        config: Config,
        accept: AcceptFn,
    ) -> Result<(Self, OpenInfo), Error> {
        Self::open(stream, Connection::server_with(config, accept)?)
    }

    fn open(stream: S, conn: Connection) -> Result<(Self, OpenInfo), Error> {
        let mut ws = WebSocket {
            stream,
            conn,
            buf: vec![0; crate::io::READ_BUFFER].into_boxed_slice(),
            started: Instant::now(),
            read_timeout: None,
            write_timeout: None,
            writes_time_out: false,
        };
        match ws.read_event()? {
            Event::Open(info) => Ok((ws, *info)),
            other => unreachable!("the first event is Open, got {other:?}"),
        }
    }

    /// Reads the next whole message. Pings are answered and control frames skipped. When the
    /// peer closes, completes the close handshake and returns `Error::Closed`; the peer's
    /// code and reason are then in [`peer_close`](Self::peer_close).
    pub fn read(&mut self) -> Result<Message, Error> {
        self.conn.set_streaming(false);
        loop {
            match self.read_event()? {
                Event::Message(m) => return Ok(m),
                Event::Close(_) => return Err(Error::Closed),
                _ => {}
            }
        }
    }

    /// Reads what has arrived of the current message (Beast's `read_some`): at least one
    /// byte, or the message's end. `fin` marks the last piece.
    pub fn read_some(&mut self) -> Result<Fragment, Error> {
        self.conn.set_streaming(true);
        loop {
            match self.read_event()? {
                Event::Fragment(f) => return Ok(f),
                Event::Close(_) => return Err(Error::Closed),
                _ => {}
            }
        }
    }

    /// Reads the next event of any kind (messages or fragments, pings, pongs, the peer's
    /// close): Beast's `control_callback`, as a return value.
    pub fn read_event(&mut self) -> Result<Event, Error> {
        loop {
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    if matches!(event, Event::Close(_)) {
                        self.finish_close()?;
                    } else if self.conn.pending_output() > 0 {
                        self.flush()?;
                    }
                    return Ok(event);
                }
                Ok(None) if self.conn.state() == State::Closed => {
                    self.finish_close()?;
                    return Err(Error::Closed);
                }
                Ok(None) => self.fill()?,
                Err(e) => {
                    // Tell the peer why (close frame or HTTP error) before hanging up.
                    let _ = self.flush();
                    let _ = self.stream.shutdown();
                    return Err(e);
                }
            }
        }
    }

    /// Sends a whole message.
    pub fn write(&mut self, message: &Message) -> Result<(), Error> {
        self.write_message(message.kind(), message.as_bytes())
    }

    /// Sends a whole text message.
    pub fn write_text(&mut self, text: &str) -> Result<(), Error> {
        self.write_message(MessageKind::Text, text.as_bytes())
    }

    /// Sends a whole binary message.
    pub fn write_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.write_message(MessageKind::Binary, data)
    }

    /// A whole message: large ones, when the engine allows it, with vectored writes of the
    /// frame headers and slices of `data` (no copy into the output); others framed into the
    /// output and flushed. The bytes on the wire are the same either way.
    fn write_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        if data.len() >= UNBUFFERED_MIN {
            let (mut headers, mut frames) = (Vec::new(), Vec::new());
            if self
                .conn
                .send_unbuffered(kind, data, &mut headers, &mut frames)?
            {
                return self.write_frames(&headers, &frames, data);
            }
        }
        self.conn.send_message(kind, data)?;
        self.flush()
    }

    /// Writes frames made of `headers` (back to back) and slices of `data`, as laid out by
    /// `frames` (header length, payload length). If the transport stops taking more than one
    /// slice per call (it does not do vectored writes, or its buffer is full) or fails, the rest
    /// goes into the engine's output, to be written the usual way (now, or by a later flush
    /// after an error), so nothing is lost or reordered.
    fn write_frames(
        &mut self,
        headers: &[u8],
        frames: &[(usize, usize)],
        data: &[u8],
    ) -> Result<(), Error> {
        let mut slices: Vec<IoSlice<'_>> = Connection::unbuffered_parts(headers, frames, data)
            .map(IoSlice::new)
            .collect();
        let mut bufs = &mut slices[..];
        let mut failed = None;
        // The write timeout counts from the last progress, as for the engine's own output.
        let mut progress = self.now();
        self.set_write_timeout(self.write_slice())?;
        while !bufs.is_empty() {
            match self.stream.write_vectored(bufs) {
                Ok(0) => {
                    failed = Some(io::Error::from(ErrorKind::WriteZero));
                    break;
                }
                Ok(n) => {
                    progress = self.now();
                    // Not past the first slice: this transport writes one slice at a time.
                    let stalled = bufs.len() > 1 && n <= bufs[0].len();
                    IoSlice::advance_slices(&mut bufs, n);
                    if stalled {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if self.writes_time_out && is_timeout(&e) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        for b in bufs.iter() {
            self.conn.queue_unbuffered_rest(b);
        }
        match failed {
            Some(e) => Err(e.into()),
            None => {
                // Start the engine's write timer at the last progress, so a stall that began
                // here is not counted twice.
                if self.conn.pending_output() > 0 {
                    self.conn.handle_timeout(progress);
                }
                self.flush()
            }
        }
    }

    /// Sends part of a message; `fin` ends it (Beast's `write_some`).
    pub fn write_some(&mut self, fin: bool, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        self.conn.write_some(fin, kind, data)?;
        self.flush()
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush()
    }

    /// Sends a pong.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.pong(payload)?;
        self.flush()
    }

    /// Closes the connection (Beast's `close`): sends a close frame, reads and discards
    /// until the peer's close frame arrives (or the close timeout passes), and closes the
    /// transport.
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        self.conn.close(code, reason)?;
        self.flush()?;
        loop {
            match self.read_event() {
                Ok(Event::Close(_)) | Err(Error::Closed) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The peer's close frame, once received.
    pub fn peer_close(&self) -> Option<&CloseFrame> {
        self.conn.peer_close()
    }

    /// The engine, for state and options.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The engine, mutably (e.g. to change streaming mode).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The transport, mutably. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Writes all pending output to the transport, within the write timeout: when the
    /// transport takes nothing for `write_timeout_ms`, the output is dropped, the connection
    /// fails and this returns `Error::Timeout(TimeoutKind::Write)` (over a stream without
    /// write timeouts, see [`Transport::set_write_timeout`], it blocks as the stream does).
    pub fn flush(&mut self) -> Result<(), Error> {
        let slice = self.write_slice();
        let mut budget = slice;
        while self.conn.pending_output() > 0 {
            // Starts (or fires) the engine's write timer: the engine learns the time only here.
            self.conn.handle_timeout(self.now());
            if self.conn.pending_output() == 0 {
                // Only the write timeout drops pending output.
                return Err(Error::Timeout(TimeoutKind::Write));
            }
            self.set_write_timeout(budget)?;
            match self.stream.write(self.conn.output()) {
                Ok(0) => return Err(io::Error::from(ErrorKind::WriteZero).into()),
                Ok(n) => {
                    self.conn.consume_output(n);
                    budget = slice;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if self.writes_time_out && is_timeout(&e) => {
                    // A slice without progress: the engine decides at the top of the loop;
                    // wait no longer than its deadline next time.
                    let now = self.now();
                    let left = self
                        .conn
                        .next_deadline()
                        .map(|d| Duration::from_millis(d.saturating_sub(now).max(1)));
                    budget = match (left, slice) {
                        (Some(l), Some(s)) => Some(l.min(s)),
                        (l, s) => l.or(s),
                    };
                }
                Err(e) => return Err(e.into()),
            }
        }
        self.stream.flush()?;
        Ok(())
    }

    /// How long one blocking write may wait: an eighth of the write timeout (at least 10 ms,
    /// at most the timeout). A blocking write that takes some bytes and then waits returns
    /// only when its timeout passes, so the time of its progress is known to within one
    /// slice: waiting the whole write timeout per call could let a dead peer hold a writer
    /// for twice as long.
    fn write_slice(&self) -> Option<Duration> {
        let ms = self.conn.config().write_timeout_ms?;
        Some(Duration::from_millis((ms / 8).clamp(10.min(ms), ms).max(1)))
    }

    /// Sets the stream's write timeout unless it is set already.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if self.write_timeout != Some(timeout) {
            self.writes_time_out = self.stream.set_write_timeout(timeout)?;
            self.write_timeout = Some(timeout);
        }
        Ok(())
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// One read from the transport into the engine, bounded by the next deadline.
    fn fill(&mut self) -> Result<(), Error> {
        let now = self.now();
        self.conn.handle_timeout(now);
        self.flush()?;
        if !self.conn.wants_read() {
            return Ok(());
        }
        let timeout = self
            .conn
            .next_deadline()
            .map(|d| Duration::from_millis(d.saturating_sub(now).max(1)));
        if self.read_timeout != Some(timeout) {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = Some(timeout);
        }
        // Inside a frame's payload, read straight into the message if the transport can
        // (zero-copy, unmasked in place); otherwise into our buffer, which the engine copies.
        let read = match self.conn.receive_buffer() {
            Some(room) => match self.stream.read_uninit(room) {
                Ok(Some(0)) => Ok(0),
                Ok(Some(n)) => {
                    // SAFETY: `read_uninit` reports `n` bytes written into `room`, and no
                    // other call reached the connection since `receive_buffer`.
                    unsafe { self.conn.commit_received(n) };
                    return Ok(());
                }
                Ok(None) => self.stream.read(&mut self.buf),
                Err(e) => Err(e),
            },
            None => self.stream.read(&mut self.buf),
        };
        match read {
            Ok(0) => self.conn.receive_eof(),
            Ok(n) => self.conn.receive(&self.buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(e) if self.conn.state() == State::Closed => {
                // A reset after the close handshake ends the wait for the peer's EOF.
                let _ = e;
                self.conn.receive_eof();
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// After the close handshake: flush the reply, wait (client) for the server to close,
    /// then close the transport.
    fn finish_close(&mut self) -> Result<(), Error> {
        self.flush()?;
        while !self.conn.should_close() {
            if let Err(e) = self.fill() {
                let _ = self.stream.shutdown();
                return Err(e);
            }
            // A timeout reported as an error here only ends the wait.
            if let Err(Error::Timeout(_)) = self.conn.next_event() {
                break;
            }
        }
        self.stream.shutdown()?;
        Ok(())
    }
}

/// A blocking read or write that gave up at its timeout (`WouldBlock` on Unix sockets,
/// `TimedOut` on Windows).
fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

#[cfg(test)]
mod tests {
    //! The vectored write path must put the same bytes on the wire as the buffered one, whatever
    //! the transport takes per call, and keep what it could not write for the next flush.

    use std::io::{self, Read, Write};

    use super::*;
    use crate::io::NoTimeouts;
    use crate::ClientRequest;

    /// An in-memory transport: reads a script, takes at most `max_write` bytes per write,
    /// optionally writes one slice per call only, and fails once after `fail_after` bytes.
    struct Mock {
        input: Vec<u8>,
        pos: usize,
        output: Vec<u8>,
        max_write: usize,
        vectored: bool,
        fail_after: Option<usize>,
    }

    impl Read for Mock {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.input.len() - self.pos);
            if n == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for Mock {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if let Some(at) = self.fail_after {
                if self.output.len() >= at {
                    self.fail_after = None;
                    return Err(ErrorKind::TimedOut.into());
                }
            }
            let n = buf.len().min(self.max_write);
            self.output.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            if !self.vectored {
                let first = bufs
                    .iter()
                    .find(|b| !b.is_empty())
                    .map_or(&[][..], |b| &**b);
                return self.write(first);
            }
            let mut total = 0;
            for b in bufs {
                if total == self.max_write {
                    break;
                }
                let room = self.max_write - total;
                let n = self.write(&b[..b.len().min(room)])?;
                total += n;
            }
            Ok(total)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A server over `mock` (fed a client's request) and the client engine to decode it.
    fn open(mut mock: Mock) -> (WebSocket<NoTimeouts<Mock>>, Connection) {
        let req = ClientRequest::new("ws://localhost/t").unwrap();
        let mut client = Connection::client(req, Config::default()).unwrap();
        mock.input = client.output().to_vec();
        let n = client.output().len();
        client.consume_output(n);
        let (ws, _) = WebSocket::accept(NoTimeouts(mock), Config::default()).unwrap();
        (ws, client)
    }

    /// Everything the server wrote, decoded by the client: the messages after `Open`.
    fn messages(ws: &mut WebSocket<NoTimeouts<Mock>>, client: &mut Connection) -> Vec<Message> {
        client.receive(&ws.get_mut().0.output);
        ws.get_mut().0.output.clear();
        let mut out = Vec::new();
        while let Some(ev) = client.next_event().unwrap() {
            if let Event::Message(m) = ev {
                out.push(m);
            }
        }
        out
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn large_messages_arrive_intact_whatever_the_transport_takes_per_call() {
        for (max_write, vectored) in [(usize::MAX, true), (1000, true), (7, true), (4096, false)] {
            let mock = Mock {
                input: Vec::new(),
                pos: 0,
                output: Vec::new(),
                max_write,
                vectored,
                fail_after: None,
            };
            let (mut ws, mut client) = open(mock);
            let big = payload(100_000);
            ws.write_binary(&big).unwrap();
            ws.write_text("small").unwrap();
            let exact = payload(UNBUFFERED_MIN);
            ws.write(&Message::Binary(exact.clone())).unwrap();
            assert_eq!(ws.connection().pending_output(), 0);
            let got = messages(&mut ws, &mut client);
            assert_eq!(
                got,
                vec![
                    Message::Binary(big),
                    Message::Text("small".into()),
                    Message::Binary(exact)
                ],
                "max_write {max_write} vectored {vectored}"
            );
        }
    }

    #[test]
    fn what_a_failed_write_left_goes_out_with_the_next_flush() {
        let mock = Mock {
            input: Vec::new(),
            pos: 0,
            output: Vec::new(),
            max_write: 3000,
            vectored: true,
            fail_after: None,
        };
        let (mut ws, mut client) = open(mock);
        let before = ws.get_mut().0.output.len();
        ws.get_mut().0.fail_after = Some(before + 20_000);
        let big = payload(50_000);
        assert!(ws.write_binary(&big).is_err());
        assert!(ws.connection().pending_output() > 0);
        ws.flush().unwrap();
        assert_eq!(messages(&mut ws, &mut client), vec![Message::Binary(big)]);
    }
}
