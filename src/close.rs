//! Close codes and the close frame payload (RFC 6455 §5.5.1, §7.4).

use std::fmt;

use crate::error::{ProtocolError, UsageError};

/// Longest close reason: 125 bytes of control payload less the 2-byte code.
pub const MAX_REASON_LEN: usize = 123;

/// A close status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present (never sent on the wire).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: closed without a close frame (never sent on the wire).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data inconsistent with the message type (e.g. invalid UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: message too big.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client needed an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: internal server error.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: service restart.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: bad gateway.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: TLS handshake failure (never sent on the wire).
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether the code may appear in a close frame: 1000–1003, 1007–1014 (registered) and
    /// 3000–4999 (libraries and applications). The same set is accepted from the peer.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(c: u16) -> Self {
        CloseCode(c)
    }
}

impl From<CloseCode> for u16 {
    fn from(c: CloseCode) -> u16 {
        c.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The code and reason of a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, valid UTF-8 of at most 123 bytes.
    pub reason: String,
}

/// Parses a received close payload. Empty means "no status" (`Ok(None)`).
pub fn parse_close_payload(payload: &[u8]) -> Result<Option<CloseFrame>, ProtocolError> {
    match payload {
        [] => Ok(None),
        [_] => Err(ProtocolError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            let reason = std::str::from_utf8(reason)
                .map_err(|_| ProtocolError::InvalidCloseReason)?
                .to_owned();
            Ok(Some(CloseFrame { code, reason }))
        }
    }
}

/// Checks a close the caller wants to send. [`CloseCode::NO_STATUS`] means "send a close
/// frame without a code" (and then the reason must be empty).
pub fn validate_outgoing(code: CloseCode, reason: &str) -> Result<(), UsageError> {
    if code == CloseCode::NO_STATUS {
        if !reason.is_empty() {
            return Err(UsageError::InvalidCloseCode(code.0));
        }
        return Ok(());
    }
    if !code.is_sendable() {
        return Err(UsageError::InvalidCloseCode(code.0));
    }
    if reason.len() > MAX_REASON_LEN {
        return Err(UsageError::CloseReasonTooLong(reason.len()));
    }
    Ok(())
}

/// Writes a close payload into `buf`, returning its length (0 for [`CloseCode::NO_STATUS`]).
pub fn encode_close_payload(code: CloseCode, reason: &str, buf: &mut [u8; 125]) -> usize {
    if code == CloseCode::NO_STATUS {
        return 0;
    }
    buf[..2].copy_from_slice(&code.0.to_be_bytes());
    buf[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
    2 + reason.len()
}
