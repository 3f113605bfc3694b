//! wss:// with the tokio adapter: a local tokio-rustls server with a certificate generated
//! here, trusted through a custom root store; the default (webpki) roots refuse it.

use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertificateParams, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use wsengine::io::tokio::{accept_async, connect_async, connect_async_tls};
use wsengine::tls::client_config_with_roots;
use wsengine::{ClientRequest, CloseCode, Config, DeflateConfig, Error, Message, TlsError};

const LIMIT: Duration = Duration::from_secs(20);

/// A leaf certificate for localhost / 127.0.0.1. webpki refuses a certificate without
/// `basicConstraints CA:FALSE` as an end entity when it is also the trust anchor.
fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.is_ca = IsCa::ExplicitNoCa;
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    (cert.der().clone(), key)
}

/// A wss echo server for `n` connections; returns its port and the certificate.
async fn server(n: usize) -> (u16, CertificateDer<'static>) {
    let (cert, key) = certificate();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        for _ in 0..n {
            let (tcp, _) = l.accept().await.unwrap();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the TLS handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let config = Config {
                    deflate: Some(DeflateConfig::default()),
                    ..Config::default()
                };
                let (mut ws, _) = accept_async(tls, config).await.unwrap();
                while let Ok(m) = ws.read().await {
                    ws.write(&m).await.unwrap();
                }
            });
        }
    });
    (port, cert)
}

#[tokio::test]
async fn wss_echo_with_a_custom_root_store() {
    timeout(LIMIT, async {
        let (port, cert) = server(2).await;
        let mut roots = RootCertStore::empty();
        roots.add(cert).unwrap();
        let tls = client_config_with_roots(roots);
        for host in ["localhost", "127.0.0.1"] {
            let req = ClientRequest::new(&format!("wss://{host}:{port}/")).unwrap();
            let config = Config {
                deflate: Some(DeflateConfig::default()),
                ..Config::default()
            };
            let (mut ws, info) = connect_async_tls(req, config, tls.clone()).await.unwrap();
            assert!(info.extensions.unwrap().starts_with("permessage-deflate"));
            let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 249) as u8).collect();
            ws.write_text("over TLS").await.unwrap();
            assert_eq!(ws.read().await.unwrap(), Message::Text("over TLS".into()));
            ws.write_binary(&big).await.unwrap();
            assert_eq!(ws.read().await.unwrap(), Message::Binary(big));
            ws.close(CloseCode::NORMAL, "").await.unwrap();
            assert!(matches!(ws.read().await, Err(Error::Closed)));
        }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_default_roots_reject_an_unknown_certificate() {
    timeout(LIMIT, async {
        let (port, _) = server(1).await;
        // connect_async uses the webpki roots for wss://, which do not include our cert.
        let r = connect_async(&format!("wss://localhost:{port}/"), Config::default()).await;
        let e = r.expect_err("an untrusted certificate must be refused");
        // The same typed error as the blocking adapter's, though tokio-rustls reports it
        // inside an io::Error.
        assert!(
            matches!(
                &e,
                Error::Tls(TlsError::Rustls(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer
                )))
            ),
            "expected an unknown-issuer certificate error, got {e:?}"
        );
        // A ws:// URL is not silently downgraded by the TLS entry point.
        let req = ClientRequest::new(&format!("ws://localhost:{port}/")).unwrap();
        let tls = wsengine::tls::default_client_config();
        assert!(matches!(
            connect_async_tls(req, Config::default(), tls).await,
            Err(Error::Usage(_))
        ));
    })
    .await
    .unwrap();
}
