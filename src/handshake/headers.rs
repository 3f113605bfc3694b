//! An ordered, case-insensitive header list, token-list helpers, and the
//! `Sec-WebSocket-Extensions` parser (RFC 6455 §9.1).

use crate::extension::{ExtensionOffer, ExtensionParam};

/// HTTP header fields in the order they were received or added. Names compare
/// case-insensitively; duplicates are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    list: Vec<(String, String)>,
}

impl Headers {
    /// An empty list.
    pub fn new() -> Self {
        Headers { list: Vec::new() }
    }

    /// Appends a header (an existing one with the same name is kept).
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.list.push((name.into(), value.into()));
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.list
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every header called `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.list
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether there is a header called `name` (case-insensitive).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Whether the comma-separated token lists of all headers called `name` contain `token`
    /// (both compared case-insensitively, optional whitespace around elements ignored).
    pub fn contains_token(&self, name: &str, token: &str) -> bool {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .any(|t| trim_ows(t).eq_ignore_ascii_case(token))
    }

    /// The headers as `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.list.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        Headers {
            list: iter
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }
}

impl<N: Into<String>, V: Into<String>> Extend<(N, V)> for Headers {
    fn extend<I: IntoIterator<Item = (N, V)>>(&mut self, iter: I) {
        self.list
            .extend(iter.into_iter().map(|(n, v)| (n.into(), v.into())));
    }
}

// ---------------------------------------------------------------------------------------------
// Crate-internal helpers shared by the client and server halves.

/// RFC 7230 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9'
        | b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+'
        | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~')
}

/// RFC 7230 `token = 1*tchar`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Whether `s` may be sent as a header field value: no control characters other than HTAB
/// (so no CR, LF or NUL) and no DEL.
pub(crate) fn is_valid_value(s: &str) -> bool {
    s.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
}

/// Trims RFC 7230 optional whitespace (SP / HTAB) on both sides.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

/// Converts httparse's header array into [`Headers`] (values trimmed of OWS); an error naming
/// the header if a value is not UTF-8.
pub(crate) fn from_httparse(headers: &[httparse::Header<'_>]) -> Result<Headers, String> {
    let mut list = Vec::with_capacity(headers.len());
    for h in headers {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| format!("value of header {:?} is not valid UTF-8", h.name))?;
        list.push((h.name.to_owned(), trim_ows(value).to_owned()));
    }
    Ok(Headers { list })
}

/// Appends `name: value\r\n`.
pub(crate) fn write_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends a `Sec-WebSocket-Extensions` header listing `extensions` (nothing if empty).
pub(crate) fn write_extensions(out: &mut Vec<u8>, extensions: &[ExtensionOffer]) {
    use std::io::Write;
    if extensions.is_empty() {
        return;
    }
    out.extend_from_slice(b"Sec-WebSocket-Extensions: ");
    for (i, e) in extensions.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{e}");
    }
    out.extend_from_slice(b"\r\n");
}

/// Parses the extension offers of every `Sec-WebSocket-Extensions` header in `headers`, as
/// one combined list (RFC 7230 §3.2.2). No such header: an empty list.
pub(crate) fn parse_extension_headers(headers: &Headers) -> Result<Vec<ExtensionOffer>, String> {
    const NAME: &str = "Sec-WebSocket-Extensions";
    let mut values = headers.get_all(NAME);
    let Some(first) = values.next() else {
        return Ok(Vec::new());
    };
    let mut offers = parse_extensions(first)?;
    for v in values {
        offers.extend(parse_extensions(v)?);
    }
    Ok(offers)
}

// ---------------------------------------------------------------------------------------------
// Sec-WebSocket-Extensions

/// Parses a `Sec-WebSocket-Extensions` header value (RFC 6455 §9.1 with the RFC 7230 list
/// rule):
///
/// ```text
/// extension-list  = 1#extension
/// extension       = token *( OWS ";" OWS extension-param )
/// extension-param = token [ OWS "=" OWS ( token / quoted-string ) ]
/// ```
///
/// Empty list elements (`a, , b`) are skipped as RFC 7230 §7 requires of recipients, but at
/// least one extension must be present. Quoted values are unquoted (backslash escapes
/// resolved), and the unquoted value must itself be a token (RFC 6455 §9.1). Any other
/// deviation (an empty parameter, a bad token, an unterminated quote, junk after an element)
/// is an error describing what was wrong.
pub fn parse_extensions(value: &str) -> Result<Vec<ExtensionOffer>, String> {
    let mut p = ExtParser {
        s: value.as_bytes(),
        pos: 0,
    };
    let mut offers = Vec::new();
    loop {
        p.skip_ows();
        if p.eat(b',') {
            continue; // empty list element
        }
        if p.at_end() {
            break;
        }
        offers.push(p.extension()?);
        p.skip_ows();
        if p.at_end() {
            break;
        }
        if !p.eat(b',') {
            return Err(p.unexpected("',' or ';'"));
        }
    }
    if offers.is_empty() {
        return Err("no extension in the list".to_owned());
    }
    Ok(offers)
}

struct ExtParser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl ExtParser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.peek() {
            Some(b) if b.is_ascii_graphic() || b == b' ' => {
                format!(
                    "expected {wanted} at byte {}, found {:?}",
                    self.pos, b as char
                )
            }
            Some(b) => format!(
                "expected {wanted} at byte {}, found byte {b:#04x}",
                self.pos
            ),
            None => format!("expected {wanted}, found the end of the value"),
        }
    }

    fn token(&mut self, what: &str) -> Result<String, String> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected(what));
        }
        // tchars are ASCII, so this slice is valid UTF-8.
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn extension(&mut self) -> Result<ExtensionOffer, String> {
        let name = self.token("an extension name")?;
        let mut params = Vec::new();
        loop {
            self.skip_ows();
            if !self.eat(b';') {
                break;
            }
            self.skip_ows();
            let pname = self.token("a parameter name")?;
            self.skip_ows();
            let value = if self.eat(b'=') {
                self.skip_ows();
                Some(if self.peek() == Some(b'"') {
                    let v = self.quoted()?;
                    if !is_token(&v) {
                        return Err(format!(
                            "quoted value {v:?} of parameter {pname:?} is not a token"
                        ));
                    }
                    v
                } else {
                    self.token("a parameter value")?
                })
            } else {
                None
            };
            params.push(ExtensionParam { name: pname, value });
        }
        Ok(ExtensionOffer { name, params })
    }

    /// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE`, returned unquoted.
    fn quoted(&mut self) -> Result<String, String> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(format!("unterminated quoted string at byte {start}")),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if b == b'\t' || (b >= 0x20 && b != 0x7f) => {
                            out.push(b);
                            self.pos += 1;
                        }
                        Some(b) => {
                            return Err(format!(
                                "invalid escaped byte {b:#04x} in quoted string at byte {}",
                                self.pos
                            ))
                        }
                        None => return Err(format!("unterminated quoted string at byte {start}")),
                    }
                }
                Some(b) if b == b'\t' || (b >= 0x20 && b != 0x7f) => {
                    out.push(b);
                    self.pos += 1;
                }
                Some(b) => {
                    return Err(format!(
                        "invalid byte {b:#04x} in quoted string at byte {}",
                        self.pos
                    ))
                }
            }
        }
        // The caller requires a token, which is ASCII; anything else is reported there.
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, value: Option<&str>) -> ExtensionParam {
        ExtensionParam {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn contains_token_spans_headers_and_ignores_case_and_ows() {
        let mut h = Headers::new();
        h.push("Connection", "keep-alive ,\tUpgrade");
        h.push("connection", "close");
        assert!(h.contains_token("CONNECTION", "upgrade"));
        assert!(h.contains_token("connection", "Close"));
        assert!(!h.contains_token("connection", "keep"));
        assert!(!h.contains_token("upgrade", "websocket"));
    }

    #[test]
    fn get_and_get_all_are_case_insensitive_and_ordered() {
        let h: Headers = [("A", "1"), ("b", "2"), ("a", "3")].into_iter().collect();
        assert_eq!(h.get("a"), Some("1"));
        assert_eq!(h.get_all("A").collect::<Vec<_>>(), ["1", "3"]);
        assert_eq!(h.len(), 3);
        assert!(!h.is_empty());
        assert!(h.get("c").is_none());
    }

    #[test]
    fn extension_params_with_ows_around_equals() {
        let offers = parse_extensions("x ; a = 1 ;b=\"2\"").unwrap();
        assert_eq!(offers.len(), 1);
        assert_eq!(offers[0].params, [p("a", Some("1")), p("b", Some("2"))]);
    }

    #[test]
    fn escaped_quoted_value_is_unescaped() {
        let offers = parse_extensions(r#"x; a="1\0""#).unwrap();
        assert_eq!(offers[0].params, [p("a", Some("10"))]);
    }

    #[test]
    fn extension_syntax_errors_are_rejected() {
        for bad in [
            "",
            " , ",
            "x;",
            "x;;a",
            "x; =1",
            "x; a=",
            "x; a=\"1",
            "x; a=\"1\\",
            "x; a=\"\"",
            "x; a=\"b c\"",
            "x y",
            "x; a=1 2",
            "x/y",
            "x; a=\"1\"2",
            "é",
            "x; a=\"\u{7f}\"",
        ] {
            assert!(parse_extensions(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn empty_list_elements_are_skipped() {
        let offers = parse_extensions(", a ,, b,").unwrap();
        let names: Vec<_> = offers.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn extension_headers_combine_across_lines() {
        let mut h = Headers::new();
        assert!(parse_extension_headers(&h).unwrap().is_empty());
        h.push("Sec-WebSocket-Extensions", "a");
        h.push("sec-websocket-extensions", "b; c");
        let offers = parse_extension_headers(&h).unwrap();
        assert_eq!(offers.len(), 2);
        assert_eq!(offers[1].params, [p("c", None)]);
    }

    #[test]
    fn write_extensions_joins_with_comma_space() {
        let offers = parse_extensions("a; x=1, b").unwrap();
        let mut out = Vec::new();
        write_extensions(&mut out, &offers);
        assert_eq!(out, b"Sec-WebSocket-Extensions: a; x=1, b\r\n");
        out.clear();
        write_extensions(&mut out, &[]);
        assert!(out.is_empty());
    }
}
