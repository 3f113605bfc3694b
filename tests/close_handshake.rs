//! The close procedure (RFC 6455 §5.5.1, §7): both roles, who closes TCP, codes, timeouts.

mod common;
use common::*;
use wsengine::{CloseCode, Config, Error, Event, State, TimeoutKind, UsageError};

#[test]
fn client_initiated_close_completes_and_the_server_closes_tcp_first() {
    let (mut c, mut s) = open_pair(Config::default(), Config::default());
    c.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(c.state(), State::Closing);
    pump(&mut c, &mut s);
    let ev = events(&mut s).unwrap();
    assert!(
        matches!(&ev[..], [Event::Close(Some(f))] if f.code == CloseCode::NORMAL && f.reason == "bye")
    );
    assert_eq!(s.state(), State::Closed);
    assert!(!s.should_close(), "the reply must be flushed first");
    pump(&mut s, &mut c);
    assert!(
        s.should_close(),
        "server closes TCP once its reply is written"
    );
    let ev = events(&mut c).unwrap();
    assert!(matches!(&ev[..], [Event::Close(Some(f))] if f.code == CloseCode::NORMAL));
    assert_eq!(c.state(), State::Closed);
    assert!(
        !c.should_close(),
        "client waits for the server to close TCP"
    );
    assert!(c.wants_read());
    c.receive_eof();
    assert!(c.should_close());
    assert_eq!(c.peer_close().unwrap().code, CloseCode::NORMAL);
    assert!(c.next_event().unwrap().is_none());
}

#[test]
fn server_initiated_close_is_answered_by_the_client() {
    let (mut c, mut s) = open_pair(Config::default(), Config::default());
    s.close(CloseCode::GOING_AWAY, "restart").unwrap();
    pump(&mut s, &mut c);
    let ev = events(&mut c).unwrap();
    assert!(
        matches!(&ev[..], [Event::Close(Some(f))] if f.code == CloseCode::GOING_AWAY && f.reason == "restart")
    );
    assert_eq!(
        sent_close_code(&c),
        Some(Some(1001)),
        "the client echoes the code"
    );
    pump(&mut c, &mut s);
    assert!(matches!(
        &events(&mut s).unwrap()[..],
        [Event::Close(Some(_))]
    ));
    assert!(s.should_close());
}

#[test]
fn close_without_a_code_is_answered_without_a_code() {
    let mut s = open_server(Config::default());
    s.receive(&cframe(0x88, b""));
    let ev = events(&mut s).unwrap();
    assert!(matches!(&ev[..], [Event::Close(None)]));
    assert_eq!(sent_close_code(&s), Some(None));
    assert!(s.peer_close().is_none());
}

#[test]
fn sending_close_with_no_status_sends_an_empty_close_frame() {
    let mut c = open_client(Config::default());
    c.close(CloseCode::NO_STATUS, "").unwrap();
    assert_eq!(sent_close_code(&c), Some(None));
}

#[test]
fn nothing_can_be_sent_after_close() {
    let mut c = open_client(Config::default());
    c.close(1000, "").unwrap();
    for r in [
        c.send_text("x"),
        c.ping(b""),
        c.pong(b""),
        c.close(1000, ""),
    ] {
        assert!(matches!(
            r,
            Err(Error::Usage(UsageError::NotOpen(State::Closing)))
        ));
    }
}

#[test]
fn data_still_arrives_while_waiting_for_the_close_reply() {
    let mut s = open_server(Config::default());
    s.close(1000, "").unwrap();
    s.receive(&[cframe(0x81, b"late"), cframe(0x88, &1000u16.to_be_bytes())].concat());
    let ev = events(&mut s).unwrap();
    assert!(matches!(
        &ev[..],
        [Event::Message(_), Event::Close(Some(_))]
    ));
}

#[test]
fn bytes_after_the_peers_close_are_ignored() {
    let mut s = open_server(Config::default());
    s.receive(
        &[
            cframe(0x88, &1000u16.to_be_bytes()),
            cframe(0x81, b"after close"),
            vec![0xff; 10],
        ]
        .concat(),
    );
    let ev = events(&mut s).unwrap();
    assert!(matches!(&ev[..], [Event::Close(Some(_))]));
    s.receive(&cframe(0x81, b"more"));
    assert!(s.next_event().unwrap().is_none());
}

#[test]
fn sending_invalid_close_codes_is_refused() {
    let mut c = open_client(Config::default());
    for code in [0u16, 999, 1004, 1006, 1015, 1016, 2999, 5000] {
        assert_eq!(
            c.close(code, "").unwrap_err().to_string(),
            format!("close code {code} may not be sent")
        );
    }
    assert!(matches!(
        c.close(1005, "reason"),
        Err(Error::Usage(UsageError::InvalidCloseCode(1005)))
    ));
    assert_eq!(c.state(), State::Open, "a refused close changes nothing");
}

#[test]
fn close_reason_over_123_bytes_is_refused() {
    let mut c = open_client(Config::default());
    assert!(matches!(
        c.close(1000, &"x".repeat(124)),
        Err(Error::Usage(UsageError::CloseReasonTooLong(124)))
    ));
    c.close(1000, &"x".repeat(123)).unwrap();
}

#[test]
fn close_timeout_fails_the_connection_when_no_reply_comes() {
    let mut c = open_client(Config {
        close_timeout_ms: Some(5_000),
        ..Config::default()
    });
    c.handle_timeout(1_000);
    c.close(1000, "").unwrap();
    assert_eq!(
        c.next_deadline(),
        Some(1_000),
        "armed on the next handle_timeout"
    );
    c.handle_timeout(1_500);
    assert_eq!(c.next_deadline(), Some(6_500));
    c.handle_timeout(6_499);
    assert_eq!(c.state(), State::Closing);
    c.handle_timeout(6_500);
    assert!(matches!(
        c.next_event(),
        Err(Error::Timeout(TimeoutKind::Close))
    ));
    assert_eq!(c.state(), State::Closed);
    let n = c.output().len();
    c.consume_output(n);
    assert!(c.should_close());
}

#[test]
fn client_stops_waiting_for_tcp_close_after_the_close_timeout() {
    let (mut c, mut s) = open_pair(Config::default(), Config::default());
    c.close(1000, "").unwrap();
    c.handle_timeout(0);
    pump(&mut c, &mut s);
    events(&mut s).unwrap();
    pump(&mut s, &mut c);
    events(&mut c).unwrap();
    assert!(!c.should_close());
    c.handle_timeout(5_000);
    assert!(c.should_close());
}

#[test]
fn peer_close_is_known_after_the_handshake() {
    let (mut c, mut s) = open_pair(Config::default(), Config::default());
    s.close(4001, "custom").unwrap();
    pump(&mut s, &mut c);
    events(&mut c).unwrap();
    let f = c.peer_close().unwrap();
    assert_eq!((f.code.0, f.reason.as_str()), (4001, "custom"));
}
