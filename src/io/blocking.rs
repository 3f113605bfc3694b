//! A blocking WebSocket over any [`Transport`], with Beast's vocabulary: `read`,
//! `read_some`, `write`, `write_some`, `ping`, `pong`, `close`.

use std::io::{self, ErrorKind};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::Transport;
use crate::close::{CloseCode, CloseFrame};
use crate::config::Config;
use crate::connection::{AcceptFn, Connection, State};
use crate::error::{Error, UsageError};
use crate::event::{Event, Fragment, Message, MessageKind, OpenInfo};
use crate::handshake::ClientRequest;

const READ_BUFFER: usize = 64 * 1024;

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
}

impl WebSocket<TcpStream> {
    /// Connects over TCP to a `ws://` URL and completes the opening handshake. Returns the
    /// socket and what was agreed. For `wss://`, connect a TLS stream yourself and use
    /// [`WebSocket::client`].
    pub fn connect(url: &str, config: Config) -> Result<(Self, OpenInfo), Error> {
        Self::connect_with(ClientRequest::new(url)?, config)
    }

    /// [`connect`](Self::connect) with a full request (subprotocols, origin, headers).
    pub fn connect_with(request: ClientRequest, config: Config) -> Result<(Self, OpenInfo), Error> {
        if request.url.tls {
            let msg = "wss:// needs a TLS stream: connect one and call WebSocket::client";
            return Err(UsageError::InvalidUrl(msg.into()).into());
        }
        let timeout = config.handshake_timeout_ms.map(Duration::from_millis);
        let mut last = None;
        let mut stream = None;
        for addr in (request.url.host.as_str(), request.url.port).to_socket_addrs()? {
            let attempt = match timeout {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = match (stream, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {
                return Err(io::Error::new(ErrorKind::NotFound, "host has no address").into())
            }
        };
        // Frames are already coalesced by the engine; Nagle would only add latency.
        stream.set_nodelay(true)?;
        Self::client(stream, request, config)
    }
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
            buf: vec![0; READ_BUFFER].into_boxed_slice(),
            started: Instant::now(),
            read_timeout: None,
        };
        match ws.read_event()? {
            Event::Open(info) => Ok((ws, info)),
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
        self.conn.send(message)?;
        self.flush()
    }

    /// Sends a whole text message.
    pub fn write_text(&mut self, text: &str) -> Result<(), Error> {
        self.conn.send_text(text)?;
        self.flush()
    }

    /// Sends a whole binary message.
    pub fn write_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.conn.send_binary(data)?;
        self.flush()
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

    /// Writes all pending output to the transport.
    pub fn flush(&mut self) -> Result<(), Error> {
        while self.conn.pending_output() > 0 {
            match self.stream.write(self.conn.output()) {
                Ok(0) => return Err(io::Error::from(ErrorKind::WriteZero).into()),
                Ok(n) => self.conn.consume_output(n),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.stream.flush()?;
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
        match self.stream.read(&mut self.buf) {
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
