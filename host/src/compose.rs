//! Composition without the `wac` CLI: plugs the exports of one component (the websocket
//! component) into the matching imports of another (a guest written against
//! `wsengine:websocket`), as `wac plug` does.

use std::path::Path;

use anyhow::{Context, Result};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// The composed component's bytes: `socket` with its imports satisfied by `plug`'s exports.
pub fn plug(socket: &Path, plug: &Path) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let s = Package::from_file("wsengine:guest", None, socket, graph.types_mut())
        .with_context(|| format!("reading {}", socket.display()))?;
    let s = graph.register_package(s)?;
    let p = Package::from_file("wsengine:websocket", None, plug, graph.types_mut())
        .with_context(|| format!("reading {}", plug.display()))?;
    let p = graph.register_package(p)?;
    wac_graph::plug(&mut graph, vec![p], s)?;
    Ok(graph.encode(EncodeOptions::default())?)
}
