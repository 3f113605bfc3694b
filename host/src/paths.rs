//! Where the built components are.

use std::path::PathBuf;

/// The directory holding `engine.wasm`, `websocket.wasm` and the example guests:
/// `$WSENGINE_COMPONENT_DIR` if set (the xtask sets it), else `target/component` in the
/// workspace.
pub fn component_dir() -> PathBuf {
    match std::env::var_os("WSENGINE_COMPONENT_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/component")),
    }
}
