//! Helpers shared by the integration tests: wiring two engines together, building raw frames,
//! and reading what an engine wrote.
#![allow(dead_code)]

use wsengine::frame::{FrameHeader, OpCode};
use wsengine::mask::apply_mask;
use wsengine::{ClientRequest, Config, Connection, Event};

/// Moves everything `from` has to send into `to`.
pub fn pump(from: &mut Connection, to: &mut Connection) {
    let out = from.output().to_vec();
    from.consume_output(out.len());
    to.receive(&out);
}

/// All events `conn` can produce from what it has buffered; stops at the first error.
pub fn events(conn: &mut Connection) -> Result<Vec<Event>, wsengine::Error> {
    let mut v = Vec::new();
    while let Some(e) = conn.next_event()? {
        v.push(e);
    }
    Ok(v)
}

/// A client and a server with the opening handshake done.
pub fn open_pair(client_cfg: Config, server_cfg: Config) -> (Connection, Connection) {
    let req = ClientRequest::new("ws://localhost/test").unwrap();
    let mut client = Connection::client(req, client_cfg).unwrap();
    let mut server = Connection::server(server_cfg).unwrap();
    pump(&mut client, &mut server);
    assert!(matches!(server.next_event().unwrap(), Some(Event::Open(_))));
    pump(&mut server, &mut client);
    assert!(matches!(client.next_event().unwrap(), Some(Event::Open(_))));
    (client, server)
}

/// An open server whose handshake output is already discarded.
pub fn open_server(cfg: Config) -> Connection {
    let (_, mut server) = open_pair(Config::default(), cfg);
    let n = server.output().len();
    server.consume_output(n);
    server
}

/// An open client whose handshake output is already discarded.
pub fn open_client(cfg: Config) -> Connection {
    let (mut client, _) = open_pair(cfg, Config::default());
    let n = client.output().len();
    client.consume_output(n);
    client
}

pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A raw frame: first byte flags (`0x80` FIN, RSV bits) | opcode, optional mask.
pub fn frame(b0: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let opcode_bits = b0 & 0x0F;
    let mut out = Vec::new();
    // Build with a valid opcode, then patch the raw first byte (reserved opcodes included).
    let h = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: b0 & 0x70,
        opcode: OpCode::from_u8(opcode_bits).unwrap_or(OpCode::Binary),
        mask,
        payload_len: payload.len() as u64,
    };
    h.encode(&mut out);
    out[0] = b0;
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(k) = mask {
        apply_mask(&mut out[start..], k, 0);
    }
    out
}

/// A masked frame, as a client sends.
pub fn cframe(b0: u8, payload: &[u8]) -> Vec<u8> {
    frame(b0, Some(KEY), payload)
}

/// The frames in `bytes` (opcode, fin, unmasked payload).
pub fn parse_frames(mut bytes: &[u8]) -> Vec<(OpCode, bool, Vec<u8>)> {
    let mut v = Vec::new();
    while let Some((h, n)) = FrameHeader::parse(bytes).unwrap() {
        let len = h.payload_len as usize;
        let mut p = bytes[n..n + len].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut p, k, 0);
        }
        v.push((h.opcode, h.fin, p));
        bytes = &bytes[n + len..];
    }
    assert!(bytes.is_empty(), "trailing partial frame");
    v
}

/// The close code of the close frame `conn` has queued, if any (`Some(None)`: no code).
pub fn sent_close_code(conn: &Connection) -> Option<Option<u16>> {
    parse_frames(conn.output())
        .into_iter()
        .find(|(op, _, _)| *op == OpCode::Close)
        .map(|(_, _, p)| (p.len() >= 2).then(|| u16::from_be_bytes([p[0], p[1]])))
}
