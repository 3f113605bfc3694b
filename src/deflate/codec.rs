//! The negotiated extension: an [`Extension`] that compresses outgoing messages and inflates
//! incoming ones, each direction with its own negotiated parameters.

use std::fmt;

use super::compress::Compressor;
use super::decompress::Decompressor;
use super::{check_window_bits, DeflateConfig};
use crate::error::{ExtensionError, UsageError};
use crate::extension::Extension;

/// The `Sec-WebSocket-Extensions` token.
pub(super) const NAME: &str = "permessage-deflate";

/// RSV1, which permessage-deflate sets on the first frame of a compressed message.
const RSV1: u8 = 0x40;

/// The agreed parameters of one direction of a permessage-deflate connection (RFC 7692 §7.1):
/// how its sender compresses, and so what its receiver must be able to inflate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamParams {
    /// The sender starts every message with an empty LZ77 window
    /// (`server_no_context_takeover` / `client_no_context_takeover`). Default `false`.
    pub no_context_takeover: bool,
    /// Base-2 logarithm of the sender's LZ77 window, 8..=15
    /// (`server_max_window_bits` / `client_max_window_bits`). Default 15 (32 KiB).
    pub max_window_bits: u8,
}

impl Default for StreamParams {
    fn default() -> Self {
        StreamParams {
            no_context_takeover: false,
            max_window_bits: 15,
        }
    }
}

/// permessage-deflate (RFC 7692) as negotiated for one connection: compresses the messages we
/// send with the `outgoing` parameters and inflates the ones we receive, sent with the
/// `incoming` parameters. Normally made by the handshake; built by hand, both ends must use
/// mirrored parameters.
///
/// The compressor and the inflater are allocated on first use (see [`DeflateConfig`] for
/// their size). With context takeover they are kept until the connection is dropped, so that
/// no message pays for an allocation; a direction without it (`no_context_takeover`) releases
/// its half after every message, so an idle connection holds neither.
pub struct PerMessageDeflate {
    outgoing: StreamParams,
    incoming: StreamParams,
    level: u8,
    threshold: usize,
    compressor: Compressor,
    decompressor: Decompressor,
}

impl PerMessageDeflate {
    /// The extension for a connection whose messages we send with `outgoing` and receive with
    /// `incoming` parameters; `config` gives the compression level and threshold.
    ///
    /// Errors: `InvalidOption` if `config` is invalid or a window is outside 8..=15.
    pub fn new(
        config: &DeflateConfig,
        outgoing: StreamParams,
        incoming: StreamParams,
    ) -> Result<PerMessageDeflate, UsageError> {
        config.validate()?;
        check_window_bits("outgoing max_window_bits", Some(outgoing.max_window_bits))?;
        check_window_bits("incoming max_window_bits", Some(incoming.max_window_bits))?;
        Ok(PerMessageDeflate {
            outgoing,
            incoming,
            level: config.level,
            threshold: config.threshold,
            compressor: Compressor::new(
                config.level,
                outgoing.max_window_bits,
                outgoing.no_context_takeover,
            ),
            decompressor: Decompressor::new(incoming.no_context_takeover),
        })
    }

    /// The parameters we compress with.
    pub fn outgoing(&self) -> StreamParams {
        self.outgoing
    }

    /// The parameters the peer compresses with.
    pub fn incoming(&self) -> StreamParams {
        self.incoming
    }
}

impl fmt::Debug for PerMessageDeflate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerMessageDeflate")
            .field("outgoing", &self.outgoing)
            .field("incoming", &self.incoming)
            .field("level", &self.level)
            .field("threshold", &self.threshold)
            .field("compressor_allocated", &self.compressor.is_allocated())
            .field("inflater_allocated", &self.decompressor.is_allocated())
            .finish()
    }
}

impl Extension for PerMessageDeflate {
    fn name(&self) -> &str {
        NAME
    }

    fn rsv_mask(&self) -> u8 {
        RSV1
    }

    fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<(), ExtensionError> {
        self.decompressor.decode(input, fin, out, max_out)
    }

    /// Compresses unless the level is 0 (we then only receive compressed messages) or the
    /// message is known to be shorter than the threshold. A message started with `fin ==
    /// false` is compressed whatever its first chunk's length, since its total is unknown.
    fn begin_message(&mut self, len_hint: usize, fin: bool) -> u8 {
        if self.level == 0 || (fin && len_hint < self.threshold) {
            0
        } else {
            RSV1
        }
    }

    fn encode(&mut self, input: &[u8], fin: bool, out: &mut Vec<u8>) -> Result<(), ExtensionError> {
        self.compressor.encode(input, fin, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_extension_is_small() {
        // Everything large is allocated on first use (see DeflateConfig's memory table).
        assert!(std::mem::size_of::<PerMessageDeflate>() <= 160);
    }

    #[test]
    fn default_stream_params_are_a_full_window_with_context_takeover() {
        assert_eq!(
            StreamParams::default(),
            StreamParams {
                no_context_takeover: false,
                max_window_bits: 15
            }
        );
    }
}
