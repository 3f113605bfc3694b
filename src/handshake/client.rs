//! The client half: the opening request (RFC 6455 §4.1) and the checks on the server's
//! answer.

use super::headers::{
    from_httparse, is_token, is_valid_value, parse_extension_headers, write_extensions,
    write_header,
};
use super::server::{head_window, with_header_storage};
use super::{accept_key, HandshakeError, HandshakeLimits, Response, WsUrl};
use crate::error::UsageError;
use crate::extension::ExtensionOffer;

/// What a client asks for in its opening request.
#[derive(Clone, Debug)]
pub struct ClientRequest {
    /// Where to connect, and the `Host` and request target to send.
    pub url: WsUrl,
    /// The `Origin` header, if any (browsers send one; other clients usually do not).
    pub origin: Option<String>,
    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in order of preference.
    pub protocols: Vec<String>,
    /// Extra headers (e.g. `Authorization`, `Cookie`), sent after the WebSocket headers.
    pub headers: Vec<(String, String)>,
}

/// Headers the engine writes itself, which [`ClientRequest::header`] may not set.
const RESERVED: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Protocol",
];

impl ClientRequest {
    /// A request for `url` (see [`WsUrl::parse`]) with no origin, protocols or extra headers.
    pub fn new(url: &str) -> Result<Self, UsageError> {
        Ok(Self::from_url(WsUrl::parse(url)?))
    }

    /// A request for an already parsed URL.
    pub fn from_url(url: WsUrl) -> Self {
        ClientRequest {
            url,
            origin: None,
            protocols: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Offers a subprotocol (call again for more, most preferred first).
    pub fn protocol(mut self, p: impl Into<String>) -> Self {
        self.protocols.push(p.into());
        self
    }

    /// Sets the `Origin` header.
    pub fn origin(mut self, o: impl Into<String>) -> Self {
        self.origin = Some(o.into());
        self
    }

    /// Adds an extra header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Checks what the request would send:
    /// - the URL's fields, if set by hand, must be what [`WsUrl::parse`] produces
    ///   ([`UsageError::InvalidUrl`] otherwise);
    /// - protocols must be RFC 7230 tokens, distinct (case-sensitively, as in the WHATWG
    ///   `WebSocket` constructor);
    /// - header names must be tokens, and values (and the origin) free of control characters
    ///   (CR, LF, NUL…);
    /// - the extra headers may not set those the handshake writes itself (`Host`, `Upgrade`,
    ///   `Connection`, `Sec-WebSocket-*`), nor `Origin` when [`ClientRequest::origin`] is set.
    ///
    /// All but the first are reported as [`UsageError::InvalidOption`] with the reason.
    pub fn validate(&self) -> Result<(), UsageError> {
        let bad = |m: String| Err(UsageError::InvalidOption(m));
        self.url.check_fields()?;
        for (i, p) in self.protocols.iter().enumerate() {
            if !is_token(p) {
                return bad(format!("subprotocol {p:?} is not a valid token"));
            }
            if self.protocols[..i].contains(p) {
                return bad(format!("subprotocol {p:?} is offered twice"));
            }
        }
        if let Some(o) = &self.origin {
            if !is_valid_value(o) {
                return bad(format!("origin {o:?} contains control characters"));
            }
        }
        for (name, value) in &self.headers {
            if !is_token(name) {
                return bad(format!("header name {name:?} is not a valid token"));
            }
            if !is_valid_value(value) {
                return bad(format!(
                    "value of header {name:?} contains control characters"
                ));
            }
            if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                return bad(format!(
                    "header {name:?} is set by the handshake and cannot be overridden"
                ));
            }
            if self.origin.is_some() && name.eq_ignore_ascii_case("Origin") {
                return bad("Origin is given both as a header and as the origin".to_owned());
            }
        }
        Ok(())
    }
}

/// Appends the opening request (the caller has validated `req`).
pub(crate) fn encode_request(
    req: &ClientRequest,
    key: &str,
    extensions: &[ExtensionOffer],
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(req.url.resource.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    out.extend_from_slice(req.url.host_header().as_bytes());
    out.extend_from_slice(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
    write_header(out, "Sec-WebSocket-Key", key);
    out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
    if let Some(o) = &req.origin {
        write_header(out, "Origin", o);
    }
    if !req.protocols.is_empty() {
        out.extend_from_slice(b"Sec-WebSocket-Protocol: ");
        for (i, p) in req.protocols.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(p.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }
    write_extensions(out, extensions);
    for (n, v) in &req.headers {
        write_header(out, n, v);
    }
    out.extend_from_slice(b"\r\n");
}

/// Parses a response head. `Ok(None)`: incomplete. On success, the response (with an empty
/// body) and the length of its head in bytes.
pub(crate) fn parse_response(
    buf: &[u8],
    limits: &HandshakeLimits,
) -> Result<Option<(Response, usize)>, HandshakeError> {
    let malformed = |m: String| Err(HandshakeError::MalformedResponse(m));
    let (window, n) = head_window(buf, limits);
    with_header_storage(n, |storage| {
        let mut resp = httparse::Response::new(storage);
        match resp.parse(window) {
            Ok(httparse::Status::Complete(len)) => {
                let status = resp.code.unwrap_or_default();
                match resp.version {
                    Some(1) => {}
                    Some(0) if status != 101 => {}
                    _ => return malformed("a 101 answer must be HTTP/1.1".to_owned()),
                }
                let headers =
                    from_httparse(resp.headers).map_err(HandshakeError::MalformedResponse)?;
                let response = Response {
                    status,
                    reason: resp.reason.unwrap_or_default().to_owned(),
                    headers,
                    body: Vec::new(),
                };
                Ok(Some((response, len)))
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > limits.max_head_bytes {
                    Err(HandshakeError::HeadTooLarge)
                } else {
                    Ok(None)
                }
            }
            Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::HeadTooLarge),
            Err(e) => malformed(format!("not an HTTP/1.1 response ({e})")),
        }
    })
}

/// What the server chose in a valid 101 answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AcceptedResponse {
    /// The subprotocol the server chose, if any.
    pub protocol: Option<String>,
    /// The extensions the server answered with (not yet checked against the offers).
    pub extensions: Vec<ExtensionOffer>,
}

/// Checks a 101 answer against RFC 6455 §4.1 (the caller has handled other statuses).
pub(crate) fn check_response(
    resp: &Response,
    key: &str,
    offered_protocols: &[String],
) -> Result<AcceptedResponse, HandshakeError> {
    let h = &resp.headers;
    if !h.contains_token("Upgrade", "websocket") {
        return Err(HandshakeError::MissingUpgrade);
    }
    if !h.contains_token("Connection", "upgrade") {
        return Err(HandshakeError::MissingConnection);
    }
    let mut accepts = h.get_all("Sec-WebSocket-Accept");
    match (accepts.next(), accepts.next()) {
        (Some(a), None) if a == accept_key(key) => {}
        _ => return Err(HandshakeError::BadAccept),
    }

    let mut protos = h.get_all("Sec-WebSocket-Protocol");
    let protocol = match (protos.next(), protos.next()) {
        (None, _) => None,
        // An empty header chooses nothing.
        (Some(""), None) => None,
        (Some(p), None) if offered_protocols.iter().any(|o| o == p) => Some(p.to_owned()),
        (Some(p), None) => return Err(HandshakeError::UnexpectedProtocol(p.to_owned())),
        (Some(_), Some(_)) => {
            let all: Vec<&str> = h.get_all("Sec-WebSocket-Protocol").collect();
            return Err(HandshakeError::UnexpectedProtocol(all.join(", ")));
        }
    };

    let extensions = parse_extension_headers(h).map_err(HandshakeError::BadExtension)?;
    Ok(AcceptedResponse {
        protocol,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{parse_extensions, parse_request, validate_request, Headers};

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn ok_response() -> Response {
        Response::new(101)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", ACCEPT)
    }

    fn parse(s: &str) -> Result<Option<(Response, usize)>, HandshakeError> {
        parse_response(s.as_bytes(), &HandshakeLimits::default())
    }

    #[test]
    fn encode_request_layout() {
        let req = ClientRequest::new("ws://Example.com:8080/chat?x=1")
            .unwrap()
            .origin("http://example.com")
            .protocol("chat")
            .protocol("superchat")
            .header("Authorization", "Bearer t");
        req.validate().unwrap();
        let ext = parse_extensions("permessage-deflate; client_max_window_bits, x-foo").unwrap();
        let mut out = Vec::new();
        encode_request(&req, KEY, &ext, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
             Sec-WebSocket-Protocol: chat, superchat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, x-foo\r\n\
             Authorization: Bearer t\r\n\r\n"
        );
    }

    #[test]
    fn encoded_request_parses_and_validates_on_the_server() {
        let req = ClientRequest::new("wss://[::1]/a<b>?é")
            .unwrap()
            .protocol("p1")
            .protocol("p2");
        let ext = parse_extensions("permessage-deflate; client_max_window_bits=\"15\"").unwrap();
        let mut out = Vec::new();
        encode_request(&req, KEY, &ext, &mut out);
        let (r, n) = parse_request(&out, &HandshakeLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, out.len());
        assert_eq!(r.target, "/a%3Cb%3E?%C3%A9");
        assert_eq!(r.headers.get("host"), Some("[::1]"));
        let v = validate_request(&r).unwrap();
        assert_eq!(v.key, KEY);
        assert_eq!(v.protocols, ["p1", "p2"]);
        assert_eq!(v.extensions, ext);
    }

    #[test]
    fn validate_rejects_bad_options() {
        let base = || ClientRequest::new("ws://h/").unwrap();
        for req in [
            base().protocol(""),
            base().protocol("a b"),
            base().protocol("a,b"),
            base().protocol("chat").protocol("chat"),
            base().header("Bad Name", "v"),
            base().header("X-A", "a\r\nInjected: 1"),
            base().header("X-A", "a\0"),
            base().header("sec-websocket-key", "x"),
            base().header("HOST", "x"),
            base().header("Sec-WebSocket-Protocol", "x"),
            base().origin("o").header("origin", "p"),
            base().origin("o\n"),
        ] {
            assert!(
                matches!(req.validate(), Err(UsageError::InvalidOption(_))),
                "{req:?} accepted"
            );
        }
        base()
            .protocol("chat")
            .protocol("Chat")
            .header("Origin", "x")
            .header("X-Tab", "a\tb")
            .validate()
            .unwrap();
    }

    #[test]
    fn parse_response_byte_at_a_time() {
        let s = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        for i in 0..s.len() {
            assert!(parse(&s[..i]).unwrap().is_none(), "complete at {i}");
        }
        let mut buf = s.clone().into_bytes();
        buf.extend_from_slice(b"\x81\x00");
        let (r, n) = parse_response(&buf, &HandshakeLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, s.len());
        assert_eq!(r.status, 101);
        assert_eq!(r.reason, "Switching Protocols");
        assert!(r.body.is_empty());
        let a = check_response(&r, KEY, &[]).unwrap();
        assert_eq!(a.protocol, None);
        assert!(a.extensions.is_empty());
    }

    #[test]
    fn parse_response_versions() {
        let r = "HTTP/1.0 101 Switching Protocols\r\n\r\n";
        assert!(matches!(
            parse(r),
            Err(HandshakeError::MalformedResponse(_))
        ));
        let (r, _) = parse("HTTP/1.0 404 Not Found\r\n\r\n").unwrap().unwrap();
        assert_eq!(r.status, 404);
        for bad in [
            "HTTP/2 101\r\n\r\n",
            "HTTP/1.1 1O1 x\r\n\r\n",
            "SSH-2.0-OpenSSH_9.6\r\n\r\n",
            "HTTP/1.1 101 x\r\nA: 1\r\n b\r\n\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(HandshakeError::MalformedResponse(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn parse_response_non_utf8_header_is_malformed() {
        let b = b"HTTP/1.1 101 x\r\nX-A: \xff\r\n\r\n";
        assert!(matches!(
            parse_response(b, &HandshakeLimits::default()),
            Err(HandshakeError::MalformedResponse(_))
        ));
    }

    #[test]
    fn parse_response_limits() {
        let limits = HandshakeLimits {
            max_head_bytes: 64,
            max_headers: 2,
            ..HandshakeLimits::default()
        };
        let long = format!("HTTP/1.1 101 x\r\nX-A: {}", "a".repeat(100));
        assert_eq!(
            parse_response(long.as_bytes(), &limits).unwrap_err(),
            HandshakeError::HeadTooLarge
        );
        let many = "HTTP/1.1 101 x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(
            parse_response(many.as_bytes(), &limits).unwrap_err(),
            HandshakeError::HeadTooLarge
        );
    }

    #[test]
    fn check_response_accepts_rfc_example() {
        let r = ok_response()
            .header("Sec-WebSocket-Protocol", "chat")
            .header("Sec-WebSocket-Extensions", "permessage-deflate")
            .header("Sec-WebSocket-Extensions", "x; a=1");
        let a = check_response(&r, KEY, &["superchat".into(), "chat".into()]).unwrap();
        assert_eq!(a.protocol.as_deref(), Some("chat"));
        assert_eq!(a.extensions.len(), 2);
    }

    const OFFERED: &[&str] = &["chat"];

    fn check(r: Response) -> Result<AcceptedResponse, HandshakeError> {
        let offered: Vec<String> = OFFERED.iter().map(|s| s.to_string()).collect();
        check_response(&r, KEY, &offered)
    }

    fn without(name: &str) -> Response {
        let mut r = ok_response();
        r.headers = r
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .collect::<Headers>();
        r
    }

    #[test]
    fn response_without_upgrade_websocket_is_missing_upgrade() {
        assert_eq!(
            check(without("Upgrade")),
            Err(HandshakeError::MissingUpgrade)
        );
        assert_eq!(
            check(without("Upgrade").header("Upgrade", "h2c")),
            Err(HandshakeError::MissingUpgrade)
        );
    }

    #[test]
    fn response_without_connection_upgrade_is_missing_connection() {
        assert_eq!(
            check(without("Connection")),
            Err(HandshakeError::MissingConnection)
        );
    }

    #[test]
    fn missing_wrong_or_duplicate_accept_is_bad_accept() {
        assert_eq!(
            check(without("Sec-WebSocket-Accept")),
            Err(HandshakeError::BadAccept)
        );
        assert_eq!(
            check(without("Sec-WebSocket-Accept").header("Sec-WebSocket-Accept", "x")),
            Err(HandshakeError::BadAccept)
        );
        assert_eq!(
            check(ok_response().header("Sec-WebSocket-Accept", ACCEPT)),
            Err(HandshakeError::BadAccept)
        );
        // The accept of another key.
        assert_eq!(
            check_response(&ok_response(), "AQIDBAUGBwgJCgsMDQ4PEA==", &[]),
            Err(HandshakeError::BadAccept)
        );
    }

    #[test]
    fn unoffered_protocol_is_unexpected_protocol() {
        assert_eq!(
            check(ok_response().header("Sec-WebSocket-Protocol", "Chat")),
            Err(HandshakeError::UnexpectedProtocol("Chat".into()))
        );
    }

    #[test]
    fn protocol_answered_when_none_offered_is_unexpected_protocol() {
        assert_eq!(
            check_response(
                &ok_response().header("Sec-WebSocket-Protocol", "chat"),
                KEY,
                &[]
            ),
            Err(HandshakeError::UnexpectedProtocol("chat".into()))
        );
    }

    #[test]
    fn more_than_one_protocol_answered_is_unexpected_protocol() {
        assert_eq!(
            check(ok_response().header("Sec-WebSocket-Protocol", "chat, chat")),
            Err(HandshakeError::UnexpectedProtocol("chat, chat".into()))
        );
        assert!(matches!(
            check(
                ok_response()
                    .header("Sec-WebSocket-Protocol", "chat")
                    .header("Sec-WebSocket-Protocol", "chat")
            ),
            Err(HandshakeError::UnexpectedProtocol(_))
        ));
    }

    #[test]
    fn empty_protocol_header_chooses_no_protocol() {
        let a = check(ok_response().header("Sec-WebSocket-Protocol", "")).unwrap();
        assert_eq!(a.protocol, None);
    }

    #[test]
    fn extension_answer_syntax_error_is_bad_extension() {
        assert!(matches!(
            check(ok_response().header("Sec-WebSocket-Extensions", "x;")),
            Err(HandshakeError::BadExtension(_))
        ));
    }

    #[test]
    fn check_response_tokens_are_case_insensitive() {
        let r = Response::new(101)
            .header("upgrade", "WebSocket")
            .header("connection", "keep-alive, upgrade")
            .header("sec-websocket-accept", ACCEPT);
        assert!(check_response(&r, KEY, &[]).is_ok());
    }
}
