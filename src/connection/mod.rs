//! The connection state machine: bytes in, events out, bytes to send pulled by the caller.
//!
//! ```text
//!   receive(bytes) ──► [ input buffer ] ──► next_event() ──► Open / Message / Fragment /
//!                                                             Ping / Pong / Close / Err
//!   send_*/write_some/ping/pong/close ──► [ output buffer ] ──► output() / consume_output(n)
//!   handle_timeout(now) ◄── next_deadline()
//! ```
//!
//! Input is parsed lazily: `receive` only stores bytes, and each `next_event` call parses
//! as far as the next event. So the engine holds no queue of events, and a caller that stops
//! calling `next_event` stops the engine's work (back-pressure on the read side). Everything
//! the caller writes is framed into the output buffer at once; `pending_output` says how much
//! is waiting (back-pressure on the write side is the caller's).

mod opening;
mod read;
mod timers;
mod write;

pub(crate) use write::UNBUFFERED_MIN;

use std::mem::MaybeUninit;

use crate::close::{self, CloseCode, CloseFrame};
use crate::config::Config;
use crate::error::{Error, ProtocolError, TimeoutKind};
use crate::event::{Event, MessageKind};
use crate::extension::Extension;
use crate::frame::OpCode;
use crate::handshake::{ClientRequest, Request, Response};
use crate::random::Random;

use opening::Opening;
pub use opening::{Accept, AcceptFn, Refusal, Upgrade};
use read::{InMessage, ReadState};
use timers::Timers;

/// Which end of the connection this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Sends the opening request; masks its frames.
    Client,
    /// Answers the opening request; never masks.
    Server,
}

/// The connection's state (RFC 6455 §4.1, §7; the WHATWG readyState).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The opening handshake is under way.
    Connecting,
    /// Messages may flow both ways.
    Open,
    /// We sent a close frame and wait for the peer's.
    Closing,
    /// The close handshake is done, or the connection failed. Nothing more is sent.
    Closed,
}

/// Pongs owed while this much output is pending wait in a single slot instead of growing
/// the output: a peer pinging faster than we write cannot make us buffer more than this plus
/// one pong (RFC 6455 §5.5.3 allows answering only the latest ping).
const PONG_HIGH_WATER: usize = 16 * 1024;

/// The most `receive_buffer` reserves at a time in streaming mode (message mode reserves the
/// frame's declared length when it accepts the header, within the limits).
const STREAM_CHUNK: usize = 64 * 1024;

/// A WebSocket connection without I/O. See the [crate documentation](crate) for a tour.
#[derive(Debug)]
pub struct Connection {
    role: Role,
    state: State,
    config: Config,
    /// Received bytes not yet parsed start at `in_pos`.
    input: Vec<u8>,
    in_pos: usize,
    eof: bool,
    /// Bytes to send start at `out_pos`.
    output: Vec<u8>,
    out_pos: usize,
    opening: Opening,
    read: ReadState,
    in_msg: Option<InMessage>,
    /// The message being assembled (message mode) or the piece being delivered (streaming).
    msg_buf: Vec<u8>,
    streaming: bool,
    /// The outgoing message started by `write_some` and not yet finished.
    out_msg: Option<(MessageKind, bool)>,
    extension: Option<Box<dyn Extension>>,
    protocol: Option<String>,
    extensions_header: Option<String>,
    /// Encoded payload of the message being sent (reused between messages).
    scratch: Vec<u8>,
    peer_close: Option<CloseFrame>,
    /// The connection failed (protocol error, timeout, handshake failure): close the
    /// transport as soon as the output is flushed, whatever the role.
    failed: bool,
    /// Boxed: an error waits here at most once per connection, and inline it would cost
    /// every connection its size (40 bytes, 64 with the `rustls` feature, whose
    /// `rustls::Error` pushed an idle connection over 1 KiB).
    pending_error: Option<Box<Error>>,
    /// A pong owed while the output is above `PONG_HIGH_WATER` (boxed: it is rare, and
    /// inline it would be an eighth of an idle connection).
    pending_pong: Option<Box<([u8; 125], u8)>>,
    rng: Random,
    now: u64,
    timers: Timers,
}

impl Connection {
    fn new(role: Role, config: Config, opening: Opening) -> Connection {
        let mut timers = Timers::default();
        timers.handshake.arm(config.handshake_timeout_ms);
        Connection {
            role,
            state: State::Connecting,
            config,
            input: Vec::new(),
            in_pos: 0,
            eof: false,
            output: Vec::new(),
            out_pos: 0,
            opening,
            read: ReadState::Header,
            in_msg: None,
            msg_buf: Vec::new(),
            streaming: false,
            out_msg: None,
            extension: None,
            protocol: None,
            extensions_header: None,
            scratch: Vec::new(),
            peer_close: None,
            failed: false,
            pending_error: None,
            pending_pong: None,
            rng: Random::new(),
            now: 0,
            timers,
        }
    }

    /// A client connection. The opening request is queued in the output at once.
    ///
    /// Errors: an invalid option or request (`Error::Usage`).
    pub fn client(request: ClientRequest, config: Config) -> Result<Connection, Error> {
        config.validate()?;
        request.validate()?;
        let mut conn = Connection::new(Role::Client, config, Opening::Done);
        conn.start_client(request);
        Ok(conn)
    }

    /// A server connection that accepts every valid request, with no subprotocol.
    pub fn server(config: Config) -> Result<Connection, Error> {
        config.validate()?;
        Ok(Connection::new(
            Role::Server,
            config,
            Opening::Server { accept: None },
        ))
    }

    /// A server connection whose `accept` callback sees each valid request and chooses:
    /// `Ok(Accept)` (subprotocol, extra headers) or `Err(Response)` to reject it with that
    /// status, headers and body. Invalid requests are answered 400/426/431 without calling it.
    pub fn server_with(config: Config, accept: AcceptFn) -> Result<Connection, Error> {
        config.validate()?;
        Ok(Connection::new(
            Role::Server,
            config,
            Opening::Server {
                accept: Some(accept),
            },
        ))
    }

    // ---------------------------------------------------------------- input

    /// Feeds bytes that arrived from the transport, in any split. Bytes arriving after the
    /// connection closed are dropped.
    pub fn receive(&mut self, data: &[u8]) {
        if self.state == State::Closed || self.eof || data.is_empty() {
            return;
        }
        if self.in_pos == self.input.len() {
            self.input.clear();
            self.in_pos = 0;
        } else if self.in_pos > 0 {
            self.input.drain(..self.in_pos);
            self.in_pos = 0;
        }
        // Payload of a frame being received skips the input buffer (see `receive_direct`).
        let data = self.receive_direct(data);
        self.input.extend_from_slice(data);
        self.peer_alive();
    }

    /// Anything from the peer proves it alive: the idle and pong timers restart.
    fn peer_alive(&mut self) {
        self.timers.idle.arm(self.config.idle_timeout_ms);
        self.timers.pong.stop();
        if self.state == State::Open {
            self.timers.keepalive.arm(self.config.keepalive_interval_ms);
        }
    }

    /// Zero-copy receive: room in the message being received where the transport can put
    /// the next bytes directly, instead of a caller's buffer and [`receive`](Self::receive)
    /// (which copies them). Available only while the payload of an uncompressed data frame is
    /// being received and no unparsed input is buffered (so the next bytes on the wire are that
    /// payload); never empty, never longer than the rest of the frame. `None`: use `receive`.
    ///
    /// Read into it, then call [`commit_received`](Self::commit_received) with the count read
    /// (no other call to this connection in between). The room was reserved when the frame's
    /// header was accepted, within the message size limit; in streaming mode at most 64 KiB
    /// at a time.
    pub fn receive_buffer(&mut self) -> Option<&mut [MaybeUninit<u8>]> {
        // Never an empty slice: a read into it would look like the end of the stream.
        let remaining = self.direct_remaining().filter(|&r| r > 0)?;
        if self.msg_buf.spare_capacity_mut().is_empty() {
            // Streaming mode hands the buffer over with each piece; pieces stay bounded.
            self.msg_buf
                .reserve(remaining.min(STREAM_CHUNK as u64) as usize);
        }
        let spare = self.msg_buf.spare_capacity_mut();
        let n = (spare.len() as u64).min(remaining) as usize;
        Some(&mut spare[..n])
    }

    /// Takes the first `n` bytes of the room [`receive_buffer`](Self::receive_buffer)
    /// returned as received (they are unmasked in place; the next `next_event` accounts for
    /// them as for bytes given to `receive`).
    ///
    /// # Safety
    /// Those `n` bytes must have been initialised (written), `n` must not exceed the length of
    /// that slice, and no other method of this connection may have been called since
    /// `receive_buffer`. (A count beyond the slice, or no slice handed out, panics.)
    pub unsafe fn commit_received(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        let room = self
            .direct_remaining()
            .expect("commit_received without receive_buffer");
        let start = self.msg_buf.len();
        assert!(
            n as u64 <= room && n <= self.msg_buf.capacity() - start,
            "commit_received: more bytes than receive_buffer offered"
        );
        // SAFETY: within capacity (checked above); initialised by the caller's contract.
        unsafe { self.msg_buf.set_len(start + n) };
        if let ReadState::Payload {
            mask: Some(key),
            done,
            ..
        } = self.read
        {
            crate::mask::apply_mask(&mut self.msg_buf[start..], key, done);
        }
        self.advance_direct(n);
        self.peer_alive();
    }

    /// Tells the engine the transport will deliver no more bytes. If that happens before
    /// the close handshake, `next_event` reports `ProtocolError::UnexpectedEof` (code 1006)
    /// once the buffered bytes are processed.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// The next event, parsing buffered input as far as needed. `Ok(None)`: more input is
    /// needed (or the connection is closed). An `Err` is reported once; the connection is
    /// then closed or failed and a close frame or HTTP error may wait in the output.
    pub fn next_event(&mut self) -> Result<Option<Event>, Error> {
        if let Some(e) = self.pending_error.take() {
            return Err(*e);
        }
        match self.state {
            State::Connecting => self.poll_opening(),
            State::Open | State::Closing => self.poll_frames(),
            State::Closed => Ok(None),
        }
    }

    /// Delivers data messages piece by piece as [`Event::Fragment`]s (Beast's `read_some`)
    /// instead of whole [`Event::Message`]s. Takes effect for the message being received if
    /// it has not been delivered yet; a message that started in pieces ends in pieces.
    pub fn set_streaming(&mut self, on: bool) {
        self.streaming = on;
    }

    /// Whether streaming mode is on.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    // ---------------------------------------------------------------- output

    /// Bytes waiting to be written to the transport.
    pub fn output(&self) -> &[u8] {
        &self.output[self.out_pos..]
    }

    /// Marks the first `n` bytes of [`output`](Self::output) as written.
    pub fn consume_output(&mut self, n: usize) {
        if n > 0 {
            // Progress: the write timeout counts from the last bytes the transport took.
            self.timers.write.stop();
        }
        self.out_pos = (self.out_pos + n).min(self.output.len());
        if self.out_pos == self.output.len() {
            self.output.clear();
            self.out_pos = 0;
            // A burst of output must not pin its memory for the connection's life.
            if self.output.capacity() > 1 << 20 {
                self.output.shrink_to(64 * 1024);
            }
        } else if self.out_pos >= 64 * 1024 && self.out_pos * 2 >= self.output.len() {
            self.output.drain(..self.out_pos);
            self.out_pos = 0;
        }
        if self.pending_output() < PONG_HIGH_WATER {
            self.send_owed_pong();
        }
    }

    /// How many bytes wait in the output (what a browser calls `bufferedAmount`).
    pub fn pending_output(&self) -> usize {
        self.output.len() - self.out_pos
    }

    /// Whether a message begun with `write_some` still waits for its final (`fin`) part;
    /// until then only `write_some` of the same kind and control frames can be sent.
    pub fn message_in_progress(&self) -> bool {
        self.out_msg.is_some()
    }

    /// Whether the caller should keep reading from the transport.
    pub fn wants_read(&self) -> bool {
        // A closed client still reads: it waits for the server to close the transport.
        !self.eof && !(self.state == State::Closed && (self.role == Role::Server || self.failed))
    }

    /// Whether the caller should close the transport now: the output is flushed and the
    /// connection is over for this end — the server after the close handshake (RFC 6455
    /// §7.1.1: the server closes TCP first), the client once the server closed its side or
    /// the close timeout passed, and either end after a failure.
    pub fn should_close(&self) -> bool {
        self.state == State::Closed
            && self.pending_output() == 0
            && (self.role == Role::Server || self.failed || self.eof)
    }

    // ---------------------------------------------------------------- time

    /// The earliest time (ms, on the caller's clock) at which `handle_timeout` must be
    /// called. A timer armed since the last call reports the last time the engine was
    /// given, i.e. "now".
    pub fn next_deadline(&self) -> Option<u64> {
        let timers = self.timers.next_deadline(self.now);
        if self.write_timer_due() {
            return Some(timers.map_or(self.now, |t| t.min(self.now)));
        }
        timers
    }

    /// Whether output waits without a running write timer: the next `handle_timeout` starts
    /// it (the engine learns the time only there).
    fn write_timer_due(&self) -> bool {
        self.timers.write == timers::Timer::Off
            && self.pending_output() > 0
            && self.config.write_timeout_ms.is_some()
    }

    /// Advances the engine's clock to `now` (ms) and fires due timers: a handshake or close
    /// timeout fails the connection (`Error::Timeout` from `next_event`), a keepalive
    /// interval sends a ping, a missing pong or idle timeout fails the connection (1006), and
    /// output the transport took none of for the write timeout is dropped and fails the
    /// connection (`Error::Timeout(Write)`: the peer is not reading, so no close frame).
    ///
    /// Adapters call this before they wait on the transport, in either direction: that is
    /// also when the write timeout starts counting for output queued since the last call.
    pub fn handle_timeout(&mut self, now: u64) {
        self.now = self.now.max(now);
        let now = self.now;
        if self.pending_output() == 0 {
            self.timers.write.stop();
        } else if self.timers.write == timers::Timer::Off {
            self.timers.write.arm(self.config.write_timeout_ms);
        }
        for t in self.timers.all() {
            t.anchor(now);
        }
        if self.timers.handshake.fire(now) && self.state == State::Connecting {
            self.fail_with(Error::Timeout(TimeoutKind::Handshake));
        }
        if self.timers.close.fire(now) {
            if self.state == State::Closing {
                self.fail_with(Error::Timeout(TimeoutKind::Close));
            } else if self.state == State::Closed {
                // The client waited for the server to close the transport; stop waiting.
                self.failed = true;
            }
        }
        if self.timers.pong.fire(now) && self.state != State::Closed {
            self.fail_with(Error::Timeout(TimeoutKind::Keepalive));
        }
        if self.timers.idle.fire(now) && self.state != State::Closed {
            self.fail_with(Error::Timeout(TimeoutKind::Idle));
        }
        if self.timers.write.fire(now) && self.pending_output() > 0 {
            self.write_timed_out();
        }
        if self.timers.keepalive.fire(now) && self.state == State::Open {
            self.write_frame(true, OpCode::Ping, 0, b"");
            self.timers.pong.arm(Some(self.config.keepalive_timeout_ms));
            self.timers.pong.anchor(now);
        }
    }

    // ---------------------------------------------------------------- state

    /// Client or server.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The options in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The agreed subprotocol, once open.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The agreed `Sec-WebSocket-Extensions` value, once open.
    pub fn extensions(&self) -> Option<&str> {
        self.extensions_header.as_deref()
    }

    /// The peer's close frame, once received (Beast's `reason()`). `None` before that, or
    /// if the peer's close frame carried no code (then the code is 1005).
    pub fn peer_close(&self) -> Option<&CloseFrame> {
        self.peer_close.as_ref()
    }

    // ---------------------------------------------------------------- closing

    /// The transport took none of the output for the write timeout: the peer is not
    /// reading, so no close frame; the output is dropped. Also called by an adapter whose
    /// bytes of a [`send_unbuffered`](Self::send_unbuffered) message, written outside the
    /// output, waited that long: the connection fails as when the engine's own timer fires.
    pub(crate) fn write_timed_out(&mut self) {
        if self.state == State::Closed {
            // Already over (a failure's close frame, or the close reply, was waiting): its
            // outcome was reported; only stop waiting for the transport.
            self.failed = true;
        } else {
            self.fail_with(Error::Timeout(TimeoutKind::Write));
        }
        // Nobody will read them; holding them would only pin memory.
        self.output = Vec::new();
        self.out_pos = 0;
        self.pending_pong = None;
        self.timers.write.stop();
    }

    /// Fails the connection because of a peer's violation: queues a close frame with the
    /// violation's code if we may still send one, and closes.
    fn fail(&mut self, e: ProtocolError) -> Error {
        if self.state == State::Open && e.close_code() != CloseCode::ABNORMAL {
            self.queue_close(e.close_code(), "");
        }
        self.enter_failed();
        Error::Protocol(e)
    }

    /// Fails the connection for a reason reported later through `next_event`.
    fn fail_with(&mut self, e: Error) {
        self.enter_failed();
        self.pending_error = Some(Box::new(e));
    }

    fn enter_failed(&mut self) {
        self.state = State::Closed;
        self.failed = true;
        self.in_pos = self.input.len();
        self.in_msg = None;
        self.msg_buf = Vec::new();
        self.timers = Timers::default();
    }

    /// Queues a close frame (the caller checked it is allowed), after the pong owed for the
    /// latest ping, if any: that ping came before any close from the peer, so it is answered
    /// (RFC 6455 §5.5.2), and nothing may follow a close frame. One pong beyond the high-water
    /// mark, as when output is taken.
    fn queue_close(&mut self, code: CloseCode, reason: &str) {
        self.send_owed_pong();
        let mut payload = [0u8; 125];
        let n = close::encode_close_payload(code, reason, &mut payload);
        self.write_frame(true, OpCode::Close, 0, &payload[..n]);
    }

    /// Writes the pong owed for the latest ping, if one waits (see `pending_pong`).
    fn send_owed_pong(&mut self) {
        if let Some(pong) = self.pending_pong.take() {
            let (buf, len) = *pong;
            self.write_frame(true, OpCode::Pong, 0, &buf[..len as usize]);
        }
    }

    /// Wraps `Request`/`Response` for `OpenInfo` (kept here so the opening module stays
    /// about the handshake only).
    fn open(
        &mut self,
        protocol: Option<String>,
        request: Option<Request>,
        response: Option<Response>,
    ) -> Event {
        self.state = State::Open;
        self.protocol = protocol.clone();
        self.timers.handshake.stop();
        self.timers.keepalive.arm(self.config.keepalive_interval_ms);
        Event::Open(Box::new(crate::event::OpenInfo {
            protocol,
            extensions: self.extensions_header.clone(),
            request,
            response,
        }))
    }
}
