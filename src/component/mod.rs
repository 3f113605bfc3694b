//! The WASI 0.2 component face: `wit/`'s `wsengine:websocket` exports, built with
//! `--target wasm32-wasip2 --features component` (the `engine` world) or
//! `--features component-websocket` (the `websocket` world).
//!
//! A thin adapter: it converts between WIT types and the engine's, and (websocket world) moves
//! bytes between `wasi:io` streams and a [`Connection`](crate::Connection). Framing,
//! validation, timers and the close procedure stay in the engine.

#[cfg(feature = "component-websocket")]
mod buffer;
mod convert;
mod engine;
#[cfg(feature = "component-websocket")]
mod gather;
#[cfg(feature = "component-websocket")]
mod listener;
#[cfg(feature = "component-websocket")]
mod net;
#[cfg(feature = "component-websocket")]
mod socket;
#[cfg(feature = "component-tls")]
mod tls;
#[cfg(feature = "component-websocket")]
mod transport;
#[cfg(feature = "component-websocket")]
mod wait;

// `generate_all`: the wasi imports of the websocket world get bindings here too, so the
// exported `websocket.subscribe` can return the very `pollable` type its streams make.
#[cfg(not(feature = "component-websocket"))]
wit_bindgen::generate!({ world: "engine", path: "wit", generate_all });
#[cfg(feature = "component-websocket")]
wit_bindgen::generate!({ world: "websocket", path: "wit", generate_all });

/// The type every exported interface is implemented on.
struct Component;

export!(Component);
