//! `Connection::server_upgrade`: answering a request an HTTP server already parsed, with the
//! same checks and negotiation as the wire handshake.

mod common;
use common::*;
use wsengine::{
    Accept, ClientRequest, Config, Connection, DeflateConfig, Error, Event, HandshakeError,
    Headers, Message, Request, Response,
};

/// The request head a client engine queued, parsed the way an HTTP server would.
fn parsed_request(client: &mut Connection) -> Request {
    let n = client.output().len();
    let head = String::from_utf8(client.output().to_vec()).unwrap();
    client.consume_output(n);
    let mut lines = head.trim_end().split("\r\n");
    let mut start = lines.next().unwrap().split(' ');
    let (method, target) = (start.next().unwrap(), start.next().unwrap());
    let mut headers = Headers::new();
    for l in lines {
        let (name, value) = l.split_once(':').unwrap();
        headers.push(name, value.trim());
    }
    Request {
        method: method.into(),
        target: target.into(),
        headers,
    }
}

/// An HTTP/1.1 head for `r`, as an HTTP server would write it.
fn head(r: &Response) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {} {}\r\n", r.status, r.reason);
    for (n, v) in r.headers.iter() {
        s += &format!("{n}: {v}\r\n");
    }
    s += "\r\n";
    s.into_bytes()
}

fn deflate() -> Config {
    Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    }
}

#[test]
fn a_good_request_opens_with_subprotocol_and_compression() {
    let req = ClientRequest::new("ws://localhost/chat")
        .unwrap()
        .protocol("superchat")
        .protocol("chat");
    let mut client = Connection::client(req, deflate()).unwrap();
    let request = parsed_request(&mut client);
    let accept = Box::new(|r: &Request| Ok(Accept::select_protocol(r, &["chat"])));
    let up = Connection::server_upgrade(request, deflate(), Some(accept)).unwrap();
    assert_eq!(up.response.status, 101);
    assert_eq!(up.info.protocol.as_deref(), Some("chat"));
    assert!(up
        .info
        .extensions
        .unwrap()
        .starts_with("permessage-deflate"));
    let mut server = up.connection;
    assert_eq!(server.pending_output(), 0, "the HTTP server sends the 101");

    client.receive(&head(&up.response));
    match client.next_event().unwrap() {
        Some(Event::Open(info)) => {
            assert_eq!(info.protocol.as_deref(), Some("chat"));
            assert!(info.extensions.unwrap().starts_with("permessage-deflate"));
        }
        other => panic!("{other:?}"),
    }
    let text = "compress me ".repeat(1000);
    client.send_text(&text).unwrap();
    assert!(client.output().len() < text.len() / 10, "compressed");
    pump(&mut client, &mut server);
    assert!(
        matches!(events(&mut server).unwrap().as_slice(), [Event::Message(Message::Text(t))] if *t == text)
    );
    server.send_text(&text).unwrap();
    pump(&mut server, &mut client);
    assert!(
        matches!(events(&mut client).unwrap().as_slice(), [Event::Message(Message::Text(t))] if *t == text)
    );
}

#[test]
fn bad_requests_get_400_and_426() {
    let mut client =
        Connection::client(ClientRequest::new("ws://h/").unwrap(), Config::default()).unwrap();
    let good = parsed_request(&mut client);

    let mut old = good.clone();
    old.headers = Headers::new();
    for (n, v) in good.headers.iter() {
        let v = if n.eq_ignore_ascii_case("Sec-WebSocket-Version") {
            "8"
        } else {
            v
        };
        old.headers.push(n, v);
    }
    let refused = Connection::server_upgrade(old, Config::default(), None).unwrap_err();
    assert_eq!(refused.response.status, 426);
    assert_eq!(
        refused.response.headers.get("Sec-WebSocket-Version"),
        Some("13")
    );
    assert!(matches!(
        refused.error,
        Error::Handshake(HandshakeError::UnsupportedVersion)
    ));

    let mut post = good.clone();
    post.method = "POST".into();
    let refused = Connection::server_upgrade(post, Config::default(), None).unwrap_err();
    assert_eq!(refused.response.status, 400);
    assert!(!refused.response.body.is_empty(), "says why");

    let refuse = Box::new(|_: &Request| Err(Response::new(403).body("no")));
    let refused = Connection::server_upgrade(good, Config::default(), Some(refuse)).unwrap_err();
    assert_eq!(refused.response.status, 403);
    assert_eq!(refused.response.body, b"no");
}
