//! `ws://` / `wss://` URLs (RFC 6455 §3), parsed the way the WHATWG `WebSocket` constructor
//! accepts them, minus the parts a WebSocket client cannot use.

use std::fmt;
use std::net::Ipv6Addr;

use crate::error::UsageError;

/// A parsed WebSocket URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss` (or `https`): the transport must be TLS.
    pub tls: bool,
    /// Host name (lowercased) or IP address; an IPv6 address without its brackets.
    pub host: String,
    /// Port, the scheme's default (80 / 443) when the URL has none.
    pub port: u16,
    /// The request target: path plus an optional `?query`; `/` when the URL has no path.
    /// Non-ASCII characters and ASCII characters not allowed in a request target are
    /// percent-encoded (as UTF-8); existing `%xx` sequences are kept as given.
    pub resource: String,
}

fn invalid(reason: impl Into<String>) -> UsageError {
    UsageError::InvalidUrl(reason.into())
}

impl WsUrl {
    /// Parses `ws://host[:port][/path][?query]` (also `wss`, and `http`/`https`, which map to
    /// `ws`/`wss` as in the WHATWG `WebSocket` constructor). The scheme is case-insensitive
    /// and the host is lowercased.
    ///
    /// Rejected, with the reason in [`UsageError::InvalidUrl`]: other schemes, a fragment,
    /// userinfo, an empty host, an invalid or unterminated IPv6 literal, a non-ASCII host
    /// (give internationalized names in punycode), an invalid port, and whitespace or control
    /// characters anywhere.
    pub fn parse(s: &str) -> Result<WsUrl, UsageError> {
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid(format!(
                "contains whitespace or a control character ({c:?})"
            )));
        }
        if s.contains('#') {
            return Err(invalid("a WebSocket URL may not have a fragment ('#')"));
        }
        let Some(colon) = s.find(':') else {
            return Err(invalid("missing scheme (expected ws:// or wss://)"));
        };
        let scheme = &s[..colon];
        let tls = if scheme.eq_ignore_ascii_case("ws") || scheme.eq_ignore_ascii_case("http") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") || scheme.eq_ignore_ascii_case("https") {
            true
        } else {
            return Err(invalid(format!(
                "unsupported scheme {scheme:?} (expected ws, wss, http or https)"
            )));
        };
        let Some(rest) = s[colon + 1..].strip_prefix("//") else {
            return Err(invalid("expected \"//\" after the scheme"));
        };

        let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(auth_end);
        if authority.contains('@') {
            return Err(invalid("userinfo (user@) is not allowed"));
        }

        let (host, port_str) = if let Some(inner) = authority.strip_prefix('[') {
            let Some(close) = inner.find(']') else {
                return Err(invalid("unterminated '[' in IPv6 host"));
            };
            let literal = &inner[..close];
            let addr: Ipv6Addr = literal
                .parse()
                .map_err(|_| invalid(format!("invalid IPv6 address {literal:?}")))?;
            let after = &inner[close + 1..];
            let port = if after.is_empty() {
                None
            } else if let Some(p) = after.strip_prefix(':') {
                Some(p)
            } else {
                return Err(invalid(format!("unexpected {after:?} after the IPv6 host")));
            };
            (addr.to_string(), port)
        } else {
            let (h, p) = match authority.find(':') {
                Some(i) => (&authority[..i], Some(&authority[i + 1..])),
                None => (authority, None),
            };
            if h.is_empty() {
                return Err(invalid("empty host"));
            }
            if let Some(c) = h.chars().find(|c| !is_host_char(*c)) {
                return Err(invalid(if c.is_ascii() {
                    format!("invalid character {c:?} in host")
                } else {
                    "non-ASCII host (give internationalized domain names in punycode)".to_owned()
                }));
            }
            (h.to_ascii_lowercase(), p)
        };

        let port = match port_str {
            None => default_port(tls),
            Some(p) => parse_port(p)?,
        };

        // `tail` starts with '/', '?' or is empty; there is no fragment.
        let (path, query) = match tail.find('?') {
            Some(i) => (&tail[..i], Some(&tail[i + 1..])),
            None => (tail, None),
        };
        let mut resource = String::with_capacity(tail.len() + 1);
        if path.is_empty() {
            resource.push('/');
        } else {
            encode_into(&mut resource, path, false);
        }
        if let Some(q) = query {
            resource.push('?');
            encode_into(&mut resource, q, true);
        }

        Ok(WsUrl {
            tls,
            host,
            port,
            resource,
        })
    }

    /// The `Host` header value: `host`, or `host:port` when the port is not the scheme's
    /// default; an IPv6 address in brackets.
    pub fn host_header(&self) -> String {
        let mut s = String::with_capacity(self.host.len() + 8);
        self.write_host(&mut s);
        s
    }

    /// The scheme's default port: 443 for `wss`, 80 for `ws`.
    pub fn default_port(&self) -> u16 {
        default_port(self.tls)
    }

    /// Checks fields set directly (not through [`WsUrl::parse`]) before they are written into
    /// a request: a host that [`WsUrl::parse`] would accept (an IPv6 address, or host-name
    /// characters), and a resource that starts with `/` and is visible ASCII.
    pub(crate) fn check_fields(&self) -> Result<(), UsageError> {
        let host_ok = if self.host.contains(':') {
            self.host.parse::<Ipv6Addr>().is_ok()
        } else {
            !self.host.is_empty() && self.host.chars().all(is_host_char)
        };
        if !host_ok {
            return Err(invalid(format!("invalid host {:?}", self.host)));
        }
        if !self.resource.starts_with('/')
            || !self.resource.bytes().all(|b| b.is_ascii_graphic())
            || self.resource.contains('#')
        {
            return Err(invalid(format!(
                "resource {:?} is not a path starting with '/' in visible ASCII without '#'",
                self.resource
            )));
        }
        Ok(())
    }

    fn write_host(&self, s: &mut String) {
        use std::fmt::Write;
        if self.host.contains(':') {
            s.push('[');
            s.push_str(&self.host);
            s.push(']');
        } else {
            s.push_str(&self.host);
        }
        if self.port != default_port(self.tls) {
            let _ = write!(s, ":{}", self.port);
        }
    }
}

impl fmt::Display for WsUrl {
    /// `ws://host[:port]/resource` (`wss` for TLS).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.tls { "wss://" } else { "ws://" })?;
        f.write_str(&self.host_header())?;
        f.write_str(&self.resource)
    }
}

impl std::str::FromStr for WsUrl {
    type Err = UsageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WsUrl::parse(s)
    }
}

fn default_port(tls: bool) -> u16 {
    if tls {
        443
    } else {
        80
    }
}

/// Characters allowed in a (non-IPv6) host: those of DNS names and IPv4 addresses, plus `_`
/// (found in practice in internal names).
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')
}

fn parse_port(p: &str) -> Result<u16, UsageError> {
    if p.is_empty() {
        return Err(invalid("empty port after ':'"));
    }
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(format!("invalid port {p:?}")));
    }
    // All digits: the only failure left is overflow.
    p.parse::<u16>()
        .map_err(|_| invalid(format!("port {p} is out of range (max 65535)")))
}

/// Appends `s`, percent-encoding (as UTF-8) every byte that may not appear in a request
/// target's path (or, with `query`, its query) per RFC 3986: non-ASCII, and the ASCII
/// characters `" < > \ ^ ` { | } [ ]` (plus `?` in the path, which cannot occur here).
/// `%` is kept as given: the URL is sent without decoding.
fn encode_into(out: &mut String, s: &str, query: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        let keep = match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => true,
            b'-' | b'.' | b'_' | b'~' | b'%' => true,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' => true,
            b':' | b'@' | b'/' => true,
            b'?' => query,
            _ => false,
        };
        if keep {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encodes_non_ascii_and_unsafe_ascii() {
        let u = WsUrl::parse("ws://h/é{x}?q=ü|1").unwrap();
        assert_eq!(u.resource, "/%C3%A9%7Bx%7D?q=%C3%BC%7C1");
    }

    #[test]
    fn existing_percent_escapes_are_not_decoded() {
        let u = WsUrl::parse("ws://h/a%20b?c=%2F").unwrap();
        assert_eq!(u.resource, "/a%20b?c=%2F");
    }

    #[test]
    fn empty_query_is_kept() {
        assert_eq!(WsUrl::parse("ws://h?").unwrap().resource, "/?");
    }

    #[test]
    fn malformed_urls_are_rejected() {
        for bad in [
            "ws://h:99999/",
            "ws://h:80x/",
            "ws://h:/",
            "ws://h:-1/",
            "ws://[::1/",
            "ws://[::1]x/",
            "ws://[nope]/",
            "ws:/h/",
            "ws:h",
            "h/",
            "ftp://h/",
            "ws://hé/",
            "ws://h st/",
            "ws://h/\u{0}",
            "ws://h/#",
            "ws://:80/",
            "ws:///x",
            "ws://u:p@h/",
            "",
        ] {
            assert!(WsUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn check_fields_catches_hand_built_urls() {
        let ok = WsUrl::parse("ws://[::1]/a?b").unwrap();
        ok.check_fields().unwrap();
        WsUrl::parse("ws://h").unwrap().check_fields().unwrap();
        for (host, resource) in [
            ("h\r\nX: 1", "/"),
            ("", "/"),
            ("::zz", "/"),
            ("h", ""),
            ("h", "x"),
            ("h", "/a b"),
            ("h", "/\r\n"),
            ("h", "/#f"),
        ] {
            let u = WsUrl {
                host: host.into(),
                resource: resource.into(),
                ..ok.clone()
            };
            assert!(u.check_fields().is_err(), "{host:?} {resource:?}");
        }
    }

    #[test]
    fn ipv6_is_normalized() {
        let u = WsUrl::parse("ws://[0:0:0:0:0:0:0:1]:81").unwrap();
        assert_eq!(u.host, "::1");
        assert_eq!(u.host_header(), "[::1]:81");
        assert_eq!(u.to_string(), "ws://[::1]:81/");
    }

    #[test]
    fn port_with_leading_zeros_and_default_port_is_hidden() {
        let u = WsUrl::parse("wss://h:0443/x").unwrap();
        assert_eq!(u.port, 443);
        assert_eq!(u.host_header(), "h");
        assert_eq!(u.default_port(), 443);
    }
}
