//! What the blocking adapter needs from a byte stream beyond `Read + Write`.

use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A byte stream the blocking [`WebSocket`](super::WebSocket) can drive: TCP, TLS, a pipe,
/// anything with `Read + Write` (the layered-stream model).
///
/// The engine's timers (handshake, close, keepalive, idle) need reads that can time out;
/// a stream that cannot (`set_read_timeout` returns `Ok(false)`) still works, but its timers
/// are only checked when data arrives. Wrap any such stream in [`NoTimeouts`].
pub trait Transport: Read + Write {
    /// Bounds how long the next read may block (`None`: forever). Returns whether the
    /// stream supports it.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool>;

    /// Bounds how long the next write may block without the stream taking any bytes (`None`:
    /// forever); a write that times out fails with `WouldBlock` or `TimedOut`. Returns whether
    /// the stream supports it. The engine's write timeout needs it: over a stream without it,
    /// a write to a peer that stopped reading blocks until the stream itself gives up.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        let _ = timeout;
        Ok(false)
    }

    /// Closes the transport in both directions (the server's last step of a close).
    fn shutdown(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// Reads like `read` into memory that may be uninitialised, returning how many bytes it
    /// wrote (all initialised) — `Ok(None)` if the stream cannot. The adapter uses it to read
    /// a frame's payload straight into the message (zero-copy receive); streams without it
    /// are read into the adapter's buffer and copied. TCP and Unix sockets on Unix have it.
    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<Option<usize>> {
        let _ = buf;
        Ok(None)
    }
}

/// `read(2)` into `buf`, for sockets (std has no stable read into uninitialised memory).
#[cfg(unix)]
fn read_fd(fd: std::os::fd::RawFd, buf: &mut [MaybeUninit<u8>]) -> io::Result<Option<usize>> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; read(2) writes at most that
    // many and never reads them.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Some(n as usize))
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        TcpStream::set_read_timeout(self, timeout)?;
        Ok(true)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        TcpStream::set_write_timeout(self, timeout)?;
        Ok(true)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        match TcpStream::shutdown(self, Shutdown::Both) {
            // The peer may have closed already; that is the outcome we wanted.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        }
    }

    #[cfg(unix)]
    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<Option<usize>> {
        read_fd(std::os::fd::AsRawFd::as_raw_fd(self), buf)
    }
}

#[cfg(unix)]
impl Transport for std::os::unix::net::UnixStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        std::os::unix::net::UnixStream::set_read_timeout(self, timeout)?;
        Ok(true)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        std::os::unix::net::UnixStream::set_write_timeout(self, timeout)?;
        Ok(true)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        match std::os::unix::net::UnixStream::shutdown(self, Shutdown::Both) {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        }
    }

    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<Option<usize>> {
        read_fd(std::os::fd::AsRawFd::as_raw_fd(self), buf)
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        (**self).set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<bool> {
        (**self).set_write_timeout(timeout)
    }

    fn shutdown(&mut self) -> io::Result<()> {
        (**self).shutdown()
    }

    fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<Option<usize>> {
        (**self).read_uninit(buf)
    }
}

/// Adapts any `Read + Write` stream that has no read timeouts (its timers then fire only
/// when data arrives).
#[derive(Debug)]
pub struct NoTimeouts<S>(pub S);

impl<S: Read> Read for NoTimeouts<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<S: Write> Write for NoTimeouts<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<S: Read + Write> Transport for NoTimeouts<S> {
    fn set_read_timeout(&mut self, _: Option<Duration>) -> io::Result<bool> {
        Ok(false)
    }
}
