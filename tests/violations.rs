//! One test per protocol violation, asserting the error and the close code sent (RFC 6455
//! §5, §7.4.1), and that the failing side then closes.

mod common;
use common::*;
use wsengine::{Config, Connection, Error, Limits, ProtocolError, State};

/// Feeds `wire` to `conn` and returns the first error plus the close code queued.
fn violation(
    mut conn: Connection,
    wire: &[u8],
) -> (ProtocolError, Option<Option<u16>>, Connection) {
    conn.receive(wire);
    let err = loop {
        match conn.next_event() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("no error for {wire:02x?}"),
            Err(Error::Protocol(e)) => break e,
            Err(other) => panic!("unexpected error {other:?}"),
        }
    };
    let code = sent_close_code(&conn);
    assert_eq!(conn.state(), State::Closed);
    (err, code, conn)
}

fn server_violation(wire: &[u8]) -> (ProtocolError, Option<Option<u16>>) {
    let (e, c, conn) = violation(open_server(Config::default()), wire);
    let n = conn.output().len();
    let mut conn = conn;
    conn.consume_output(n);
    assert!(conn.should_close(), "the failing side closes the transport");
    (e, c)
}

#[test]
fn server_rejects_unmasked_frame_with_1002() {
    let (e, code) = server_violation(&frame(0x81, None, b"hi"));
    assert_eq!(e, ProtocolError::UnmaskedFrame);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn client_rejects_masked_frame_with_1002() {
    let (e, code, _) = violation(
        open_client(Config::default()),
        &frame(0x81, Some(KEY), b"hi"),
    );
    assert_eq!(e, ProtocolError::MaskedFrame);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn reserved_data_opcodes_fail_with_1002() {
    for op in 3..=7u8 {
        let (e, code) = server_violation(&cframe(0x80 | op, b""));
        assert_eq!(e, ProtocolError::ReservedOpcode(op));
        assert_eq!(code, Some(Some(1002)));
    }
}

#[test]
fn reserved_control_opcodes_fail_with_1002() {
    for op in 11..=15u8 {
        let (e, code) = server_violation(&cframe(0x80 | op, b""));
        assert_eq!(e, ProtocolError::ReservedOpcode(op));
        assert_eq!(code, Some(Some(1002)));
    }
}

#[test]
fn rsv_bits_without_an_extension_fail_with_1002() {
    for rsv in [0x40u8, 0x20, 0x10] {
        let (e, code) = server_violation(&cframe(0x81 | rsv, b"x"));
        assert_eq!(e, ProtocolError::ReservedBits(rsv));
        assert_eq!(code, Some(Some(1002)));
    }
}

#[test]
fn length_with_the_high_bit_set_fails_with_1002() {
    let wire = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
    let (e, code) = server_violation(&wire);
    assert_eq!(e, ProtocolError::InvalidLength);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn control_frame_over_125_bytes_fails_with_1002() {
    let (e, code) = server_violation(&cframe(0x89, &[0; 126]));
    assert_eq!(e, ProtocolError::ControlFrameTooLarge);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn fragmented_control_frame_fails_with_1002() {
    let (e, code) = server_violation(&cframe(0x09, b"ping"));
    assert_eq!(e, ProtocolError::FragmentedControlFrame);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn continuation_without_a_message_fails_with_1002() {
    let (e, code) = server_violation(&cframe(0x80, b"orphan"));
    assert_eq!(e, ProtocolError::UnexpectedContinuation);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn new_data_frame_inside_a_message_fails_with_1002() {
    let wire = [cframe(0x01, b"first"), cframe(0x81, b"second")].concat();
    let (e, code) = server_violation(&wire);
    assert_eq!(e, ProtocolError::ExpectedContinuation);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn invalid_utf8_text_fails_with_1007() {
    let (e, code) = server_violation(&cframe(
        0x81,
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
    ));
    assert_eq!(e, ProtocolError::InvalidUtf8);
    assert_eq!(code, Some(Some(1007)));
}

#[test]
fn invalid_utf8_fails_before_the_frame_is_complete() {
    let mut s = open_server(Config::default());
    let wire = cframe(0x81, b"valid so far \xf4\x90 and more bytes to come");
    // Header (6 bytes) plus the payload up to just past the impossible sequence.
    s.receive(&wire[..6 + 15]);
    assert!(matches!(
        s.next_event(),
        Err(Error::Protocol(ProtocolError::InvalidUtf8))
    ));
    assert_eq!(sent_close_code(&s), Some(Some(1007)));
}

#[test]
fn invalid_utf8_fails_in_the_fragment_that_breaks_it() {
    let mut s = open_server(Config::default());
    s.receive(&cframe(0x01, b"ok \xf4"));
    assert!(s.next_event().unwrap().is_none());
    s.receive(&cframe(0x00, b"\x90"));
    assert!(matches!(
        s.next_event(),
        Err(Error::Protocol(ProtocolError::InvalidUtf8))
    ));
}

#[test]
fn text_ending_inside_a_code_point_fails_with_1007() {
    let wire = [
        cframe(0x01, "κ".as_bytes()),
        cframe(0x80, &"ό".as_bytes()[..1]),
    ]
    .concat();
    let (e, code) = server_violation(&wire);
    assert_eq!(e, ProtocolError::InvalidUtf8);
    assert_eq!(code, Some(Some(1007)));
}

#[test]
fn close_frame_with_one_byte_payload_fails_with_1002() {
    let (e, code) = server_violation(&cframe(0x88, &[0x03]));
    assert_eq!(e, ProtocolError::InvalidClosePayload);
    assert_eq!(code, Some(Some(1002)));
}

#[test]
fn close_frame_with_an_invalid_code_fails_with_1002() {
    for c in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let (e, code) = server_violation(&cframe(0x88, &c.to_be_bytes()));
        assert_eq!(e, ProtocolError::InvalidCloseCode(c));
        assert_eq!(code, Some(Some(1002)), "code {c}");
    }
}

#[test]
fn close_frame_with_a_valid_code_is_echoed() {
    for c in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
        4000, 4999,
    ] {
        let mut s = open_server(Config::default());
        s.receive(&cframe(0x88, &c.to_be_bytes()));
        let ev = events(&mut s).unwrap();
        assert!(matches!(&ev[..], [wsengine::Event::Close(Some(f))] if f.code.0 == c));
        assert_eq!(sent_close_code(&s), Some(Some(c)));
    }
}

#[test]
fn close_reason_that_is_not_utf8_fails_with_1007() {
    let (e, code) = server_violation(&cframe(0x88, b"\x03\xe8\xff\xfe"));
    assert_eq!(e, ProtocolError::InvalidCloseReason);
    assert_eq!(code, Some(Some(1007)));
}

#[test]
fn message_over_the_limit_fails_with_1009_before_its_payload_arrives() {
    let limits = Limits {
        max_message_size: 1000,
        ..Limits::default()
    };
    let mut s = open_server(Config {
        limits,
        ..Config::default()
    });
    // Only the header of a 1001-byte frame: the engine must not wait for the payload.
    s.receive(&cframe(0x82, &[0; 1001])[..8]);
    assert_eq!(
        s.next_event().unwrap_err().to_string(),
        "protocol error: message exceeds 1000 bytes"
    );
    assert_eq!(sent_close_code(&s), Some(Some(1009)));
}

#[test]
fn fragmented_message_over_the_limit_fails_with_1009() {
    let limits = Limits {
        max_message_size: 1000,
        ..Limits::default()
    };
    let wire = [cframe(0x02, &[0; 600]), cframe(0x80, &[0; 600])].concat();
    let (e, code, _) = violation(
        open_server(Config {
            limits,
            ..Config::default()
        }),
        &wire,
    );
    assert_eq!(e, ProtocolError::MessageTooBig { limit: 1000 });
    assert_eq!(code, Some(Some(1009)));
}

#[test]
fn frame_over_the_limit_fails_with_1009() {
    let limits = Limits {
        max_frame_size: 100,
        ..Limits::default()
    };
    let (e, code, _) = violation(
        open_server(Config {
            limits,
            ..Config::default()
        }),
        &cframe(0x82, &[0; 101]),
    );
    assert_eq!(e, ProtocolError::FrameTooBig { limit: 100 });
    assert_eq!(code, Some(Some(1009)));
}

#[test]
fn too_many_fragments_fail_with_1009() {
    let limits = Limits {
        max_fragments: 10,
        ..Limits::default()
    };
    let mut wire = cframe(0x02, b"");
    for _ in 0..10 {
        wire.extend(cframe(0x00, b""));
    }
    let (e, code, _) = violation(
        open_server(Config {
            limits,
            ..Config::default()
        }),
        &wire,
    );
    assert_eq!(e, ProtocolError::TooManyFragments { limit: 10 });
    assert_eq!(code, Some(Some(1009)));
}

#[test]
fn transport_ending_before_close_is_an_abnormal_closure() {
    let mut s = open_server(Config::default());
    s.receive(&cframe(0x82, b"partial")[..5]);
    s.receive_eof();
    let err = s.next_event().unwrap_err();
    assert!(matches!(err, Error::Protocol(ProtocolError::UnexpectedEof)));
    assert_eq!(ProtocolError::UnexpectedEof.close_code().0, 1006);
    assert_eq!(sent_close_code(&s), None, "1006 is never sent");
}

#[test]
fn nothing_is_sent_after_a_failure() {
    let (_, _, mut s) = violation(open_server(Config::default()), &cframe(0x83, b""));
    assert!(matches!(s.send_text("late"), Err(Error::Usage(_))));
    assert!(matches!(s.ping(b""), Err(Error::Usage(_))));
    assert!(s.next_event().unwrap().is_none());
}
