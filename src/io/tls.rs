//! TLS streams as [`Transport`]s (feature `rustls`): any `rustls::StreamOwned` over a
//! transport, client or server, and the client's handshake bounded by the handshake timeout.

use std::io::{self, ErrorKind};
use std::net::TcpStream;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ConnectionCommon, SideData, StreamOwned};

use super::Transport;
use crate::error::{Error, TimeoutKind, TlsError};

/// A TLS stream over a transport (TCP, or anything else implementing [`Transport`]): its
/// read timeouts are the transport's, so the engine's timers keep working through TLS. A
/// read that times out leaves rustls with the partial record it has buffered; the next read
/// continues it.
impl<C, D, S> Transport for StreamOwned<C, S>
where
    C: DerefMut + Deref<Target = ConnectionCommon<D>>,
    D: SideData,
    S: Transport,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        self.sock.set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        self.sock.set_write_timeout(timeout)
    }

    /// Sends TLS close_notify (best effort: the peer may be gone already, which is what a
    /// shutdown wants anyway), then shuts the transport down.
    fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        while self.conn.wants_write() {
            match self.conn.write_tls(&mut self.sock) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = self.sock.flush();
        self.sock.shutdown()
    }
}

/// The TLS server name for a URL's host (a DNS name or an IP address), checked before any
/// connection is made: [`TlsError::InvalidServerName`] otherwise.
pub(crate) fn server_name(host: &str) -> Result<ServerName<'static>, Error> {
    ServerName::try_from(host.to_owned())
        .map_err(|_| TlsError::InvalidServerName(host.to_owned()).into())
}

/// Starts TLS as a client over `tcp` for `name` and completes the TLS handshake within
/// `timeout` (the WebSocket handshake timeout: TLS is part of opening the connection).
///
/// Errors: [`TlsError::Rustls`] for a rejected certificate or an alert,
/// [`TimeoutKind::Handshake`] when the server does not finish in time, I/O errors otherwise.
pub(crate) fn client_handshake(
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    mut tcp: TcpStream,
    timeout: Option<Duration>,
) -> Result<StreamOwned<ClientConnection, TcpStream>, Error> {
    let mut conn = ClientConnection::new(config, name).map_err(TlsError::Rustls)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    while conn.is_handshaking() {
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
        if left == Some(Duration::ZERO) {
            return Err(Error::Timeout(TimeoutKind::Handshake));
        }
        tcp.set_read_timeout(left)?;
        match conn.complete_io(&mut tcp) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(Error::Timeout(TimeoutKind::Handshake));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The adapter sets its own read timeouts from the engine's deadlines.
    tcp.set_read_timeout(None)?;
    Ok(StreamOwned::new(conn, tcp))
}
