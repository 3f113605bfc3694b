//! The opening handshake's public surface: URLs, headers, extension parsing, the client's
//! request builder, and the server's request/response types. (Parsing and checking of heads
//! is crate-internal and tested in `src/handshake/*.rs`.)

use wsengine::handshake::{
    accept_key, parse_extensions, ClientRequest, HandshakeError, Headers, Request, Response, WsUrl,
};
use wsengine::UsageError;

fn url(s: &str) -> WsUrl {
    WsUrl::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// The reason of the `UsageError::InvalidUrl` that parsing `s` fails with.
fn url_err(s: &str) -> String {
    match WsUrl::parse(s) {
        Err(UsageError::InvalidUrl(reason)) => reason,
        other => panic!("{s:?} gave {other:?}"),
    }
}

fn is_invalid_option(r: &Result<(), UsageError>) -> bool {
    matches!(r, Err(UsageError::InvalidOption(_)))
}

// ---- accept key ----------------------------------------------------------------------------

#[test]
fn accept_key_matches_rfc_section_1_3_example() {
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

// ---- URLs ----------------------------------------------------------------------------------

#[test]
fn url_ws_defaults_to_port_80_and_root_resource() {
    let u = url("ws://example.com");
    assert_eq!(
        u,
        WsUrl {
            tls: false,
            host: "example.com".into(),
            port: 80,
            resource: "/".into()
        }
    );
    assert_eq!(u.host_header(), "example.com");
    assert_eq!(u.to_string(), "ws://example.com/");
}

#[test]
fn url_wss_defaults_to_port_443() {
    let u = url("wss://example.com/chat");
    assert!(u.tls);
    assert_eq!(u.port, 443);
    assert_eq!(u.resource, "/chat");
    assert_eq!(u.to_string(), "wss://example.com/chat");
}

#[test]
fn url_explicit_default_port_is_omitted_from_host_header() {
    assert_eq!(url("ws://h:80/").host_header(), "h");
    assert_eq!(url("wss://h:443/").host_header(), "h");
    assert_eq!(url("wss://h:80/").host_header(), "h:80");
}

#[test]
fn url_non_default_port_is_in_host_header_and_display() {
    let u = url("ws://localhost:9001/x");
    assert_eq!(u.port, 9001);
    assert_eq!(u.host_header(), "localhost:9001");
    assert_eq!(u.to_string(), "ws://localhost:9001/x");
}

#[test]
fn url_ipv6_literal_is_stored_without_brackets() {
    let u = url("ws://[::1]:9001/");
    assert_eq!(u.host, "::1");
    assert_eq!(u.port, 9001);
    assert_eq!(u.host_header(), "[::1]:9001");
    assert_eq!(u.to_string(), "ws://[::1]:9001/");
    let u = url("wss://[2001:DB8::1]");
    assert_eq!(u.host, "2001:db8::1");
    assert_eq!(u.host_header(), "[2001:db8::1]");
}

#[test]
fn url_query_without_path_gets_root_path() {
    assert_eq!(url("ws://h?x=1").resource, "/?x=1");
    assert_eq!(url("ws://h/p/q?x=1&y=2").resource, "/p/q?x=1&y=2");
}

#[test]
fn url_scheme_is_case_insensitive_and_host_is_lowercased() {
    let u = url("WSS://Example.COM/Path");
    assert!(u.tls);
    assert_eq!(u.host, "example.com");
    assert_eq!(u.resource, "/Path");
}

#[test]
fn url_http_maps_to_ws_and_https_to_wss() {
    let u = url("http://h/");
    assert!(!u.tls);
    assert_eq!(u.port, 80);
    assert_eq!(u.to_string(), "ws://h/");
    let u = url("HTTPS://h/");
    assert!(u.tls);
    assert_eq!(u.port, 443);
    assert_eq!(u.to_string(), "wss://h/");
}

#[test]
fn url_fragment_is_rejected() {
    assert!(url_err("ws://h/chat#frag").contains("fragment"));
    assert!(url_err("ws://h#").contains("fragment"));
}

#[test]
fn url_userinfo_is_rejected() {
    assert!(url_err("ws://user@h/").contains("userinfo"));
    assert!(url_err("ws://user:pw@h:1/").contains("userinfo"));
}

#[test]
fn url_other_schemes_are_rejected() {
    for s in ["ftp://h/", "file:///x", "wsx://h/", "h/path", "//h/"] {
        url_err(s);
    }
}

#[test]
fn url_empty_host_is_rejected() {
    for s in ["ws://", "ws:///path", "ws://:80/", "ws://?x"] {
        url_err(s);
    }
}

#[test]
fn url_invalid_ports_are_rejected() {
    for s in [
        "ws://h:/",
        "ws://h:65536/",
        "ws://h:99999999999999999999/",
        "ws://h:8a/",
    ] {
        assert!(url_err(s).contains("port"), "{s}");
    }
    assert_eq!(url("ws://h:65535/").port, 65535);
}

#[test]
fn url_unterminated_ipv6_bracket_is_rejected() {
    assert!(url_err("ws://[::1/").contains('['));
    url_err("ws://[::1]junk/");
    url_err("ws://[not-an-address]/");
}

#[test]
fn url_whitespace_and_control_characters_are_rejected() {
    for s in [
        " ws://h/",
        "ws://h/ ",
        "ws://h/a b",
        "ws://h/\t",
        "ws://h/\r\n",
        "ws://h\0/",
    ] {
        url_err(s);
    }
}

#[test]
fn url_non_ascii_path_is_percent_encoded_and_escapes_are_kept() {
    assert_eq!(url("ws://h/caf\u{e9}").resource, "/caf%C3%A9");
    assert_eq!(url("ws://h/a%2Fb?q=%41").resource, "/a%2Fb?q=%41");
}

#[test]
fn url_non_ascii_host_is_rejected_with_a_reason() {
    assert!(url_err("ws://b\u{fc}cher.example/").contains("punycode"));
    assert_eq!(
        url("ws://xn--bcher-kva.example/").host,
        "xn--bcher-kva.example"
    );
}

#[test]
fn url_display_round_trips() {
    for s in ["ws://h/", "wss://h:8443/a?b", "ws://[::1]:81/x"] {
        let u = url(s);
        assert_eq!(u.to_string(), s);
        assert_eq!(url(&u.to_string()), u);
    }
}

// ---- headers -------------------------------------------------------------------------------

#[test]
fn headers_lookup_is_case_insensitive_and_keeps_order() {
    let mut h = Headers::new();
    assert!(h.is_empty());
    h.push("Sec-WebSocket-Protocol", "a");
    h.push("X-Other", "x");
    h.push("sec-websocket-protocol", "b");
    assert_eq!(h.len(), 3);
    assert_eq!(h.get("SEC-WEBSOCKET-PROTOCOL"), Some("a"));
    assert_eq!(
        h.get_all("Sec-WebSocket-Protocol").collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(
        h.iter().map(|(n, _)| n).collect::<Vec<_>>(),
        [
            "Sec-WebSocket-Protocol",
            "X-Other",
            "sec-websocket-protocol"
        ]
    );
}

#[test]
fn headers_contains_token_across_comma_lists_and_lines() {
    let mut h = Headers::new();
    h.push("Connection", "keep-alive, Upgrade");
    assert!(h.contains_token("connection", "upgrade"));
    assert!(!h.contains_token("connection", "up"));
    h.push("Upgrade", "h2c");
    h.push("upgrade", " WebSocket ");
    assert!(h.contains_token("Upgrade", "websocket"));
}

// ---- Sec-WebSocket-Extensions --------------------------------------------------------------

#[test]
fn extensions_parse_name_only() {
    let offers = parse_extensions("permessage-deflate").unwrap();
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].name, "permessage-deflate");
    assert!(offers[0].params.is_empty());
}

#[test]
fn extensions_parse_params_with_and_without_values() {
    let offers =
        parse_extensions("permessage-deflate; client_max_window_bits; server_max_window_bits=10")
            .unwrap();
    let p = &offers[0].params;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].name, "client_max_window_bits");
    assert_eq!(p[0].value, None);
    assert_eq!(p[1].name, "server_max_window_bits");
    assert_eq!(p[1].value.as_deref(), Some("10"));
}

#[test]
fn extensions_quoted_values_are_unquoted() {
    let offers = parse_extensions(r#"permessage-deflate; server_max_window_bits="10""#).unwrap();
    assert_eq!(offers[0].params[0].value.as_deref(), Some("10"));
    let offers = parse_extensions(r#"x; a="\1\2""#).unwrap();
    assert_eq!(offers[0].params[0].value.as_deref(), Some("12"));
}

#[test]
fn extensions_multiple_offers_keep_order_and_duplicates() {
    let offers = parse_extensions(
        "permessage-deflate; client_max_window_bits, permessage-deflate,x-webkit;a=1;a=2",
    )
    .unwrap();
    let names: Vec<_> = offers.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["permessage-deflate", "permessage-deflate", "x-webkit"]
    );
    assert_eq!(offers[2].params.len(), 2);
}

#[test]
fn extensions_display_round_trips() {
    let s = "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x";
    let offers = parse_extensions(s).unwrap();
    let joined: Vec<String> = offers.iter().map(ToString::to_string).collect();
    assert_eq!(joined.join(", "), s);
}

#[test]
fn extensions_tolerate_ows_and_empty_list_elements() {
    let offers = parse_extensions(" ,a ;\tb = 1 , ,c ").unwrap();
    assert_eq!(offers.len(), 2);
    assert_eq!(offers[0].params[0].value.as_deref(), Some("1"));
}

#[test]
fn extensions_syntax_errors_are_reported() {
    for bad in [
        "",
        ",",
        "a;",
        "a;;b",
        "a; =1",
        "a; b=",
        "a; b=\"1",
        "a; b=\"1 2\"",
        "a; b=\"\"",
        "a; b=1=2",
        "a b",
        "a; b c",
        "a@b",
        "a; b=[1]",
        "\"a\"",
    ] {
        assert!(parse_extensions(bad).is_err(), "{bad:?} accepted");
    }
}

// ---- ClientRequest -------------------------------------------------------------------------

#[test]
fn client_request_builder_collects_options() {
    let r = ClientRequest::new("wss://h/chat")
        .unwrap()
        .origin("https://h")
        .protocol("chat")
        .protocol("superchat")
        .header("Cookie", "a=1");
    assert!(r.url.tls);
    assert_eq!(r.origin.as_deref(), Some("https://h"));
    assert_eq!(r.protocols, ["chat", "superchat"]);
    assert_eq!(r.headers, [("Cookie".to_owned(), "a=1".to_owned())]);
    r.validate().unwrap();
}

#[test]
fn client_request_with_invalid_url_is_a_usage_error() {
    assert!(matches!(
        ClientRequest::new("ws://h/#x"),
        Err(UsageError::InvalidUrl(_))
    ));
}

#[test]
fn client_request_rejects_invalid_or_duplicate_protocols() {
    let r = || ClientRequest::new("ws://h/").unwrap();
    for bad in [
        r().protocol(""),
        r().protocol("a b"),
        r().protocol("x").protocol("x"),
    ] {
        assert!(is_invalid_option(&bad.validate()), "{bad:?} accepted");
    }
    // Duplicates are case-sensitive, as in the WHATWG WebSocket constructor.
    r().protocol("x").protocol("X").validate().unwrap();
}

#[test]
fn client_request_rejects_header_injection() {
    let r = || ClientRequest::new("ws://h/").unwrap();
    for bad in [
        r().header("X-A", "1\r\nX-B: 2"),
        r().header("X-A", "1\n"),
        r().header("X-A", "\0"),
        r().header("X A", "1"),
        r().header("", "1"),
        r().origin("https://h\r\nX: 1"),
    ] {
        assert!(is_invalid_option(&bad.validate()), "{bad:?} accepted");
    }
}

#[test]
fn client_request_may_not_override_handshake_headers() {
    for name in [
        "Host",
        "upgrade",
        "CONNECTION",
        "Sec-WebSocket-Key",
        "Sec-WebSocket-Version",
        "Sec-WebSocket-Extensions",
        "sec-websocket-protocol",
    ] {
        let r = ClientRequest::new("ws://h/").unwrap().header(name, "x");
        assert!(is_invalid_option(&r.validate()), "{name} accepted");
    }
}

// ---- Request / Response --------------------------------------------------------------------

fn request(target: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: "GET".into(),
        target: target.into(),
        headers: headers.iter().copied().collect(),
    }
}

#[test]
fn request_path_strips_the_query() {
    assert_eq!(request("/chat?room=1", &[]).path(), "/chat");
    assert_eq!(request("/chat", &[]).path(), "/chat");
}

#[test]
fn request_origin_and_protocols() {
    let r = request(
        "/",
        &[
            ("Origin", "http://example.com"),
            ("Sec-WebSocket-Protocol", "chat, superchat"),
            ("sec-websocket-protocol", " v2 ,"),
        ],
    );
    assert_eq!(r.origin(), Some("http://example.com"));
    assert_eq!(r.protocols(), ["chat", "superchat", "v2"]);
    assert_eq!(request("/", &[]).origin(), None);
}

#[test]
fn request_extension_offers_span_headers() {
    let r = request(
        "/",
        &[
            (
                "Sec-WebSocket-Extensions",
                "permessage-deflate; client_max_window_bits",
            ),
            ("Sec-WebSocket-Extensions", "permessage-deflate"),
        ],
    );
    assert_eq!(r.extension_offers().unwrap().len(), 2);
    assert!(request("/", &[]).extension_offers().unwrap().is_empty());
    let bad = request("/", &[("Sec-WebSocket-Extensions", "a;")]);
    assert!(bad.extension_offers().is_err());
}

#[test]
fn response_new_uses_canonical_reason_phrases() {
    assert_eq!(Response::new(101).reason, "Switching Protocols");
    assert_eq!(Response::new(400).reason, "Bad Request");
    assert_eq!(Response::new(426).reason, "Upgrade Required");
    assert_eq!(Response::new(431).reason, "Request Header Fields Too Large");
    let r = Response::new(403).header("X-A", "1").body("no");
    assert_eq!(r.status, 403);
    assert_eq!(r.headers.get("x-a"), Some("1"));
    assert_eq!(r.body, b"no");
}

#[test]
fn handshake_errors_map_to_http_statuses() {
    assert_eq!(HandshakeError::BadRequest("x".into()).status(), Some(400));
    assert_eq!(HandshakeError::UnsupportedVersion.status(), Some(426));
    assert_eq!(HandshakeError::HeadTooLarge.status(), Some(431));
    assert_eq!(HandshakeError::BadAccept.status(), None);
}
