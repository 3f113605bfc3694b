//! The poll-based driver shared by [`WebSocketStream`](super::WebSocketStream) and its halves:
//! moves bytes between an `AsyncRead + AsyncWrite` transport and the engine, and arms a tokio
//! timer at the engine's next deadline. No protocol logic: the engine frames, validates,
//! answers pings and runs the close procedure; this only pumps.

use std::future::Future;
use std::io::{self, ErrorKind, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::{Instant, Sleep};

use crate::connection::{Connection, State};
use crate::error::{Error, TimeoutKind};
use crate::event::Event;

/// An event taken from the engine whose delivery waits for I/O to finish: the peer's close
/// (delivered once the close handshake is complete and the transport shut down) or the end
/// of the connection.
#[derive(Debug)]
enum Held {
    Close(Event),
    Closed,
}

/// Transport, engine and timer of one connection.
#[derive(Debug)]
pub(crate) struct Core<S> {
    pub(crate) stream: S,
    pub(crate) conn: Connection,
    buf: Box<[u8]>,
    started: Instant,
    /// Boxed so `Core` stays `Unpin` (a `Sleep` is not). `None` while no deadline is armed:
    /// a registered timer, even a far one, makes tokio's driver read the clock and pass a
    /// timeout to every `epoll_wait` (measured: ~10% of a small-message echo server's CPU).
    sleep: Option<Pin<Box<Sleep>>>,
    /// The deadline (engine ms) the sleep is set for.
    sleep_at: Option<u64>,
    held: Option<Held>,
    /// The transport was shut down; nothing more is read or written.
    shut: bool,
    /// The transport took bytes since its last completed flush. Flushing is skipped while
    /// it has taken none: a flush per read and write costs little, but it is per message.
    dirty: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Core<S> {
    pub(crate) fn new(stream: S, conn: Connection) -> Self {
        let started = Instant::now();
        Core {
            stream,
            conn,
            buf: vec![0; crate::io::READ_BUFFER].into_boxed_slice(),
            started,
            sleep: None,
            sleep_at: None,
            held: None,
            shut: false,
            dirty: false,
        }
    }

    fn now(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// The next event of any kind. A close event or the connection's end is reported only
    /// after the close handshake is finished (reply flushed, transport closed per RFC 6455
    /// §7.1.1), so dropping the socket right after loses nothing.
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, Error>> {
        loop {
            if let Some(held) = self.held.take() {
                match self.poll_finish_close(cx) {
                    Poll::Pending => {
                        self.held = Some(held);
                        return Poll::Pending;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Ready(Ok(())) => {
                        return Poll::Ready(match held {
                            Held::Close(ev) => Ok(ev),
                            Held::Closed => Err(Error::Closed),
                        })
                    }
                }
            }
            match self.conn.next_event() {
                Ok(Some(event)) => {
                    if matches!(event, Event::Close(_)) {
                        self.held = Some(Held::Close(event));
                        continue;
                    }
                    // Pongs the engine owes go out now if the transport takes them; if it
                    // is full they wait (the engine keeps at most one owed pong beyond its
                    // high-water mark), and reading goes on.
                    if let Poll::Ready(Err(e)) = self.poll_flush_output(cx) {
                        return Poll::Ready(Err(e));
                    }
                    return Poll::Ready(Ok(event));
                }
                Ok(None) if self.conn.state() == State::Closed => {
                    if self.shut {
                        return Poll::Ready(Err(Error::Closed));
                    }
                    self.held = Some(Held::Closed);
                }
                Ok(None) => ready!(self.poll_fill(cx))?,
                Err(e) => {
                    // Tell the peer why (close frame or HTTP error) if the transport takes
                    // it now, then hang up; a stalled peer does not delay the error.
                    let _ = self.poll_flush_output(cx);
                    let _ = Pin::new(&mut self.stream).poll_shutdown(cx);
                    self.shut = true;
                    return Poll::Ready(Err(e));
                }
            }
        }
    }

    /// Writes all pending output, then flushes the transport. Ready only when the
    /// transport has taken every byte: this is the write side's back-pressure.
    ///
    /// While the transport takes nothing, the engine's timers run here too (keepalive, the
    /// write timeout...): output that waits `write_timeout_ms` without progress is dropped
    /// and this fails with `Error::Timeout(Write)`.
    pub(crate) fn poll_flush_output(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.pending_output() == 0 && !self.dirty {
            return Poll::Ready(Ok(()));
        }
        while self.conn.pending_output() > 0 {
            if self.shut {
                return Poll::Ready(Err(io::Error::from(ErrorKind::NotConnected).into()));
            }
            match Pin::new(&mut self.stream).poll_write(cx, self.conn.output()) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(io::Error::from(ErrorKind::WriteZero).into()))
                }
                Poll::Ready(Ok(n)) => {
                    self.dirty = true;
                    self.conn.consume_output(n);
                }
                Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
                Poll::Pending => {
                    // Stalled: this is when the write timeout starts (or fires).
                    self.conn.handle_timeout(self.now());
                    if self.conn.pending_output() == 0 {
                        // Only the write timeout drops pending output.
                        return Poll::Ready(Err(Error::Timeout(TimeoutKind::Write)));
                    }
                    ready!(self.poll_deadline(cx));
                    // A timer is due: the next pass fires it.
                }
            }
        }
        if self.shut {
            return Poll::Ready(Ok(()));
        }
        ready!(Pin::new(&mut self.stream).poll_flush(cx))?;
        self.dirty = false;
        Poll::Ready(Ok(()))
    }

    /// Writes a whole message that [`Connection::send_unbuffered`] accounted for: each frame
    /// header from `headers` followed by its slice of `data`, with vectored writes, no copy.
    /// Whatever the transport does not take at once (it is full, or fails) goes into the
    /// engine's output before this returns, so the message is never half-owned by a
    /// cancelled future: the ordinary flush path (back-pressure, timers) sends the rest.
    pub(crate) fn poll_write_frames(
        &mut self,
        cx: &mut Context<'_>,
        headers: &[u8],
        frames: &[(usize, usize)],
        data: &[u8],
    ) -> Result<(), Error> {
        let mut slices: Vec<IoSlice<'_>> = Connection::unbuffered_parts(headers, frames, data)
            .map(IoSlice::new)
            .collect();
        let mut bufs = &mut slices[..];
        let mut failed = None;
        while !bufs.is_empty() && !self.shut {
            match Pin::new(&mut self.stream).poll_write_vectored(cx, bufs) {
                Poll::Ready(Ok(0)) => {
                    failed = Some(io::Error::from(ErrorKind::WriteZero));
                    break;
                }
                Poll::Ready(Ok(n)) => {
                    self.dirty = true;
                    IoSlice::advance_slices(&mut bufs, n);
                }
                Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    failed = Some(e);
                    break;
                }
                Poll::Pending => break,
            }
        }
        for b in bufs.iter() {
            self.conn.queue_unbuffered_rest(b);
        }
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Whether the transport writes several slices per call (else the vectored path would
    /// cost one call per slice).
    pub(crate) fn writes_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    /// Ready when the engine's next deadline has passed; registers the timer otherwise.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(at) = self.conn.next_deadline() else {
            self.sleep = None;
            self.sleep_at = None;
            return Poll::Pending;
        };
        let when = self.started + std::time::Duration::from_millis(at);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(::tokio::time::sleep_until(when)));
        if self.sleep_at != Some(at) {
            sleep.as_mut().reset(when);
            self.sleep_at = Some(at);
        }
        ready!(sleep.as_mut().poll(cx));
        self.sleep_at = None;
        Poll::Ready(())
    }

    /// One step of input: fires due timers, pushes out what they queued, then waits for
    /// bytes from the transport or the next deadline, whichever comes first.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // No timer armed: nothing to fire, so no clock read (one per message saved). A timer
        // armed since the last call shows up as a deadline.
        if self.conn.next_deadline().is_some() {
            self.conn.handle_timeout(self.now());
        }
        if let Poll::Ready(Err(e)) = self.poll_flush_output(cx) {
            return Poll::Ready(Err(e));
        }
        if self.shut {
            // Hung up after an error: nothing more will arrive, and asking again must not
            // spin.
            return Poll::Ready(Err(Error::Closed));
        }
        if !self.conn.wants_read() {
            return Poll::Ready(Ok(()));
        }
        // Inside a frame's payload the transport reads straight into the message (zero-copy,
        // unmasked in place); otherwise into our buffer, which the engine copies from.
        let (read, n, direct) = match self.conn.receive_buffer() {
            Some(room) => {
                let mut rb = ReadBuf::uninit(room);
                let r = Pin::new(&mut self.stream).poll_read(cx, &mut rb);
                (r, rb.filled().len(), true)
            }
            None => {
                let mut rb = ReadBuf::new(&mut self.buf);
                let r = Pin::new(&mut self.stream).poll_read(cx, &mut rb);
                (r, rb.filled().len(), false)
            }
        };
        match read {
            Poll::Ready(Ok(())) => {
                if n == 0 {
                    self.conn.receive_eof();
                } else if direct {
                    // SAFETY: `ReadBuf` guarantees its filled part is initialised, and no
                    // other call reached the connection since `receive_buffer`.
                    unsafe { self.conn.commit_received(n) };
                } else {
                    self.conn.receive(&self.buf[..n]);
                }
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) if e.kind() == ErrorKind::Interrupted => {
                return Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(_)) if self.conn.state() == State::Closed => {
                // A reset after the close handshake ends the wait for the peer's EOF.
                self.conn.receive_eof();
                return Poll::Ready(Ok(()));
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.into())),
            Poll::Pending => {}
        }
        ready!(self.poll_deadline(cx));
        // Due: the next pass fires the timer.
        Poll::Ready(Ok(()))
    }

    /// After the close handshake: flush the reply, wait (client) for the server to close,
    /// then shut the transport down.
    fn poll_finish_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.shut {
            return Poll::Ready(Ok(()));
        }
        loop {
            ready!(self.poll_flush_output(cx))?;
            if self.conn.should_close() {
                break;
            }
            if let Err(e) = ready!(self.poll_fill(cx)) {
                let _ = Pin::new(&mut self.stream).poll_shutdown(cx);
                self.shut = true;
                return Poll::Ready(Err(e));
            }
            // A timeout reported as an error here only ends the wait.
            if let Err(Error::Timeout(_)) = self.conn.next_event() {
                break;
            }
        }
        let r = ready!(Pin::new(&mut self.stream).poll_shutdown(cx));
        self.shut = true;
        match r {
            // The peer may have closed already; that is the outcome we wanted.
            Err(e) if e.kind() != ErrorKind::NotConnected => Poll::Ready(Err(e.into())),
            _ => Poll::Ready(Ok(())),
        }
    }
}
