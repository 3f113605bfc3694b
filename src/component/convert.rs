//! Conversions between the WIT types (`wsengine:websocket/types`) and the engine's.
//!
//! Options: every `none` keeps the engine's default, and every value is handed to the engine
//! unchanged for it to validate (`Config::validate`, `ClientRequest::validate`): the face
//! adds no rules of its own. A timeout of 0 means "disabled" (`None` in [`Config`]).

use super::wsengine::websocket::types as wit;
use crate::close::CloseFrame;
use crate::connection::{Accept, AcceptFn, State};
use crate::error::{Error, ProtocolError, TimeoutKind, UsageError};
use crate::event::{Fragment, Message, MessageKind, OpenInfo};
use crate::handshake::{ClientRequest, HandshakeError, Headers, Request, Response};
use crate::{Config, DeflateConfig, Role};

/// The engine's configuration for `o`.
pub(super) fn config(o: &wit::Options) -> Config {
    let mut c = Config::default();
    let size = |v: Option<u32>, default: usize| v.map_or(default, |n| n as usize);
    c.limits.max_message_size = size(o.max_message_size, c.limits.max_message_size);
    c.limits.max_frame_size = size(o.max_frame_size, c.limits.max_frame_size);
    c.limits.max_fragments = size(o.max_fragments, c.limits.max_fragments);
    let h = &mut c.limits.handshake;
    h.max_head_bytes = size(o.max_handshake_bytes, h.max_head_bytes);
    h.max_headers = size(o.max_handshake_headers, h.max_headers);
    h.max_body_bytes = size(o.max_handshake_body_bytes, h.max_body_bytes);
    c.auto_fragment = o.auto_fragment.unwrap_or(c.auto_fragment);
    c.write_buffer_bytes = size(o.write_buffer_bytes, c.write_buffer_bytes);
    c.auto_pong = o.auto_pong.unwrap_or(c.auto_pong);
    let timeout = |v: Option<u64>, default: Option<u64>| match v {
        None => default,
        Some(0) => None,
        Some(ms) => Some(ms),
    };
    c.handshake_timeout_ms = timeout(o.handshake_timeout_ms, c.handshake_timeout_ms);
    c.close_timeout_ms = timeout(o.close_timeout_ms, c.close_timeout_ms);
    c.keepalive_interval_ms = timeout(o.keepalive_interval_ms, c.keepalive_interval_ms);
    c.keepalive_timeout_ms = o.keepalive_timeout_ms.unwrap_or(c.keepalive_timeout_ms);
    c.idle_timeout_ms = timeout(o.idle_timeout_ms, c.idle_timeout_ms);
    c.write_timeout_ms = timeout(o.write_timeout_ms, c.write_timeout_ms);
    c.deflate = o.compression.as_ref().map(|d| {
        let base = DeflateConfig::default();
        DeflateConfig {
            server_no_context_takeover: d.server_no_context_takeover,
            client_no_context_takeover: d.client_no_context_takeover,
            server_max_window_bits: d.server_max_window_bits,
            client_max_window_bits: d.client_max_window_bits,
            level: d.level.unwrap_or(base.level),
            threshold: d.threshold.map_or(base.threshold, |t| t as usize),
        }
    });
    c
}

/// The client's opening request for `url` with `o`'s subprotocols, origin and headers
/// (validated by `Connection::client`).
pub(super) fn client_request(url: &str, o: &wit::Options) -> Result<ClientRequest, Error> {
    let mut r = ClientRequest::new(url)?;
    r.protocols = o.protocols.clone();
    r.origin = o.origin.clone();
    r.headers = o.headers.clone();
    Ok(r)
}

/// The server's accept policy: the first subprotocol the client offers that `o` supports,
/// and `o`'s extra headers. `None` when there is nothing to choose (the engine's default).
pub(super) fn accept_fn(o: &wit::Options) -> Option<AcceptFn> {
    if o.protocols.is_empty() && o.headers.is_empty() {
        return None;
    }
    let supported = o.protocols.clone();
    let mut headers = Headers::new();
    for (name, value) in &o.headers {
        headers.push(name.clone(), value.clone());
    }
    Some(Box::new(move |req: &Request| {
        let names: Vec<&str> = supported.iter().map(String::as_str).collect();
        let mut accept = Accept::select_protocol(req, &names);
        accept.headers = headers.clone();
        Ok(accept)
    }))
}

pub(super) fn ready_state(s: State) -> wit::ReadyState {
    match s {
        State::Connecting => wit::ReadyState::Connecting,
        State::Open => wit::ReadyState::Open,
        State::Closing => wit::ReadyState::Closing,
        State::Closed => wit::ReadyState::Closed,
    }
}

pub(super) fn role(r: Role) -> wit::Role {
    match r {
        Role::Client => wit::Role::Client,
        Role::Server => wit::Role::Server,
    }
}

pub(super) fn kind(k: wit::MessageKind) -> MessageKind {
    match k {
        wit::MessageKind::Text => MessageKind::Text,
        wit::MessageKind::Binary => MessageKind::Binary,
    }
}

pub(super) fn wit_kind(k: MessageKind) -> wit::MessageKind {
    match k {
        MessageKind::Text => wit::MessageKind::Text,
        MessageKind::Binary => wit::MessageKind::Binary,
    }
}

pub(super) fn message(m: Message) -> wit::Message {
    match m {
        Message::Text(t) => wit::Message::Text(t),
        Message::Binary(b) => wit::Message::Binary(b),
    }
}

#[cfg(feature = "component-websocket")]
pub(super) fn from_message(m: wit::Message) -> Message {
    match m {
        wit::Message::Text(t) => Message::Text(t),
        wit::Message::Binary(b) => Message::Binary(b),
    }
}

/// A whole message as a `fragment` (`read-bytes`): no `string` to lift.
#[cfg(feature = "component-websocket")]
pub(super) fn whole_fragment(m: Message) -> wit::Fragment {
    let kind = wit_kind(m.kind());
    wit::Fragment {
        kind,
        data: m.into_bytes(),
        fin: true,
    }
}

pub(super) fn fragment(f: Fragment) -> wit::Fragment {
    wit::Fragment {
        kind: wit_kind(f.kind),
        data: f.data,
        fin: f.fin,
    }
}

pub(super) fn close_info(c: &CloseFrame) -> wit::CloseInfo {
    wit::CloseInfo {
        code: c.code.0,
        reason: c.reason.clone(),
    }
}

fn headers(h: &Headers) -> Vec<wit::Header> {
    h.iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

fn response(r: &Response) -> wit::Response {
    wit::Response {
        status: r.status,
        reason: r.reason.clone(),
        headers: headers(&r.headers),
        body: r.body.clone(),
    }
}

pub(super) fn open_info(i: OpenInfo) -> wit::OpenInfo {
    wit::OpenInfo {
        protocol: i.protocol,
        extensions: i.extensions,
        request: i.request.map(|r| wit::Request {
            method: r.method,
            target: r.target,
            headers: headers(&r.headers),
        }),
        response: i.response.as_ref().map(response),
    }
}

/// The WIT error for an engine error.
pub(super) fn error(e: Error) -> wit::Error {
    match e {
        Error::Protocol(p) => wit::Error::Protocol(wit::ProtocolError {
            violation: violation(&p),
            close_code: p.close_code().0,
            message: p.to_string(),
        }),
        Error::Handshake(h) => {
            let response = match &h {
                HandshakeError::Rejected(r) => Some(response(r)),
                _ => None,
            };
            wit::Error::Handshake(wit::HandshakeError {
                status: response.as_ref().map(|r| r.status).or(h.status()),
                response,
                message: h.to_string(),
            })
        }
        Error::Usage(u) => wit::Error::Usage(usage(u)),
        Error::Timeout(k) => wit::Error::Timeout(match k {
            TimeoutKind::Handshake => wit::TimeoutKind::Handshake,
            TimeoutKind::Close => wit::TimeoutKind::Close,
            TimeoutKind::Keepalive => wit::TimeoutKind::Keepalive,
            TimeoutKind::Idle => wit::TimeoutKind::Idle,
            TimeoutKind::Write => wit::TimeoutKind::Write,
        }),
        Error::Closed => wit::Error::Closed,
        Error::Io(e) => wit::Error::Io(e.to_string()),
        Error::Tls(e) => wit::Error::Tls(e.to_string()),
        // `Error` is non-exhaustive: a future variant still arrives typed, as I/O.
        #[allow(unreachable_patterns)]
        other => wit::Error::Io(other.to_string()),
    }
}

/// An `invalid-option` error, for arguments the face itself must check (addresses).
#[cfg(feature = "component-websocket")]
pub(super) fn invalid(why: impl Into<String>) -> wit::Error {
    wit::Error::Usage(wit::UsageError::InvalidOption(why.into()))
}

fn usage(u: UsageError) -> wit::UsageError {
    match u {
        UsageError::NotOpen(s) => wit::UsageError::NotOpen(ready_state(s)),
        UsageError::ControlPayloadTooLarge(n) => wit::UsageError::ControlPayloadTooLarge(len32(n)),
        UsageError::InvalidCloseCode(c) => wit::UsageError::InvalidCloseCode(c),
        UsageError::CloseReasonTooLong(n) => wit::UsageError::CloseReasonTooLong(len32(n)),
        UsageError::MessageKindMismatch => wit::UsageError::MessageKindMismatch,
        UsageError::MessageInProgress => wit::UsageError::MessageInProgress,
        UsageError::InvalidUrl(m) => wit::UsageError::InvalidUrl(m),
        UsageError::InvalidOption(m) => wit::UsageError::InvalidOption(m),
        #[allow(unreachable_patterns)]
        other => wit::UsageError::InvalidOption(other.to_string()),
    }
}

fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn violation(p: &ProtocolError) -> wit::Violation {
    use wit::Violation as V;
    match p {
        ProtocolError::ReservedOpcode(_) => V::ReservedOpcode,
        ProtocolError::ReservedBits(_) => V::ReservedBits,
        ProtocolError::UnmaskedFrame => V::UnmaskedFrame,
        ProtocolError::MaskedFrame => V::MaskedFrame,
        ProtocolError::InvalidLength => V::InvalidLength,
        ProtocolError::ControlFrameTooLarge => V::ControlFrameTooLarge,
        ProtocolError::FragmentedControlFrame => V::FragmentedControlFrame,
        ProtocolError::UnexpectedContinuation => V::UnexpectedContinuation,
        ProtocolError::ExpectedContinuation => V::ExpectedContinuation,
        ProtocolError::InvalidUtf8 => V::InvalidUtf8,
        ProtocolError::InvalidClosePayload => V::InvalidClosePayload,
        ProtocolError::InvalidCloseCode(_) => V::InvalidCloseCode,
        ProtocolError::InvalidCloseReason => V::InvalidCloseReason,
        ProtocolError::MessageTooBig { .. } => V::MessageTooBig,
        ProtocolError::FrameTooBig { .. } => V::FrameTooBig,
        ProtocolError::TooManyFragments { .. } => V::TooManyFragments,
        ProtocolError::Extension(_) => V::Extension,
        ProtocolError::UnexpectedEof => V::UnexpectedEof,
        #[allow(unreachable_patterns)]
        _ => V::Other,
    }
}
