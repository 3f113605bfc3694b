//! A byte stream on `wasi:io`: an input/output stream pair, and the TCP socket they belong
//! to when the component made the connection itself.

use super::wasi::clocks::monotonic_clock;
use super::wasi::io::poll::{self, Pollable};
use super::wasi::io::streams::{InputStream, OutputStream, StreamError};
use super::wasi::sockets::tcp::{ShutdownType, TcpSocket};

/// Most bytes taken from the input stream per read.
const READ_CHUNK: u64 = 64 * 1024;

/// What one read brought.
pub(super) enum Input {
    /// Some bytes (never empty).
    Data(Vec<u8>),
    /// The stream ended.
    Eof,
    /// Nothing yet: the deadline passed, or the caller did not want to wait.
    Nothing,
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
}

impl Transport {
    pub(super) fn new(input: InputStream, output: OutputStream, socket: Option<TcpSocket>) -> Self {
        Transport {
            input: Some(input),
            output: Some(output),
            socket,
            lent: false,
        }
    }

    /// One read: waits until bytes arrive, the stream ends or `deadline` (ms, monotonic)
    /// passes; `wait == false` does not wait at all.
    pub(super) fn read(&mut self, wait: bool, deadline: Option<u64>) -> Result<Input, String> {
        let Some(input) = self.input.as_ref() else {
            return Ok(Input::Eof);
        };
        loop {
            match input.read(READ_CHUNK) {
                Ok(data) if !data.is_empty() => return Ok(Input::Data(data)),
                Ok(_) => {}
                Err(StreamError::Closed) => return Ok(Input::Eof),
                Err(StreamError::LastOperationFailed(e)) => return Err(e.to_debug_string()),
            }
            if !wait || deadline.is_some_and(|d| now_ms() >= d) {
                return Ok(Input::Nothing);
            }
            let readable = input.subscribe();
            match deadline {
                None => readable.block(),
                Some(d) => {
                    let timer = monotonic_clock::subscribe_instant(d.saturating_mul(1_000_000));
                    poll::poll(&[&readable, &timer]);
                }
            }
        }
    }

    /// Writes some of `data` (at least one byte unless it is empty), waiting for room.
    pub(super) fn write(&mut self, data: &[u8]) -> Result<usize, String> {
        let output = self.output.as_ref().ok_or("the connection is shut down")?;
        loop {
            let room = output.check_write().map_err(stream_error)?;
            if room == 0 {
                output.subscribe().block();
                continue;
            }
            let n = data.len().min(usize::try_from(room).unwrap_or(usize::MAX));
            output.write(&data[..n]).map_err(stream_error)?;
            return Ok(n);
        }
    }

    /// Waits until everything written has been handed to the transport.
    pub(super) fn flush(&mut self) -> Result<(), String> {
        match self.output.as_ref() {
            Some(output) => output.blocking_flush().map_err(stream_error),
            None => Ok(()),
        }
    }

    /// A pollable ready when the input has bytes or has ended.
    pub(super) fn subscribe(&mut self) -> Pollable {
        match self.input.as_ref() {
            Some(input) => {
                self.lent = true;
                input.subscribe()
            }
            None => ready_now(),
        }
    }

    /// Ends the connection both ways (TCP FIN; for a stream pair, closes the output).
    pub(super) fn shutdown(&mut self) {
        match self.socket.as_ref() {
            // The peer may have gone already; either way the connection is over.
            Some(socket) => {
                let _ = self.output.as_ref().map(|o| o.blocking_flush());
                let _ = socket.shutdown(ShutdownType::Both);
            }
            None => drop(self.output.take()),
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        drop(self.output.take());
        if self.lent {
            // A pollable of the input stream may be alive: dropping the stream (and the
            // socket it belongs to) would trap. End the connection and keep the handles
            // until the instance ends, as documented on `websocket.subscribe`.
            if let Some(socket) = self.socket.as_ref() {
                let _ = socket.shutdown(ShutdownType::Both);
            }
            std::mem::forget(self.input.take());
            std::mem::forget(self.socket.take());
        } else {
            drop(self.input.take());
            drop(self.socket.take());
        }
    }
}

fn stream_error(e: StreamError) -> String {
    match e {
        StreamError::Closed => "the connection is closed".to_owned(),
        StreamError::LastOperationFailed(e) => e.to_debug_string(),
    }
}
