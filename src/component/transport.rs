//! A byte stream on `wasi:io`: an input/output stream pair, and the TCP socket they belong
//! to when the component made the connection itself; with feature `component-tls`, TLS
//! (rustls) over them for `wss://`.

use super::gather::Gather;
use super::wasi::clocks::monotonic_clock;
use super::wasi::io::poll::Pollable;
use super::wasi::io::streams::{InputStream, OutputStream, StreamError};
use super::wasi::sockets::tcp::{ShutdownType, TcpSocket};
use crate::{Error, TimeoutKind};

/// Bounds of the size asked of the input stream per read. wasmtime-wasi allocates (and
/// zeroes) the requested size, up to 64 KiB, on every read, even one that finds 20 bytes or
/// none, so the request follows what reads actually bring (see [`ReadSize`]) instead of
/// always asking for the most. It grows only while reads fill it: past 64 KiB only with
/// streams that hand over more per read (a host's own, as wsengine-host's 1 MiB). It stops
/// at 512 KiB even so: each read's bytes sit in the host's buffer and then in the guest's
/// before they are unmasked into the message, and reads of 1 MiB pushed both out of the
/// CPU's cache (A/B on host streams, 1 MiB echo, server + client CPU per message: 128, 256
/// and 512 KiB all 10–20% below 1 MiB, the client's share most).
const READ_MIN: u64 = 4 * 1024;
const READ_MAX: u64 = 512 * 1024;

/// The size of the next read: doubled after a read that filled the request (more is
/// likely waiting), halved after one that brought less than a quarter of it.
struct ReadSize(u64);

impl ReadSize {
    fn next(&self) -> u64 {
        self.0
    }

    fn got(&mut self, n: usize) {
        let n = n as u64;
        if n >= self.0 {
            self.0 = (self.0 * 2).min(READ_MAX);
        } else if n < self.0 / 4 {
            self.0 = (self.0 / 2).max(READ_MIN);
        }
    }
}

/// What one read brought.
pub(super) enum Input {
    /// Some bytes (never empty).
    Data(Vec<u8>),
    /// The stream ended.
    Eof,
    /// Nothing yet: the deadline passed, or the caller did not want to wait.
    Nothing,
}

/// How long a write or flush may wait for the output stream.
#[derive(Clone, Copy, Debug)]
pub(super) enum Wait {
    /// Until this time (ms on the monotonic clock; `None`: as long as it takes): the
    /// engine's next deadline.
    Until(Option<u64>),
    /// This many ms without room, counted from when the wait starts (`None`: as long as it
    /// takes): the write timeout for bytes outside the engine's output.
    Stall(Option<u64>),
}

/// Milliseconds on the monotonic clock: the engine's time base.
pub(super) fn now_ms() -> u64 {
    monotonic_clock::now() / 1_000_000
}

/// A pollable that is ready at once.
pub(super) fn ready_now() -> Pollable {
    monotonic_clock::subscribe_duration(0)
}

pub(super) struct Transport {
    // `Option`s so that `Drop` can choose the order and what to keep: wasi:io traps if a
    // stream is dropped before its pollables, or a socket before its streams.
    input: Option<InputStream>,
    output: Option<OutputStream>,
    socket: Option<TcpSocket>,
    /// A pollable from `subscribe` was handed out and may still be alive.
    lent: bool,
    read_size: ReadSize,
    /// The last read drained the stream (it brought less than asked), so the next one
    /// would most likely find nothing: wait in the host at once instead of asking first.
    drained: bool,
    /// What the last `check-write` permitted for the next `write`, if no write came since.
    room: u64,
    /// The last wait for room in the output ran out (the peer stopped reading).
    stalled: bool,
    /// How long `Drop` waits for a full output to take its bytes (the connection's write
    /// timeout; `None`: as long as it takes).
    write_timeout: Option<u64>,
    /// TLS over the streams, once `start_tls` has completed its handshake.
    #[cfg(feature = "component-tls")]
    tls: Option<super::tls::Tls>,
}

impl Transport {
    /// `write_timeout`: the connection's (`Config::write_timeout_ms`), which also bounds how
    /// long dropping the transport waits for a full output.
    pub(super) fn new(
        input: InputStream,
        output: OutputStream,
        socket: Option<TcpSocket>,
        write_timeout: Option<u64>,
    ) -> Self {
        Transport {
            input: Some(input),
            output: Some(output),
            socket,
            lent: false,
            read_size: ReadSize(READ_MIN),
            drained: false,
            room: 0,
            stalled: false,
            write_timeout,
            #[cfg(feature = "component-tls")]
            tls: None,
        }
    }

    /// Runs a TLS client handshake over the streams, waiting at most until `deadline`;
    /// afterwards every read and write goes through TLS.
    #[cfg(feature = "component-tls")]
    pub(super) fn start_tls(
        &mut self,
        conn: rustls::ClientConnection,
        deadline: Option<u64>,
    ) -> Result<(), Error> {
        let mut tls = super::tls::Tls::new(conn);
        // The handshake timeout bounds its writes too.
        let wait = Wait::Until(deadline);
        let timed_out = |e| match e {
            Error::Timeout(TimeoutKind::Write) => Error::Timeout(TimeoutKind::Handshake),
            e => e,
        };
        while tls.is_handshaking() {
            self.write_all(&tls.take_output()?, wait)
                .map_err(timed_out)?;
            if !tls.is_handshaking() {
                break;
            }
            match self.read_raw(true, deadline)? {
                Input::Data(data) => {
                    if let Err(e) = tls.receive(&data) {
                        self.alert(&mut tls);
                        return Err(e);
                    }
                }
                Input::Eof => {
                    return Err(io_error(
                        "the server closed the connection during the TLS handshake".into(),
                    ))
                }
                Input::Nothing => return Err(Error::Timeout(TimeoutKind::Handshake)),
            }
        }
        self.write_all(&tls.take_output()?, wait)
            .map_err(timed_out)?;
        self.tls = Some(tls);
        Ok(())
    }

    /// Best effort: sends the alert rustls queued for the error it just reported.
    #[cfg(feature = "component-tls")]
    fn alert(&mut self, tls: &mut super::tls::Tls) {
        // A peer that does not read gets no alert rather than holding us.
        let wait = Wait::Stall(Some(1_000));
        if let Ok(bytes) = tls.take_output() {
            let _ = self.write_all(&bytes, wait);
            let _ = self.flush_raw(wait);
        }
    }

    /// One read of plaintext: through TLS when it is on, else straight from the stream. The
    /// TLS layer never keeps decrypted bytes back, so the input stream's pollable stays a
    /// true "something to read" signal.
    pub(super) fn read(&mut self, wait: bool, deadline: Option<u64>) -> Result<Input, Error> {
        #[cfg(feature = "component-tls")]
        if let Some(mut tls) = self.tls.take() {
            let r = self.read_tls(&mut tls, wait, deadline);
            self.tls = Some(tls);
            return r;
        }
        self.read_raw(wait, deadline)
    }

    #[cfg(feature = "component-tls")]
    fn read_tls(
        &mut self,
        tls: &mut super::tls::Tls,
        wait: bool,
        deadline: Option<u64>,
    ) -> Result<Input, Error> {
        loop {
            let plain = tls.take_plain();
            if !plain.is_empty() {
                return Ok(Input::Data(plain));
            }
            if tls.at_eof() {
                return Ok(Input::Eof);
            }
            let r = match self.read_raw(wait, deadline)? {
                Input::Data(data) => tls.receive(&data),
                Input::Eof => tls.receive_eof(),
                Input::Nothing => return Ok(Input::Nothing),
            };
            r.inspect_err(|_| self.alert(tls))?;
            // Post-handshake messages (TLS 1.3 key updates) may need an answer.
            self.write_all(&tls.take_output()?, Wait::Until(deadline))?;
            // A partial record or a session ticket gave no plaintext: read on, if waiting.
            if !wait && !tls.has_plain() && !tls.at_eof() {
                return Ok(Input::Nothing);
            }
        }
    }

    /// One read from the input stream: waits until bytes arrive, the stream ends or
    /// `deadline` (ms, monotonic) passes; `wait == false` does not wait at all.
    ///
    /// Each `wasi:io` call crosses into the host, and a sync wasmtime host runs every waiting
    /// call on its tokio runtime: so a wait without a deadline is one `blocking-read`, and a
    /// read right after one that drained the stream skips the non-waiting attempt.
    fn read_raw(&mut self, wait: bool, deadline: Option<u64>) -> Result<Input, Error> {
        let Some(input) = self.input.as_ref() else {
            return Ok(Input::Eof);
        };
        let mut first = true;
        loop {
            let size = self.read_size.next();
            let blocking = wait && deadline.is_none() && (self.drained || !first);
            first = false;
            let r = if blocking {
                input.blocking_read(size)
            } else {
                input.read(size)
            };
            match r {
                Ok(data) if !data.is_empty() => {
                    self.drained = (data.len() as u64) < size;
                    self.read_size.got(data.len());
                    return Ok(Input::Data(data));
                }
                Ok(_) => self.drained = true,
                Err(StreamError::Closed) => return Ok(Input::Eof),
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(io_error(e.to_debug_string()))
                }
            }
            if !wait {
                return Ok(Input::Nothing);
            }
            if let Some(d) = deadline {
                if now_ms() >= d {
                    return Ok(Input::Nothing);
                }
                super::net::wait(&input.subscribe(), Some(d));
            }
        }
    }

    /// Writes some of `data` (at least one byte unless it is empty), waiting for room; through
    /// TLS when it is on (the ciphertext is then written whole before this returns).
    ///
    /// Returns 0 when `wait` ran out before the stream had room. Through TLS the plaintext
    /// is taken first, so a stream that stays full until then fails with
    /// `Error::Timeout(Write)` instead (the record cannot be taken back).
    pub(super) fn write(&mut self, data: &[u8], wait: Wait) -> Result<usize, Error> {
        #[cfg(feature = "component-tls")]
        if let Some(mut tls) = self.tls.take() {
            let r = tls.send(data).and_then(|n| {
                self.write_all(&tls.take_output()?, wait)?;
                Ok(n)
            });
            self.tls = Some(tls);
            return r;
        }
        self.write_raw(data, wait)
    }

    /// Writes what `gather` holds, chunk by chunk through `scratch` (see [`Gather`]), each
    /// write waiting at most `wait` for room. Returns how many bytes went out, and the error
    /// that stopped it, if any (`Error::Timeout(Write)` when a wait ran out).
    pub(super) fn write_gather(
        &mut self,
        gather: &mut Gather<'_>,
        scratch: &mut Vec<u8>,
        wait: Wait,
    ) -> (usize, Result<(), Error>) {
        let mut written = 0;
        loop {
            if gather.remaining() == 0 {
                return (written, Ok(()));
            }
            // Gather what the stream permits for its next write (the first write below
            // takes it whole).
            let max = match self.room(wait) {
                Ok(0) => return (written, Err(Error::Timeout(TimeoutKind::Write))),
                Ok(n) => n,
                Err(e) => return (written, Err(e)),
            };
            let mut chunk = gather.next_chunk(scratch, max);
            if chunk.is_empty() {
                return (written, Ok(()));
            }
            while !chunk.is_empty() {
                match self.write(chunk, wait) {
                    Ok(0) => return (written, Err(Error::Timeout(TimeoutKind::Write))),
                    Ok(n) => {
                        chunk = &chunk[n..];
                        written += n;
                    }
                    Err(e) => return (written, Err(e)),
                }
            }
        }
    }

    /// Writes all of `data` to the output stream; `Error::Timeout(Write)` if `wait` runs
    /// out first.
    #[cfg(feature = "component-tls")]
    fn write_all(&mut self, mut data: &[u8], wait: Wait) -> Result<(), Error> {
        while !data.is_empty() {
            match self.write_raw(data, wait)? {
                0 => return Err(Error::Timeout(TimeoutKind::Write)),
                n => data = &data[n..],
            }
        }
        Ok(())
    }

    /// Writes as much of `data` as the output stream takes now (at least one byte, waiting
    /// for room if there is none). The `check-write` that ended the last flush already
    /// says how much the next write may take; only later writes ask again.
    fn write_raw(&mut self, data: &[u8], wait: Wait) -> Result<usize, Error> {
        let room = self.room(wait)?;
        if room == 0 {
            return Ok(0);
        }
        let output = self
            .output
            .as_ref()
            .ok_or_else(|| io_error("the connection is shut down".into()))?;
        let n = data.len().min(room);
        // What `check-write` permits is for the next `write` call only (wasmtime's TCP
        // streams trap on a second one).
        self.room = 0;
        output.write(&data[..n]).map_err(stream_error)?;
        Ok(n)
    }

    /// How much the output stream permits for the next write, waiting for room if there is
    /// none; 0 if `wait` ran out first.
    fn room(&mut self, wait: Wait) -> Result<usize, Error> {
        let output = self
            .output
            .as_ref()
            .ok_or_else(|| io_error("the connection is shut down".into()))?;
        let mut deadline = None;
        while self.room == 0 {
            self.room = output.check_write().map_err(stream_error)?;
            if self.room == 0 && !wait_for(output, wait, &mut deadline) {
                self.stalled = true;
                return Ok(0);
            }
        }
        self.stalled = false;
        Ok(usize::try_from(self.room).unwrap_or(usize::MAX))
    }

    /// Waits until everything written has been handed to the transport, or `wait` runs
    /// out (then `false`).
    pub(super) fn flush(&mut self, wait: Wait) -> Result<bool, Error> {
        self.flush_raw(wait)
    }

    /// `flush`, then `check-write` until it reports room again (which `wasi:io` only does
    /// once the flush is complete): in the common case, where the host wrote the bytes out
    /// at once, two calls that never wait — where `blocking-flush` always enters the host's
    /// waiting machinery. What it permits is kept for the next write.
    fn flush_raw(&mut self, wait: Wait) -> Result<bool, Error> {
        let Some(output) = self.output.as_ref() else {
            return Ok(true);
        };
        output.flush().map_err(stream_error)?;
        let mut deadline = None;
        loop {
            self.room = output.check_write().map_err(stream_error)?;
            if self.room > 0 {
                self.stalled = false;
                return Ok(true);
            }
            if !wait_for(output, wait, &mut deadline) {
                self.stalled = true;
                return Ok(false);
            }
        }
    }

    /// A pollable ready when the input has bytes or has ended, handed out to the caller: it
    /// may outlive the transport, which then keeps its handles (see `Drop`).
    pub(super) fn subscribe(&mut self) -> Pollable {
        let p = self.readiness();
        if p.is_some() {
            self.lent = true;
        }
        p.unwrap_or_else(ready_now)
    }

    /// As [`subscribe`](Self::subscribe), for a pollable the component drops itself before
    /// the transport can go; `None`: ready now.
    pub(super) fn readiness(&self) -> Option<Pollable> {
        // Plaintext that arrived with the TLS handshake is not in the stream any more.
        #[cfg(feature = "component-tls")]
        if self
            .tls
            .as_ref()
            .is_some_and(|t| t.has_plain() || t.at_eof())
        {
            return None;
        }
        self.input.as_ref().map(InputStream::subscribe)
    }

    /// Ends the connection both ways (TCP FIN; for a stream pair, closes the output).
    ///
    /// What was written is flushed first, waiting at most `write_timeout` ms without
    /// progress (a peer that stopped reading must not hold the shutdown).
    pub(super) fn shutdown(&mut self, write_timeout: Option<u64>) {
        let wait = Wait::Stall(Some(write_timeout.unwrap_or(u64::MAX / 4)));
        #[cfg(feature = "component-tls")]
        if let Some(mut tls) = self.tls.take() {
            // close_notify, best effort: the peer may be gone already.
            if let Ok(bytes) = tls.close_notify() {
                let _ = self.write_all(&bytes, wait);
            }
        }
        if self.socket.is_none() {
            drop(self.output.take());
            return;
        }
        // The peer may have gone already; either way the connection is over.
        let _ = self.flush_raw(wait);
        if let Some(socket) = &self.socket {
            let _ = socket.shutdown(ShutdownType::Both);
        }
    }

    /// Whether dropping the output stream would return at once.
    ///
    /// wasmtime-wasi's TCP output stream, when dropped, waits until the socket has taken its
    /// last write and has room again. For a peer that stopped reading that is forever, and
    /// nothing in wasi:sockets 0.2 cancels it (`shutdown` waits for the write as well), so a
    /// dropped connection would hang the instance. Wait for room at most the write timeout
    /// (not again after a wait that already ran out); `false` if none came. Stream pairs
    /// are the host's own: their drop is theirs to bound.
    fn output_settles(&mut self) -> bool {
        let (Some(_), Some(output)) = (self.socket.as_ref(), self.output.as_ref()) else {
            return true;
        };
        let wait = Wait::Stall(match self.stalled {
            true => Some(0),
            false => self.write_timeout,
        });
        let mut deadline = None;
        loop {
            // Room, or a stream that failed or closed: nothing for the drop to wait for.
            if !matches!(output.check_write(), Ok(0)) {
                return true;
            }
            if !wait_for(output, wait, &mut deadline) {
                return false;
            }
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // A stuck output is abandoned, not dropped: its socket is shut down (the reads end;
        // the write stays stuck until the peer reads or goes) and the handles are kept until
        // the instance ends, which is when wasmtime-wasi lets go of the socket.
        let stuck = !self.output_settles();
        if !stuck {
            drop(self.output.take());
        }
        if stuck || self.lent {
            // Also when a pollable of the input stream may be alive: dropping the stream
            // (and the socket it belongs to) would trap, as documented on
            // `websocket.subscribe`.
            if let Some(socket) = self.socket.as_ref() {
                let _ = socket.shutdown(ShutdownType::Both);
            }
            std::mem::forget(self.output.take());
            std::mem::forget(self.input.take());
            std::mem::forget(self.socket.take());
        } else {
            drop(self.input.take());
            drop(self.socket.take());
        }
    }
}

/// Waits until `output` may have room or `wait` runs out; false once it has run out.
/// `deadline` holds a `Wait::Stall`'s end once the first wait has started.
fn wait_for(output: &OutputStream, wait: Wait, deadline: &mut Option<u64>) -> bool {
    let end = match wait {
        Wait::Until(d) => d,
        Wait::Stall(None) => None,
        Wait::Stall(Some(ms)) => Some(*deadline.get_or_insert_with(|| now_ms().saturating_add(ms))),
    };
    if end.is_some_and(|d| now_ms() >= d) {
        return false;
    }
    super::net::wait(&output.subscribe(), end);
    true
}

fn stream_error(e: StreamError) -> Error {
    io_error(match e {
        StreamError::Closed => "the connection is closed".to_owned(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    })
}

pub(super) fn io_error(e: String) -> Error {
    Error::Io(std::io::Error::other(e))
}
