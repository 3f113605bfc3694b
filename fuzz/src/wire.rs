//! Building and reading raw frames (what a peer would put on the wire).

use wsengine::frame::{FrameHeader, OpCode};
use wsengine::mask::apply_mask;

/// The mask key used for every frame a target builds as a client would.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A raw frame: `b0` is the first byte as sent (FIN, RSV bits, opcode — reserved opcodes
/// included), masked with [`KEY`] if `masked`.
pub fn frame(b0: u8, masked: bool, payload: &[u8]) -> Vec<u8> {
    let h = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: b0 & 0x70,
        opcode: OpCode::from_u8(b0 & 0x0F).unwrap_or(OpCode::Binary),
        mask: masked.then_some(KEY),
        payload_len: payload.len() as u64,
    };
    let mut out = Vec::with_capacity(payload.len() + 14);
    h.encode(&mut out);
    out[0] = b0;
    let start = out.len();
    out.extend_from_slice(payload);
    if masked {
        apply_mask(&mut out[start..], KEY, 0);
    }
    out
}

/// A parsed frame: its header and unmasked payload.
pub type Frame = (FrameHeader, Vec<u8>);

/// The frames in `bytes`, and whether the bytes ended exactly on
/// a frame boundary. `None` if a header does not parse.
pub fn frames(mut bytes: &[u8]) -> Option<(Vec<Frame>, bool)> {
    let mut v = Vec::new();
    loop {
        let Some((h, n)) = FrameHeader::parse(bytes).ok()? else {
            return Some((v, bytes.is_empty()));
        };
        let len = usize::try_from(h.payload_len).ok()?;
        if bytes.len() < n + len {
            return Some((v, false));
        }
        let mut p = bytes[n..n + len].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut p, k, 0);
        }
        v.push((h, p));
        bytes = &bytes[n + len..];
    }
}

/// Raw DEFLATE of `data` with the permessage-deflate tail (`00 00 ff ff`) removed, as one
/// message compressed with an empty window.
pub fn deflate_message(data: &[u8]) -> Vec<u8> {
    use miniz_oxide::deflate::core::{
        compress, create_comp_flags_from_zip_params, CompressorOxide, TDEFLFlush,
    };
    let mut c = CompressorOxide::new(create_comp_flags_from_zip_params(3, -15, 0));
    let mut out = vec![0u8; data.len() * 2 + 64];
    let (_, _, n) = compress(&mut c, data, &mut out, TDEFLFlush::Sync);
    out.truncate(n);
    if out.ends_with(&[0, 0, 0xff, 0xff]) {
        out.truncate(out.len() - 4);
    }
    out
}
