//! permessage-deflate (RFC 7692): negotiation and the per-message codec.
//!
//! * [`DeflateConfig`] — what to offer (client) or accept (server), and how hard to compress.
//! * `negotiate` — the handshake: the client's offers, the server's choice, the client's check
//!   of the answer. It produces a [`PerMessageDeflate`], an [`Extension`] the connection calls
//!   per message without knowing anything of DEFLATE.
//! * `compress` / `decompress` — the two directions, each with its own negotiated
//!   [`StreamParams`]: a sync-flushed raw DEFLATE stream that never reaches further back than
//!   the agreed window, and an inflater that checks the output size while inflating.
//!
//! Nothing here panics on any input: malformed negotiation parameters are declined or
//! rejected, corrupt data is `ExtensionError::Corrupt`, oversized data `TooBig`.
//!
//! [`Extension`]: crate::extension::Extension

mod codec;
mod compress;
mod decompress;
mod negotiate;

pub use codec::{PerMessageDeflate, StreamParams};
pub(crate) use negotiate::{client_accept, client_offers, server_accept};

use crate::error::UsageError;

/// permessage-deflate options, for both roles.
///
/// # What a client offers
///
/// First an offer carrying exactly this configuration (with the defaults:
/// `permessage-deflate; client_max_window_bits`, as browsers send). If that offer asks
/// anything of the server (`server_no_context_takeover`, `server_max_window_bits`), a second
/// offer follows without those requests, so that a server unable to honour them still
/// compresses: they only shape the server's compressor, and our inflater costs the same
/// whatever the server does. The server's answer is accepted if it is valid for either offer.
///
/// # Memory
///
/// Heap bytes per connection, counted with a counting allocator on x86-64 with miniz_oxide 0.9
/// (`size_of::<CompressorOxide>()` is 65,712 and `size_of::<DecompressorOxide>()` 10,504, to
/// which come their separately boxed buffers):
///
/// | state                                          | bytes                              |
/// |------------------------------------------------|------------------------------------|
/// | negotiated, nothing compressed yet (idle)      | 128 (the boxed extension)          |
/// | + after the first message we compress          | + 319,326 (+ 2^(w−1) if w < 15)    |
/// | + after the first compressed message received  | + 43,272                           |
///
/// The compressor is miniz_oxide's `CompressorOxide` with its 64 KiB LZ code buffer, 85 KiB
/// output buffer, 32 KiB window, two 64 KiB hash tables and Huffman tables; with our window
/// `w` below 15, 2^(w−1) more bytes keep recent history for priming (see the `compress`
/// module). The inflater is `DecompressorOxide` plus its 32 KiB history ring. So a connection
/// that compresses both ways settles at about 355 KiB, like zlib's defaults (≈ 256 KiB deflate
/// + 44 KiB inflate).
///
/// With context takeover both halves stay allocated until the connection is dropped:
/// allocating and zeroing them again would cost every message ≈ 70 µs (compressor) and
/// ≈ 25 µs (inflater). A direction negotiated with `*_no_context_takeover` needs nothing from
/// one message to the next, so its half is released after every message (RFC 7692 §8.1.1.1:
/// what the parameter is for): `server_no_context_takeover` + `client_no_context_takeover`
/// bring an idle connection back to the 128 bytes above, for that cost per message and a
/// lower ratio on small messages. Window sizes do not change these amounts:
/// miniz_oxide always works with a 32 KiB window, and smaller ones are enforced by how data is
/// fed to it. Decoded messages are bounded by the caller's limit (the connection's
/// `max_message_size`), checked while inflating.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Client: ask the server to start every message it compresses with an empty window (in
    /// the first offer only, see "What a client offers"). Server: always answer with it, and
    /// compress every message with an empty window. Default `false`.
    pub server_no_context_takeover: bool,
    /// Client: declare that we compress every message with an empty window. Server: require
    /// it of the client (always answered). Default `false`.
    pub client_no_context_takeover: bool,
    /// Limit on the server's LZ77 window, base-2 logarithm 8..=15. Client: requested in the
    /// first offer only. Server: the most we compress with (a client's request can only lower it),
    /// always answered. `None` (default): not requested by a client, and a server uses 15
    /// (32 KiB) unless the client asks for less.
    pub server_max_window_bits: Option<u8>,
    /// Limit on the client's LZ77 window, 8..=15. Client: the most we compress with, sent as
    /// `client_max_window_bits=N` (with `None`, default, it is sent without a value: "tell me
    /// your limit"). Server: answered when the client's offer allows it, to make the client
    /// compress with at most this window; a client that does not support the parameter is
    /// accepted with its full window (our inflater handles any window at the same cost).
    pub client_max_window_bits: Option<u8>,
    /// miniz_oxide compression level, 0..=10. 0 sends every message uncompressed (RSV1 clear)
    /// while still accepting compressed messages from the peer. Default 3.
    ///
    /// Measured with miniz_oxide 0.9 (x86-64, release, 32 KiB window; ratio = compressed /
    /// original, then compression throughput, best of 20 runs on a shared 2-core machine, so
    /// ±30 %):
    ///
    /// | level | GPL-3 text, 35 KB | boto3 JSON, 77 KB | 5000 JSON messages, 120 B avg, context takeover |
    /// |-------|-------------------|-------------------|------------------------------------------------|
    /// | 1     | 0.467, 144 MB/s   | 0.117, 750 MB/s   | 0.367, 38 MB/s                                 |
    /// | 2     | 0.385, 101 MB/s   | 0.091, 235 MB/s   | 0.325, 36 MB/s                                 |
    /// | **3** | 0.357, 63 MB/s    | 0.067, 189 MB/s   | 0.304, 33 MB/s                                 |
    /// | 4     | 0.352, 54 MB/s    | 0.069, 185 MB/s   | 0.297, 33 MB/s                                 |
    /// | 6     | 0.345, 27 MB/s    | 0.061, 104 MB/s   | 0.294, 23 MB/s                                 |
    /// | 9     | 0.345, 24 MB/s    | 0.060, 61 MB/s    | 0.293, 13 MB/s                                 |
    ///
    /// Level 3 is the knee: within 3–10 % of level 6's output at 1.4–2.3× its speed, while
    /// levels 1–2 produce 7–75 % more bytes than level 3. (Small messages are dominated by the per-message flush,
    /// ≈ 1–3 µs, so their throughput barely depends on the level.)
    pub level: u8,
    /// Messages sent whole (`send`) and shorter than this many bytes go uncompressed (RSV1
    /// clear). Default 32.
    ///
    /// Measured at level 3 on prefixes of JSON messages (average compressed size):
    ///
    /// | length | with context takeover | each message with an empty window |
    /// |--------|-----------------------|-----------------------------------|
    /// | 16     | 4.0 (0.25)            | 18.0 (1.12)                       |
    /// | 32     | 7.3 (0.23)            | 33.2 (1.04)                       |
    /// | 64     | 24.6 (0.38)           | 68.3 (1.07)                       |
    /// | 96     | 33.0 (0.34)           | 89.0 (0.93)                       |
    /// | 128    | 37.5 (0.29)           | 107.5 (0.84)                      |
    ///
    /// With context takeover (the default in both directions) even short messages shrink by
    /// 60–75 %, but below 32 bytes the saving is at most about two dozen bytes per message,
    /// for ≈ 1.2 µs of CPU each.
    /// When we compress with no context takeover, messages under ≈ 90 bytes grow slightly
    /// (2–6 bytes): raise the threshold to ~96 in that case.
    pub threshold: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
            level: 3,
            threshold: 32,
        }
    }
}

impl DeflateConfig {
    /// Checks the options: window bits within 8..=15, level at most 10.
    pub fn validate(&self) -> Result<(), UsageError> {
        check_window_bits("server_max_window_bits", self.server_max_window_bits)?;
        check_window_bits("client_max_window_bits", self.client_max_window_bits)?;
        if self.level > 10 {
            return Err(UsageError::InvalidOption(format!(
                "deflate level {} is above 10",
                self.level
            )));
        }
        Ok(())
    }
}

fn check_window_bits(name: &str, bits: Option<u8>) -> Result<(), UsageError> {
    match bits {
        Some(b) if !(8..=15).contains(&b) => Err(UsageError::InvalidOption(format!(
            "{name} {b} is outside 8..=15"
        ))),
        _ => Ok(()),
    }
}
