//! The stream under a client from [`WebSocket::connect`](super::WebSocket::connect): plain TCP
//! for `ws://`, TLS over TCP for `wss://` (feature `rustls`).

use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::Transport;

/// TCP, or TLS over TCP. Implements [`Transport`], so the adapter treats both alike.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientStream {
    /// A `ws://` connection.
    Plain(TcpStream),
    /// A `wss://` connection (boxed: a rustls connection is large).
    #[cfg(feature = "rustls")]
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl ClientStream {
    /// The TCP socket (under TLS, if any): for socket options and addresses. Reading or
    /// writing it directly corrupts the connection.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(s) => s,
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => &s.sock,
        }
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        !matches!(self, ClientStream::Plain(_))
    }
}

impl Read for ClientStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ClientStream::Plain(s) => s.read(buf),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for ClientStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            ClientStream::Plain(s) => s.write(buf),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => s.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            ClientStream::Plain(s) => s.write_vectored(bufs),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => s.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            ClientStream::Plain(s) => s.flush(),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => s.flush(),
        }
    }
}

impl Transport for ClientStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        match self {
            ClientStream::Plain(s) => Transport::set_read_timeout(s, timeout),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => Transport::set_read_timeout(&mut **s, timeout),
        }
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        match self {
            ClientStream::Plain(s) => Transport::set_write_timeout(s, timeout),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => Transport::set_write_timeout(&mut **s, timeout),
        }
    }

    fn shutdown(&mut self) -> io::Result<()> {
        match self {
            ClientStream::Plain(s) => Transport::shutdown(s),
            #[cfg(feature = "rustls")]
            ClientStream::Tls(s) => Transport::shutdown(&mut **s),
        }
    }

    fn read_uninit(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<Option<usize>> {
        match self {
            ClientStream::Plain(s) => Transport::read_uninit(s, buf),
            // Decrypted bytes come out of rustls's buffer: a copy either way.
            #[cfg(feature = "rustls")]
            ClientStream::Tls(_) => Ok(None),
        }
    }
}
