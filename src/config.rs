//! Options and limits. Every buffer the engine keeps is bounded by one of these.

use crate::deflate::DeflateConfig;
use crate::error::UsageError;
use crate::handshake::HandshakeLimits;

/// Limits in bytes (and frames) on what a peer may make the engine hold.
///
/// Exceeding a frame or message limit fails the connection with close code 1009; exceeding a
/// handshake limit answers 431 (server) or fails the handshake (client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message after decompression. Default 16 MiB (as Boost.Beast's
    /// `read_message_max`).
    pub max_message_size: usize,
    /// Largest single frame payload on the wire. Default 16 MiB.
    pub max_frame_size: usize,
    /// Most frames in one message. Default 262 144: a 16 MiB message in 64-byte frames
    /// (Autobahn 9.x sends 4 MiB in 64-byte frames). Bounds the CPU a flood of empty
    /// fragments can cost; memory is bounded by `max_message_size` regardless.
    pub max_fragments: usize,
    /// Limits on the opening handshake (head bytes, header count, error body).
    pub handshake: HandshakeLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 16 << 20,
            max_frame_size: 16 << 20,
            max_fragments: 1 << 18,
            handshake: HandshakeLimits::default(),
        }
    }
}

/// Options shared by both roles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Limits on what the peer may send.
    pub limits: Limits,
    /// Split outgoing messages into frames of at most `write_buffer_bytes` payload bytes.
    /// Default on (as Beast).
    pub auto_fragment: bool,
    /// Frame payload size used by `auto_fragment`. Default 65536 (64 KiB). Must be ≥ 1.
    ///
    /// Beast's default is 4096; measured here (`cargo xtask bench`, loopback echo, CPU per
    /// message of server + client), 4 KiB frames cost 9–15 % more than 64 KiB frames on
    /// 64 KiB–1 MiB messages (a 1 MiB message is 256 headers, 256 mask keys on the client, a
    /// 512-slice `writev` on the server, and 256 frames for the peer to parse), while 64 KiB
    /// frames are within noise of one frame per message. The whole message is in the output
    /// either way, so smaller frames save no memory here.
    pub write_buffer_bytes: usize,
    /// Answer pings with pongs automatically. Default on. Pings are reported as events
    /// either way.
    pub auto_pong: bool,
    /// permessage-deflate (RFC 7692): `Some` to offer (client) or accept (server) it.
    /// Default `None`.
    pub deflate: Option<DeflateConfig>,
    /// Milliseconds allowed for the opening handshake. Default 30 000. `None` disables.
    pub handshake_timeout_ms: Option<u64>,
    /// Milliseconds to wait for the peer's close frame after ours, and (client) for the
    /// server to close the transport after the close handshake. Default 5 000.
    pub close_timeout_ms: Option<u64>,
    /// Send a ping after this many milliseconds without receiving anything. Default `None`.
    pub keepalive_interval_ms: Option<u64>,
    /// Fail the connection (1006) when nothing arrives this many milliseconds after a
    /// keepalive ping. Default 20 000.
    pub keepalive_timeout_ms: u64,
    /// Fail the connection when nothing is received for this many milliseconds. Default
    /// `None`.
    pub idle_timeout_ms: Option<u64>,
    /// Fail the connection when bytes wait to be sent and the transport takes none of them
    /// for this many milliseconds: a peer that stops reading (or a dead link whose TCP
    /// window closed) cannot pin a writer forever. Default 30 000. `None` disables.
    ///
    /// The clock runs only while output is pending, and restarts whenever the transport
    /// takes some of it, so a slow but live peer is never cut off.
    pub write_timeout_ms: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            limits: Limits::default(),
            auto_fragment: true,
            write_buffer_bytes: 64 * 1024,
            auto_pong: true,
            deflate: None,
            handshake_timeout_ms: Some(30_000),
            close_timeout_ms: Some(5_000),
            keepalive_interval_ms: None,
            keepalive_timeout_ms: 20_000,
            idle_timeout_ms: None,
            write_timeout_ms: Some(30_000),
        }
    }
}

impl Config {
    /// Checks every option's range.
    pub fn validate(&self) -> Result<(), UsageError> {
        let bad = |m: &str| Err(UsageError::InvalidOption(m.to_owned()));
        if self.write_buffer_bytes == 0 {
            return bad("write_buffer_bytes must be at least 1");
        }
        if self.limits.max_message_size == 0 || self.limits.max_frame_size == 0 {
            return bad("message and frame limits must be at least 1");
        }
        if self.limits.max_fragments == 0 {
            return bad("max_fragments must be at least 1");
        }
        if self.limits.handshake.max_head_bytes < 64 || self.limits.handshake.max_headers < 4 {
            return bad("handshake limits too small for any valid handshake");
        }
        if let Some(d) = &self.deflate {
            d.validate()?;
        }
        Ok(())
    }
}
