//! The opening handshake driven through the connection: statuses of rejections, subprotocols,
//! bytes behind the handshake, non-101 answers.

mod common;
use common::*;
use wsengine::{
    Accept, ClientRequest, Config, Connection, Error, Event, HandshakeError, Limits, Message,
    Response, State,
};

const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

fn server_answer(request: &str) -> (Result<Option<Event>, Error>, String) {
    let mut s = Connection::server(Config::default()).unwrap();
    s.receive(request.as_bytes());
    let r = s.next_event();
    (r, String::from_utf8_lossy(s.output()).into_owned())
}

#[test]
fn server_accepts_the_rfc_example_request() {
    let (r, out) = server_answer(&format!("{REQUEST}\r\n"));
    assert!(matches!(r, Ok(Some(Event::Open(_)))));
    assert!(out.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(out.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

#[test]
fn wrong_version_is_answered_426_with_the_supported_version() {
    let req = REQUEST.replace("Version: 13", "Version: 8");
    let (r, out) = server_answer(&format!("{req}\r\n"));
    assert!(matches!(
        r,
        Err(Error::Handshake(HandshakeError::UnsupportedVersion))
    ));
    assert!(out.starts_with("HTTP/1.1 426 "));
    assert!(out.contains("Sec-WebSocket-Version: 13\r\n"));
}

#[test]
fn missing_key_is_answered_400() {
    let req = REQUEST.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "");
    let (r, out) = server_answer(&format!("{req}\r\n"));
    assert!(matches!(
        r,
        Err(Error::Handshake(HandshakeError::BadRequest(_)))
    ));
    assert!(out.starts_with("HTTP/1.1 400 "));
}

#[test]
fn a_request_with_a_body_is_answered_400_and_its_body_never_read_as_frames() {
    // The "body" is a valid masked text frame: had it been read as one, the server would
    // report a message.
    let body = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    for header in ["Content-Length: 8\r\n", "Transfer-Encoding: chunked\r\n"] {
        let mut s = Connection::server(Config::default()).unwrap();
        s.receive(format!("{REQUEST}{header}\r\n").as_bytes());
        s.receive(&body);
        let r = s.next_event();
        assert!(
            matches!(r, Err(Error::Handshake(HandshakeError::BadRequest(ref m))) if m.contains("body")),
            "{header:?}: {r:?}"
        );
        let out = String::from_utf8_lossy(s.output()).into_owned();
        assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
        assert!(!matches!(s.next_event(), Ok(Some(Event::Message(_)))));
    }
}

#[test]
fn malformed_request_is_answered_400() {
    let (r, out) = server_answer("GET / HTTP/1.1\r\nHost example\r\n\r\n");
    assert!(matches!(
        r,
        Err(Error::Handshake(HandshakeError::BadRequest(_)))
    ));
    assert!(out.starts_with("HTTP/1.1 400 "));
}

#[test]
fn oversized_headers_are_answered_431_without_waiting_for_the_end() {
    let mut s = Connection::server(Config::default()).unwrap();
    s.receive(REQUEST.as_bytes());
    let filler = format!("X-Filler: {}\r\n", "a".repeat(1000));
    let mut result = Ok(None);
    for _ in 0..20 {
        s.receive(filler.as_bytes());
        result = s.next_event();
        if result.is_err() {
            break;
        }
    }
    assert!(matches!(
        result,
        Err(Error::Handshake(HandshakeError::HeadTooLarge))
    ));
    assert!(String::from_utf8_lossy(s.output()).starts_with("HTTP/1.1 431 "));
}

#[test]
fn too_many_headers_are_answered_431() {
    let limits = Limits {
        handshake: wsengine::handshake::HandshakeLimits {
            max_headers: 8,
            ..Default::default()
        },
        ..Limits::default()
    };
    let mut s = Connection::server(Config {
        limits,
        ..Config::default()
    })
    .unwrap();
    let extra: String = (0..10).map(|i| format!("X-{i}: v\r\n")).collect();
    s.receive(format!("{REQUEST}{extra}\r\n").as_bytes());
    assert!(matches!(
        s.next_event(),
        Err(Error::Handshake(HandshakeError::HeadTooLarge))
    ));
    assert!(String::from_utf8_lossy(s.output()).starts_with("HTTP/1.1 431 "));
}

#[test]
fn application_can_reject_with_its_own_status() {
    let accept = Box::new(|req: &wsengine::Request| {
        if req.origin() == Some("https://evil.example") {
            Err(Response::new(403).body("origin not allowed"))
        } else {
            Ok(Accept::default())
        }
    });
    let mut s = Connection::server_with(Config::default(), accept).unwrap();
    s.receive(format!("{REQUEST}Origin: https://evil.example\r\n\r\n").as_bytes());
    assert!(matches!(
        s.next_event(),
        Err(Error::Handshake(HandshakeError::RejectedByApplication(403)))
    ));
    let out = String::from_utf8_lossy(s.output()).into_owned();
    assert!(out.starts_with("HTTP/1.1 403 "));
    assert!(out.ends_with("origin not allowed"));
    assert_eq!(s.state(), State::Closed);
}

#[test]
fn subprotocol_is_chosen_by_the_server_and_seen_by_both() {
    let req = ClientRequest::new("ws://localhost/")
        .unwrap()
        .protocol("v1.chat")
        .protocol("v2.chat");
    let mut c = Connection::client(req, Config::default()).unwrap();
    let mut s = Connection::server_with(
        Config::default(),
        Box::new(|req| Ok(Accept::select_protocol(req, &["v2.chat", "v3.chat"]))),
    )
    .unwrap();
    pump(&mut c, &mut s);
    assert!(
        matches!(s.next_event().unwrap(), Some(Event::Open(i)) if i.protocol.as_deref() == Some("v2.chat"))
    );
    pump(&mut s, &mut c);
    assert!(
        matches!(c.next_event().unwrap(), Some(Event::Open(i)) if i.protocol.as_deref() == Some("v2.chat"))
    );
    assert_eq!(c.protocol(), Some("v2.chat"));
}

#[test]
fn server_choosing_an_unoffered_subprotocol_is_an_application_error() {
    let mut s = Connection::server_with(
        Config::default(),
        Box::new(|_| {
            Ok(Accept {
                protocol: Some("nope".into()),
                ..Accept::default()
            })
        }),
    )
    .unwrap();
    s.receive(format!("{REQUEST}\r\n").as_bytes());
    assert!(matches!(s.next_event(), Err(Error::Usage(_))));
    assert!(String::from_utf8_lossy(s.output()).starts_with("HTTP/1.1 500 "));
}

#[test]
fn client_rejects_a_subprotocol_it_did_not_offer() {
    let req = ClientRequest::new("ws://localhost/").unwrap().protocol("a");
    let mut c = Connection::client(req, Config::default()).unwrap();
    let key = key_of(c.output());
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: b\r\n\r\n",
        wsengine::handshake::accept_key(&key)
    );
    c.receive(answer.as_bytes());
    assert!(
        matches!(c.next_event(), Err(Error::Handshake(HandshakeError::UnexpectedProtocol(p))) if p == "b")
    );
    assert!(c.should_close() || !c.output().is_empty());
}

#[test]
fn client_rejects_a_wrong_accept_key() {
    let mut c = Connection::client(
        ClientRequest::new("ws://localhost/").unwrap(),
        Config::default(),
    )
    .unwrap();
    c.receive(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
    assert!(matches!(
        c.next_event(),
        Err(Error::Handshake(HandshakeError::BadAccept))
    ));
}

#[test]
fn client_rejects_an_extension_it_did_not_offer() {
    let mut c = Connection::client(
        ClientRequest::new("ws://localhost/").unwrap(),
        Config::default(),
    )
    .unwrap();
    let key = key_of(c.output());
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
        wsengine::handshake::accept_key(&key)
    );
    c.receive(answer.as_bytes());
    assert!(matches!(
        c.next_event(),
        Err(Error::Handshake(HandshakeError::BadExtension(_)))
    ));
}

#[test]
fn non_101_answer_carries_status_headers_and_body() {
    let mut c = Connection::client(
        ClientRequest::new("ws://localhost/").unwrap(),
        Config::default(),
    )
    .unwrap();
    c.receive(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\nContent-Length: 12\r\n\r\nlog in ");
    assert!(
        c.next_event().unwrap().is_none(),
        "waits for the whole body"
    );
    c.receive(b"first");
    match c.next_event() {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => {
            assert_eq!(r.status, 401);
            assert_eq!(r.headers.get("www-authenticate"), Some("Basic"));
            assert_eq!(r.body, b"log in first");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn redirect_without_a_body_length_ends_at_eof() {
    let mut c = Connection::client(
        ClientRequest::new("ws://localhost/").unwrap(),
        Config::default(),
    )
    .unwrap();
    c.receive(b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\n\r\nmoved");
    assert!(c.next_event().unwrap().is_none());
    c.receive_eof();
    match c.next_event() {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => {
            assert_eq!(r.headers.get("location"), Some("ws://elsewhere/"));
            assert_eq!(r.body, b"moved");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn frames_in_the_same_read_as_the_101_are_not_lost() {
    let mut c = Connection::client(
        ClientRequest::new("ws://localhost/").unwrap(),
        Config::default(),
    )
    .unwrap();
    let mut s = Connection::server(Config::default()).unwrap();
    pump(&mut c, &mut s);
    s.next_event().unwrap();
    s.send_text("right behind").unwrap();
    pump(&mut s, &mut c);
    let ev = events(&mut c).unwrap();
    assert!(
        matches!(&ev[..], [Event::Open(_), Event::Message(Message::Text(t))] if t == "right behind")
    );
}

#[test]
fn frames_in_the_same_read_as_the_request_are_not_lost() {
    let mut s = Connection::server(Config::default()).unwrap();
    let mut wire = format!("{REQUEST}\r\n").into_bytes();
    wire.extend(cframe(0x81, b"eager"));
    s.receive(&wire);
    let ev = events(&mut s).unwrap();
    assert!(matches!(&ev[..], [Event::Open(_), Event::Message(Message::Text(t))] if t == "eager"));
}

#[test]
fn eof_during_the_handshake_is_a_handshake_error() {
    let mut s = Connection::server(Config::default()).unwrap();
    s.receive(b"GET / HTTP/1.1\r\n");
    s.receive_eof();
    assert!(matches!(
        s.next_event(),
        Err(Error::Handshake(HandshakeError::Eof))
    ));
}

#[test]
fn handshake_timeout_fails_a_slow_handshake() {
    let mut s = Connection::server(Config {
        handshake_timeout_ms: Some(1000),
        ..Config::default()
    })
    .unwrap();
    s.handle_timeout(0);
    s.receive(b"GET / HTTP/1.1\r\n");
    s.handle_timeout(999);
    assert!(s.next_event().unwrap().is_none());
    s.handle_timeout(1000);
    assert!(matches!(
        s.next_event(),
        Err(Error::Timeout(wsengine::TimeoutKind::Handshake))
    ));
    assert!(s.should_close());
}

#[test]
fn invalid_url_is_a_usage_error() {
    assert!(matches!(
        ClientRequest::new("http2://x/"),
        Err(wsengine::UsageError::InvalidUrl(_))
    ));
    assert!(matches!(
        ClientRequest::new("ws://x/#frag"),
        Err(wsengine::UsageError::InvalidUrl(_))
    ));
}

fn key_of(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(request);
    let line = text
        .lines()
        .find(|l| l.starts_with("Sec-WebSocket-Key:"))
        .unwrap();
    line["Sec-WebSocket-Key:".len()..].trim().to_owned()
}
