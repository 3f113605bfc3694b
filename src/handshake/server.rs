//! The server half: parsing and checking the client's opening request (RFC 6455 §4.2.1) and
//! writing the answer (§4.2.2), or an error response.

use std::io::Write;

use super::headers::{
    from_httparse, is_token, is_valid_value, parse_extension_headers, trim_ows, write_header,
};
use super::{accept_key, HandshakeError, HandshakeLimits, Headers};
use crate::extension::ExtensionOffer;

/// A client's opening request, as the application's accept callback sees it.
#[derive(Clone, Debug)]
pub struct Request {
    /// The method (a WebSocket request must be `GET`).
    pub method: String,
    /// The request target as sent, e.g. `/chat?room=1`.
    pub target: String,
    /// The request headers in order.
    pub headers: Headers,
}

impl Request {
    /// The target's path, without the query. For an absolute-form target
    /// (`ws://host/chat?x`) the scheme and authority are removed too (`/chat`).
    pub fn path(&self) -> &str {
        let t = self.origin_form();
        t.split_once('?').map_or(t, |(p, _)| p)
    }

    /// The target's query (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The `Origin` header, if present (browsers always send it).
    pub fn origin(&self) -> Option<&str> {
        self.headers.get("Origin")
    }

    /// The subprotocols offered in `Sec-WebSocket-Protocol` headers, in order (empty list
    /// elements skipped).
    pub fn protocols(&self) -> Vec<&str> {
        self.headers
            .get_all("Sec-WebSocket-Protocol")
            .flat_map(|v| v.split(','))
            .map(trim_ows)
            .filter(|p| !p.is_empty())
            .collect()
    }

    /// The extension offers of all `Sec-WebSocket-Extensions` headers, in order (an empty
    /// list when there is none); an error describing a syntax error.
    pub fn extension_offers(&self) -> Result<Vec<ExtensionOffer>, String> {
        parse_extension_headers(&self.headers)
    }

    /// The target in origin form: an absolute-form target without scheme and authority.
    fn origin_form(&self) -> &str {
        let t = self.target.as_str();
        if t.starts_with('/') {
            return t;
        }
        match t.find("://") {
            Some(i) => {
                let after = &t[i + 3..];
                match after.find(['/', '?']) {
                    Some(j) if after[j..].starts_with('/') => &after[j..],
                    _ => "/",
                }
            }
            None => t,
        }
    }
}

/// An HTTP response: the server's answer, or (for a client) a non-101 answer with its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers in order.
    pub headers: Headers,
    /// Body (for a client: up to `max_body_bytes` of it).
    pub body: Vec<u8>,
}

impl Response {
    /// A response with `status`, its canonical reason phrase (empty for unknown codes), no
    /// headers and no body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            reason: canonical_reason(status).to_owned(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// The canonical reason phrase of a status code (RFC 9110 §15 and common extensions), or
/// `""` if unknown.
pub(crate) fn canonical_reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Runs `f` with an httparse header array of `n` entries: on the stack for the usual limits,
/// on the heap beyond.
pub(crate) fn with_header_storage<'b, R>(
    n: usize,
    f: impl FnOnce(&mut [httparse::Header<'b>]) -> R,
) -> R {
    const STACK: usize = 64;
    if n <= STACK {
        let mut storage = [httparse::EMPTY_HEADER; STACK];
        f(&mut storage[..n])
    } else {
        let mut storage = vec![httparse::EMPTY_HEADER; n];
        f(&mut storage)
    }
}

/// The bytes of `buf` a head parser may look at, and the header array size needed: at most
/// `max_headers`, and no more than the window can hold (a header line is at least 3 bytes),
/// so a huge `max_headers` costs nothing.
pub(crate) fn head_window<'b>(buf: &'b [u8], limits: &HandshakeLimits) -> (&'b [u8], usize) {
    let window = &buf[..buf.len().min(limits.max_head_bytes)];
    (window, limits.max_headers.min(window.len() / 3 + 1))
}

/// Parses a request head. `Ok(None)`: incomplete. On success, the request and the length of
/// its head in bytes.
pub(crate) fn parse_request(
    buf: &[u8],
    limits: &HandshakeLimits,
) -> Result<Option<(Request, usize)>, HandshakeError> {
    let (window, n) = head_window(buf, limits);
    with_header_storage(n, |storage| {
        let mut req = httparse::Request::new(storage);
        match req.parse(window) {
            Ok(httparse::Status::Complete(len)) => {
                if req.version != Some(1) {
                    return Err(HandshakeError::BadRequest(
                        "HTTP version is not HTTP/1.1".to_owned(),
                    ));
                }
                let headers = from_httparse(req.headers).map_err(HandshakeError::BadRequest)?;
                let request = Request {
                    method: req.method.unwrap_or_default().to_owned(),
                    target: req.path.unwrap_or_default().to_owned(),
                    headers,
                };
                Ok(Some((request, len)))
            }
            Ok(httparse::Status::Partial) => {
                if buf.len() > limits.max_head_bytes {
                    Err(HandshakeError::HeadTooLarge)
                } else {
                    Ok(None)
                }
            }
            Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::HeadTooLarge),
            Err(e) => Err(HandshakeError::BadRequest(format!(
                "malformed request: {e}"
            ))),
        }
    })
}

/// What a valid opening request offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValidRequest {
    /// `Sec-WebSocket-Key` (trimmed).
    pub key: String,
    /// Offered subprotocols in order.
    pub protocols: Vec<String>,
    /// Offered extensions in order (empty if the header had a syntax error).
    pub extensions: Vec<ExtensionOffer>,
}

/// Checks an opening request against RFC 6455 §4.2.1.
pub(crate) fn validate_request(req: &Request) -> Result<ValidRequest, HandshakeError> {
    let bad = |m: &str| Err(HandshakeError::BadRequest(m.to_owned()));
    if req.method != "GET" {
        return Err(HandshakeError::BadRequest(format!(
            "method {:?} is not GET",
            req.method
        )));
    }
    // Whatever follows the head is WebSocket frames, never a body. A request that announces
    // one is refused: a proxy in front that honours the framing would pass the "body" on as
    // part of this request while we read it as frames (upgrade request smuggling).
    if req.headers.get_all("Transfer-Encoding").next().is_some() {
        return bad("an opening request has no body (Transfer-Encoding)");
    }
    let zero = |v: &str| {
        let v = trim_ows(v);
        !v.is_empty() && v.bytes().all(|b| b == b'0')
    };
    if !req.headers.get_all("Content-Length").all(zero) {
        return bad("an opening request has no body (Content-Length other than 0)");
    }
    match req.headers.get_all("Host").count() {
        0 => return bad("missing Host header"),
        1 => {}
        _ => return bad("more than one Host header"),
    }
    if !req.headers.contains_token("Upgrade", "websocket") {
        return bad("missing `Upgrade: websocket`");
    }
    if !req.headers.contains_token("Connection", "upgrade") {
        return bad("missing `Connection: Upgrade`");
    }
    let mut versions = req.headers.get_all("Sec-WebSocket-Version");
    if versions.next() != Some("13") || versions.next().is_some() {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let mut keys = req.headers.get_all("Sec-WebSocket-Key");
    let key = match (keys.next(), keys.next()) {
        (Some(k), None) => k,
        (None, _) => return bad("missing Sec-WebSocket-Key"),
        (Some(_), Some(_)) => return bad("more than one Sec-WebSocket-Key header"),
    };
    if !is_valid_key(key) {
        return bad("Sec-WebSocket-Key is not 16 base64-encoded bytes");
    }
    Ok(ValidRequest {
        key: key.to_owned(),
        protocols: req.protocols().into_iter().map(str::to_owned).collect(),
        extensions: req.extension_offers().unwrap_or_default(),
    })
}

/// Whether `key` is the canonical base64 encoding of exactly 16 bytes.
fn is_valid_key(key: &str) -> bool {
    use base64::Engine;
    // 16 bytes encode to 22 characters plus "==".
    key.len() == 24
        && base64::engine::general_purpose::STANDARD
            .decode(key)
            .is_ok_and(|k| k.len() == 16)
}

/// Names the engine writes itself, which application headers may not repeat.
const ACCEPT_OWNED: &[&str] = &[
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
    "Transfer-Encoding",
];
const REJECT_OWNED: &[&str] = &["Content-Length", "Transfer-Encoding", "Connection"];

/// Whether an application header may go into a response: a token name, a value without
/// control characters (which could split the response), and not one the engine owns.
fn user_header_ok(name: &str, value: &str, owned: &[&str]) -> bool {
    is_token(name) && is_valid_value(value) && !owned.iter().any(|o| o.eq_ignore_ascii_case(name))
}

/// The `101 Switching Protocols` answer: `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, the
/// chosen protocol and extensions if any, then `extra` (minus headers the engine owns or that
/// are not valid header syntax). An HTTP server that parsed the request itself (hyper, axum)
/// sends this as its response; [`encode_accept`] writes it on the wire.
pub(crate) fn accept_response(
    key: &str,
    protocol: Option<&str>,
    extensions: &[ExtensionOffer],
    extra: &Headers,
) -> Response {
    let mut r = Response::new(101)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept_key(key));
    if let Some(p) = protocol {
        r.headers.push("Sec-WebSocket-Protocol", p);
    }
    if !extensions.is_empty() {
        let list: Vec<String> = extensions.iter().map(|e| e.to_string()).collect();
        r.headers.push("Sec-WebSocket-Extensions", list.join(", "));
    }
    for (name, value) in extra.iter() {
        if user_header_ok(name, value, ACCEPT_OWNED) {
            r.headers.push(name, value);
        }
    }
    r
}

/// Appends `resp`'s status line and headers, and the blank line that ends the head.
pub(crate) fn encode_response_head(resp: &Response, out: &mut Vec<u8>) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", resp.status, resp.reason);
    for (name, value) in resp.headers.iter() {
        write_header(out, name, value);
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the [`accept_response`] as an HTTP/1.1 head.
#[cfg(test)]
pub(crate) fn encode_accept(
    key: &str,
    protocol: Option<&str>,
    extensions: &[ExtensionOffer],
    extra: &Headers,
    out: &mut Vec<u8>,
) {
    encode_response_head(&accept_response(key, protocol, extensions, extra), out);
}

/// An error answer made safe to send: a status that cannot be a final answer (below 200 or
/// above 999) becomes 500, a reason phrase with control characters the canonical one; then
/// the response's headers (except `Content-Length`, `Transfer-Encoding` and `Connection`,
/// which the engine writes, and any that are not valid header syntax), `Content-Length`,
/// `Connection: close`, a plain-text `Content-Type` if there is a body and none was given,
/// `Sec-WebSocket-Version: 13` for a 426 that lacks it; and the body.
pub(crate) fn reject_response(resp: &Response) -> Response {
    let (status, reason) = if (200..=999).contains(&resp.status) {
        let r = if is_valid_value(&resp.reason) {
            resp.reason.as_str()
        } else {
            canonical_reason(resp.status)
        };
        (resp.status, r)
    } else {
        (500, canonical_reason(500))
    };
    let mut r = Response::new(status);
    r.reason = reason.to_owned();
    for (name, value) in resp.headers.iter() {
        if user_header_ok(name, value, REJECT_OWNED) {
            r.headers.push(name, value);
        }
    }
    r.headers
        .push("Content-Length", resp.body.len().to_string());
    r.headers.push("Connection", "close");
    if !resp.body.is_empty() && !resp.headers.contains("Content-Type") {
        r.headers.push("Content-Type", "text/plain; charset=utf-8");
    }
    if status == 426 && !resp.headers.contains("Sec-WebSocket-Version") {
        r.headers.push("Sec-WebSocket-Version", "13");
    }
    r.body = resp.body.clone();
    r
}

/// Appends the [`reject_response`] of `resp`: head and body.
#[cfg(test)]
pub(crate) fn encode_reject(resp: &Response, out: &mut Vec<u8>) {
    let r = reject_response(resp);
    encode_response_head(&r, out);
    out.extend_from_slice(&r.body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::parse_extensions;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(extra: &str) -> String {
        format!(
            "GET /chat?x=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\
             {extra}\r\n"
        )
    }

    fn parse(s: &str) -> Result<Option<(Request, usize)>, HandshakeError> {
        parse_request(s.as_bytes(), &HandshakeLimits::default())
    }

    fn valid(s: &str) -> Result<ValidRequest, HandshakeError> {
        validate_request(&parse(s).unwrap().unwrap().0)
    }

    /// A request built from `request("")` with header `name` removed or replaced.
    fn with_header(name: &str, line: Option<&str>) -> String {
        let mut out = String::new();
        for l in request("").split_inclusive("\r\n") {
            if l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            {
                if let Some(r) = line {
                    out.push_str(r);
                    out.push_str("\r\n");
                }
            } else {
                out.push_str(l);
            }
        }
        out
    }

    #[test]
    fn parses_rfc_example_request() {
        let s =
            request("Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n");
        let (req, n) = parse(&s).unwrap().unwrap();
        assert_eq!(n, s.len());
        assert_eq!(req.method, "GET");
        assert_eq!(req.path(), "/chat");
        assert_eq!(req.query(), Some("x=1"));
        assert_eq!(req.origin(), Some("http://example.com"));
        let v = validate_request(&req).unwrap();
        assert_eq!(v.key, KEY);
        assert_eq!(v.protocols, ["chat", "superchat"]);
        assert!(v.extensions.is_empty());
    }

    #[test]
    fn head_length_excludes_following_bytes() {
        let s = request("");
        let mut buf = s.clone().into_bytes();
        buf.extend_from_slice(b"\x81\x85frame");
        let (_, n) = parse_request(&buf, &HandshakeLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(n, s.len());
    }

    #[test]
    fn byte_at_a_time_is_partial_until_complete() {
        let s = request("");
        let b = s.as_bytes();
        for i in 0..b.len() {
            assert!(
                parse_request(&b[..i], &HandshakeLimits::default())
                    .unwrap()
                    .is_none(),
                "complete at {i}"
            );
        }
        assert!(parse(&s).unwrap().is_some());
    }

    #[test]
    fn http_1_0_is_a_bad_request() {
        let s = request("").replacen("HTTP/1.1", "HTTP/1.0", 1);
        assert!(matches!(parse(&s), Err(HandshakeError::BadRequest(_))));
        let s = request("").replacen("HTTP/1.1", "HTTP/2.0", 1);
        assert!(matches!(parse(&s), Err(HandshakeError::BadRequest(_))));
    }

    #[test]
    fn obs_fold_and_garbage_are_bad_requests() {
        let s = request("X-A: 1\r\n  continued\r\n");
        assert!(matches!(parse(&s), Err(HandshakeError::BadRequest(_))));
        assert!(matches!(
            parse_request(
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
                &HandshakeLimits::default()
            ),
            Err(HandshakeError::BadRequest(_))
        ));
        let s = request("X-A: \u{0}\r\n");
        assert!(matches!(parse(&s), Err(HandshakeError::BadRequest(_))));
    }

    #[test]
    fn non_utf8_header_value_is_a_bad_request() {
        let mut b = request("").into_bytes();
        let at = b.len() - 2;
        b.splice(at..at, b"X-A: \xff\xfe\r\n".iter().copied());
        assert!(matches!(
            parse_request(&b, &HandshakeLimits::default()),
            Err(HandshakeError::BadRequest(_))
        ));
    }

    #[test]
    fn too_many_headers_is_head_too_large_431() {
        let limits = HandshakeLimits {
            max_headers: 5,
            ..HandshakeLimits::default()
        };
        assert!(parse_request(request("").as_bytes(), &limits).is_ok());
        let e = parse_request(request("X-A: 1\r\n").as_bytes(), &limits).unwrap_err();
        assert_eq!(e, HandshakeError::HeadTooLarge);
        assert_eq!(e.status(), Some(431));
    }

    #[test]
    fn huge_max_headers_is_harmless() {
        let limits = HandshakeLimits {
            max_headers: usize::MAX,
            ..HandshakeLimits::default()
        };
        assert!(parse_request(request("").as_bytes(), &limits)
            .unwrap()
            .is_some());
        let limits = HandshakeLimits {
            max_headers: 1000,
            max_head_bytes: 1 << 20,
            ..HandshakeLimits::default()
        };
        let many: String = (0..500).map(|i| format!("X-{i}: {i}\r\n")).collect();
        let (req, _) = parse_request(request(&many).as_bytes(), &limits)
            .unwrap()
            .unwrap();
        assert_eq!(req.headers.len(), 505);
    }

    #[test]
    fn head_over_max_head_bytes_is_431_and_at_the_limit_is_accepted() {
        let s = request("");
        let limits = HandshakeLimits {
            max_head_bytes: s.len(),
            ..HandshakeLimits::default()
        };
        assert!(parse_request(s.as_bytes(), &limits).unwrap().is_some());
        let limits = HandshakeLimits {
            max_head_bytes: s.len() - 1,
            ..HandshakeLimits::default()
        };
        assert_eq!(
            parse_request(s.as_bytes(), &limits).unwrap_err(),
            HandshakeError::HeadTooLarge
        );
        assert!(parse_request(&s.as_bytes()[..s.len() - 1], &limits)
            .unwrap()
            .is_none());
    }

    fn status_of(s: &str) -> Option<u16> {
        valid(s).unwrap_err().status()
    }

    #[test]
    fn missing_host_is_400() {
        assert_eq!(status_of(&with_header("Host", None)), Some(400));
    }

    #[test]
    fn duplicate_host_is_400() {
        assert_eq!(status_of(&request("Host: other\r\n")), Some(400));
    }

    #[test]
    fn non_get_method_is_400() {
        let e = valid(&request("").replacen("GET", "POST", 1)).unwrap_err();
        assert!(matches!(e, HandshakeError::BadRequest(ref m) if m.contains("POST")));
    }

    #[test]
    fn a_request_that_announces_a_body_is_400() {
        for line in [
            "Content-Length: 5\r\n",
            "Content-Length: 0x0\r\n",
            "Content-Length: \r\n",
            "Content-Length: 0\r\nContent-Length: 1\r\n",
            "Transfer-Encoding: chunked\r\n",
            "transfer-encoding: identity\r\n",
        ] {
            let e = valid(&request(line)).unwrap_err();
            assert!(
                matches!(e, HandshakeError::BadRequest(ref m) if m.contains("no body")),
                "{line:?}: {e:?}"
            );
        }
        // Some clients send an explicit empty body; that is no body.
        assert!(valid(&request("Content-Length: 0\r\n")).is_ok());
        assert!(valid(&request("Content-Length:  00 \r\n")).is_ok());
    }

    #[test]
    fn missing_or_wrong_upgrade_is_400() {
        assert_eq!(status_of(&with_header("Upgrade", None)), Some(400));
        assert_eq!(
            status_of(&with_header("Upgrade", Some("Upgrade: h2c"))),
            Some(400)
        );
    }

    #[test]
    fn missing_or_wrong_connection_is_400() {
        assert_eq!(status_of(&with_header("Connection", None)), Some(400));
        assert_eq!(
            status_of(&with_header("Connection", Some("Connection: keep-alive"))),
            Some(400)
        );
    }

    #[test]
    fn missing_or_unsupported_version_is_426() {
        for line in [
            None,
            Some("Sec-WebSocket-Version: 8"),
            Some("Sec-WebSocket-Version: 13, 8"),
            Some("Sec-WebSocket-Version: "),
        ] {
            let e = valid(&with_header("Sec-WebSocket-Version", line)).unwrap_err();
            assert_eq!(e, HandshakeError::UnsupportedVersion, "{line:?}");
            assert_eq!(e.status(), Some(426));
        }
        let twice = request("Sec-WebSocket-Version: 13\r\n");
        assert_eq!(valid(&twice), Err(HandshakeError::UnsupportedVersion));
    }

    #[test]
    fn missing_key_is_400() {
        assert_eq!(
            status_of(&with_header("Sec-WebSocket-Key", None)),
            Some(400)
        );
    }

    #[test]
    fn key_of_wrong_decoded_length_is_400() {
        for key in [
            "AAAA",
            "AAAAAAAAAAAAAAAAAAAAAA",           // 16 bytes, unpadded
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", // 24 bytes
            "AAAAAAAAAAAAAAAAAAAAAAA=",         // 17 bytes
        ] {
            let line = format!("Sec-WebSocket-Key: {key}");
            assert_eq!(
                status_of(&with_header("Sec-WebSocket-Key", Some(&line))),
                Some(400),
                "{key}"
            );
        }
    }

    #[test]
    fn key_that_is_not_base64_is_400() {
        for key in ["!!!!!!!!!!!!!!!!!!!!!!==", "AAAAAAAAAAAAAAAAAAAAAB=="] {
            let line = format!("Sec-WebSocket-Key: {key}");
            assert_eq!(
                status_of(&with_header("Sec-WebSocket-Key", Some(&line))),
                Some(400),
                "{key}"
            );
        }
    }

    #[test]
    fn duplicate_key_is_400() {
        assert_eq!(
            status_of(&request(&format!("Sec-WebSocket-Key: {KEY}\r\n"))),
            Some(400)
        );
    }

    #[test]
    fn upgrade_and_connection_tokens_are_case_insensitive_lists() {
        let s = with_header("Connection", Some("Connection: keep-alive, UPGRADE"));
        let s = s.replace("Upgrade: websocket", "upgrade: WebSocket");
        assert!(valid(&s).is_ok());
    }

    #[test]
    fn bad_extension_syntax_declines_all_offers() {
        let v = valid(&request(
            "Sec-WebSocket-Extensions: permessage-deflate; x=\"\r\n",
        ))
        .unwrap();
        assert!(v.extensions.is_empty());
        let v = valid(&request(
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
        ))
        .unwrap();
        assert_eq!(v.extensions.len(), 1);
    }

    #[test]
    fn absolute_form_target_path() {
        let mut r = parse(&request("")).unwrap().unwrap().0;
        r.target = "ws://h:1/a/b?c".into();
        assert_eq!(r.path(), "/a/b");
        r.target = "ws://h?c".into();
        assert_eq!(r.path(), "/");
    }

    #[test]
    fn encode_accept_rfc_example() {
        let mut extra = Headers::new();
        extra.push("X-Server", "wsengine");
        extra.push("Connection", "close"); // owned by the engine: dropped
        extra.push("X-Bad", "a\r\nInjected: 1"); // invalid: dropped
        let ext = parse_extensions("permessage-deflate; server_no_context_takeover").unwrap();
        let mut out = Vec::new();
        encode_accept(KEY, Some("chat"), &ext, &extra, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
             Sec-WebSocket-Protocol: chat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\
             X-Server: wsengine\r\n\r\n"
        );
    }

    #[test]
    fn encode_reject_adds_framing_headers() {
        let mut out = Vec::new();
        encode_reject(&Response::new(426), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\nConnection: close\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        let mut out = Vec::new();
        let r = Response::new(403)
            .header("Content-Length", "999")
            .header("X-Why", "nope")
            .body("go away");
        encode_reject(&r, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 403 Forbidden\r\nX-Why: nope\r\nContent-Length: 7\r\nConnection: close\r\n\
             Content-Type: text/plain; charset=utf-8\r\n\r\ngo away"
        );
        let mut out = Vec::new();
        let r = Response::new(400)
            .header("content-type", "application/json")
            .body("{}");
        encode_reject(&r, &mut out);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s.matches("ontent-Type").count() + s.matches("ontent-type").count(),
            1
        );
    }

    #[test]
    fn encode_reject_sanitizes_status_and_reason() {
        let mut out = Vec::new();
        let mut r = Response::new(101);
        encode_reject(&r, &mut out);
        assert!(out.starts_with(b"HTTP/1.1 500 Internal Server Error\r\n"));
        r.status = 404;
        r.reason = "x\r\nInjected: 1".into();
        out.clear();
        encode_reject(&r, &mut out);
        assert!(out.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
        r.status = 60000;
        out.clear();
        encode_reject(&r, &mut out);
        assert!(out.starts_with(b"HTTP/1.1 500 "));
    }
}
