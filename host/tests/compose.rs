//! Composition: the example guest (written only against `wsengine:websocket` imports) plugged
//! with the websocket component, run as a `wasi:cli` command against a native echo server.

mod common;

use common::{echo_server, native_config, runtime};
use wsengine_host::{component_dir, compose};

fn composed() -> wasmtime::component::Component {
    let dir = component_dir();
    let bytes = compose::plug(
        &dir.join("component-echo-client.wasm"),
        &dir.join("websocket.wasm"),
    )
    .expect("compose (build the components first: cargo xtask build)");
    wasmtime::component::Component::new(runtime_engine(), &bytes).unwrap()
}

fn runtime_engine() -> &'static wasmtime::Engine {
    runtime().engine_ref()
}

fn run(args: &[&str]) -> bool {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    runtime().run_command(&composed(), &args).unwrap()
}

#[test]
fn composed_guest_echoes_through_the_websocket_component() {
    let addr = echo_server(native_config(false));
    let url = format!("ws://{addr}/");
    assert!(run(&["echo-client", "--url", &url, "--count", "5"]));
}

#[test]
fn guest_waits_on_two_websockets_with_one_poll() {
    let addr = echo_server(native_config(true));
    let url = format!("ws://{addr}/");
    assert!(run(&["echo-client", "--url", &url, "--two"]));
}

#[test]
fn composed_guest_reports_a_refused_connection() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(!run(&["echo-client", "--url", &format!("ws://{addr}/")]));
}
