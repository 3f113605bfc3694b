//! Thin adapters that move bytes between a transport and a [`Connection`](crate::Connection).
//! They hold no protocol logic: framing, validation and the close procedure are the engine's.

mod blocking;
#[cfg(feature = "tokio")]
pub mod tokio;
mod transport;

pub use blocking::WebSocket;
pub use transport::{NoTimeouts, Transport};
