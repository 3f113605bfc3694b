//! Test certificates made at test time with rcgen: a CA and a leaf it signs. The leaf says
//! `basicConstraints=critical,CA:FALSE` and carries SANs, or webpki rejects it.
//! Shared by tests/tls.rs and the component host's tests (by `#[path]`).

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// PEM texts of a CA certificate and of a leaf certificate with its private key.
pub struct Pki {
    /// The CA certificate: the root a client must trust.
    pub ca_pem: String,
    /// The leaf certificate, signed by the CA.
    pub cert_pem: String,
    /// The leaf's private key (PKCS#8).
    pub key_pem: String,
}

/// A fresh CA and a leaf valid for `names` (DNS names or IP addresses).
pub fn pki(names: &[&str]) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "wsengine test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut leaf_params = CertificateParams::new(names).unwrap();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "wsengine test server");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    let key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&key, &ca).unwrap();
    Pki {
        ca_pem: ca.pem(),
        cert_pem: leaf.pem(),
        key_pem: key.serialize_pem(),
    }
}
