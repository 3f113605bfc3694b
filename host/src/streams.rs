//! A TCP connection the host accepted, handed to the component as a `wasi:io` stream pair
//! (the `server.accept-streams` / `client.connect-streams` path: the layered-stream model).
//!
//! Why a host would: wasmtime-wasi's own TCP streams move at most 64 KiB per read or write
//! and allocate and zero a fresh buffer of the requested size for every read. A 1 MiB
//! message then takes 16 host calls, 16 `sendto`s that each wake the peer, and (with large
//! reads) page faults on fresh memory for every read. These streams take up to
//! [`MAX_CHUNK`] per call and read into memory the allocator hands back warm (see
//! `TcpInput::read`). What they promise is the `wasi:io` contract: a read never blocks (empty
//! means "nothing yet", `ready` waits), `check-write` permits the next write, and the bytes
//! of a write the socket could not take at once are written by `ready` before another
//! permit is given — never more than one write's worth held.

use std::io;
use std::net::Shutdown;
use std::sync::Arc;

use bytes::{Buf, Bytes};
use tokio::net::TcpStream;
use wasmtime::component::Resource;
use wasmtime::Store;
use wasmtime_wasi::p2::{
    DynInputStream, DynOutputStream, InputStream, OutputStream, Pollable, StreamError, StreamResult,
};

use crate::Ctx;

/// The most one read returns or one write takes (the message sizes the host is tuned for).
pub const MAX_CHUNK: usize = 1024 * 1024;

/// Puts both halves of `tcp` in the store's resource table, ready for `accept-streams` or
/// `connect-streams`. The connection is closed when the component has dropped both; dropping
/// the output stream first shuts down the sending side (the server closes first).
///
/// Drive the component through the async bindings on the tokio runtime that made `tcp`: its
/// readiness comes from that runtime's reactor (the sync bindings wait on wasmtime-wasi's
/// own background runtime instead).
pub fn tcp_streams(
    store: &mut Store<Ctx>,
    tcp: TcpStream,
) -> anyhow::Result<(Resource<DynInputStream>, Resource<DynOutputStream>)> {
    let tcp = Arc::new(tcp);
    let input: DynInputStream = Box::new(TcpInput {
        tcp: tcp.clone(),
        closed: false,
    });
    let output: DynOutputStream = Box::new(TcpOutput {
        tcp,
        unsent: Bytes::new(),
        failed: None,
    });
    let table = &mut store.data_mut().table;
    Ok((table.push(input)?, table.push(output)?))
}

struct TcpInput {
    tcp: Arc<TcpStream>,
    closed: bool,
}

impl InputStream for TcpInput {
    fn read(&mut self, size: usize) -> StreamResult<Bytes> {
        if self.closed {
            return Err(StreamError::Closed);
        }
        let size = size.min(MAX_CHUNK);
        if size == 0 {
            return Ok(Bytes::new());
        }
        // Each read gets its own `Vec`, handed over whole: wasmtime-wasi turns the `Bytes`
        // into a `Vec<u8>` before lowering it into the guest, which is free for a `Bytes`
        // that owns its `Vec` alone and a copy of the whole read for one that shares its
        // memory (as a reused `BytesMut`'s `split` does: 8% of a 1 MiB echo's CPU). The
        // allocator returns the memory the last read freed (the host keeps freed memory in its
        // heap, see main.rs), so this costs no page faults.
        let mut buf = Vec::with_capacity(size);
        match self.tcp.try_read_buf(&mut buf) {
            Ok(0) => {
                self.closed = true;
                Err(StreamError::Closed)
            }
            Ok(_) => Ok(Bytes::from(buf)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Bytes::new()),
            Err(e) => {
                self.closed = true;
                Err(StreamError::LastOperationFailed(e.into()))
            }
        }
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for TcpInput {
    async fn ready(&mut self) {
        if !self.closed {
            // An error is ready too: the next read reports it.
            let _ = self.tcp.readable().await;
        }
    }
}

struct TcpOutput {
    tcp: Arc<TcpStream>,
    /// What the last write could not hand to the socket at once.
    unsent: Bytes,
    /// A broken connection: every later call reports it.
    failed: Option<io::ErrorKind>,
}

impl TcpOutput {
    /// Hands as much of `unsent` to the socket as it takes now.
    fn push(&mut self) -> StreamResult<()> {
        if let Some(kind) = self.failed {
            return Err(stream_error(kind));
        }
        while !self.unsent.is_empty() {
            match self.tcp.try_write(&self.unsent) {
                Ok(n) => self.unsent.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    self.failed = Some(e.kind());
                    self.unsent.clear();
                    return Err(stream_error(e.kind()));
                }
            }
        }
        Ok(())
    }
}

/// A write error as `wasi:io` reports it: a connection the peer broke is `closed`.
fn stream_error(kind: io::ErrorKind) -> StreamError {
    match kind {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => StreamError::Closed,
        kind => StreamError::LastOperationFailed(io::Error::from(kind).into()),
    }
}

impl OutputStream for TcpOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push()?;
        if !self.unsent.is_empty() || bytes.len() > MAX_CHUNK {
            return Err(StreamError::trap("write without a permit from check-write"));
        }
        self.unsent = bytes;
        self.push()
    }

    fn flush(&mut self) -> StreamResult<()> {
        // Nothing is buffered beyond `unsent`, which `ready` writes; the guest waits for
        // the flush to complete through `check-write` (0 until it is out).
        self.push()
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        self.push()?;
        Ok(if self.unsent.is_empty() { MAX_CHUNK } else { 0 })
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for TcpOutput {
    async fn ready(&mut self) {
        while self.failed.is_none() && !self.unsent.is_empty() {
            if self.tcp.writable().await.is_err() || self.push().is_err() {
                return;
            }
        }
    }
}

impl Drop for TcpOutput {
    fn drop(&mut self) {
        // The guest drops its output stream to close the connection (after the close
        // handshake, the server closes first): send the FIN now, not when the input goes.
        // Bytes still unsent then are dropped with the stream, as for wasmtime-wasi's.
        let _ = socket_shutdown(&self.tcp);
    }
}

fn socket_shutdown(tcp: &TcpStream) -> io::Result<()> {
    socket2::SockRef::from(tcp).shutdown(Shutdown::Write)
}
