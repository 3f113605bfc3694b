//! The tokio adapter (feature `tokio`): [`WebSocketStream`] over any
//! `AsyncRead + AsyncWrite + Unpin` transport, with the blocking adapter's vocabulary as async
//! methods, a futures [`Stream`](futures_core::Stream) + [`Sink`](futures_sink::Sink) of
//! [`Message`](crate::Message)s, and [`split`](WebSocketStream::split) halves for two tasks.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wsengine::Error> {
//! use wsengine::io::tokio::connect_async;
//! use wsengine::{Config, Message};
//!
//! let (mut ws, _info) = connect_async("ws://127.0.0.1:19200/", Config::default()).await?;
//! ws.write(&Message::Text("hello".into())).await?;
//! let echo = ws.read().await?;
//! ws.close(1000, "done").await?;
//! # let _ = echo; Ok(()) }
//! ```
//!
//! Like the blocking adapter this holds no protocol logic: it moves bytes between the
//! transport and the engine and runs the engine's deadlines on a tokio timer.

mod connect;
mod core;
#[cfg(feature = "hyper")]
pub mod hyper;
mod ops;
mod split;
mod stream;

#[cfg(feature = "tokio-rustls")]
pub use connect::connect_async_tls;
pub use connect::{
    accept_async, accept_async_with, client_async, connect_async, connect_async_with, ConnectStream,
};
pub use split::{ReadHalf, WriteHalf};
pub use stream::WebSocketStream;
