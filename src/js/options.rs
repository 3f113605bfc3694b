//! `Options`: the engine's [`Config`] as the JS package sets it, one field per setter.
//!
//! A class with setters (rather than a JS object read through `Reflect`) keeps the binding
//! free of `js-sys`; options are built once per connection (or once per server), so the
//! extra calls cost nothing that matters.

use wasm_bindgen::prelude::*;

use crate::{Config, DeflateConfig};

/// Connection options. Defaults: the engine's [`Config::default`] with permessage-deflate
/// offered (client) or accepted (server) with [`DeflateConfig::default`], as browsers do,
/// and each message sent as one frame (as browsers and `ws` do; measured cheaper for large
/// messages than 4 KiB frames, since every frame costs a header and a mask key).
#[wasm_bindgen]
pub struct Options {
    pub(crate) config: Config,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: Config {
                deflate: Some(DeflateConfig::default()),
                auto_fragment: false,
                ..Config::default()
            },
        }
    }
}

/// Milliseconds from JS: a negative or non-finite number disables the timer.
fn ms(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

/// A byte count from JS, saturated into `usize` (1 at least: the engine rejects 0).
fn bytes(v: f64) -> usize {
    if v.is_nan() || v < 1.0 {
        return 1;
    }
    if v >= usize::MAX as f64 {
        usize::MAX
    } else {
        v as usize
    }
}

#[wasm_bindgen]
impl Options {
    /// The defaults (see the type's documentation).
    #[wasm_bindgen(constructor)]
    pub fn new() -> Options {
        Options::default()
    }

    /// Offer / accept permessage-deflate (default true).
    #[wasm_bindgen(js_name = setDeflate)]
    pub fn set_deflate(&mut self, on: bool) {
        self.config.deflate = on.then(DeflateConfig::default);
    }

    /// Largest message accepted, in bytes after decompression (default 16 MiB).
    #[wasm_bindgen(js_name = setMaxMessageSize)]
    pub fn set_max_message_size(&mut self, n: f64) {
        self.config.limits.max_message_size = bytes(n);
        self.config.limits.max_frame_size = bytes(n);
    }

    /// Opening handshake timeout in ms; negative disables (default 30 000).
    #[wasm_bindgen(js_name = setHandshakeTimeout)]
    pub fn set_handshake_timeout(&mut self, v: f64) {
        self.config.handshake_timeout_ms = ms(v);
    }

    /// Close handshake timeout in ms; negative disables (default 5 000).
    #[wasm_bindgen(js_name = setCloseTimeout)]
    pub fn set_close_timeout(&mut self, v: f64) {
        self.config.close_timeout_ms = ms(v);
    }

    /// Keepalive ping interval in ms; negative disables (default: off).
    #[wasm_bindgen(js_name = setKeepalive)]
    pub fn set_keepalive(&mut self, interval: f64, timeout: f64) {
        self.config.keepalive_interval_ms = ms(interval);
        if let Some(t) = ms(timeout) {
            self.config.keepalive_timeout_ms = t;
        }
    }

    /// Write timeout in ms: the connection fails (1006) when bytes wait this long without
    /// the transport writing any (a peer that stopped reading); negative disables (default
    /// 30 000).
    #[wasm_bindgen(js_name = setWriteTimeout)]
    pub fn set_write_timeout(&mut self, v: f64) {
        self.config.write_timeout_ms = ms(v);
    }

    /// Idle timeout in ms: the connection fails (1006) when nothing arrives for this long;
    /// negative disables (default: off).
    #[wasm_bindgen(js_name = setIdleTimeout)]
    pub fn set_idle_timeout(&mut self, v: f64) {
        self.config.idle_timeout_ms = ms(v);
    }

    /// Payload bytes per outgoing frame (`write_buffer_bytes`); 0 sends each message as one
    /// frame (`auto_fragment` off).
    #[wasm_bindgen(js_name = setFrameSize)]
    pub fn set_frame_size(&mut self, n: f64) {
        self.config.auto_fragment = n >= 1.0;
        if self.config.auto_fragment {
            self.config.write_buffer_bytes = bytes(n);
        }
    }
}
