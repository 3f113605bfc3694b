//! RFC 6455 §5: the example frames of §5.7, encoding rules, fragmentation, streaming.

mod common;
use common::*;
use wsengine::{Config, Event, Fragment, Message, MessageKind};

fn recv_all(conn: &mut wsengine::Connection, bytes: &[u8]) -> Vec<Event> {
    conn.receive(bytes);
    events(conn).unwrap()
}

#[test]
fn rfc_5_7_single_frame_unmasked_text_reaches_the_client() {
    let mut c = open_client(Config::default());
    let ev = recv_all(&mut c, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert!(matches!(&ev[..], [Event::Message(Message::Text(t))] if t == "Hello"));
}

#[test]
fn rfc_5_7_single_frame_masked_text_reaches_the_server() {
    let mut s = open_server(Config::default());
    let ev = recv_all(
        &mut s,
        &[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ],
    );
    assert!(matches!(&ev[..], [Event::Message(Message::Text(t))] if t == "Hello"));
}

#[test]
fn rfc_5_7_fragmented_unmasked_text_is_one_message() {
    let mut c = open_client(Config::default());
    let ev = recv_all(
        &mut c,
        &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
    );
    assert!(matches!(&ev[..], [Event::Message(Message::Text(t))] if t == "Hello"));
}

#[test]
fn rfc_5_7_unmasked_ping_is_answered_with_a_masked_pong() {
    let mut c = open_client(Config::default());
    let ev = recv_all(&mut c, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert!(matches!(&ev[..], [Event::Ping(p)] if p == b"Hello"));
    let out = c.output();
    assert_eq!(&out[..2], &[0x8a, 0x85], "masked pong of 5 bytes");
    assert_eq!(
        parse_frames(out),
        vec![(wsengine::OpCode::Pong, true, b"Hello".to_vec())]
    );
}

#[test]
fn rfc_5_7_256_byte_binary_uses_a_16_bit_length() {
    let mut s = open_server(Config::default());
    s.send_binary(&[7u8; 256]).unwrap();
    assert_eq!(&s.output()[..4], &[0x82, 0x7E, 0x01, 0x00]);
    let mut c = open_client(Config::default());
    let mut wire = vec![0x82, 0x7E, 0x01, 0x00];
    wire.extend_from_slice(&[7u8; 256]);
    let ev = recv_all(&mut c, &wire);
    assert!(matches!(&ev[..], [Event::Message(Message::Binary(b))] if b.len() == 256));
}

#[test]
fn rfc_5_7_64_kib_binary_uses_a_64_bit_length() {
    let cfg = Config {
        auto_fragment: false,
        ..Config::default()
    };
    let mut s = open_server(cfg);
    s.send_binary(&vec![1u8; 65536]).unwrap();
    assert_eq!(&s.output()[..10], &[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]);
    let mut c = open_client(Config::default());
    let ev = recv_all(&mut c, s.output());
    assert!(matches!(&ev[..], [Event::Message(Message::Binary(b))] if b.len() == 65536));
}

#[test]
fn sender_uses_minimal_length_encoding_at_the_boundaries() {
    let cfg = Config {
        auto_fragment: false,
        ..Config::default()
    };
    for (len, header_len) in [
        (0usize, 2usize),
        (125, 2),
        (126, 4),
        (65535, 4),
        (65536, 10),
    ] {
        let mut s = open_server(cfg.clone());
        s.send_binary(&vec![0; len]).unwrap();
        assert_eq!(s.output().len(), header_len + len, "length {len}");
    }
}

#[test]
fn client_frames_are_masked_with_a_fresh_key_each() {
    let mut c = open_client(Config::default());
    c.send_text("same").unwrap();
    c.send_text("same").unwrap();
    let out = c.output().to_vec();
    assert_eq!(out[1] & 0x80, 0x80);
    let (first, second) = out.split_at(out.len() / 2);
    assert_ne!(first[2..6], second[2..6], "mask keys must differ");
    assert_eq!(parse_frames(&out).len(), 2);
}

#[test]
fn server_frames_are_never_masked() {
    let mut s = open_server(Config::default());
    s.send_text("x").unwrap();
    assert_eq!(s.output(), &[0x81, 0x01, b'x']);
}

#[test]
fn encode_then_decode_round_trips_every_size_both_ways() {
    let (mut c, mut s) = open_pair(Config::default(), Config::default());
    for len in [
        0usize,
        1,
        125,
        126,
        127,
        4095,
        4096,
        4097,
        65535,
        65536,
        70000,
        1 << 20,
    ] {
        let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        c.send_binary(&data).unwrap();
        pump(&mut c, &mut s);
        let ev = events(&mut s).unwrap();
        assert!(
            matches!(&ev[..], [Event::Message(Message::Binary(b))] if *b == data),
            "client->server {len}"
        );
        let text: String = (0..len)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        s.send_text(&text).unwrap();
        pump(&mut s, &mut c);
        let ev = events(&mut c).unwrap();
        assert!(
            matches!(&ev[..], [Event::Message(Message::Text(t))] if *t == text),
            "server->client {len}"
        );
    }
}

#[test]
fn auto_fragment_splits_at_write_buffer_bytes() {
    let cfg = Config {
        write_buffer_bytes: 4096,
        ..Config::default()
    };
    let mut s = open_server(cfg);
    s.send_binary(&vec![9u8; 10_000]).unwrap();
    let frames = parse_frames(s.output());
    let shape: Vec<_> = frames
        .iter()
        .map(|(op, fin, p)| (*op, *fin, p.len()))
        .collect();
    use wsengine::OpCode::*;
    assert_eq!(
        shape,
        vec![
            (Binary, false, 4096),
            (Continuation, false, 4096),
            (Continuation, true, 1808)
        ]
    );
}

#[test]
fn auto_fragment_off_sends_one_frame() {
    let cfg = Config {
        auto_fragment: false,
        ..Config::default()
    };
    let mut s = open_server(cfg);
    s.send_binary(&vec![9u8; 10_000]).unwrap();
    assert_eq!(parse_frames(s.output()).len(), 1);
}

#[test]
fn write_some_builds_one_message_with_control_frames_between_parts() {
    let (mut c, mut s) = open_pair(Config::default(), Config::default());
    c.write_some(false, MessageKind::Text, "κό".as_bytes())
        .unwrap();
    c.ping(b"mid").unwrap();
    c.write_some(false, MessageKind::Text, "σμ".as_bytes())
        .unwrap();
    c.write_some(true, MessageKind::Text, "ε".as_bytes())
        .unwrap();
    pump(&mut c, &mut s);
    let ev = events(&mut s).unwrap();
    assert!(matches!(&ev[0], Event::Ping(p) if p == b"mid"));
    assert!(matches!(&ev[1], Event::Message(Message::Text(t)) if t == "κόσμε"));
}

#[test]
fn write_some_rejects_a_different_kind_mid_message() {
    let mut c = open_client(Config::default());
    c.write_some(false, MessageKind::Text, b"a").unwrap();
    let err = c.write_some(true, MessageKind::Binary, b"b").unwrap_err();
    assert!(matches!(
        err,
        wsengine::Error::Usage(wsengine::UsageError::MessageKindMismatch)
    ));
    let err = c.send_text("whole").unwrap_err();
    assert!(matches!(
        err,
        wsengine::Error::Usage(wsengine::UsageError::MessageInProgress)
    ));
}

#[test]
fn control_frames_between_fragments_are_reported_in_order() {
    let mut s = open_server(Config::default());
    let mut wire = cframe(0x01, b"Hel");
    wire.extend(cframe(0x89, b"p1"));
    wire.extend(cframe(0x8A, b"p2"));
    wire.extend(cframe(0x80, b"lo"));
    let ev = recv_all(&mut s, &wire);
    assert!(matches!(&ev[0], Event::Ping(p) if p == b"p1"));
    assert!(matches!(&ev[1], Event::Pong(p) if p == b"p2"));
    assert!(matches!(&ev[2], Event::Message(Message::Text(t)) if t == "Hello"));
    assert_eq!(
        parse_frames(s.output()),
        vec![(wsengine::OpCode::Pong, true, b"p1".to_vec())]
    );
}

#[test]
fn auto_pong_can_be_turned_off() {
    let mut s = open_server(Config {
        auto_pong: false,
        ..Config::default()
    });
    let ev = recv_all(&mut s, &cframe(0x89, b"x"));
    assert!(matches!(&ev[..], [Event::Ping(_)]));
    assert!(s.output().is_empty());
}

#[test]
fn streaming_mode_delivers_pieces_as_they_arrive() {
    let mut s = open_server(Config::default());
    s.set_streaming(true);
    let wire = [cframe(0x02, b"abc"), cframe(0x80, b"def")].concat();
    s.receive(&wire[..8]); // header (6) + 2 payload bytes
    let ev = events(&mut s).unwrap();
    assert!(
        matches!(&ev[..], [Event::Fragment(Fragment { data, fin: false, kind: MessageKind::Binary })] if data == b"ab")
    );
    s.receive(&wire[8..]);
    let ev = events(&mut s).unwrap();
    let pieces: Vec<(Vec<u8>, bool)> = ev
        .into_iter()
        .map(|e| match e {
            Event::Fragment(f) => (f.data, f.fin),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        pieces,
        vec![(b"c".to_vec(), false), (b"def".to_vec(), true)]
    );
}

#[test]
fn empty_messages_are_delivered() {
    let mut s = open_server(Config::default());
    let ev = recv_all(&mut s, &[cframe(0x81, b""), cframe(0x82, b"")].concat());
    assert!(
        matches!(&ev[..], [Event::Message(Message::Text(t)), Event::Message(Message::Binary(b))] if t.is_empty() && b.is_empty())
    );
}
