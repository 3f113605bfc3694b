//! TLS inside the component (feature `component-tls`): rustls with the pure-Rust RustCrypto
//! provider, driven over `wasi:io` streams by [`Transport`](super::transport::Transport).
//! Sans-IO like the engine: bytes in, plaintext and bytes to send out.

use std::io::{ErrorKind, Read, Write};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};

use crate::error::{Error, TlsError};

/// Plaintext taken from rustls per call.
const CHUNK: usize = 16 * 1024;

fn config(roots: RootCertStore) -> Result<Arc<ClientConfig>, Error> {
    let config = ClientConfig::builder_with_provider(Arc::new(rustls_rustcrypto::provider()))
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The client config trusting the webpki (Mozilla) roots, built once per instance.
fn default_config() -> Result<Arc<ClientConfig>, Error> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(c) = CONFIG.get() {
        return Ok(c.clone());
    }
    let roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let c = config(roots)?;
    Ok(CONFIG.get_or_init(|| c).clone())
}

/// A TLS client connection to `host`, trusting the certificates in `roots_pem` if given
/// (else the webpki roots). Typed errors: an invalid server name or PEM, or a rustls error.
pub(super) fn client_connection(
    host: &str,
    roots_pem: Option<&str>,
) -> Result<ClientConnection, Error> {
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| TlsError::InvalidServerName(host.to_owned()))?;
    let config = match roots_pem {
        None => default_config()?,
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| TlsError::InvalidPem(format!("tls-roots-pem: {e}")))?;
                roots.add(cert).map_err(TlsError::Rustls)?;
            }
            if roots.is_empty() {
                let why = "tls-roots-pem holds no CERTIFICATE block";
                return Err(TlsError::InvalidPem(why.into()).into());
            }
            config(roots)?
        }
    };
    Ok(ClientConnection::new(config, name).map_err(TlsError::Rustls)?)
}

/// A rustls client connection with the plaintext it decrypted and not yet handed out.
pub(super) struct Tls {
    conn: Box<ClientConnection>,
    plain: Vec<u8>,
    eof: bool,
}

impl Tls {
    pub(super) fn new(conn: ClientConnection) -> Tls {
        Tls {
            conn: Box::new(conn),
            plain: Vec::new(),
            eof: false,
        }
    }

    pub(super) fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// Ciphertext to send (handshake messages, records, alerts); may be empty.
    pub(super) fn take_output(&mut self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        while self.conn.wants_write() {
            self.conn.write_tls(&mut out)?;
        }
        Ok(out)
    }

    /// Feeds ciphertext; what it decrypts is kept for [`take_plain`](Self::take_plain). A
    /// record split across reads waits in rustls for its rest.
    pub(super) fn receive(&mut self, mut data: &[u8]) -> Result<(), Error> {
        while !data.is_empty() {
            // rustls refuses more input while its plaintext buffer is full: drain it first.
            self.drain()?;
            self.conn.read_tls(&mut data)?;
            self.conn
                .process_new_packets()
                .map_err(|e| Error::Tls(TlsError::Rustls(e)))?;
        }
        self.drain()
    }

    /// The stream ended. A peer that leaves without close_notify is not an error here: the
    /// WebSocket close handshake above says whether the end was clean.
    pub(super) fn receive_eof(&mut self) -> Result<(), Error> {
        self.conn.read_tls(&mut &[][..])?;
        self.conn
            .process_new_packets()
            .map_err(|e| Error::Tls(TlsError::Rustls(e)))?;
        self.drain()?;
        self.eof = true;
        Ok(())
    }

    fn drain(&mut self) -> Result<(), Error> {
        let mut buf = [0u8; CHUNK];
        loop {
            match self.conn.reader().read(&mut buf) {
                Ok(0) => {
                    self.eof = true; // close_notify
                    return Ok(());
                }
                Ok(n) => self.plain.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // The transport ended without close_notify.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    self.eof = true;
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Plaintext decrypted so far (empty if none).
    pub(super) fn take_plain(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.plain)
    }

    /// Whether decrypted plaintext is waiting.
    pub(super) fn has_plain(&self) -> bool {
        !self.plain.is_empty()
    }

    /// The peer sent close_notify or the stream ended.
    pub(super) fn at_eof(&self) -> bool {
        self.eof
    }

    /// Encrypts some of `data`; the records are in [`take_output`](Self::take_output).
    pub(super) fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        Ok(self.conn.writer().write(data)?)
    }

    /// A close_notify alert to send.
    pub(super) fn close_notify(&mut self) -> Result<Vec<u8>, Error> {
        self.conn.send_close_notify();
        self.take_output()
    }
}
