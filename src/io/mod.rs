//! Thin adapters that move bytes between a transport and a [`Connection`](crate::Connection).
//! They hold no protocol logic: framing, validation and the close procedure are the engine's.

mod blocking;
mod client_stream;
#[cfg(feature = "rustls")]
mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;
mod transport;

pub use blocking::WebSocket;
pub use client_stream::ClientStream;
pub use transport::{NoTimeouts, Transport};

/// The adapters' own read buffer, for bytes the engine cannot take in place (frame headers,
/// control frames, small messages, compressed payload). Small on purpose: once a frame's
/// header is parsed, its payload is read straight into the message (`receive_buffer`), so
/// every byte a read puts here beyond the header is a byte copied. Measured (loopback echo,
/// medians of 7, against fastwebsockets): 64 KiB messages 0.98x with a 64 KiB buffer, 0.99x
/// with 16 KiB, 1.02x with 8 KiB (tokio adapter); 16 B to 1 KiB and 1 MiB unchanged.
pub(crate) const READ_BUFFER: usize = 8 * 1024;
