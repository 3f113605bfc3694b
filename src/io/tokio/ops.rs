//! The Beast vocabulary (`read`, `read_some`, `write`, ...) written once, for the whole stream
//! and for its halves alike: each reaches the [`Core`] through [`Access`].

use std::future::poll_fn;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite};

use super::core::Core;
use crate::connection::{Connection, UNBUFFERED_MIN};
use crate::error::Error;
use crate::event::{Event, Fragment, Message, MessageKind};

/// How an adapter type reaches its [`Core`]: directly (the whole stream) or through the lock
/// the halves share.
pub(crate) trait Access {
    type S: AsyncRead + AsyncWrite + Unpin;

    /// Runs one poll step on the core with this side's waker registered.
    fn poll_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Core<Self::S>, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R>;

    /// Runs a step that needs no I/O.
    fn with<R>(&mut self, f: impl FnOnce(&mut Core<Self::S>) -> R) -> R;
}

pub(crate) async fn read_event<A: Access>(a: &mut A) -> Result<Event, Error> {
    poll_fn(|cx| a.poll_with(cx, |c, cx| c.poll_event(cx))).await
}

pub(crate) async fn read<A: Access>(a: &mut A) -> Result<Message, Error> {
    a.with(|c| c.conn.set_streaming(false));
    loop {
        match read_event(a).await? {
            Event::Message(m) => return Ok(m),
            Event::Close(_) => return Err(Error::Closed),
            _ => {}
        }
    }
}

pub(crate) async fn read_some<A: Access>(a: &mut A) -> Result<Fragment, Error> {
    a.with(|c| c.conn.set_streaming(true));
    loop {
        match read_event(a).await? {
            Event::Fragment(f) => return Ok(f),
            Event::Close(_) => return Err(Error::Closed),
            _ => {}
        }
    }
}

pub(crate) async fn flush<A: Access>(a: &mut A) -> Result<(), Error> {
    poll_fn(|cx| a.poll_with(cx, |c, cx| c.poll_flush_output(cx))).await
}

/// Waits until earlier output is taken by the transport (so at most one message waits in the
/// engine), frames one more thing, and waits until that is taken too.
///
/// Cancelling the returned future after the framing step leaves the frame in the engine's
/// output: it goes out first with the next write or flush, so the stream is never corrupted.
pub(crate) async fn send<A: Access>(
    a: &mut A,
    frame: impl FnOnce(&mut Connection) -> Result<(), Error>,
) -> Result<(), Error> {
    // Usually nothing waits (the last write completed): no flush step then.
    if a.with(|c| c.conn.pending_output() > 0) {
        flush(a).await?;
    }
    a.with(|c| frame(&mut c.conn))?;
    flush(a).await
}

/// [`send`] for a whole message: a large one, when the engine allows it (a server without
/// compression) and the transport writes vectored, is written straight from `data` with its
/// frame headers; what the transport does not take at once is copied into the engine's output
/// and flushed as usual. The bytes on the wire are the same either way.
pub(crate) async fn send_message<A: Access>(
    a: &mut A,
    kind: MessageKind,
    data: &[u8],
) -> Result<(), Error> {
    if data.len() < UNBUFFERED_MIN || !a.with(|c| c.writes_vectored()) {
        return send(a, |c| c.send_message(kind, data)).await;
    }
    flush(a).await?;
    let (mut headers, mut frames) = (Vec::new(), Vec::new());
    if !a.with(|c| {
        c.conn
            .send_unbuffered(kind, data, &mut headers, &mut frames)
    })? {
        return send(a, |c| c.send_message(kind, data)).await;
    }
    // No await between accounting for the message and this first write: whatever it does not
    // write is in the engine's output when it returns, so cancelling here loses nothing.
    poll_fn(|cx| {
        a.poll_with(cx, |c, cx| {
            Poll::Ready(c.poll_write_frames(cx, &headers, &frames, data))
        })
    })
    .await?;
    flush(a).await
}

/// The `Stream` step: the next whole message; `None` once the connection is over.
pub(crate) fn poll_next<S: AsyncRead + AsyncWrite + Unpin>(
    c: &mut Core<S>,
    cx: &mut Context<'_>,
) -> Poll<Option<Result<Message, Error>>> {
    c.conn.set_streaming(false);
    loop {
        match std::task::ready!(c.poll_event(cx)) {
            Ok(Event::Message(m)) => return Poll::Ready(Some(Ok(m))),
            Ok(_) => {}
            Err(Error::Closed) => return Poll::Ready(None),
            Err(e) => return Poll::Ready(Some(Err(e))),
        }
    }
}
