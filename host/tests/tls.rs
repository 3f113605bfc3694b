//! `wss://` from inside the component (`websocket-tls.wasm`: rustls with the RustCrypto
//! provider in the guest) against the engine's native TLS echo server, with certificates made
//! at test time; and the build without TLS refusing `wss://` with a typed error.

mod common;
#[path = "../../tests/common/pki.rs"]
mod pki;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, OnceLock};
use std::thread;

use common::{native_config, runtime, websocket, IO_TIMEOUT};
use pki::{pki, Pki};
use wasmtime::component::Component;
use wasmtime::Store;
use wsengine::io::WebSocket;
use wsengine::rustls;
use wsengine_host::websocket::Websocket;
use wsengine_host::{component_dir, compression, options, Ctx, Message, Options, WsError};

fn tls_component() -> &'static Component {
    static C: OnceLock<Component> = OnceLock::new();
    C.get_or_init(|| {
        runtime()
            .load(component_dir().join("websocket-tls.wasm"))
            .unwrap_or_else(|e| panic!("{e} (build it first: cargo xtask build)"))
    })
}

fn websocket_tls() -> (Store<Ctx>, Websocket) {
    runtime()
        .websocket(tls_component())
        .expect("instantiate websocket-tls.wasm")
}

/// A native TLS echo server (the blocking adapter over a rustls server stream) for up to
/// `connections` connections.
fn tls_echo_server(pki: &Pki, connections: usize) -> SocketAddr {
    let config: Arc<rustls::ServerConfig> =
        wsengine::tls::server_config_from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
            .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
            thread::spawn(move || {
                stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let tls = rustls::StreamOwned::new(
                    rustls::ServerConnection::new(config).unwrap(),
                    stream,
                );
                let Ok((mut ws, _)) = WebSocket::accept(tls, native_config(true)) else {
                    return;
                };
                while let Ok(m) = ws.read() {
                    if ws.write(&m).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn trusting(pki: &Pki) -> Options {
    let mut o = options();
    o.tls_roots_pem = Some(pki.ca_pem.clone());
    o
}

#[test]
fn the_component_speaks_wss_with_compression_to_a_native_tls_server() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    let addr = tls_echo_server(&pki, 2);
    for host in ["localhost", "127.0.0.1"] {
        let (mut store, w) = websocket_tls();
        let mut o = trusting(&pki);
        o.compression = Some(compression());
        let url = format!("wss://{host}:{}/chat", addr.port());
        let (ws, info) = w
            .wsengine_websocket_client()
            .call_connect(&mut store, &url, &o)
            .unwrap()
            .unwrap();
        assert!(info.extensions.unwrap().starts_with("permessage-deflate"));
        let s = w.wsengine_websocket_sockets().websocket();
        // Larger than a TLS record and than one stream read.
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        for m in [Message::Text("hello over TLS".into()), Message::Binary(big)] {
            s.call_write(&mut store, ws, &m).unwrap().unwrap();
            assert_eq!(s.call_read(&mut store, ws).unwrap().unwrap(), m);
        }
        s.call_close(&mut store, ws, 1000, "bye").unwrap().unwrap();
        assert_eq!(
            s.call_peer_close(&mut store, ws).unwrap().unwrap().code,
            1000
        );
        ws.resource_drop(&mut store).unwrap();
    }
}

fn connect_error(store_ws: (Store<Ctx>, Websocket), url: &str, o: &Options) -> WsError {
    let (mut store, w) = store_ws;
    match w
        .wsengine_websocket_client()
        .call_connect(&mut store, url, o)
        .unwrap()
    {
        Ok(_) => panic!("{url} must not connect"),
        Err(e) => e,
    }
}

#[test]
fn an_unknown_ca_and_a_wrong_name_are_tls_errors() {
    let pki_ok = pki(&["localhost", "127.0.0.1"]);
    let addr = tls_echo_server(&pki_ok, 2);
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    // The webpki roots built into the component do not include the test CA.
    match connect_error(websocket_tls(), &url, &options()) {
        WsError::Tls(m) => assert!(m.contains("UnknownIssuer"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Trusting the CA, but the certificate names someone else.
    let other = pki(&["other.example"]);
    let addr = tls_echo_server(&other, 1);
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    match connect_error(websocket_tls(), &url, &trusting(&other)) {
        WsError::Tls(m) => assert!(m.contains("not valid for name"), "{m}"),
        e => panic!("{e:?}"),
    }
    let mut bad = options();
    bad.tls_roots_pem = Some("no certificate here".into());
    match connect_error(websocket_tls(), &url, &bad) {
        WsError::Tls(m) => assert!(m.contains("PEM"), "{m}"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn the_build_without_tls_refuses_wss_with_a_tls_error() {
    let pki = pki(&["127.0.0.1"]);
    let addr = tls_echo_server(&pki, 1);
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    match connect_error(websocket(), &url, &trusting(&pki)) {
        WsError::Tls(m) => assert!(m.contains("component-tls"), "{m}"),
        e => panic!("{e:?}"),
    }
}

#[test]
fn try_read_over_tls_returns_none_until_a_whole_message_has_arrived() {
    let pki = pki(&["127.0.0.1"]);
    let addr = tls_echo_server(&pki, 1);
    let (mut store, w) = websocket_tls();
    let url = format!("wss://127.0.0.1:{}/", addr.port());
    let (ws, _) = w
        .wsengine_websocket_client()
        .call_connect(&mut store, &url, &trusting(&pki))
        .unwrap()
        .unwrap();
    let s = w.wsengine_websocket_sockets().websocket();
    // Nothing sent yet: a non-waiting read finds nothing (and does not block).
    assert!(matches!(s.call_try_read(&mut store, ws).unwrap(), Ok(None)));
    let sent: Vec<Message> = (0..3)
        .map(|i| Message::Binary(vec![i; 40_000 + usize::from(i)]))
        .collect();
    for m in &sent {
        s.call_write(&mut store, ws, m).unwrap().unwrap();
    }
    // Each echo spans several TLS records; polling with try-read gets all three, in order.
    let mut got = Vec::new();
    let t0 = std::time::Instant::now();
    while got.len() < sent.len() && t0.elapsed() < IO_TIMEOUT {
        match s.call_try_read(&mut store, ws).unwrap().unwrap() {
            Some(m) => got.push(m),
            None => thread::sleep(std::time::Duration::from_millis(1)),
        }
    }
    assert_eq!(got, sent);
    s.call_close(&mut store, ws, 1000, "").unwrap().unwrap();
    ws.resource_drop(&mut store).unwrap();
}
