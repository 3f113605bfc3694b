//! [`WebSocketStream`]: the async counterpart of the blocking [`WebSocket`](crate::io::WebSocket).

use std::pin::Pin;
use std::task::{Context, Poll};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::core::Core;
use super::ops::{self, Access};
use super::split::{self, ReadHalf, WriteHalf};
use crate::close::{CloseCode, CloseFrame};
use crate::connection::{Connection, State};
use crate::error::Error;
use crate::event::{Event, Fragment, Message, MessageKind, OpenInfo};

/// A WebSocket over any `AsyncRead + AsyncWrite + Unpin` transport (TCP, TLS, a duplex pipe).
///
/// Use it through the async methods (the same vocabulary as the blocking adapter), or as a
/// [`Stream`] of messages and a [`Sink`] of messages, or [`split`](Self::split) it into a
/// read half and a write half for two tasks.
///
/// Guarantees:
/// - A write completes only once the transport has taken every byte of it (back-pressure),
///   and at most one message waits in the engine.
/// - While a read is waiting, pings are answered (pongs flushed as the transport allows) and
///   the engine's deadlines (handshake, keepalive pings, pong and idle timeouts, close
///   timeout) run on a tokio timer: the timers need a runtime with time enabled.
/// - A close event (or the end of the stream) is delivered only after the close handshake is
///   complete and the transport is shut down.
#[derive(Debug)]
pub struct WebSocketStream<S> {
    core: Core<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Access for WebSocketStream<S> {
    type S = S;

    fn poll_with<R>(
        &mut self,
        cx: &mut Context<'_>,
        f: impl FnOnce(&mut Core<S>, &mut Context<'_>) -> Poll<R>,
    ) -> Poll<R> {
        f(&mut self.core, cx)
    }

    fn with<R>(&mut self, f: impl FnOnce(&mut Core<S>) -> R) -> R {
        f(&mut self.core)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// Wraps a connection that is already open (its handshake was done elsewhere, e.g. by an
    /// HTTP server that upgraded the transport).
    #[cfg(feature = "hyper")]
    pub(crate) fn opened(stream: S, conn: Connection) -> Self {
        WebSocketStream {
            core: Core::new(stream, conn),
        }
    }

    /// Runs the opening handshake the engine queued (client) or awaits (server).
    pub(crate) async fn open(stream: S, conn: Connection) -> Result<(Self, OpenInfo), Error> {
        let mut ws = WebSocketStream {
            core: Core::new(stream, conn),
        };
        match ws.read_event().await? {
            Event::Open(info) => Ok((ws, *info)),
            // The engine reports Open before anything else; anything else is a bug there,
            // reported as an error rather than a panic.
            other => Err(std::io::Error::other(format!("expected Open, got {other:?}")).into()),
        }
    }

    /// Reads the next whole message. Pings are answered and control frames skipped. When the
    /// peer closes, completes the close handshake and returns `Error::Closed`; the peer's
    /// code and reason are then in [`peer_close`](Self::peer_close).
    pub async fn read(&mut self) -> Result<Message, Error> {
        ops::read(self).await
    }

    /// Reads what has arrived of the current message: at least one byte, or the message's
    /// end. `fin` marks the last piece.
    pub async fn read_some(&mut self) -> Result<Fragment, Error> {
        ops::read_some(self).await
    }

    /// Reads the next event of any kind (messages or fragments, pings, pongs, the peer's
    /// close).
    pub async fn read_event(&mut self) -> Result<Event, Error> {
        ops::read_event(self).await
    }

    /// Sends a whole message.
    pub async fn write(&mut self, message: &Message) -> Result<(), Error> {
        ops::send_message(self, message.kind(), message.as_bytes()).await
    }

    /// Sends a whole text message.
    pub async fn write_text(&mut self, text: &str) -> Result<(), Error> {
        ops::send_message(self, MessageKind::Text, text.as_bytes()).await
    }

    /// Sends a whole binary message.
    pub async fn write_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        ops::send_message(self, MessageKind::Binary, data).await
    }

    /// Sends part of a message; `fin` ends it.
    pub async fn write_some(
        &mut self,
        fin: bool,
        kind: MessageKind,
        data: &[u8],
    ) -> Result<(), Error> {
        ops::send(self, |c| c.write_some(fin, kind, data)).await
    }

    /// Sends a ping.
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        ops::send(self, |c| c.ping(payload)).await
    }

    /// Sends a pong.
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        ops::send(self, |c| c.pong(payload)).await
    }

    /// Closes the connection: sends a close frame, reads and discards until the peer's close
    /// frame arrives (or the close timeout passes), and shuts the transport down.
    pub async fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        let code = code.into();
        ops::send(self, |c| c.close(code, reason)).await?;
        loop {
            match self.read_event().await {
                Ok(Event::Close(_)) | Err(Error::Closed) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes all pending output to the transport.
    pub async fn flush(&mut self) -> Result<(), Error> {
        ops::flush(self).await
    }

    /// The peer's close frame, once received.
    pub fn peer_close(&self) -> Option<&CloseFrame> {
        self.core.conn.peer_close()
    }

    /// The engine, for state and options.
    pub fn connection(&self) -> &Connection {
        &self.core.conn
    }

    /// The engine, mutably (e.g. to change streaming mode).
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.core.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.core.stream
    }

    /// The transport, mutably. Reading or writing it directly corrupts the connection.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.core.stream
    }

    /// Splits into a read half and a write half that two tasks may use at once. See
    /// [`ReadHalf`] and [`WriteHalf`].
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        split::split(self.core)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    /// The next whole message; `None` once the connection is over (after the close
    /// handshake). Control frames are handled and skipped.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        ops::poll_next(&mut self.get_mut().core, cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    /// Ready once earlier output is taken by the transport.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().core.poll_flush_output(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: Message) -> Result<(), Error> {
        self.get_mut().core.conn.send(&item)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.get_mut().core.poll_flush_output(cx)
    }

    /// Sends a normal close (1000) if the connection is open and flushes it. The stream side
    /// then yields the rest of the peer's messages and ends after the peer's close.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let core = &mut self.get_mut().core;
        close_step(core, cx)
    }
}

/// `Sink::poll_close`: queue a normal close once (only while open), then flush.
pub(crate) fn close_step<S: AsyncRead + AsyncWrite + Unpin>(
    core: &mut Core<S>,
    cx: &mut Context<'_>,
) -> Poll<Result<(), Error>> {
    if core.conn.state() == State::Open {
        core.conn.close(CloseCode::NORMAL, "")?;
    }
    core.poll_flush_output(cx)
}
