//! Drivers shared by the fuzz targets: small limits, an input reader, a connection driven by
//! the input (bytes in arbitrary splits interleaved with API calls) and the invariants every
//! target asserts.
//!
//! The input format of each target is documented on its driver; `examples/seeds.rs` writes
//! seeds in the same format from real conversations.

pub mod close;
pub mod conn;
pub mod deflate;
pub mod handshake;
pub mod wire;

use wsengine::{Config, DeflateConfig, Limits};

/// Limits small enough that a target stays within `-malloc_limit_mb` / `-rss_limit_mb` if the
/// engine honours them, and large enough for every seed conversation.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// The deflate target's message limit: a decompression bomb hits it within a few frames.
pub const DEFLATE_MAX_MESSAGE: usize = 4 * 1024;

/// The limits every target uses.
pub fn small_limits(max_message: usize) -> Limits {
    let mut l = Limits {
        max_message_size: max_message,
        max_frame_size: max_message,
        max_fragments: 256,
        ..Limits::default()
    };
    l.handshake.max_head_bytes = 2048;
    l.handshake.max_headers = 16;
    l.handshake.max_body_bytes = 1024;
    l
}

/// A config with [`small_limits`] and, optionally, permessage-deflate.
pub fn small_config(max_message: usize, deflate: bool) -> Config {
    Config {
        limits: small_limits(max_message),
        deflate: deflate.then(DeflateConfig::default),
        // Timers are driven by the input (see `conn`); give them short, distinct values.
        handshake_timeout_ms: Some(1_000),
        close_timeout_ms: Some(500),
        keepalive_interval_ms: Some(2_000),
        keepalive_timeout_ms: 700,
        idle_timeout_ms: Some(10_000),
        ..Config::default()
    }
}

/// Reads a fuzz input front to back; past the end every read yields zeros / empty slices, so
/// any input is a complete program.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// Wraps `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((b, rest)) => {
                self.data = rest;
                *b
            }
            None => 0,
        }
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (a, b) = self.data.split_at(n);
        self.data = b;
        a
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.data.len())
    }
}
