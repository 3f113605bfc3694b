//! The JS face: the sans-IO [`Connection`] as a wasm-bindgen class, `Engine`.
//!
//! The JS package (`js/src`) owns the transport and the WHATWG `WebSocket` surface; this
//! module only adapts types, and keeps crossings between JS and wasm (each costs about as
//! much as copying a few hundred bytes) few: one call feeds input *and* returns the first
//! event (see [`Engine::feed`]), and one call hands over pending output.
//!
//! # Events
//!
//! [`Engine::feed`] and [`Engine::poll`] return the next event as one number,
//! `kind + 8 × length` (0: none yet), with the event's payload from [`Engine::take_data`]
//! and its argument from [`Engine::arg`]:
//!
//! | kind | event   | arg                                      | payload                  |
//! |------|---------|------------------------------------------|--------------------------|
//! | 1    | open    | 0                                        | none                     |
//! | 2    | text    | 0                                        | UTF-8 text (validated)   |
//! | 3    | binary  | 0                                        | data                     |
//! | 4    | ping    | 0                                        | ping payload             |
//! | 5    | pong    | 0                                        | pong payload             |
//! | 6    | close   | the peer's code (1005 if it sent none)   | the peer's reason        |
//! | 7    | error   | [`ErrorKind`] << 16 \| status           | the message (UTF-8)      |
//!
//! An error's status is the HTTP status for a handshake error (0 if none), the close code
//! the violation maps to for a protocol error (1006: the transport ended early), else 0.
//! After an error the connection is failed: nothing more follows, and a close frame or an
//! HTTP error response may wait in the output.
//!
//! Events are handed over one at a time, never parsed ahead: the engine parses lazily, so
//! a message's handler can still answer it before a close frame or a violation that follows
//! it on the wire is parsed (as the Autobahn testsuite checks, and as a browser behaves).
//!
//! # Output and `bufferedAmount`
//!
//! [`Engine::take_output`] hands over pending output and [`Engine::written`] reports how
//! much of it the transport has accepted; only then does the engine let go of those bytes
//! (so its write timeout measures the transport, not JS). Messages are counted in
//! [`Engine::buffered_amount`] (payload bytes, as WHATWG defines it) from the moment they
//! are sent until the transport has accepted the last byte of their frames.

mod accept;
mod options;

use std::collections::VecDeque;

use wasm_bindgen::prelude::*;

use crate::close::CloseCode;
use crate::handshake::WsUrl;
use crate::{ClientRequest, Connection, Error, Event, HandshakeError, Message, MessageKind, State};
pub use accept::AcceptCallback;
pub use options::Options;

const OPEN: u32 = 1;
const TEXT: u32 = 2;
const BINARY: u32 = 3;
const PING: u32 = 4;
const PONG: u32 = 5;
const CLOSE: u32 = 6;
const ERROR: u32 = 7;

/// `kind + KIND_SPAN * length` encodes an event as one JS number (exact below 2^53).
const KIND_SPAN: f64 = 8.0;

/// What kind of failure an error event reports (the high half of its `a` field).
#[wasm_bindgen]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The opening handshake failed; for a client, the status is set when the server
    /// answered with something other than 101.
    Handshake = 1,
    /// The peer violated the protocol or a limit.
    Protocol = 2,
    /// A timer expired (handshake, close, keepalive, idle).
    Timeout = 3,
    /// Anything else.
    Other = 4,
}

/// A WebSocket connection without I/O, for JS (see the module documentation).
#[wasm_bindgen]
pub struct Engine {
    conn: Connection,
    /// A client's parsed URL (where to connect).
    url: Option<WsUrl>,
    accept: Option<JsValue>,
    /// The last event's payload and argument.
    data: Vec<u8>,
    arg: u32,
    /// Total output bytes handed to JS, and the total JS reported written.
    taken: u64,
    written: u64,
    /// (total output bytes once the message's frames are out, payload bytes) per message
    /// still counted in `buffered`.
    marks: VecDeque<(u64, u64)>,
    buffered: u64,
}

fn usage_message(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

#[wasm_bindgen]
impl Engine {
    /// A client for `url` (`ws:`/`wss:`; the URL is checked by the engine), offering
    /// `protocols` in order, with an optional `Origin` and extra headers as a flat
    /// `[name, value, …]` list. The opening request is queued in the output at once.
    ///
    /// Throws an `Error` whose message starts with `invalid WebSocket URL:` for a URL the
    /// engine cannot use, or `invalid option:` for a bad protocol, header or option.
    pub fn client(
        url: &str,
        protocols: Vec<String>,
        origin: Option<String>,
        headers: Vec<String>,
        options: &Options,
    ) -> Result<Engine, JsError> {
        let mut req = ClientRequest::new(url).map_err(|e| usage_message(e.into()))?;
        let parsed = req.url.clone();
        req.protocols = protocols;
        req.origin = origin;
        let mut it = headers.into_iter();
        while let (Some(n), Some(v)) = (it.next(), it.next()) {
            req.headers.push((n, v));
        }
        let conn = Connection::client(req, options.config.clone()).map_err(usage_message)?;
        let mut engine = Engine::new(conn, None);
        engine.url = Some(parsed);
        Ok(engine)
    }

    /// A server connection. `accept`, if given, decides on each valid opening request (see
    /// the `accept` module for its contract); without it every valid request is accepted
    /// without a subprotocol.
    pub fn server(options: &Options, accept: Option<AcceptCallback>) -> Result<Engine, JsError> {
        let conn = match accept {
            Some(_) => Connection::server_with(options.config.clone(), accept::accept_fn()),
            None => Connection::server(options.config.clone()),
        }
        .map_err(usage_message)?;
        Ok(Engine::new(conn, accept.map(Into::into)))
    }

    /// A client's host to connect to (an IPv6 address without brackets); "" for a server.
    #[wasm_bindgen(getter)]
    pub fn host(&self) -> String {
        self.url.as_ref().map_or(String::new(), |u| u.host.clone())
    }

    /// Feeds bytes from the transport and returns the first event they completed (see the
    /// module documentation); further events from [`poll`](Self::poll).
    pub fn feed(&mut self, bytes: &[u8]) -> f64 {
        self.conn.receive(bytes);
        self.poll()
    }

    /// Feeds bytes from the transport without parsing them yet (for an owner that holds
    /// events back for a while); `poll` returns their events later.
    pub fn receive(&mut self, bytes: &[u8]) {
        self.conn.receive(bytes);
    }

    /// Tells the engine the transport ended; `poll` returns the resulting events.
    pub fn eof(&mut self) {
        self.conn.receive_eof();
    }

    /// Returns the next event from input already fed, or 0 if more input is needed.
    pub fn poll(&mut self) -> f64 {
        let callback = self.accept.clone();
        let next = accept::with_callback(callback.as_ref(), || self.conn.next_event());
        let (kind, arg, payload) = match next {
            Ok(Some(ev)) => event_parts(ev),
            Ok(None) => return 0.0,
            Err(e) => error_parts(e),
        };
        self.arg = arg;
        let len = payload.len() as f64;
        self.data = payload;
        f64::from(kind) + KIND_SPAN * len
    }

    /// The argument of the last event (see the module documentation).
    #[wasm_bindgen(getter)]
    pub fn arg(&self) -> u32 {
        self.arg
    }

    /// The payload of the last event.
    #[wasm_bindgen(js_name = takeData)]
    pub fn take_data(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.data)
    }

    /// Sends a text message; false (nothing sent) if the connection is no longer open,
    /// which JS may not know yet while it dispatches events the engine has parsed.
    #[wasm_bindgen(js_name = sendText)]
    pub fn send_text(&mut self, text: &str) -> Result<bool, JsError> {
        if self.conn.state() != State::Open {
            return Ok(false);
        }
        self.conn.send_text(text).map_err(usage_message)?;
        self.mark(text.len());
        Ok(true)
    }

    /// Sends a binary message; false as for [`send_text`](Self::send_text).
    #[wasm_bindgen(js_name = sendBinary)]
    pub fn send_binary(&mut self, data: &[u8]) -> Result<bool, JsError> {
        if self.conn.state() != State::Open {
            return Ok(false);
        }
        self.conn.send_binary(data).map_err(usage_message)?;
        self.mark(data.len());
        Ok(true)
    }

    /// Sends a ping (payload ≤ 125 bytes).
    pub fn ping(&mut self, data: &[u8]) -> Result<(), JsError> {
        self.conn.ping(data).map_err(usage_message)
    }

    /// Sends a pong (payload ≤ 125 bytes).
    pub fn pong(&mut self, data: &[u8]) -> Result<(), JsError> {
        self.conn.pong(data).map_err(usage_message)
    }

    /// Starts the close handshake; `code` 1005 sends a close frame without a code. Throws
    /// for a code that may not be sent or a reason over 123 bytes; false (nothing sent) if
    /// the connection is no longer open.
    pub fn close(&mut self, code: u16, reason: &str) -> Result<bool, JsError> {
        if self.conn.state() != State::Open {
            return Ok(false);
        }
        self.conn
            .close(CloseCode(code), reason)
            .map_err(usage_message)?;
        Ok(true)
    }

    /// Takes up to `max` pending output bytes (to write to the transport in order). A
    /// bounded chunk keeps `bufferedAmount` moving as a slow transport accepts data.
    ///
    /// The bytes stay in the engine's output until [`written`](Self::written) reports them:
    /// until then the engine counts them as pending, so its write timeout sees a transport
    /// that stopped taking bytes (a peer that stopped reading) even though JS already holds
    /// them.
    #[wasm_bindgen(js_name = takeOutput)]
    pub fn take_output(&mut self, max: usize) -> Vec<u8> {
        let out = &self.conn.output()[self.in_flight().min(self.conn.pending_output())..];
        let out = out[..out.len().min(max.max(1))].to_vec();
        self.taken += out.len() as u64;
        out
    }

    /// Bytes waiting in the engine's output (not yet taken).
    #[wasm_bindgen(getter, js_name = pendingOutput)]
    pub fn pending_output(&self) -> f64 {
        self.conn.pending_output().saturating_sub(self.in_flight()) as f64
    }

    /// Bytes taken and not yet reported written (what the transport still holds).
    #[wasm_bindgen(getter, js_name = inFlight)]
    pub fn in_flight_bytes(&self) -> f64 {
        self.in_flight() as f64
    }

    /// Reports that the transport accepted `n` more of the bytes taken.
    pub fn written(&mut self, n: f64) {
        let n = (n as u64).min(self.taken - self.written);
        self.written += n;
        // After a write timeout the engine dropped its output: nothing left to consume.
        self.conn.consume_output(n as usize);
        while let Some(&(end, len)) = self.marks.front() {
            if end > self.written {
                break;
            }
            self.buffered -= len;
            self.marks.pop_front();
        }
    }

    /// Payload bytes of sent messages not yet accepted by the transport.
    #[wasm_bindgen(getter, js_name = bufferedAmount)]
    pub fn buffered_amount(&self) -> f64 {
        self.buffered as f64
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) (ms on the caller's clock),
    /// or -1 if no timer is armed.
    #[wasm_bindgen(js_name = nextDeadline)]
    pub fn next_deadline(&self) -> f64 {
        self.conn.next_deadline().map_or(-1.0, |d| d as f64)
    }

    /// Advances the engine's clock (ms) and fires due timers; events follow from `poll`.
    #[wasm_bindgen(js_name = handleTimeout)]
    pub fn handle_timeout(&mut self, now: f64) {
        self.conn.handle_timeout(now.max(0.0) as u64);
    }

    /// Whether to close the transport now (output flushed, connection over for this end).
    #[wasm_bindgen(getter, js_name = shouldClose)]
    pub fn should_close(&self) -> bool {
        self.conn.should_close()
    }

    /// Whether to keep reading from the transport.
    #[wasm_bindgen(getter, js_name = wantsRead)]
    pub fn wants_read(&self) -> bool {
        self.conn.wants_read()
    }

    /// 0 connecting, 1 open, 2 closing, 3 closed (the WHATWG readyState numbering).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> u8 {
        match self.conn.state() {
            State::Connecting => 0,
            State::Open => 1,
            State::Closing => 2,
            State::Closed => 3,
        }
    }

    /// The agreed subprotocol ("" if none).
    #[wasm_bindgen(getter)]
    pub fn protocol(&self) -> String {
        self.conn.protocol().unwrap_or("").to_owned()
    }

    /// The agreed `Sec-WebSocket-Extensions` value ("" if none).
    #[wasm_bindgen(getter)]
    pub fn extensions(&self) -> String {
        self.conn.extensions().unwrap_or("").to_owned()
    }

    /// A client's port (the URL's, or the scheme's default); 0 for a server.
    #[wasm_bindgen(getter)]
    pub fn port(&self) -> u16 {
        self.url.as_ref().map_or(0, |u| u.port)
    }

    /// Whether a client's URL asks for TLS (`wss:`).
    #[wasm_bindgen(getter)]
    pub fn tls(&self) -> bool {
        self.url.as_ref().is_some_and(|u| u.tls)
    }
}

impl Engine {
    fn new(conn: Connection, accept: Option<JsValue>) -> Engine {
        Engine {
            url: None,
            conn,
            accept,
            data: Vec::new(),
            arg: 0,
            taken: 0,
            written: 0,
            marks: VecDeque::new(),
            buffered: 0,
        }
    }

    /// Bytes taken by JS and not yet reported written: the front of the engine's output.
    fn in_flight(&self) -> usize {
        (self.taken - self.written) as usize
    }

    fn mark(&mut self, payload: usize) {
        // Taken bytes are still in the engine's output until written.
        let end = self.written + self.conn.pending_output() as u64;
        self.buffered += payload as u64;
        self.marks.push_back((end, payload as u64));
    }
}

fn event_parts(ev: Event) -> (u32, u32, Vec<u8>) {
    match ev {
        Event::Open(_) => (OPEN, 0, Vec::new()),
        Event::Message(Message::Text(t)) => (TEXT, 0, t.into_bytes()),
        Event::Message(Message::Binary(b)) => (BINARY, 0, b),
        // Streaming is never switched on by this binding.
        Event::Fragment(f) => match f.kind {
            MessageKind::Text => (TEXT, 0, f.data),
            MessageKind::Binary => (BINARY, 0, f.data),
        },
        Event::Ping(p) => (PING, 0, p),
        Event::Pong(p) => (PONG, 0, p),
        Event::Close(frame) => match frame {
            Some(f) => (CLOSE, u32::from(f.code.0), f.reason.into_bytes()),
            None => (CLOSE, u32::from(CloseCode::NO_STATUS.0), Vec::new()),
        },
    }
}

fn error_parts(e: Error) -> (u32, u32, Vec<u8>) {
    let (kind, status) = match &e {
        Error::Handshake(HandshakeError::Rejected(r)) => (ErrorKind::Handshake, r.status),
        Error::Handshake(h) => (ErrorKind::Handshake, h.status().unwrap_or(0)),
        // The close code the violation maps to: 1006 is the transport ending early, which a
        // browser reports without an error event once open.
        Error::Protocol(p) => (ErrorKind::Protocol, p.close_code().0),
        Error::Timeout(_) => (ErrorKind::Timeout, 0),
        _ => (ErrorKind::Other, 0),
    };
    (
        ERROR,
        (kind as u32) << 16 | u32::from(status),
        e.to_string().into_bytes(),
    )
}
