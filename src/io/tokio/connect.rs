//! Opening a [`WebSocketStream`]: over a new TCP connection from a URL, or over a transport
//! the caller connected or accepted (the layered-stream model: TCP, TLS, anything).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::net::TcpStream;

use super::WebSocketStream;
use crate::config::Config;
use crate::connection::{AcceptFn, Connection};
use crate::error::Error;
use crate::event::OpenInfo;
use crate::handshake::ClientRequest;

/// The transport [`connect_async`] opens: plain TCP for `ws://`, TLS over TCP for `wss://`
/// (feature `rustls`).
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnectStream {
    /// `ws://`
    Plain(TcpStream),
    /// `wss://`
    #[cfg(feature = "tokio-rustls")]
    Rustls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Forwards one I/O call to whichever stream is inside.
macro_rules! each {
    ($self:expr, $s:ident => $call:expr) => {
        match $self.get_mut() {
            ConnectStream::Plain($s) => {
                let $s = Pin::new($s);
                $call
            }
            #[cfg(feature = "tokio-rustls")]
            ConnectStream::Rustls($s) => {
                let $s = Pin::new($s.as_mut());
                $call
            }
        }
    };
}

/// Connects to a `ws://` URL over TCP (or, with feature `rustls`, a `wss://` URL over TLS
/// trusting the webpki roots) and completes the opening handshake. Returns the stream and
/// what was agreed. For other transports, connect them yourself and call [`client_async`].
pub async fn connect_async(
    url: &str,
    config: Config,
) -> Result<(WebSocketStream<ConnectStream>, OpenInfo), Error> {
    connect_async_with(ClientRequest::new(url)?, config).await
}

/// [`connect_async`] with a full request (subprotocols, origin, headers).
pub async fn connect_async_with(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocketStream<ConnectStream>, OpenInfo), Error> {
    if request.url.tls {
        #[cfg(feature = "tokio-rustls")]
        return connect_async_tls(request, config, crate::tls::default_client_config()).await;
        #[cfg(not(feature = "tokio-rustls"))]
        {
            return Err(crate::error::TlsError::NotEnabled.into());
        }
    }
    let tcp = connect_tcp(&request, &config).await?;
    client_async(request, ConnectStream::Plain(tcp), config).await
}

/// [`connect_async_with`] for `wss://` with a TLS config of your choice (e.g. from
/// [`client_config_with_roots`](crate::tls::client_config_with_roots) for a private CA).
/// The TLS handshake counts against the handshake timeout. A `ws://` URL is refused.
#[cfg(feature = "tokio-rustls")]
pub async fn connect_async_tls(
    request: ClientRequest,
    config: Config,
    tls: std::sync::Arc<rustls::ClientConfig>,
) -> Result<(WebSocketStream<ConnectStream>, OpenInfo), Error> {
    use rustls::pki_types::ServerName;
    if !request.url.tls {
        let msg = "connect_async_tls needs a wss:// URL";
        return Err(crate::error::UsageError::InvalidUrl(msg.into()).into());
    }
    let name = ServerName::try_from(request.url.host.clone())
        .map_err(|_| crate::error::TlsError::InvalidServerName(request.url.host.clone()))?;
    let tcp = connect_tcp(&request, &config).await?;
    let connecting = tokio_rustls::TlsConnector::from(tls).connect(name, tcp);
    let stream = match config.handshake_timeout_ms.map(Duration::from_millis) {
        Some(t) => match ::tokio::time::timeout(t, connecting).await {
            Ok(r) => r?,
            // The same error as a WebSocket handshake that runs out of time, as in the
            // blocking adapter: the handshake timeout bounds TLS and HTTP together.
            Err(_) => return Err(Error::Timeout(crate::TimeoutKind::Handshake)),
        },
        None => connecting.await?,
    };
    let stream = ConnectStream::Rustls(Box::new(stream));
    client_async(request, stream, config).await
}

/// A TCP connection to the request's host, bounded by the handshake timeout.
pub(crate) async fn connect_tcp(
    request: &ClientRequest,
    config: &Config,
) -> Result<TcpStream, Error> {
    let addr = (request.url.host.as_str(), request.url.port);
    let tcp = match config.handshake_timeout_ms.map(Duration::from_millis) {
        Some(t) => match ::tokio::time::timeout(t, TcpStream::connect(addr)).await {
            Ok(r) => r?,
            // The same error as a WebSocket handshake that runs out of time, as in the
            // blocking adapter: the handshake timeout bounds TLS and HTTP together.
            Err(_) => return Err(Error::Timeout(crate::TimeoutKind::Handshake)),
        },
        None => TcpStream::connect(addr).await?,
    };
    // Frames are already coalesced by the engine; Nagle would only add latency.
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// Performs the client's opening handshake over `stream`.
pub async fn client_async<S: AsyncRead + AsyncWrite + Unpin>(
    request: ClientRequest,
    stream: S,
    config: Config,
) -> Result<(WebSocketStream<S>, OpenInfo), Error> {
    WebSocketStream::open(stream, Connection::client(request, config)?).await
}

/// Performs the server's opening handshake over `stream`, accepting any valid request.
/// An invalid one is answered (400/426/431) and returned as `Error::Handshake`.
pub async fn accept_async<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: Config,
) -> Result<(WebSocketStream<S>, OpenInfo), Error> {
    WebSocketStream::open(stream, Connection::server(config)?).await
}

/// Like [`accept_async`], with a callback that chooses the subprotocol, adds headers, or
/// rejects the request with a response.
pub async fn accept_async_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: Config,
    accept: AcceptFn,
) -> Result<(WebSocketStream<S>, OpenInfo), Error> {
    WebSocketStream::open(stream, Connection::server_with(config, accept)?).await
}

impl AsyncRead for ConnectStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for ConnectStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_shutdown(cx))
    }
}
