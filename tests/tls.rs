//! `wss://` over real TCP on loopback (feature `rustls`): echo with compression through a
//! rustls server stream, rejected certificates, mixed plain/TLS peers failing cleanly, and the
//! engine's timers working through the TLS layer. Certificates are generated per test.

#[path = "common/pki.rs"]
mod pki;

use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::{CertificateError, ServerConnection, StreamOwned};
use wsengine::io::WebSocket;
use wsengine::tls;
use wsengine::{
    ClientRequest, CloseCode, Config, DeflateConfig, Error, Message, TimeoutKind, TlsError,
};

use pki::{pki, Pki};

type TlsServerStream = StreamOwned<ServerConnection, TcpStream>;

/// Serves one TCP connection with `handler` on a thread; returns the port and the handler's
/// result, which arrives when it ends.
fn serve<T: Send + 'static>(
    handler: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (u16, mpsc::Receiver<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let _ = tx.send(handler(stream));
    });
    (port, rx)
}

/// Wraps an accepted TCP stream in TLS with the leaf of `pki`.
fn tls_stream(pki: &Pki, tcp: TcpStream) -> TlsServerStream {
    let config = tls::server_config_from_pem(pki.cert_pem.as_bytes(), pki.key_pem.as_bytes())
        .expect("server config");
    StreamOwned::new(ServerConnection::new(config).unwrap(), tcp)
}

/// A TLS WebSocket echo server for one connection; its result says how the connection ended.
fn tls_echo(pki: &Pki, config: Config) -> (u16, mpsc::Receiver<Result<(), Error>>) {
    let pki = Pki {
        ca_pem: pki.ca_pem.clone(),
        cert_pem: pki.cert_pem.clone(),
        key_pem: pki.key_pem.clone(),
    };
    serve(move |tcp| {
        let (mut ws, _) = WebSocket::accept(tls_stream(&pki, tcp), config)?;
        loop {
            match ws.read() {
                Ok(m) => ws.write(&m)?,
                Err(Error::Closed) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    })
}

fn client_config(pki: &Pki) -> Arc<rustls::ClientConfig> {
    tls::client_config_with_roots(tls::root_store_from_pem(pki.ca_pem.as_bytes()).unwrap())
}

fn compressed() -> Config {
    Config {
        deflate: Some(DeflateConfig::default()),
        ..Config::default()
    }
}

fn wait<T>(rx: &mpsc::Receiver<T>) -> T {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("server thread ended in time")
}

fn rejected_certificate(e: &Error) -> Option<&CertificateError> {
    match e {
        Error::Tls(TlsError::Rustls(rustls::Error::InvalidCertificate(c))) => Some(c),
        _ => None,
    }
}

#[test]
fn wss_echo_with_compression_over_a_custom_root() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    for host in ["localhost", "127.0.0.1"] {
        let (port, done) = tls_echo(&pki, compressed());
        echo_session(&pki, &format!("wss://{host}:{port}/chat"));
        wait(&done).unwrap();
    }
}

fn echo_session(pki: &Pki, url: &str) {
    let request = ClientRequest::new(url).unwrap();
    let (mut ws, info) = WebSocket::connect_tls(request, compressed(), client_config(pki)).unwrap();
    assert!(ws.get_ref().is_tls());
    assert!(
        info.extensions
            .as_deref()
            .is_some_and(|e| e.contains("permessage-deflate")),
        "compression negotiated through TLS: {:?}",
        info.extensions
    );
    ws.write_text("hello over TLS").unwrap();
    assert_eq!(ws.read().unwrap(), Message::Text("hello over TLS".into()));
    // Larger than one TLS record (16 KiB) and than the adapter's read buffer.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    ws.write_binary(&big).unwrap();
    assert_eq!(ws.read().unwrap().into_bytes(), big);
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(ws.peer_close().unwrap().code, CloseCode::NORMAL);
    assert!(matches!(ws.read(), Err(Error::Closed)));
}

#[test]
fn a_certificate_from_an_unknown_ca_is_rejected_with_a_typed_error() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    let (port, done) = tls_echo(&pki, Config::default());
    // The default config trusts only the webpki (Mozilla) roots, not the test CA.
    let err = WebSocket::connect(&format!("wss://127.0.0.1:{port}/"), Config::default())
        .expect_err("an unknown CA must not be trusted");
    assert_eq!(
        rejected_certificate(&err),
        Some(&CertificateError::UnknownIssuer),
        "{err:?}"
    );
    // The server learns why from the client's alert.
    let server = wait(&done).expect_err("server sees the handshake fail");
    assert!(
        matches!(
            server,
            Error::Tls(TlsError::Rustls(rustls::Error::AlertReceived(_)))
        ),
        "{server:?}"
    );
}

#[test]
fn a_certificate_for_another_name_is_rejected_with_a_typed_error() {
    let pki = pki(&["other.example"]);
    let (port, done) = tls_echo(&pki, Config::default());
    let request = ClientRequest::new(&format!("wss://127.0.0.1:{port}/")).unwrap();
    let err = WebSocket::connect_tls(request, Config::default(), client_config(&pki))
        .expect_err("a certificate for another name must not be accepted");
    assert!(
        matches!(
            rejected_certificate(&err),
            Some(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            )
        ),
        "{err:?}"
    );
    assert!(wait(&done).is_err());
}

#[test]
fn a_plain_client_to_a_tls_server_fails_cleanly_without_waiting() {
    let pki = pki(&["localhost", "127.0.0.1"]);
    let (port, done) = tls_echo(&pki, Config::default());
    let config = Config {
        handshake_timeout_ms: Some(5_000),
        ..Config::default()
    };
    let t0 = Instant::now();
    let err = WebSocket::connect(&format!("ws://127.0.0.1:{port}/"), config)
        .expect_err("a TLS server cannot speak plain HTTP");
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "failed fast, not by a timeout"
    );
    assert!(
        matches!(err, Error::Handshake(_) | Error::Protocol(_) | Error::Io(_)),
        "{err:?}"
    );
    // The server got HTTP where a ClientHello belongs: a typed TLS error.
    let server = wait(&done).expect_err("server rejects a non-TLS client");
    assert!(
        matches!(server, Error::Tls(TlsError::Rustls(_))),
        "{server:?}"
    );
}

#[test]
fn a_tls_client_to_a_plain_server_fails_cleanly_without_waiting() {
    let pki = pki(&["127.0.0.1"]);
    let (port, done) = serve(|tcp| WebSocket::accept(tcp, Config::default()).map(|_| ()));
    let config = Config {
        handshake_timeout_ms: Some(5_000),
        ..Config::default()
    };
    let request = ClientRequest::new(&format!("wss://127.0.0.1:{port}/")).unwrap();
    let t0 = Instant::now();
    let err = WebSocket::connect_tls(request, config, client_config(&pki))
        .expect_err("a plain server cannot speak TLS");
    assert!(t0.elapsed() < Duration::from_secs(2), "{err:?}");
    assert!(matches!(err, Error::Tls(TlsError::Rustls(_))), "{err:?}");
    // The server answered the ClientHello as a bad HTTP request.
    assert!(matches!(wait(&done), Err(Error::Handshake(_))));
}

#[test]
fn the_handshake_timeout_bounds_a_tls_server_that_never_answers() {
    let pki = pki(&["127.0.0.1"]);
    // Accepts TCP, then holds the connection without a word until the client gives up.
    let (port, done) = serve(|mut tcp| {
        let mut sink = [0u8; 4096];
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        while matches!(std::io::Read::read(&mut tcp, &mut sink), Ok(n) if n > 0) {}
    });
    let config = Config {
        handshake_timeout_ms: Some(300),
        ..Config::default()
    };
    let request = ClientRequest::new(&format!("wss://127.0.0.1:{port}/")).unwrap();
    let t0 = Instant::now();
    let err = WebSocket::connect_tls(request, config, client_config(&pki)).unwrap_err();
    assert!(
        matches!(err, Error::Timeout(TimeoutKind::Handshake)),
        "{err:?}"
    );
    assert!(t0.elapsed() < Duration::from_secs(3));
    wait(&done);
}

#[test]
fn the_idle_timeout_fires_through_the_tls_layer() {
    let pki = pki(&["127.0.0.1"]);
    let server_pki = Pki {
        ca_pem: String::new(),
        cert_pem: pki.cert_pem.clone(),
        key_pem: pki.key_pem.clone(),
    };
    // Opens the WebSocket, then stays silent until the client hangs up.
    let (port, done) = serve(move |tcp| {
        let (mut ws, _) = WebSocket::accept(tls_stream(&server_pki, tcp), Config::default())?;
        loop {
            ws.read()?;
        }
    });
    let config = Config {
        idle_timeout_ms: Some(300),
        close_timeout_ms: Some(300),
        ..Config::default()
    };
    let request = ClientRequest::new(&format!("wss://127.0.0.1:{port}/")).unwrap();
    let (mut ws, _) = WebSocket::connect_tls(request, config, client_config(&pki)).unwrap();
    let t0 = Instant::now();
    let err = ws.read().unwrap_err();
    assert!(matches!(err, Error::Timeout(TimeoutKind::Idle)), "{err:?}");
    assert!(t0.elapsed() < Duration::from_secs(3));
    let _: Result<(), Error> = wait(&done);
}

#[test]
fn pem_without_a_certificate_is_a_typed_error() {
    for pem in [
        &b""[..],
        b"not PEM at all",
        b"-----BEGIN CERTIFICATE-----\n!!\n",
    ] {
        match tls::root_store_from_pem(pem) {
            Err(Error::Tls(TlsError::InvalidPem(_))) => {}
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(pem)),
        }
    }
    let pki = pki(&["localhost"]);
    match tls::server_config_from_pem(pki.cert_pem.as_bytes(), b"no key here") {
        Err(Error::Tls(TlsError::InvalidPem(_))) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_host_that_is_no_tls_server_name_is_a_typed_error_before_any_connection() {
    let mut request = ClientRequest::new("wss://placeholder/").unwrap();
    // Set directly: the URL parser would not produce it, and the name is checked before DNS.
    request.url.host = "bad..host".into();
    match WebSocket::connect_tls(request, Config::default(), tls::default_client_config()) {
        Err(Error::Tls(TlsError::InvalidServerName(name))) => assert_eq!(name, "bad..host"),
        other => panic!("{:?}", other.map(|_| ())),
    }
}
