//! Read and write halves of a [`WebSocketStream`](super::WebSocketStream) for two tasks.
//!
//! Both halves share the one engine and transport behind a `std::sync::Mutex` that is held
//! only for one synchronous poll step, never across an `.await`. The transport keeps a single
//! waker per direction, and either half may need either direction (the reader flushes the
//! pongs it owes, the writer only writes), so every poll registers a fan-out waker that wakes
//! both halves' tasks: a wake-up is never lost, at the price of an occasional spurious poll.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::core::Core;
use super::ops::{self, Access};
use super::stream::close_step;
use crate::close::{CloseCode, CloseFrame};
use crate::connection::State;
use crate::error::Error;
use crate::event::{Event, Fragment, Message, MessageKind};

const READER: usize = 0;
const WRITER: usize = 1;

/// The tasks to wake when the transport or the timer is ready: one slot per half.
#[derive(Debug, Default)]
struct FanOut {
    slots: Mutex<[Option<Waker>; 2]>,
}

impl Wake for FanOut {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Take the wakers first: a waker may run code that polls again and locks the slots.
        let wakers = std::mem::take(&mut *lock(&self.slots));
        for w in wakers.into_iter().flatten() {
            w.wake();
        }
    }
}

#[derive(Debug)]
struct Shared<S> {
    core: Mutex<Core<S>>,
    fan: Arc<FanOut>,
}

/// A lock that survives a panic in another half (the core's state is plain data, and every
/// step leaves it consistent), so neither half ever panics because of the other.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Debug)]
struct Half<S> {
    shared: Arc<Shared<S>>,
    side: usize,
    waker: Waker,
}

impl<S> Half<S> {
    fn new(shared: &Arc<Shared<S>>, side: usize) -> Self {
        Half {
            shared: shared.clone(),
            side,
            waker: Waker::from(shared.fan.clone()),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Access for Half<S> {
    type S = S;

    fn poll_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Core<S>, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        {
            let mut slots = lock(&self.shared.fan.slots);
            match &slots[self.side] {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => slots[self.side] = Some(cx.waker().clone()),
            }
        }
        let mut fan_cx = Context::from_waker(&self.waker);
        f(&mut lock(&self.shared.core), &mut fan_cx)
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Core<S>) -> R) -> R {
        f(&mut lock(&self.shared.core))
    }
}

pub(crate) fn split<S>(core: Core<S>) -> (ReadHalf<S>, WriteHalf<S>) {
    let shared = Arc::new(Shared {
        core: Mutex::new(core),
        fan: Arc::default(),
    });
    (
        ReadHalf(Half::new(&shared, READER)),
        WriteHalf(Half::new(&shared, WRITER)),
    )
}

/// The reading half: messages, events, and the engine's automatic work (pong replies, the
/// close reply, timers), which it flushes itself even if the write half is idle.
///
/// Read from one task at a time (the methods take `&mut self`).
#[derive(Debug)]
pub struct ReadHalf<S>(Half<S>);

/// The writing half: messages, fragments, pings, pongs and the close frame. A write completes
/// once the transport has taken its bytes.
#[derive(Debug)]
pub struct WriteHalf<S>(Half<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// Reads the next whole message; `Error::Closed` after the close handshake.
    pub async fn read(&mut self) -> Result<Message, Error> {
        ops::read(&mut self.0).await
    }

    /// Reads what has arrived of the current message.
    pub async fn read_some(&mut self) -> Result<Fragment, Error> {
        ops::read_some(&mut self.0).await
    }

    /// Reads the next event of any kind.
    pub async fn read_event(&mut self) -> Result<Event, Error> {
        ops::read_event(&mut self.0).await
    }

    /// The peer's close frame, once received.
    pub fn peer_close(&self) -> Option<CloseFrame> {
        lock(&self.0.shared.core).conn.peer_close().cloned()
    }

    /// The connection's state.
    pub fn state(&self) -> State {
        lock(&self.0.shared.core).conn.state()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// Sends a whole message.
    pub async fn write(&mut self, message: &Message) -> Result<(), Error> {
        ops::send_message(&mut self.0, message.kind(), message.as_bytes()).await
    }

    /// Sends a whole text message.
    pub async fn write_text(&mut self, text: &str) -> Result<(), Error> {
        ops::send_message(&mut self.0, MessageKind::Text, text.as_bytes()).await
    }

    /// Sends a whole binary message.
    pub async fn write_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        ops::send_message(&mut self.0, MessageKind::Binary, data).await
    }

    /// Sends part of a message; `fin` ends it.
    pub async fn write_some(
        &mut self,
        fin: bool,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), Error> {
        ops::send(&mut self.0, |c| c.write_some(fin, kind, data)).await
    }

    /// Sends a ping.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        ops::send(&mut self.0, |c| c.ping(payload)).await
    }

    /// Sends a pong.
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        ops::send(&mut self.0, |c| c.pong(payload)).await
    }

    /// Sends a close frame and flushes it. The close handshake then completes on the read
    /// half: it delivers the peer's remaining messages, then the peer's close, and ends.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        let code = code.into();
        ops::send(&mut self.0, |c| c.close(code, reason)).await
    }

    /// Writes all pending output to the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        ops::flush(&mut self.0).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for ReadHalf<S> {
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().0.poll_with(cx, ops::poll_next)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WriteHalf<S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut()
            .0
            .poll_with(cx, |c, cx| c.poll_flush_output(cx))
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().0.with(|c| c.conn.send(&item))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut()
            .0
            .poll_with(cx, |c, cx| c.poll_flush_output(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().0.poll_with(cx, close_step)
    }
}
