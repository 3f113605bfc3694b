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
