//! The extension seam (RFC 6455 §9). A negotiated extension transforms the payload of data
//! messages and owns some RSV bits; the frame path knows nothing else about it. This is the
//! shape of Python `websockets`' extensions: negotiation produces an object, and the
//! connection calls it per message.

use std::fmt;

use crate::error::ExtensionError;

/// One parameter of an extension offer or answer: `name` or `name=value` (a quoted value is
/// stored unquoted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionParam {
    /// Parameter name, as sent (compare case-insensitively).
    pub name: String,
    /// Parameter value, if any.
    pub value: Option<String>,
}

/// One element of a `Sec-WebSocket-Extensions` header: an extension name and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionOffer {
    /// Extension token, e.g. `permessage-deflate`.
    pub name: String,
    /// Its parameters in order (duplicates preserved, so negotiation can reject them).
    pub params: Vec<ExtensionParam>,
}

impl fmt::Display for ExtensionOffer {
    /// Formats as a header element: `name; a; b=1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for p in &self.params {
            match &p.value {
                Some(v) => write!(f, "; {}={}", p.name, v)?,
                None => write!(f, "; {}", p.name)?,
            }
        }
        Ok(())
    }
}

/// A negotiated extension acting on data messages.
///
/// The connection calls `decode_*` for every received message whose first frame has any of
/// [`Extension::rsv_mask`]'s bits set, and `encode_*` for outgoing messages the extension
/// chose to encode. Control frames never pass through an extension.
pub trait Extension: Send + fmt::Debug {
    /// The `Sec-WebSocket-Extensions` token (for `Connection::extensions`).
    fn name(&self) -> &str;

    /// The RSV bits this extension may set, as a mask of the first header byte
    /// (RSV1 = `0x40`, RSV2 = `0x20`, RSV3 = `0x10`).
    fn rsv_mask(&self) -> u8;

    /// Decodes the next chunk of a received message's payload (already unmasked), appending
    /// the decoded bytes to `out`. `fin` marks the message's last chunk. Must never make
    /// `out` grow by more than `max_out` bytes: when the decoded data would exceed it, return
    /// `ExtensionError::TooBig` (the decoded size is checked *while* decoding, so a small
    /// message that expands hugely costs no more than `max_out`).
    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<(), ExtensionError>;

    /// Called at the start of every outgoing data message. Returns the RSV bits to set on its
    /// first frame (0 = send this message unencoded, and `encode` is not called for it).
    /// `len_hint` is the whole message's length for `send`, or the first chunk's for
    /// `write_some` with `fin == false`.
    fn begin_message(&mut self, len_hint: usize, fin: bool) -> u8;

    /// Encodes the next chunk of the current outgoing message, appending to `out`. `fin`
    /// marks the last chunk. The bytes appended are exactly the payload to put on the wire.
    fn encode(&mut self, input: &[u8], fin: bool, out: &mut Vec<u8>) -> Result<(), ExtensionError>;
}
