//! `wsengine:websocket/sockets`: a WebSocket over a [`Transport`] — the blocking adapter's
//! loop (`crate::io::WebSocket`) on `wasi:io` streams, plus `try-read` and `subscribe` for
//! guests and hosts that wait on many connections at once.

use std::cell::RefCell;

use super::buffer::BufferResource;
use super::convert::{self, error};
use super::exports::wsengine::websocket::sockets::{self as wit, Websocket};
use super::gather::Gather;
use super::transport::{self, Input, Transport, Wait};
use super::wasi::clocks::monotonic_clock::Instant;
use super::wasi::io::poll::Pollable;
use super::wsengine::websocket::types::{
    CloseInfo, Error as WitError, Fragment, Message, MessageKind as WitKind, OpenInfo, ReadyState,
};
use super::Component;
use crate::connection::UNBUFFERED_MIN;
use crate::{Connection, Error, Event, MessageKind, State, TimeoutKind};

impl wit::Guest for Component {
    type Buffer = BufferResource;
    type Websocket = WebsocketResource;
}

/// The `websocket` resource. Calls into one component instance never nest, so the
/// `RefCell` is never borrowed twice.
pub struct WebsocketResource(RefCell<Socket>);

/// A connection and its transport.
pub(super) struct Socket {
    conn: Connection,
    io: Transport,
    /// What `subscribe` took from the engine to learn whether a read can go on without
    /// waiting; the next read returns it first.
    ahead: Option<Result<Event, Error>>,
    /// Where `send_message` gathers a large message's frames for the transport (one write's
    /// worth, at most `gather::MAX_CHUNK`; reused).
    scratch: Vec<u8>,
}

impl Socket {
    /// `conn` over `io`, its opening handshake not yet run.
    pub(super) fn new(conn: Connection, io: Transport) -> Socket {
        Socket {
            conn,
            io,
            ahead: None,
            scratch: Vec::new(),
        }
    }

    /// Runs the opening handshake of `conn` over `io`.
    pub(super) fn open(conn: Connection, io: Transport) -> Result<(Websocket, OpenInfo), WitError> {
        let mut s = Socket::new(conn, io);
        // Ends with `Open` or an error: the engine's handshake timer bounds the wait.
        match s.handshake(true).map_err(error)? {
            Some(info) => Ok((s.into_websocket(), info)),
            None => Err(WitError::Closed),
        }
    }

    /// Takes the opening handshake as far as the input allows (`wait`: to its end). `Some`
    /// once the connection is open.
    pub(super) fn handshake(&mut self, wait: bool) -> Result<Option<OpenInfo>, Error> {
        loop {
            match self.next_event(wait)? {
                Some(Event::Open(info)) => return Ok(Some(convert::open_info(*info))),
                // The engine's first event is always `Open`.
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    /// The `websocket` resource of an open connection.
    pub(super) fn into_websocket(self) -> Websocket {
        Websocket::new(WebsocketResource(RefCell::new(self)))
    }

    /// A pollable, handed out to the caller, that is ready when the next read can make
    /// progress without waiting.
    pub(super) fn subscribe(&mut self) -> Pollable {
        match self.ready_now() {
            true => transport::ready_now(),
            false => self.io.subscribe(),
        }
    }

    /// As [`subscribe`](Self::subscribe), for a pollable the component drops itself before
    /// the socket can go (`wait`); `None`: ready now.
    pub(super) fn readiness(&mut self) -> Option<Pollable> {
        match self.ready_now() {
            true => None,
            false => self.io.readiness(),
        }
    }

    /// What `wait` needs: [`readiness`](Self::readiness) and the next deadline.
    pub(super) fn wait_state(&mut self) -> (Option<Pollable>, Option<Instant>) {
        (self.readiness(), self.next_deadline())
    }

    /// Whether a read can go on without the transport: the engine has an event (two
    /// messages in one read), or the connection is over.
    fn ready_now(&mut self) -> bool {
        // Parse one event ahead, since the transport's pollable would not say so.
        if self.ahead.is_none() {
            self.ahead = self.conn.next_event().transpose();
        }
        self.ahead.is_some() || self.conn.state() == State::Closed
    }

    /// When the engine's next timer is due, as a `wasi:clocks` instant (ns).
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.conn
            .next_deadline()
            .map(|ms| ms.saturating_mul(1_000_000))
    }

    /// The next event: as `crate::io::WebSocket::read_event`, but `wait == false` returns
    /// `None` instead of waiting for the transport.
    fn next_event(&mut self, wait: bool) -> Result<Option<Event>, Error> {
        loop {
            let next = match self.ahead.take() {
                Some(r) => r.map(Some),
                None => self.conn.next_event(),
            };
            match next {
                Ok(Some(event)) => {
                    if matches!(event, Event::Close(_)) {
                        self.finish_close()?;
                    } else if self.conn.pending_output() > 0 {
                        self.flush()?;
                    }
                    return Ok(Some(event));
                }
                Ok(None) if self.conn.state() == State::Closed => {
                    self.finish_close()?;
                    return Err(Error::Closed);
                }
                Ok(None) => {
                    if !self.fill(wait)? {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    // Tell the peer why (close frame or HTTP error) before hanging up.
                    let _ = self.flush();
                    self.io.shutdown(self.conn.config().write_timeout_ms);
                    return Err(e);
                }
            }
        }
    }

    /// Runs due timers, flushes, and feeds one read into the engine (bounded by the next
    /// deadline). False if `wait` is off and nothing had arrived.
    fn fill(&mut self, wait: bool) -> Result<bool, Error> {
        // No timer armed: nothing for the clock to fire, so no clock call (one host call
        // per read saved). A timer armed since the last call shows up as a deadline.
        if self.conn.next_deadline().is_some() {
            self.conn.handle_timeout(transport::now_ms());
        }
        self.flush()?;
        if !self.conn.wants_read() {
            return Ok(true);
        }
        match self.io.read(wait, self.conn.next_deadline()) {
            Ok(Input::Data(data)) => self.conn.receive(&data),
            Ok(Input::Eof) => self.conn.receive_eof(),
            Ok(Input::Nothing) => return Ok(wait),
            // A reset after the close handshake ends the wait for the peer's EOF.
            Err(_) if self.conn.state() == State::Closed => self.conn.receive_eof(),
            Err(e) => return Err(e),
        }
        Ok(true)
    }

    /// Sends a whole message and flushes it. A large one, when the engine allows it (see
    /// `Connection::send_unbuffered`), goes out from the caller's buffer, frame headers and
    /// payload gathered straight into the transport's writes: through the engine's output it
    /// would be copied into a buffer that grows to the message's size (and is released again
    /// after a burst) and moved forward as it is written.
    fn send_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        if data.len() >= UNBUFFERED_MIN {
            let (mut headers, mut frames) = (Vec::new(), Vec::new());
            if self
                .conn
                .send_unbuffered(kind, data, &mut headers, &mut frames)?
            {
                let parts: Vec<&[u8]> =
                    Connection::unbuffered_parts(&headers, &frames, data).collect();
                let mut gather = Gather::new(&parts);
                // These bytes are not in the engine's output, so its write timer cannot see
                // them: each wait for room is bounded by the write timeout here instead.
                let wait = Wait::Stall(self.conn.config().write_timeout_ms);
                let (mut written, mut r) =
                    self.io.write_gather(&mut gather, &mut self.scratch, wait);
                if r.is_ok() && !self.io.flush(wait)? {
                    r = Err(Error::Timeout(TimeoutKind::Write));
                }
                if let Err(Error::Timeout(TimeoutKind::Write)) = r {
                    self.conn.write_timed_out();
                    return r;
                }
                if r.is_err() {
                    // The engine counts the message as sent: what did not go out goes into its
                    // output, so a later flush keeps the bytes and their order.
                    for part in parts {
                        let skip = written.min(part.len());
                        written -= skip;
                        self.conn.queue_unbuffered_rest(&part[skip..]);
                    }
                }
                return r;
            }
        }
        self.conn.send_message(kind, data)?;
        self.flush()
    }

    /// Writes the engine's pending output, waiting for the stream no longer than the
    /// engine's next deadline, where its timers (the write timeout among them) run. Nothing
    /// pending: no call at all, so a stream that is closed (or shut down after the close)
    /// only matters when there is data for it.
    ///
    /// Bytes the stream took stay in the engine's output until the stream shows room again
    /// (it is done with them) or the flush completes: until then they count as pending, so
    /// the write timeout sees a peer that stopped reading. Consumed once per write, not per
    /// partial write.
    fn flush(&mut self) -> Result<(), Error> {
        if self.conn.pending_output() == 0 {
            return Ok(());
        }
        let mut taken = 0;
        loop {
            let wait = Wait::Until(self.conn.next_deadline());
            let progressed = if taken < self.conn.pending_output() {
                match self.io.write(&self.conn.output()[taken..], wait) {
                    Ok(0) => false,
                    Ok(n) => {
                        // Room again: the stream is done with what it took before.
                        self.conn.consume_output(taken);
                        taken = n;
                        true
                    }
                    Err(e) => {
                        self.conn.consume_output(taken);
                        return Err(e);
                    }
                }
            } else {
                match self.io.flush(wait) {
                    Ok(true) => {
                        self.conn.consume_output(taken);
                        return Ok(());
                    }
                    Ok(false) => false,
                    Err(e) => {
                        self.conn.consume_output(taken);
                        return Err(e);
                    }
                }
            };
            if !progressed {
                // A deadline passed: the engine decides (and starts the write timer if it
                // was not running yet).
                self.conn.handle_timeout(transport::now_ms());
                if self.conn.pending_output() == 0 {
                    // Only the write timeout drops pending output.
                    return Err(Error::Timeout(TimeoutKind::Write));
                }
            }
        }
    }

    /// After the close handshake: flush the reply, wait (client) for the server to close,
    /// then close the transport.
    fn finish_close(&mut self) -> Result<(), Error> {
        self.flush()?;
        while !self.conn.should_close() {
            if let Err(e) = self.fill(true) {
                self.io.shutdown(self.conn.config().write_timeout_ms);
                return Err(e);
            }
            // A timeout reported here only ends the wait.
            if let Err(Error::Timeout(_)) = self.conn.next_event() {
                break;
            }
        }
        self.io.shutdown(self.conn.config().write_timeout_ms);
        Ok(())
    }

    fn read(&mut self, wait: bool) -> Result<Option<crate::Message>, Error> {
        self.conn.set_streaming(false);
        loop {
            match self.next_event(wait)? {
                Some(Event::Message(m)) => return Ok(Some(m)),
                Some(Event::Close(_)) => return Err(Error::Closed),
                Some(_) => {}
                None => return Ok(None),
            }
        }
    }

    fn send(&mut self, result: Result<(), Error>) -> Result<(), WitError> {
        result.map_err(error)?;
        self.flush().map_err(error)
    }
}

impl WebsocketResource {
    pub(super) fn with<T>(&self, f: impl FnOnce(&mut Socket) -> T) -> T {
        f(&mut self.0.borrow_mut())
    }

    /// Waits for the next whole message (`read`, `read-bytes`, `read-buffer`), handed over
    /// as `into` makes it.
    fn read_whole<T>(&self, into: impl FnOnce(crate::Message) -> T) -> Result<T, WitError> {
        self.with(|s| match s.read(true) {
            Ok(Some(m)) => Ok(into(m)),
            // Waiting reads end with a message or an error.
            Ok(None) => Err(WitError::Closed),
            Err(e) => Err(error(e)),
        })
    }
}

impl wit::GuestWebsocket for WebsocketResource {
    fn read(&self) -> Result<Message, WitError> {
        self.read_whole(convert::message)
    }

    fn read_some(&self) -> Result<Fragment, WitError> {
        self.with(|s| {
            s.conn.set_streaming(true);
            loop {
                match s.next_event(true).map_err(error)? {
                    Some(Event::Fragment(f)) => return Ok(convert::fragment(f)),
                    Some(Event::Close(_)) => return Err(WitError::Closed),
                    Some(_) | None => {}
                }
            }
        })
    }

    fn try_read(&self) -> Result<Option<Message>, WitError> {
        self.with(|s| {
            s.read(false)
                .map(|m| m.map(convert::message))
                .map_err(error)
        })
    }

    fn try_read_buffer(&self) -> Result<Option<wit::Buffer>, WitError> {
        self.with(|s| {
            s.read(false)
                .map(|m| m.map(|m| wit::Buffer::new(BufferResource::new(m))))
                .map_err(error)
        })
    }

    fn read_bytes(&self) -> Result<Fragment, WitError> {
        self.read_whole(convert::whole_fragment)
    }

    fn read_buffer(&self) -> Result<wit::Buffer, WitError> {
        self.read_whole(|m| wit::Buffer::new(BufferResource::new(m)))
    }

    fn write_buffer(&self, message: wit::BufferBorrow<'_>) -> Result<(), WitError> {
        let b = message.get::<BufferResource>();
        self.with(|s| s.send_message(b.kind(), b.data()).map_err(error))
    }

    fn write(&self, message: Message) -> Result<(), WitError> {
        self.with(|s| {
            let m = convert::from_message(message);
            s.send_message(m.kind(), m.as_bytes()).map_err(error)
        })
    }

    fn write_some(&self, fin: bool, kind: WitKind, data: Vec<u8>) -> Result<(), WitError> {
        self.with(|s| {
            let kind = convert::kind(kind);
            // A whole message: `write`'s path, which sends a large one from `data` itself.
            if fin && !s.conn.message_in_progress() {
                return s.send_message(kind, &data).map_err(error);
            }
            let r = s.conn.write_some(fin, kind, &data);
            s.send(r)
        })
    }

    fn ping(&self, payload: Vec<u8>) -> Result<(), WitError> {
        self.with(|s| {
            let r = s.conn.ping(&payload);
            s.send(r)
        })
    }

    fn pong(&self, payload: Vec<u8>) -> Result<(), WitError> {
        self.with(|s| {
            let r = s.conn.pong(&payload);
            s.send(r)
        })
    }

    fn close(&self, code: u16, reason: String) -> Result<(), WitError> {
        self.with(|s| {
            let r = s.conn.close(code, &reason);
            s.send(r)?;
            loop {
                match s.next_event(true) {
                    Ok(Some(Event::Close(_))) | Err(Error::Closed) => return Ok(()),
                    Ok(_) => {}
                    Err(e) => return Err(error(e)),
                }
            }
        })
    }

    fn peer_close(&self) -> Option<CloseInfo> {
        self.with(|s| s.conn.peer_close().map(convert::close_info))
    }

    fn ready_state(&self) -> ReadyState {
        self.with(|s| convert::ready_state(s.conn.state()))
    }

    fn protocol(&self) -> Option<String> {
        self.with(|s| s.conn.protocol().map(str::to_owned))
    }

    fn extensions(&self) -> Option<String> {
        self.with(|s| s.conn.extensions().map(str::to_owned))
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.with(|s| s.next_deadline())
    }

    fn subscribe(&self) -> Pollable {
        self.with(|s| s.subscribe())
    }
}
