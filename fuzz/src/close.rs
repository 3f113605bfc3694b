//! The close payload parser. Input: the payload of a close frame, as received.
//!
//! Checked: the parser agrees with RFC 6455 §5.5.1 / §7.4 (empty: no code; one byte: error;
//! otherwise a sendable code and a UTF-8 reason), a parsed frame re-encodes to the same bytes,
//! and an open server given the same payload in a close frame reports the same result and
//! answers with the matching close code.

use wsengine::close::{encode_close_payload, parse_close_payload};
use wsengine::{Config, Error, Event, ProtocolError, State};

use crate::conn::open;
use crate::wire;

/// Runs one input.
pub fn check(data: &[u8]) {
    let parsed = parse_close_payload(data);
    match &parsed {
        Ok(None) => assert!(data.is_empty()),
        Ok(Some(f)) => {
            assert!(f.code.is_sendable());
            assert_eq!(f.reason.as_bytes(), &data[2..]);
            if f.reason.len() <= 123 {
                let mut buf = [0u8; 125];
                let n = encode_close_payload(f.code, &f.reason, &mut buf);
                assert_eq!(&buf[..n], data);
            }
        }
        Err(ProtocolError::InvalidClosePayload) => assert_eq!(data.len(), 1),
        Err(ProtocolError::InvalidCloseCode(c)) => {
            assert_eq!(*c, u16::from_be_bytes([data[0], data[1]]))
        }
        Err(ProtocolError::InvalidCloseReason) => {
            assert!(std::str::from_utf8(&data[2..]).is_err())
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
    if data.len() > 125 {
        return;
    }
    let mut pair = open(wsengine::Role::Server, Config::default(), Config::default());
    let s = &mut pair.ours;
    s.receive(&wire::frame(0x88, true, data));
    match (s.next_event(), parsed) {
        (Ok(Some(Event::Close(got))), Ok(want)) => {
            assert_eq!(got, want);
            // The echoed close carries the peer's code, or none for an empty payload.
            let (frames, _) = wire::frames(s.output()).unwrap();
            let (h, p) = frames.last().expect("a close answer");
            assert_eq!(h.opcode, wsengine::frame::OpCode::Close);
            match want {
                Some(f) => assert_eq!(u16::from_be_bytes([p[0], p[1]]), f.code.0),
                None => assert!(p.is_empty()),
            }
            assert_eq!(s.state(), State::Closed);
        }
        (Err(Error::Protocol(got)), Err(want)) => {
            assert_eq!(got, want);
            let (frames, _) = wire::frames(s.output()).unwrap();
            let (_, p) = frames.last().expect("a close frame");
            assert_eq!(u16::from_be_bytes([p[0], p[1]]), want.close_code().0);
        }
        (got, want) => panic!("engine {got:?} vs parser {want:?}"),
    }
}
