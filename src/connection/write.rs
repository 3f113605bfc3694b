//! The write side: messages, frames and control frames into the output buffer.

use super::{Connection, Role, State};
use crate::close::{self, CloseCode};
use crate::error::{Error, UsageError};
use crate::event::{Message, MessageKind};
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use crate::mask::extend_masked;

/// Messages at least this long are worth sending with
/// [`send_unbuffered`](Connection::send_unbuffered) (the adapters' vectored or gathered writes
/// straight from the caller's buffer); below it one copy into the output and one plain write
/// cost less than laying out the pieces.
pub(crate) const UNBUFFERED_MIN: usize = 16 * 1024;

impl Connection {
    /// [`send_message`](Self::send_message) without copying the payload into the output, for
    /// the blocking adapter's vectored writes: when each frame's payload is a plain slice of
    /// `data` (we are the server, so nothing is masked, and no extension transforms it) and
    /// nothing waits in the output (so the order holds), puts the frames' headers back to back
    /// in `headers` and each frame's (header length, payload length) in `frames` — the same
    /// frames `send_message` would produce — and returns `Ok(true)`: the message counts as
    /// sent, and the caller must write each header followed by its slice of `data`.
    /// `Ok(false)`: nothing was done, use `send_message`. Errors as `send_message`.
    pub(crate) fn send_unbuffered(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        headers: &mut Vec<u8>,
        frames: &mut Vec<(usize, usize)>,
    ) -> Result<bool, Error> {
        self.check_open()?;
        if self.out_msg.is_some() {
            return Err(UsageError::MessageInProgress.into());
        }
        if self.role != Role::Server || self.extension.is_some() || self.pending_output() > 0 {
            return Ok(false);
        }
        let size = if self.config.auto_fragment {
            self.config.write_buffer_bytes
        } else {
            usize::MAX
        };
        headers.clear();
        frames.clear();
        let count = data.len().div_ceil(size).max(1);
        headers.reserve(count * 10);
        frames.reserve(count);
        let mut left = data.len();
        let mut first = true;
        loop {
            let n = left.min(size);
            left -= n;
            let header = FrameHeader {
                fin: left == 0,
                rsv: 0,
                opcode: if first {
                    kind_opcode(kind)
                } else {
                    OpCode::Continuation
                },
                mask: None,
                payload_len: n as u64,
            };
            let mut buf = [0u8; MAX_HEADER_LEN];
            let h = header.encode_into(&mut buf);
            headers.extend_from_slice(&buf[..h]);
            frames.push((h, n));
            first = false;
            if left == 0 {
                return Ok(true);
            }
        }
    }

    /// The pieces to write, in order, for frames laid out by
    /// [`send_unbuffered`](Self::send_unbuffered): each header followed by its slice of `data`.
    /// (An iterator, so each adapter collects them once, into the slice type it writes.)
    pub(crate) fn unbuffered_parts<'a>(
        headers: &'a [u8],
        frames: &'a [(usize, usize)],
        data: &'a [u8],
    ) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (mut h, mut p) = (0, 0);
        frames.iter().flat_map(move |&(hl, pl)| {
            let parts = [&headers[h..h + hl], &data[p..p + pl]];
            h += hl;
            p += pl;
            parts
        })
    }

    /// Puts bytes of frames already accounted for by [`send_unbuffered`](Self::send_unbuffered)
    /// that the caller could not write into the output, to go out with the next flush.
    pub(crate) fn queue_unbuffered_rest(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Sends a whole text message (split into frames by `auto_fragment`).
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.send_message(MessageKind::Text, text.as_bytes())
    }

    /// Sends a whole binary message (split into frames by `auto_fragment`).
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.send_message(MessageKind::Binary, data)
    }

    /// Sends a whole message.
    pub fn send(&mut self, message: &Message) -> Result<(), Error> {
        self.send_message(message.kind(), message.as_bytes())
    }

    /// Sends a whole message of the given kind. For `Text`, `data` must be UTF-8: the
    /// engine does not re-check it (`send_text` takes `&str` for that reason).
    ///
    /// Errors: `NotOpen` unless open; `MessageInProgress` while a `write_some` message is
    /// unfinished.
    pub fn send_message(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        if self.out_msg.is_some() {
            return Err(UsageError::MessageInProgress.into());
        }
        let rsv = match self.extension.as_mut() {
            Some(ext) => ext.begin_message(data.len(), true),
            None => 0,
        };
        if rsv == 0 {
            self.write_data(kind_opcode(kind), rsv, data, true);
            return Ok(());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let encoded = self.extension_encode(data, true, &mut scratch);
        if encoded.is_ok() {
            self.write_data(kind_opcode(kind), rsv, &scratch, true);
        }
        self.scratch = scratch;
        encoded
    }

    /// Sends part of a message (Beast's `write_some`): the first call starts a message of
    /// `kind`, later calls continue it, and `fin` ends it. Control frames may be sent between
    /// the parts. With `auto_fragment`, a large part is split into several frames.
    ///
    /// Errors: `NotOpen` unless open; `MessageKindMismatch` if `kind` differs from the
    /// message in progress.
    pub fn write_some(&mut self, fin: bool, kind: MessageKind, data: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        let (opcode, rsv, compressed) = match self.out_msg {
            Some((k, _)) if k != kind => return Err(UsageError::MessageKindMismatch.into()),
            Some((_, compressed)) => (OpCode::Continuation, 0, compressed),
            None => {
                let rsv = match self.extension.as_mut() {
                    Some(ext) => ext.begin_message(data.len(), fin),
                    None => 0,
                };
                (kind_opcode(kind), rsv, rsv != 0)
            }
        };
        if compressed {
            let mut scratch = std::mem::take(&mut self.scratch);
            scratch.clear();
            let encoded = self.extension_encode(data, fin, &mut scratch);
            if encoded.is_ok() {
                self.write_data(opcode, rsv, &scratch, fin);
            }
            self.scratch = scratch;
            encoded?;
        } else {
            self.write_data(opcode, rsv, data, fin);
        }
        self.out_msg = if fin { None } else { Some((kind, compressed)) };
        Ok(())
    }

    /// Sends a ping (payload ≤ 125 bytes).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.control(OpCode::Ping, payload)
    }

    /// Sends a pong (payload ≤ 125 bytes); unsolicited pongs serve as heartbeats.
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.control(OpCode::Pong, payload)
    }

    /// Starts the close handshake: sends a close frame with `code` and `reason` (UTF-8,
    /// ≤ 123 bytes; [`CloseCode::NO_STATUS`] sends a close frame without a code). After this
    /// nothing more can be sent; reading continues until the peer's close frame arrives or
    /// the close timeout passes.
    ///
    /// Errors: `NotOpen` unless open (a connection is closed once); `InvalidCloseCode`
    /// unless 1000–1003, 1007–1014, 3000–4999 or 1005; `CloseReasonTooLong`.
    pub fn close(&mut self, code: impl Into<CloseCode>, reason: &str) -> Result<(), Error> {
        let code = code.into();
        close::validate_outgoing(code, reason)?;
        self.check_open()?;
        self.queue_close(code, reason);
        self.state = State::Closing;
        self.timers.close.arm(self.config.close_timeout_ms);
        self.timers.keepalive.stop();
        Ok(())
    }

    fn control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), Error> {
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(UsageError::ControlPayloadTooLarge(payload.len()).into());
        }
        self.check_open()?;
        self.write_frame(true, opcode, 0, payload);
        Ok(())
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.state != State::Open {
            return Err(UsageError::NotOpen(self.state).into());
        }
        Ok(())
    }

    fn extension_encode(&mut self, data: &[u8], fin: bool, out: &mut Vec<u8>) -> Result<(), Error> {
        let ext = self
            .extension
            .as_mut()
            .expect("encode only when an extension is negotiated");
        ext.encode(data, fin, out).map_err(|e| {
            Error::Usage(UsageError::InvalidOption(format!(
                "extension failed to encode: {e}"
            )))
        })
    }

    /// Frames `payload` as data, split per `auto_fragment`; `rsv` goes on the first frame
    /// only; `fin` on the last only if `fin`.
    fn write_data(&mut self, opcode: OpCode, rsv: u8, payload: &[u8], fin: bool) {
        let size = if self.config.auto_fragment {
            self.config.write_buffer_bytes
        } else {
            usize::MAX
        };
        if payload.len() <= size {
            self.write_frame(fin, opcode, rsv, payload);
            return;
        }
        let frames = payload.len().div_ceil(size);
        self.output.reserve(payload.len() + frames * 14);
        let mut chunks = payload.chunks(size).peekable();
        let mut first = true;
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            let (op, bits) = if first {
                (opcode, rsv)
            } else {
                (OpCode::Continuation, 0)
            };
            self.write_frame(fin && last, op, bits, chunk);
            first = false;
        }
    }

    /// Appends one frame, masked with a fresh key if we are the client.
    pub(super) fn write_frame(&mut self, fin: bool, opcode: OpCode, rsv: u8, payload: &[u8]) {
        let mask = (self.role == Role::Client).then(|| self.rng.mask_key());
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        header.encode(&mut self.output);
        match mask {
            // Copy and mask in one pass.
            Some(key) => extend_masked(&mut self.output, payload, key, 0),
            None => self.output.extend_from_slice(payload),
        }
    }
}

fn kind_opcode(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}
