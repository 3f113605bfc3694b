//! The read side: frames out of the input buffer, into messages, pieces and control events.

use super::{Connection, Role, State, PONG_HIGH_WATER};
use crate::close::{self, CloseCode};
use crate::error::{Error, ExtensionError, ProtocolError};
use crate::event::{Event, Fragment, Message, MessageKind};
use crate::frame::{FrameHeader, OpCode};
use crate::mask::apply_mask;
use crate::utf8::Utf8Validator;

/// Where the parser is within the current frame.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ReadState {
    /// Expecting a frame header.
    Header,
    /// Inside a data frame's payload.
    Payload {
        mask: Option<[u8; 4]>,
        remaining: u64,
        /// Payload bytes of this frame already processed (the mask phase).
        done: usize,
        fin: bool,
    },
}

/// The data message being received.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InMessage {
    kind: MessageKind,
    compressed: bool,
    /// Delivered as `Fragment`s (fixed once the first piece went out).
    streamed: bool,
    frames: usize,
    /// Payload bytes so far, after decompression.
    len: usize,
    utf8: Utf8Validator,
}

impl Connection {
    pub(super) fn poll_frames(&mut self) -> Result<Option<Event>, Error> {
        loop {
            match self.read {
                ReadState::Header => {
                    let avail = &self.input[self.in_pos..];
                    let (header, n) = match FrameHeader::parse(avail) {
                        Ok(Some(h)) => h,
                        Ok(None) => return self.need_input(),
                        Err(e) => return Err(self.fail(e)),
                    };
                    if let Err(e) = self.check_header(&header) {
                        return Err(self.fail(e));
                    }
                    if header.opcode.is_control() {
                        let len = header.payload_len as usize;
                        if avail.len() < n + len {
                            return self.need_input();
                        }
                        let mut payload = [0u8; 125];
                        let start = self.in_pos + n;
                        payload[..len].copy_from_slice(&self.input[start..start + len]);
                        if let Some(key) = header.mask {
                            apply_mask(&mut payload[..len], key, 0);
                        }
                        self.in_pos += n + len;
                        return self.on_control(header.opcode, &payload[..len]).map(Some);
                    }
                    self.in_pos += n;
                    if let Err(e) = self.start_data_frame(&header) {
                        return Err(self.fail(e));
                    }
                    self.read = ReadState::Payload {
                        mask: header.mask,
                        remaining: header.payload_len,
                        done: 0,
                        fin: header.fin,
                    };
                }
                ReadState::Payload {
                    mask,
                    remaining,
                    done,
                    fin,
                } => {
                    let avail = self.input.len() - self.in_pos;
                    let n = remaining.min(avail as u64) as usize;
                    if n == 0 && remaining > 0 {
                        return self.need_input();
                    }
                    let range = self.in_pos..self.in_pos + n;
                    self.in_pos += n;
                    if let Some(key) = mask {
                        apply_mask(&mut self.input[range.clone()], key, done);
                    }
                    let frame_done = remaining == n as u64;
                    self.read = if frame_done {
                        ReadState::Header
                    } else {
                        ReadState::Payload {
                            mask,
                            remaining: remaining - n as u64,
                            done: done + n,
                            fin,
                        }
                    };
                    match self.on_data(range, frame_done && fin) {
                        Ok(Some(ev)) => return Ok(Some(ev)),
                        Ok(None) => {}
                        Err(e) => return Err(self.fail(e)),
                    }
                }
            }
        }
    }

    /// No complete frame is buffered: wait, unless the transport has ended.
    fn need_input(&mut self) -> Result<Option<Event>, Error> {
        if self.eof {
            return Err(self.fail(ProtocolError::UnexpectedEof));
        }
        Ok(None)
    }

    /// The rules that depend on role and negotiated extensions (§5.1, §5.2).
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        match (self.role, h.mask.is_some()) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        let allowed = match (&self.extension, h.opcode) {
            (Some(ext), OpCode::Text | OpCode::Binary) => ext.rsv_mask(),
            _ => 0,
        };
        if h.rsv & !allowed != 0 {
            return Err(ProtocolError::ReservedBits(h.rsv));
        }
        if h.payload_len > self.config.limits.max_frame_size as u64 {
            return Err(ProtocolError::FrameTooBig {
                limit: self.config.limits.max_frame_size,
            });
        }
        Ok(())
    }

    /// Continuation rules and message limits, checked before any payload is buffered.
    fn start_data_frame(&mut self, h: &FrameHeader) -> Result<(), ProtocolError> {
        let limits = self.config.limits;
        let msg = match (h.opcode, self.in_msg.as_mut()) {
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Continuation, Some(m)) => m,
            (_, Some(_)) => return Err(ProtocolError::ExpectedContinuation),
            (op, None) => {
                let kind = if op == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.in_msg.insert(InMessage {
                    kind,
                    compressed: h.rsv != 0,
                    streamed: false,
                    frames: 0,
                    len: 0,
                    utf8: Utf8Validator::new(),
                })
            }
        };
        msg.frames += 1;
        if msg.frames > limits.max_fragments {
            return Err(ProtocolError::TooManyFragments {
                limit: limits.max_fragments,
            });
        }
        if !msg.compressed {
            let total = msg.len as u64 + h.payload_len;
            if total > limits.max_message_size as u64 {
                return Err(ProtocolError::MessageTooBig {
                    limit: limits.max_message_size,
                });
            }
            if !self.streaming && !msg.streamed {
                self.msg_buf.reserve(h.payload_len as usize);
            }
        }
        Ok(())
    }

    /// Takes `input[range]` (unmasked payload of the current message) into the message.
    fn on_data(
        &mut self,
        range: std::ops::Range<usize>,
        msg_fin: bool,
    ) -> Result<Option<Event>, ProtocolError> {
        let limit = self.config.limits.max_message_size;
        let msg = self.in_msg.as_mut().expect("payload belongs to a message");
        let before = self.msg_buf.len();
        if msg.compressed {
            let ext = self
                .extension
                .as_mut()
                .expect("compressed implies an extension");
            let max_out = limit - msg.len;
            ext.decode(&self.input[range], msg_fin, &mut self.msg_buf, max_out)
                .map_err(|e| match e {
                    ExtensionError::TooBig => ProtocolError::MessageTooBig { limit },
                    other => ProtocolError::Extension(other),
                })?;
        } else {
            self.msg_buf.extend_from_slice(&self.input[range]);
        }
        let new = &self.msg_buf[before..];
        msg.len += new.len();
        if msg.kind == MessageKind::Text && msg.utf8.feed(new, msg_fin).is_err() {
            return Err(ProtocolError::InvalidUtf8);
        }
        msg.streamed |= self.streaming;
        let event = if msg.streamed {
            if self.msg_buf.is_empty() && !msg_fin {
                None
            } else {
                let data = std::mem::take(&mut self.msg_buf);
                Some(Event::Fragment(Fragment {
                    kind: msg.kind,
                    data,
                    fin: msg_fin,
                }))
            }
        } else if msg_fin {
            let data = std::mem::take(&mut self.msg_buf);
            Some(Event::Message(match msg.kind {
                // SAFETY: every byte of `data` went through `msg.utf8`, which accepted the
                // whole message as UTF-8 (fin included), so re-validating would be waste.
                MessageKind::Text => Message::Text(unsafe { String::from_utf8_unchecked(data) }),
                MessageKind::Binary => Message::Binary(data),
            }))
        } else {
            None
        };
        if msg_fin {
            self.in_msg = None;
        }
        Ok(event)
    }

    fn on_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<Event, Error> {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong && self.state == State::Open {
                    if self.pending_output() < PONG_HIGH_WATER {
                        self.write_frame(true, OpCode::Pong, 0, payload);
                    } else {
                        let mut buf = [0u8; 125];
                        buf[..payload.len()].copy_from_slice(payload);
                        self.pending_pong = Some((buf, payload.len() as u8));
                    }
                }
                Ok(Event::Ping(payload.to_vec()))
            }
            OpCode::Pong => Ok(Event::Pong(payload.to_vec())),
            OpCode::Close => {
                let frame = match close::parse_close_payload(payload) {
                    Ok(f) => f,
                    Err(e) => return Err(self.fail(e)),
                };
                if self.state == State::Open {
                    // Echo the peer's code (§5.5.1); a close without a code gets one without.
                    let code = frame.as_ref().map_or(CloseCode::NO_STATUS, |f| f.code);
                    self.queue_close(code, "");
                    // The client now waits for the server to close the transport.
                    self.timers.close.arm(self.config.close_timeout_ms);
                }
                self.state = State::Closed;
                self.timers.keepalive.stop();
                self.timers.pong.stop();
                self.timers.idle.stop();
                if self.role == Role::Server {
                    self.timers.close.stop();
                }
                // Nothing may follow a close frame: later bytes are ignored.
                self.in_pos = self.input.len();
                self.in_msg = None;
                self.msg_buf = Vec::new();
                self.peer_close = frame.clone();
                Ok(Event::Close(frame))
            }
            _ => unreachable!("only control opcodes reach on_control"),
        }
    }
}
