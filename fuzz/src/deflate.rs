//! A connection with permessage-deflate negotiated, fed frames whose payloads come from the
//! input, under a small message limit (so decompression bombs must hit 1009).
//!
//! Input format: one flags byte (bit 0: we are the client, so frames arrive unmasked; bit 1:
//! streaming reads; bit 2: the peer's and our `*_no_context_takeover`), then frames until the
//! input ends: the frame's first byte as sent (FIN, RSV, opcode), a mode byte (bit 0: the
//! payload is the DEFLATE of the data, as a compliant peer sends; otherwise the data is the
//! payload itself), a u16 length, and that many data bytes.

use wsengine::{Config, DeflateConfig, Role};

use crate::conn::{open, poll, Tracker};
use crate::{small_config, wire, Input, DEFLATE_MAX_MESSAGE};

/// Runs one input (format: module docs).
pub fn drive(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let role = if flags & 1 != 0 {
        Role::Client
    } else {
        Role::Server
    };
    let no_takeover = flags & 4 != 0;
    let deflate = DeflateConfig {
        server_no_context_takeover: no_takeover,
        client_no_context_takeover: no_takeover,
        ..DeflateConfig::default()
    };
    let mut cfg = small_config(DEFLATE_MAX_MESSAGE, true);
    cfg.deflate = Some(deflate.clone());
    let peer_cfg = Config {
        deflate: Some(deflate),
        ..Config::default()
    };
    let mut pair = open(role, cfg, peer_cfg);
    assert!(pair.ours.extensions().is_some(), "deflate negotiated");
    pair.ours.set_streaming(flags & 2 != 0);
    let mut t = Tracker::new(DEFLATE_MAX_MESSAGE);
    while !input.is_empty() {
        let b0 = input.u8();
        let mode = input.u8();
        let n = usize::from(input.u16());
        let d = input.bytes(n);
        let payload = if mode & 1 != 0 {
            wire::deflate_message(d)
        } else {
            d.to_vec()
        };
        pair.ours
            .receive(&wire::frame(b0, role == Role::Server, &payload));
        poll(&mut t, &mut pair.ours);
        // What we answer (pongs, close frames) stays small: nothing here asks us to send.
        assert!(pair.ours.pending_output() <= crate::conn::OUTPUT_SLACK);
    }
}
