//! The wire format of a frame header (RFC 6455 §5.2). Only the format and the rules that hold
//! for every role live here; role- and extension-dependent checks are the connection's.

use crate::error::ProtocolError;

/// Longest possible header: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// Largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame opcode (§5.2). Reserved opcodes are rejected when parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// Continues a fragmented message.
    Continuation,
    /// First frame of a text message.
    Text,
    /// First frame of a binary message.
    Binary,
    /// Close control frame.
    Close,
    /// Ping control frame.
    Ping,
    /// Pong control frame.
    Pong,
}

impl OpCode {
    /// Parses the low nibble of the first header byte.
    pub fn from_u8(op: u8) -> Result<OpCode, ProtocolError> {
        Ok(match op {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }

    /// Close, ping and pong.
    pub fn is_control(self) -> bool {
        matches!(self, OpCode::Close | OpCode::Ping | OpCode::Pong)
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Last frame of its message.
    pub fin: bool,
    /// RSV1–3 as they sit in the first byte (mask `0x70`).
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// Payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// Parses a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold the whole header, and otherwise the
    /// header and its length in bytes. Enforces the rules that hold in every role: no
    /// reserved opcode, no 64-bit length with the high bit set, control frames with FIN and at
    /// most 125 bytes. Non-minimal length encodings are accepted (the RFC binds senders only).
    pub fn parse(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let [b0, b1, ..] = *buf else { return Ok(None) };
        let opcode = OpCode::from_u8(b0 & 0x0F)?;
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let (payload_len, mut pos) = match b1 & 0x7F {
            126 => match buf.get(2..4) {
                Some(b) => (u16::from_be_bytes([b[0], b[1]]) as u64, 4),
                None => return Ok(None),
            },
            127 => match buf.get(2..10) {
                Some(b) => {
                    let len = u64::from_be_bytes(b.try_into().expect("8 bytes"));
                    if len >> 63 != 0 {
                        return Err(ProtocolError::InvalidLength);
                    }
                    (len, 10)
                }
                None => return Ok(None),
            },
            n => (n as u64, 2),
        };
        if opcode.is_control() {
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLarge);
            }
        }
        let mask = if masked {
            let Some(k) = buf.get(pos..pos + 4) else {
                return Ok(None);
            };
            pos += 4;
            Some([k[0], k[1], k[2], k[3]])
        } else {
            None
        };
        let header = FrameHeader {
            fin,
            rsv: b0 & 0x70,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, pos)))
    }

    /// Appends the header with the minimal length encoding (§5.2 requires it of senders).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = self.encode_into(&mut buf);
        out.extend_from_slice(&buf[..n]);
    }

    /// Writes the header into `buf` and returns its length.
    pub fn encode_into(&self, buf: &mut [u8; MAX_HEADER_LEN]) -> usize {
        buf[0] = (self.fin as u8) << 7 | (self.rsv & 0x70) | self.opcode.as_u8();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload_len;
        let mut pos = if len < 126 {
            buf[1] = mask_bit | len as u8;
            2
        } else if len <= u16::MAX as u64 {
            buf[1] = mask_bit | 126;
            buf[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            4
        } else {
            buf[1] = mask_bit | 127;
            buf[2..10].copy_from_slice(&len.to_be_bytes());
            10
        };
        if let Some(key) = self.mask {
            buf[pos..pos + 4].copy_from_slice(&key);
            pos += 4;
        }
        pos
    }
}
