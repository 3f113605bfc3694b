//! Keepalive, idle timeout, and the bound on owed pongs (a peer that pings faster than we
//! write).

mod common;
use common::*;
use wsengine::{Config, Error, Event, TimeoutKind};

#[test]
fn keepalive_sends_a_ping_after_the_interval_and_fails_without_an_answer() {
    let cfg = Config {
        keepalive_interval_ms: Some(10_000),
        keepalive_timeout_ms: 3_000,
        ..Config::default()
    };
    let mut s = open_server(cfg);
    s.handle_timeout(0);
    assert_eq!(s.next_deadline(), Some(10_000));
    s.handle_timeout(10_000);
    assert_eq!(
        parse_frames(s.output()),
        vec![(wsengine::OpCode::Ping, true, vec![])]
    );
    s.handle_timeout(12_999);
    assert!(s.next_event().unwrap().is_none());
    s.handle_timeout(13_000);
    assert!(matches!(
        s.next_event(),
        Err(Error::Timeout(TimeoutKind::Keepalive))
    ));
    assert!(
        s.output().len() == 2,
        "no close frame after a dead peer (1006)"
    );
}

#[test]
fn keepalive_is_satisfied_by_any_received_frame() {
    let cfg = Config {
        keepalive_interval_ms: Some(10_000),
        keepalive_timeout_ms: 3_000,
        ..Config::default()
    };
    let mut s = open_server(cfg);
    s.handle_timeout(0);
    s.handle_timeout(10_000);
    s.receive(&cframe(0x8A, b""));
    assert!(matches!(s.next_event().unwrap(), Some(Event::Pong(_))));
    s.handle_timeout(13_000);
    assert!(s.next_event().unwrap().is_none());
    assert_eq!(
        s.next_deadline(),
        Some(23_000),
        "next keepalive counted from the pong"
    );
}

#[test]
fn idle_timeout_fails_a_silent_connection() {
    let mut s = open_server(Config {
        idle_timeout_ms: Some(5_000),
        ..Config::default()
    });
    s.handle_timeout(0);
    s.receive(&cframe(0x81, b"hi"));
    s.handle_timeout(1_000);
    s.next_event().unwrap();
    s.handle_timeout(5_999);
    assert!(s.next_event().unwrap().is_none());
    s.handle_timeout(6_000);
    assert!(matches!(
        s.next_event(),
        Err(Error::Timeout(TimeoutKind::Idle))
    ));
}

#[test]
fn a_ping_flood_cannot_grow_the_output_without_bound() {
    let mut s = open_server(Config::default());
    let ping = cframe(0x89, &[b'p'; 125]);
    for i in 0..100_000u32 {
        s.receive(&ping);
        while let Some(e) = s.next_event().unwrap() {
            assert!(matches!(e, Event::Ping(_)), "{i}");
        }
    }
    assert!(
        s.pending_output() < 16 * 1024 + 200,
        "owed pongs bounded: {}",
        s.pending_output()
    );
    // Once the caller writes, the latest owed pong goes out.
    let n = s.pending_output();
    s.consume_output(n);
    assert_eq!(s.pending_output(), 127);
}

/// The peer pings faster than we write, then closes: the latest ping, received before its
/// close, is answered before our close reply (RFC 6455 §5.5.2), whatever was owed.
#[test]
fn the_latest_owed_pong_goes_out_before_the_close_reply() {
    let mut s = open_server(Config::default());
    // Far past the 16 KiB of output beyond which owed pongs collapse into one.
    for i in 0..5_000u32 {
        s.receive(&cframe(0x89, format!("ping {i}").as_bytes()));
        while s.next_event().unwrap().is_some() {}
    }
    s.receive(&cframe(0x88, &[0x03, 0xe8]));
    assert!(matches!(s.next_event().unwrap(), Some(Event::Close(_))));
    let frames = parse_frames(s.output());
    let n = frames.len();
    assert!(n >= 2, "{n} frames");
    assert_eq!(
        frames[n - 2],
        (wsengine::OpCode::Pong, true, b"ping 4999".to_vec())
    );
    assert_eq!(
        frames[n - 1],
        (wsengine::OpCode::Close, true, vec![0x03, 0xe8])
    );
}

#[test]
fn no_timer_is_armed_by_default_once_open() {
    let s = open_server(Config::default());
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn output_the_transport_never_takes_fails_the_connection_after_the_write_timeout() {
    let mut s = open_server(Config {
        write_timeout_ms: Some(2_000),
        ..Config::default()
    });
    s.send_binary(&[7; 1000]).unwrap();
    assert_eq!(
        s.next_deadline(),
        Some(0),
        "the timer starts at the next call"
    );
    s.handle_timeout(100);
    assert_eq!(s.next_deadline(), Some(2_100));
    s.handle_timeout(2_099);
    assert!(s.next_event().unwrap().is_none());
    s.handle_timeout(2_100);
    assert!(matches!(
        s.next_event(),
        Err(Error::Timeout(TimeoutKind::Write))
    ));
    assert_eq!(s.state(), wsengine::State::Closed);
    assert_eq!(s.pending_output(), 0, "unsendable bytes are dropped");
    assert!(s.should_close());
    assert!(matches!(s.send_text("more"), Err(Error::Usage(_))));
}

#[test]
fn every_bit_of_progress_restarts_the_write_timeout() {
    let mut s = open_server(Config {
        write_timeout_ms: Some(2_000),
        ..Config::default()
    });
    s.send_binary(&[7; 1000]).unwrap();
    s.handle_timeout(0);
    // A slow peer: 100 bytes every 1.5 s is never "no progress for 2 s".
    for step in 1..=10u64 {
        s.consume_output(100);
        s.handle_timeout(step * 1_500);
        assert!(s.next_event().unwrap().is_none(), "step {step}");
    }
    assert_eq!(s.pending_output(), 4, "the 4-byte header is left");
    s.consume_output(4);
    assert_eq!(s.next_deadline(), None, "no timer while nothing waits");
    s.handle_timeout(100_000);
    assert!(s.next_event().unwrap().is_none());
}

#[test]
fn a_disabled_write_timeout_waits_forever() {
    let mut s = open_server(Config {
        write_timeout_ms: None,
        ..Config::default()
    });
    s.send_binary(&[7; 1000]).unwrap();
    assert_eq!(s.next_deadline(), None);
    s.handle_timeout(u64::MAX / 2);
    assert!(s.next_event().unwrap().is_none());
    assert_eq!(s.pending_output(), 1004);
}

#[test]
fn a_write_timeout_after_a_failure_drops_the_close_frame_without_a_second_error() {
    let mut s = open_server(Config {
        write_timeout_ms: Some(1_000),
        ..Config::default()
    });
    s.handle_timeout(0);
    // An unmasked client frame: 1002, and a close frame waits in the output.
    s.receive(&[0x81, 0x02, b'h', b'i']);
    assert!(matches!(s.next_event(), Err(Error::Protocol(_))));
    assert!(s.pending_output() > 0);
    assert!(!s.should_close(), "the close frame is still to be written");
    s.handle_timeout(10);
    s.handle_timeout(1_010);
    assert_eq!(s.pending_output(), 0);
    assert!(s.should_close());
    assert!(
        matches!(s.next_event(), Ok(None)),
        "one error per connection"
    );
}
