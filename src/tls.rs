//! TLS configuration for `wss://` clients and TLS servers (feature `rustls`), with the `ring`
//! crypto provider.
//!
//! The blocking adapter uses these through [`WebSocket::connect`](crate::io::WebSocket::connect)
//! (default roots) and [`WebSocket::connect_tls`](crate::io::WebSocket::connect_tls) (any
//! `Arc<rustls::ClientConfig>`). A server wraps each accepted TCP stream in a
//! `rustls::StreamOwned<rustls::ServerConnection, _>` and hands it to
//! [`WebSocket::accept`](crate::io::WebSocket::accept): the stream is a layer, the WebSocket
//! does not know it is encrypted.

use std::sync::{Arc, OnceLock};

use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::error::{Error, TlsError};

/// The provider every config here is built with. Chosen explicitly (not the process-wide
/// default) so that another crate enabling a second rustls provider cannot make building a
/// config panic.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// A client config that trusts the Mozilla root certificates shipped in `webpki-roots`
/// (no client certificate, TLS 1.2 and 1.3). Built once and shared: every call returns the
/// same `Arc`.
pub fn default_client_config() -> Arc<ClientConfig> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            client_config_with_roots(roots)
        })
        .clone()
}

/// A client config that trusts exactly `roots` (e.g. a test CA, or a private PKI) and
/// presents no client certificate.
pub fn client_config_with_roots(roots: RootCertStore) -> Arc<ClientConfig> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        // The ring provider supports the default versions; this cannot fail.
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// Reads every `CERTIFICATE` block of a PEM file into a root store.
///
/// Fails with [`TlsError::InvalidPem`] if the PEM is malformed or holds no certificate, and
/// with [`TlsError::Rustls`] if a certificate cannot be used as a trust anchor.
pub fn root_store_from_pem(pem: &[u8]) -> Result<RootCertStore, Error> {
    let certs = certificates_from_pem(pem)?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(TlsError::Rustls)?;
    }
    Ok(roots)
}

/// A server config presenting the certificate chain in `cert_chain_pem` (leaf first) with
/// the private key in `key_pem` (PKCS#8, PKCS#1 or SEC1), without client authentication.
///
/// Fails with [`TlsError::InvalidPem`] when either PEM is malformed or empty, and with
/// [`TlsError::Rustls`] when the key does not fit the certificate or is unsupported.
pub fn server_config_from_pem(
    cert_chain_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, Error> {
    let chain = certificates_from_pem(cert_chain_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| TlsError::InvalidPem(format!("private key: {e}")))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(TlsError::Rustls)?;
    Ok(Arc::new(config))
}

fn certificates_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::InvalidPem(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::InvalidPem("no CERTIFICATE block found".into()).into());
    }
    Ok(certs)
}
