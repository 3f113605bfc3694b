//! Typed errors. Every way a connection can fail has its own variant, and every protocol
//! violation maps to the close code the peer is sent (RFC 6455 §7.4.1).

use std::fmt;

use crate::close::CloseCode;
use crate::handshake::HandshakeError;

/// A violation of RFC 6455 / RFC 7692 by the peer, or a limit the peer exceeded.
///
/// When the engine detects one it fails the connection: it queues a close frame carrying
/// [`ProtocolError::close_code`] (if the connection was open), stops reading, and reports the
/// error once from [`Connection::next_event`](crate::Connection::next_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An opcode the RFC reserves (3–7, 11–15). Close code 1002.
    ReservedOpcode(u8),
    /// RSV bits set that no negotiated extension owns (the header's bits as `0x70` mask).
    /// Close code 1002.
    ReservedBits(u8),
    /// A client sent an unmasked frame (§5.1). Close code 1002.
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1). Close code 1002.
    MaskedFrame,
    /// A 64-bit payload length with its most significant bit set (§5.2). Close code 1002.
    InvalidLength,
    /// A control frame with more than 125 bytes of payload. Close code 1002.
    ControlFrameTooLarge,
    /// A control frame without FIN. Close code 1002.
    FragmentedControlFrame,
    /// A continuation frame with no message in progress. Close code 1002.
    UnexpectedContinuation,
    /// A new text or binary frame while a fragmented message is in progress. Close code 1002.
    ExpectedContinuation,
    /// Text that is not UTF-8 (detected as soon as a sequence cannot become valid).
    /// Close code 1007.
    InvalidUtf8,
    /// A close frame with a one-byte payload. Close code 1002.
    InvalidClosePayload,
    /// A close frame with a code that may not be sent on the wire. Close code 1002.
    InvalidCloseCode(u16),
    /// A close reason that is not UTF-8. Close code 1007.
    InvalidCloseReason,
    /// A message larger than `Limits::max_message_size`. Close code 1009.
    MessageTooBig {
        /// The limit in bytes.
        limit: usize,
    },
    /// A frame larger than `Limits::max_frame_size`. Close code 1009.
    FrameTooBig {
        /// The limit in bytes.
        limit: usize,
    },
    /// A message made of more frames than `Limits::max_fragments`. Close code 1009.
    TooManyFragments {
        /// The limit in frames.
        limit: usize,
    },
    /// A negotiated extension could not decode a message (e.g. corrupt deflate data).
    /// Close code 1007 (the payload is invalid for the negotiated encoding).
    Extension(ExtensionError),
    /// The transport ended without a close handshake. Close code 1006 (never sent).
    UnexpectedEof,
}

impl ProtocolError {
    /// The close code this violation is answered with.
    pub fn close_code(&self) -> CloseCode {
        use ProtocolError::*;
        match self {
            InvalidUtf8 | InvalidCloseReason | Extension(_) => CloseCode::INVALID_PAYLOAD,
            MessageTooBig { .. } | FrameTooBig { .. } | TooManyFragments { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            UnexpectedEof => CloseCode::ABNORMAL,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ProtocolError::*;
        match self {
            ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            ReservedBits(bits) => write!(f, "reserved bits {bits:#04x} set without an extension"),
            UnmaskedFrame => f.write_str("client frame is not masked"),
            MaskedFrame => f.write_str("server frame is masked"),
            InvalidLength => f.write_str("64-bit payload length has its high bit set"),
            ControlFrameTooLarge => f.write_str("control frame payload exceeds 125 bytes"),
            FragmentedControlFrame => f.write_str("control frame is fragmented"),
            UnexpectedContinuation => f.write_str("continuation frame without a message"),
            ExpectedContinuation => f.write_str("new data frame inside a fragmented message"),
            InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            InvalidClosePayload => f.write_str("close frame payload of one byte"),
            InvalidCloseCode(c) => write!(f, "invalid close code {c}"),
            InvalidCloseReason => f.write_str("close reason is not valid UTF-8"),
            MessageTooBig { limit } => write!(f, "message exceeds {limit} bytes"),
            FrameTooBig { limit } => write!(f, "frame exceeds {limit} bytes"),
            TooManyFragments { limit } => write!(f, "message exceeds {limit} fragments"),
            Extension(e) => write!(f, "extension: {e}"),
            UnexpectedEof => f.write_str("transport closed without a close handshake"),
        }
    }
}

/// Why a negotiated extension failed to encode or decode a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The compressed data is corrupt.
    Corrupt(String),
    /// Decoding would exceed the caller's limit (the connection reports `MessageTooBig`).
    TooBig,
    /// Any other codec failure.
    Other(String),
}

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtensionError::Corrupt(m) => write!(f, "corrupt data: {m}"),
            ExtensionError::TooBig => f.write_str("decoded data exceeds the limit"),
            ExtensionError::Other(m) => f.write_str(m),
        }
    }
}

/// Misuse of the API by the caller: nothing was sent and the connection is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// The operation needs an open connection (state given).
    NotOpen(crate::State),
    /// A control frame payload over 125 bytes.
    ControlPayloadTooLarge(usize),
    /// A close code that may not be sent (allowed: 1000–1003, 1007–1014, 3000–4999).
    InvalidCloseCode(u16),
    /// A close reason over 123 bytes.
    CloseReasonTooLong(usize),
    /// `write_some` with a different message kind than the message in progress.
    MessageKindMismatch,
    /// `write_some`/`send` of a new message while a fragmented one is unfinished.
    MessageInProgress,
    /// The URL cannot be used for a WebSocket (reason given).
    InvalidUrl(String),
    /// An option value out of its range (reason given).
    InvalidOption(String),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use UsageError::*;
        match self {
            NotOpen(s) => write!(f, "connection is not open (state {s:?})"),
            ControlPayloadTooLarge(n) => write!(f, "control payload of {n} bytes exceeds 125"),
            InvalidCloseCode(c) => write!(f, "close code {c} may not be sent"),
            CloseReasonTooLong(n) => write!(f, "close reason of {n} bytes exceeds 123"),
            MessageKindMismatch => f.write_str("frame kind differs from the message in progress"),
            MessageInProgress => f.write_str("a fragmented message is still in progress"),
            InvalidUrl(m) => write!(f, "invalid WebSocket URL: {m}"),
            InvalidOption(m) => write!(f, "invalid option: {m}"),
        }
    }
}

/// Why TLS failed, or why it is not available.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TlsError {
    /// A `wss://` URL, but this build has no TLS: enable the cargo feature `rustls` (the
    /// blocking adapter), `tokio-rustls` (the tokio adapter) or `component-tls` (the WASI
    /// component), or connect a TLS stream yourself and call
    /// [`WebSocket::client`](crate::io::WebSocket::client).
    NotEnabled,
    /// The URL's host cannot be a TLS server name (the name given).
    InvalidServerName(String),
    /// A PEM input is malformed or lacks what it must hold (reason given).
    InvalidPem(String),
    /// rustls refused the peer or the configuration: a rejected certificate
    /// (`rustls::Error::InvalidCertificate`, e.g. `UnknownIssuer` or `NotValidForName`), an
    /// alert from the peer, bytes that are not TLS, or a key that does not fit its
    /// certificate.
    #[cfg(any(feature = "rustls", feature = "component-tls"))]
    Rustls(rustls::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::NotEnabled => f.write_str(
                "wss:// needs TLS, which this build lacks: enable the cargo feature `rustls` \
                 (blocking adapter), `tokio-rustls` (tokio adapter) or `component-tls` (the \
                 component's websocket-tls.wasm), or bring a TLS stream of your own",
            ),
            TlsError::InvalidServerName(name) => write!(f, "{name:?} is not a TLS server name"),
            TlsError::InvalidPem(m) => write!(f, "invalid PEM: {m}"),
            #[cfg(any(feature = "rustls", feature = "component-tls"))]
            TlsError::Rustls(e) => write!(f, "{e}"),
        }
    }
}

/// Which timer expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutKind {
    /// The opening handshake did not complete in time.
    Handshake,
    /// The peer did not answer our close frame in time (or, for a client, the server did not
    /// close the transport after the close handshake).
    Close,
    /// No pong arrived in time after a keepalive ping.
    Keepalive,
    /// Nothing was received for the idle timeout.
    Idle,
    /// Output waited for the write timeout without the transport taking any of it (the
    /// peer stopped reading). The unsent bytes are dropped.
    Write,
}

/// Everything that can go wrong, in the engine or an adapter.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The peer violated the protocol; the connection is failed.
    Protocol(ProtocolError),
    /// The opening handshake failed (for a client: includes a non-101 answer with its status,
    /// headers and body; for a server: an error response was queued).
    Handshake(HandshakeError),
    /// The caller asked for something the connection cannot do now; nothing changed.
    Usage(UsageError),
    /// A deadline passed (see [`TimeoutKind`]); the connection is closed.
    Timeout(TimeoutKind),
    /// The connection is closed; no more reads or writes are possible.
    Closed,
    /// An I/O error from the transport (adapters only; the engine never returns it).
    Io(std::io::Error),
    /// TLS failed or is not available (adapters only; the engine never returns it).
    Tls(TlsError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Protocol(e) => write!(f, "protocol error: {e}"),
            Error::Handshake(e) => write!(f, "handshake failed: {e}"),
            Error::Usage(e) => write!(f, "{e}"),
            Error::Timeout(k) => write!(f, "{k:?} timeout"),
            Error::Closed => f.write_str("connection closed"),
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::Tls(e) => write!(f, "TLS: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}
impl From<HandshakeError> for Error {
    fn from(e: HandshakeError) -> Self {
        Error::Handshake(e)
    }
}
impl From<UsageError> for Error {
    fn from(e: UsageError) -> Self {
        Error::Usage(e)
    }
}
impl From<TlsError> for Error {
    fn from(e: TlsError) -> Self {
        Error::Tls(e)
    }
}

/// rustls reports its errors (a rejected certificate, an alert) through `Read`/`Write` as an
/// `io::Error` wrapping a `rustls::Error`; those become [`Error::Tls`], so the caller can match
/// on them whatever layer they surfaced from.
impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        #[cfg(any(feature = "rustls", feature = "component-tls"))]
        if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
            let kind = e.kind();
            return match e
                .into_inner()
                .map(|inner| inner.downcast::<rustls::Error>())
            {
                Some(Ok(tls)) => Error::Tls(TlsError::Rustls(*tls)),
                Some(Err(other)) => Error::Io(std::io::Error::new(kind, other)),
                None => Error::Io(kind.into()),
            };
        }
        Error::Io(e)
    }
}
