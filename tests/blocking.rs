//! The blocking adapter over real TCP on loopback: echo, read_some, control frames, close,
//! a rejected handshake, a refused connection.

use std::net::{TcpListener, TcpStream};
use std::thread;

use wsengine::io::WebSocket;
use wsengine::{
    Accept, CloseCode, Config, Error, Event, HandshakeError, Message, MessageKind, Response,
};

/// Serves one connection with `handler`, returning the address.
fn serve(handler: impl FnOnce(TcpStream) + Send + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        handler(stream);
    });
    format!("ws://{addr}")
}

fn echo(stream: TcpStream) {
    let (mut ws, _) = WebSocket::accept(stream, Config::default()).unwrap();
    loop {
        match ws.read() {
            Ok(m) => ws.write(&m).unwrap(),
            Err(Error::Closed) => return,
            Err(e) => panic!("server: {e}"),
        }
    }
}

#[test]
fn echo_over_tcp_with_a_clean_close() {
    let url = serve(echo);
    let (mut ws, _) = WebSocket::connect(&format!("{url}/echo"), Config::default()).unwrap();
    ws.write_text("hello").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("hello".into()));
    let big: Vec<u8> = (0..3_000_000u32).map(|i| i as u8).collect();
    ws.write_binary(&big).unwrap();
    assert_eq!(ws.read().unwrap().into_bytes(), big);
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(ws.peer_close().unwrap().code, CloseCode::NORMAL);
    assert!(matches!(ws.read(), Err(Error::Closed)));
}

#[test]
fn read_some_returns_parts_and_write_some_sends_them() {
    let url = serve(echo);
    let (mut ws, _) = WebSocket::connect(&url, Config::default()).unwrap();
    ws.write_some(false, MessageKind::Binary, &[1; 100_000])
        .unwrap();
    ws.write_some(true, MessageKind::Binary, &[2; 100_000])
        .unwrap();
    let mut got = Vec::new();
    loop {
        let f = ws.read_some().unwrap();
        got.extend(f.data);
        if f.fin {
            break;
        }
    }
    assert_eq!(got.len(), 200_000);
    assert!(got[..100_000].iter().all(|&b| b == 1) && got[100_000..].iter().all(|&b| b == 2));
}

#[test]
fn pings_are_answered_and_pongs_observed() {
    let url = serve(echo);
    let (mut ws, _) = WebSocket::connect(&url, Config::default()).unwrap();
    ws.ping(b"tick").unwrap();
    assert!(matches!(ws.read_event().unwrap(), Event::Pong(p) if p == b"tick"));
}

#[test]
fn server_close_is_seen_by_the_reader_with_code_and_reason() {
    let url = serve(|stream| {
        let (mut ws, _) = WebSocket::accept(stream, Config::default()).unwrap();
        ws.close(4000, "server done").unwrap();
    });
    let (mut ws, _) = WebSocket::connect(&url, Config::default()).unwrap();
    assert!(matches!(ws.read(), Err(Error::Closed)));
    let c = ws.peer_close().unwrap();
    assert_eq!((c.code.0, c.reason.as_str()), (4000, "server done"));
}

#[test]
fn rejected_handshake_gives_the_client_the_status_and_body() {
    let url = serve(|stream| {
        let reject = Box::new(|_: &wsengine::Request| Err(Response::new(404).body("no such room")));
        let r = WebSocket::accept_with(stream, Config::default(), reject);
        assert!(matches!(
            r,
            Err(Error::Handshake(HandshakeError::RejectedByApplication(404)))
        ));
    });
    match WebSocket::connect(&format!("{url}/missing"), Config::default()) {
        Err(Error::Handshake(HandshakeError::Rejected(r))) => {
            assert_eq!(r.status, 404);
            assert_eq!(r.body, b"no such room");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn subprotocol_through_the_adapter() {
    let url = serve(|stream| {
        let pick = Box::new(|req: &wsengine::Request| Ok(Accept::select_protocol(req, &["b"])));
        let (ws, info) = WebSocket::accept_with(stream, Config::default(), pick).unwrap();
        assert_eq!(info.protocol.as_deref(), Some("b"));
        drop(ws);
    });
    let req = wsengine::ClientRequest::new(&url)
        .unwrap()
        .protocol("a")
        .protocol("b");
    let (_, info) = WebSocket::connect_with(req, Config::default()).unwrap();
    assert_eq!(info.protocol.as_deref(), Some("b"));
}

#[test]
fn refused_connection_is_an_io_error() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert!(matches!(
        WebSocket::connect(&format!("ws://127.0.0.1:{port}/"), Config::default()),
        Err(Error::Io(_))
    ));
}

#[test]
fn peer_vanishing_mid_message_is_an_abnormal_closure() {
    let url = serve(|mut stream| {
        use std::io::{Read, Write};
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).into_owned();
        let key = req
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .trim()
            .to_owned();
        let accept = wsengine::handshake::accept_key(&key);
        write!(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").unwrap();
        stream
            .write_all(&[0x82, 0x7E, 0x10, 0x00, 1, 2, 3])
            .unwrap();
    });
    let (mut ws, _) = WebSocket::connect(&url, Config::default()).unwrap();
    assert!(matches!(
        ws.read(),
        Err(Error::Protocol(wsengine::ProtocolError::UnexpectedEof))
    ));
}

#[cfg(not(feature = "rustls"))]
#[test]
fn wss_without_the_rustls_feature_says_to_enable_it() {
    // Nothing listens there: the error must come before any connection attempt.
    match WebSocket::connect("wss://127.0.0.1:1/", Config::default()) {
        Err(Error::Tls(e @ wsengine::TlsError::NotEnabled)) => {
            assert!(e.to_string().contains("cargo feature `rustls`"), "{e}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}
