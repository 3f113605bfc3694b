//! # wsengine
//!
//! A WebSocket protocol engine (RFC 6455, RFC 7692 permessage-deflate) without I/O, after the
//! Boost.Beast model: messages and frames, `write` / `write_some(fin)`, whole-message and
//! streaming reads, control frames answered automatically and reported as events, a full close
//! handshake, and every buffer bounded by a limit.
//!
//! ```
//! use wsengine::{ClientRequest, Config, Connection, Event, Message};
//!
//! // Two engines wired back to back: whatever one outputs, the other receives.
//! let mut client = Connection::client(ClientRequest::new("ws://example.com/chat")?, Config::default())?;
//! let mut server = Connection::server(Config::default())?;
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let n = from.output().len();
//!     to.receive(from.output());
//!     from.consume_output(n);
//! }
//! pump(&mut client, &mut server);
//! assert!(matches!(server.next_event()?, Some(Event::Open(_))));
//! pump(&mut server, &mut client);
//! assert!(matches!(client.next_event()?, Some(Event::Open(_))));
//!
//! client.send_text("hello")?;
//! pump(&mut client, &mut server);
//! match server.next_event()? {
//!     Some(Event::Message(Message::Text(t))) => assert_eq!(t, "hello"),
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), wsengine::Error>(())
//! ```

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(all(feature = "component", target_os = "wasi"))]
mod component;
#[cfg(all(feature = "js", target_arch = "wasm32"))]
mod js;

pub mod close;
pub mod config;
mod connection;
pub mod deflate;
pub mod error;
mod event;
pub mod extension;
pub mod frame;
pub mod handshake;
pub mod io;
pub mod mask;
mod random;
#[cfg(feature = "rustls")]
pub mod tls;
/// The rustls this crate is built with (feature `rustls`), for configs and server streams
/// of the matching version.
#[cfg(feature = "rustls")]
pub use rustls;
pub mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use config::{Config, Limits};
pub use connection::{Accept, AcceptFn, Connection, Refusal, Role, State, Upgrade};
pub use deflate::DeflateConfig;
pub use error::{Error, ProtocolError, TimeoutKind, TlsError, UsageError};
pub use event::{Event, Fragment, Message, MessageKind, OpenInfo};
pub use frame::OpCode;
pub use handshake::{ClientRequest, HandshakeError, Headers, Request, Response};
