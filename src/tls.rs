//! TLS configuration shared by the adapters (feature `rustls`): rustls 0.23 with the `ring`
//! provider, chosen explicitly per config so nothing depends on a process-wide default.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};

/// A client config trusting the Mozilla root program (webpki-roots), TLS 1.2 and 1.3, no
/// client certificate. Built once per call; share the `Arc` between connections.
pub fn default_client_config() -> Arc<ClientConfig> {
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    client_config_with_roots(roots)
}

/// A client config trusting exactly `roots` (a private CA, a test certificate), TLS 1.2 and
/// 1.3, no client certificate.
pub fn client_config_with_roots(roots: RootCertStore) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        // ring implements every default protocol version: this cannot fail.
        .expect("the ring provider supports TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
