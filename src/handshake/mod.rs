//! The HTTP/1.1 opening handshake (RFC 6455 §4) for both roles: building and checking the
//! client's request and the server's answer. Pure functions over bytes; the connection drives
//! them.

mod client;
mod headers;
mod server;
mod url;

pub use client::ClientRequest;
pub use headers::{parse_extensions, Headers};
pub use server::{Request, Response};
pub use url::WsUrl;

pub(crate) use client::{check_response, encode_request, parse_response};
pub(crate) use server::{
    accept_response, encode_response_head, parse_request, reject_response, validate_request,
};

use std::fmt;

/// Limits on the opening handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandshakeLimits {
    /// Bytes of the request or response head (request line and headers). Default 16 KiB.
    pub max_head_bytes: usize,
    /// Number of header lines. Default 64.
    pub max_headers: usize,
    /// Bytes of a non-101 response body kept for the caller. Default 64 KiB.
    pub max_body_bytes: usize,
}

impl Default for HandshakeLimits {
    fn default() -> Self {
        HandshakeLimits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// Why an opening handshake failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    // ---- client side: the server's answer ----
    /// The server answered with a status other than 101 (e.g. a redirect or a 401). Carries
    /// the whole response, body included (up to `max_body_bytes`).
    Rejected(Box<Response>),
    /// The answer is not valid HTTP/1.1 (what was wrong).
    MalformedResponse(String),
    /// The answer's `Upgrade` header does not contain `websocket`.
    MissingUpgrade,
    /// The answer's `Connection` header does not contain `upgrade`.
    MissingConnection,
    /// `Sec-WebSocket-Accept` is missing or does not match the key sent.
    BadAccept,
    /// The server chose a subprotocol that was not offered.
    UnexpectedProtocol(String),
    /// The server answered with an extension that was not offered, or with parameters the
    /// offer does not allow (what was wrong).
    BadExtension(String),

    // ---- server side: the client's request (each maps to an HTTP status) ----
    /// The request is malformed (400): not HTTP/1.1, not GET, missing Host, missing or
    /// wrong Upgrade/Connection, a key that is not 16 base64-encoded bytes (what was wrong).
    BadRequest(String),
    /// `Sec-WebSocket-Version` is not 13 (426, with `Sec-WebSocket-Version: 13`).
    UnsupportedVersion,
    /// The application rejected the request with this status.
    RejectedByApplication(u16),

    // ---- both sides ----
    /// The request or response head exceeded `max_head_bytes` or `max_headers`
    /// (a server answers 431).
    HeadTooLarge,
    /// The transport closed before the handshake completed.
    Eof,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with, if it is a server-side error.
    pub fn status(&self) -> Option<u16> {
        match self {
            HandshakeError::BadRequest(_) => Some(400),
            HandshakeError::UnsupportedVersion => Some(426),
            HandshakeError::RejectedByApplication(s) => Some(*s),
            HandshakeError::HeadTooLarge => Some(431),
            _ => None,
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HandshakeError::*;
        match self {
            Rejected(r) => write!(f, "server answered {} {}", r.status, r.reason),
            MalformedResponse(m) => write!(f, "malformed response: {m}"),
            MissingUpgrade => f.write_str("response lacks `Upgrade: websocket`"),
            MissingConnection => f.write_str("response lacks `Connection: upgrade`"),
            BadAccept => f.write_str("Sec-WebSocket-Accept does not match the key"),
            UnexpectedProtocol(p) => write!(f, "server chose unoffered subprotocol {p:?}"),
            BadExtension(m) => write!(f, "bad extension answer: {m}"),
            BadRequest(m) => write!(f, "bad request: {m}"),
            UnsupportedVersion => f.write_str("unsupported Sec-WebSocket-Version (need 13)"),
            RejectedByApplication(s) => write!(f, "rejected by the application with {s}"),
            HeadTooLarge => f.write_str("handshake head too large"),
            Eof => f.write_str("transport closed during the handshake"),
        }
    }
}

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §1.3):
/// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
pub fn accept_key(key: &str) -> String {
    use base64::Engine;
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}
