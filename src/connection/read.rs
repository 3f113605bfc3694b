//! The read side: frames out of the input buffer, into messages, pieces and control events.

use super::{Connection, Role, State, PONG_HIGH_WATER};
use crate::close::{self, CloseCode};
use crate::error::{Error, ExtensionError, ProtocolError};
use crate::event::{Event, Fragment, Message, MessageKind};
use crate::frame::{FrameHeader, OpCode};
use crate::mask::{apply_mask, extend_masked};
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
    /// Payload bytes that `receive` put straight into `msg_buf` (already unmasked) and that
    /// `next_event` has not yet accounted for; they are the last `direct` bytes of `msg_buf`.
    direct: usize,
    /// Those bytes end the message.
    direct_fin: bool,
}

impl Connection {
    pub(super) fn poll_frames(&mut self) -> Result<Option<Event>, Error> {
        // Bytes `receive` already moved into the message come first: they precede anything
        // in the input buffer.
        if let Some(msg) = self.in_msg.as_mut().filter(|m| m.direct > 0) {
            let (n, fin) = (msg.direct, msg.direct_fin);
            msg.direct = 0;
            let before = self.msg_buf.len() - n;
            match self.take_data(before, fin) {
                Ok(Some(ev)) => return Ok(Some(ev)),
                Ok(None) => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
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
                    // Uncompressed payload is unmasked on its way into the message (one pass);
                    // compressed payload is unmasked in place for the decoder.
                    let compressed = self.in_msg.as_ref().is_some_and(|m| m.compressed);
                    let mut unmask = None;
                    if let Some(key) = mask {
                        if compressed {
                            apply_mask(&mut self.input[range.clone()], key, done);
                        } else {
                            unmask = Some((key, done));
                        }
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
                    match self.on_data(range, unmask, frame_done && fin) {
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
    #[inline(always)]
    fn start_data_frame(&mut self, h: &FrameHeader) -> Result<(), ProtocolError> {
        let limits = &self.config.limits;
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
                    direct: 0,
                    direct_fin: false,
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
                let len = h.payload_len as usize;
                if self.msg_buf.capacity() == 0 {
                    // The usual case (the last message was handed over): allocate directly,
                    // without `reserve`'s growth path.
                    self.msg_buf = Vec::with_capacity(len);
                } else {
                    self.msg_buf.reserve(len);
                }
            }
        }
        Ok(())
    }

    /// Called by `receive` when no input is buffered: the payload bytes of the data frame
    /// being received go straight into the message buffer, unmasked on the way, instead of
    /// being copied into the input buffer and then again into the message. Returns the rest of
    /// `data` (what follows the frame), for the input buffer. The bytes are accounted for
    /// (UTF-8, events) by the next `next_event`, exactly as if they had come through the input
    /// buffer: the limits were checked from the frame header.
    ///
    /// Between frames, a data frame's header at the start of `data` is taken too, if it is
    /// valid and acceptable here and the message is not compressed (so a large frame arriving
    /// in one piece goes straight to the message). Anything else (a control frame, a frame
    /// that breaks a rule, an incomplete header) is left to `next_event`, in order.
    pub(super) fn receive_direct<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        if !self.input_drained() {
            return data;
        }
        let data = match self.read {
            ReadState::Header => match self.direct_header(data) {
                Some(n) => &data[n..],
                None => return data,
            },
            ReadState::Payload { .. } => data,
        };
        let Some(remaining) = self.direct_remaining() else {
            return data;
        };
        let ReadState::Payload { mask, done, .. } = self.read else {
            return data;
        };
        let n = remaining.min(data.len() as u64) as usize;
        if n == 0 {
            return data;
        }
        let (payload, rest) = data.split_at(n);
        match mask {
            Some(key) => extend_masked(&mut self.msg_buf, payload, key, done),
            None => self.msg_buf.extend_from_slice(payload),
        }
        self.advance_direct(n);
        rest
    }

    /// How much of the current data frame's payload can go straight into the message: the
    /// rest of the frame, if a frame's payload is being received, uncompressed, and nothing
    /// unparsed is buffered ahead of it.
    pub(super) fn direct_remaining(&self) -> Option<u64> {
        if !self.input_drained() {
            return None;
        }
        let ReadState::Payload { remaining, .. } = self.read else {
            return None;
        };
        self.in_msg.as_ref().filter(|m| !m.compressed)?;
        Some(remaining)
    }

    /// Whether the next bytes from the transport may bypass the input buffer: nothing
    /// unparsed is buffered ahead of them, the stream has not ended, and frames are being read.
    fn input_drained(&self) -> bool {
        self.in_pos == self.input.len()
            && !self.eof
            && matches!(self.state, State::Open | State::Closing)
    }

    /// `n` payload bytes of the current frame were appended to `msg_buf`, unmasked, by
    /// `receive` or `commit_received`: left for `next_event` to account for.
    pub(super) fn advance_direct(&mut self, n: usize) {
        let ReadState::Payload {
            mask,
            remaining,
            done,
            fin,
        } = self.read
        else {
            unreachable!("direct bytes belong to a frame's payload");
        };
        let msg = self.in_msg.as_mut().expect("payload belongs to a message");
        msg.direct += n;
        let frame_done = remaining == n as u64;
        msg.direct_fin = frame_done && fin;
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
    }

    /// The header of a data frame at the start of `data`, taken as `poll_frames` would take
    /// it, if it can be (see `receive_direct`); returns its length. `None`: nothing changed.
    fn direct_header(&mut self, data: &[u8]) -> Option<usize> {
        // Bytes already moved for this message are accounted for first (one frame at a time,
        // as `next_event` would deliver them).
        if self.in_msg.is_some_and(|m| m.direct > 0) {
            return None;
        }
        let (header, n) = FrameHeader::parse(data).ok()??;
        if header.opcode.is_control() || header.payload_len == 0 {
            return None;
        }
        let compressed = match (header.opcode, &self.in_msg) {
            (OpCode::Continuation, Some(m)) => m.compressed,
            _ => header.rsv != 0,
        };
        if compressed || self.check_header(&header).is_err() {
            return None;
        }
        let saved = self.in_msg;
        if self.start_data_frame(&header).is_err() {
            // Left for `next_event` to report, in order.
            self.in_msg = saved;
            return None;
        }
        self.read = ReadState::Payload {
            mask: header.mask,
            remaining: header.payload_len,
            done: 0,
            fin: header.fin,
        };
        Some(n)
    }

    /// Takes `input[range]` (payload of the current message; unmasked already, or with
    /// `unmask` = key and phase to unmask it on the way) into the message.
    fn on_data(
        &mut self,
        range: std::ops::Range<usize>,
        unmask: Option<([u8; 4], usize)>,
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
            match unmask {
                Some((key, offset)) => {
                    extend_masked(&mut self.msg_buf, &self.input[range], key, offset)
                }
                None => self.msg_buf.extend_from_slice(&self.input[range]),
            }
        }
        self.take_data(before, msg_fin)
    }

    /// Accounts for `msg_buf[before..]`, new payload of the current message: UTF-8, length,
    /// and the event it completes, if any. (Inlined into both callers, so the event is built in
    /// place rather than moved.)
    #[inline(always)]
    fn take_data(&mut self, before: usize, msg_fin: bool) -> Result<Option<Event>, ProtocolError> {
        let msg = self.in_msg.as_mut().expect("payload belongs to a message");
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
                        self.pending_pong = Some(Box::new((buf, payload.len() as u8)));
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

#[cfg(test)]
mod tests {
    //! The direct paths (`receive` moving payload straight into the message, and zero-copy
    //! `receive_buffer`/`commit_received`) must yield the same events as the input buffer,
    //! whatever the split and whenever `next_event` is called.

    use crate::frame::{FrameHeader, OpCode};
    use crate::mask::apply_mask;
    use crate::{ClientRequest, Config, Connection, Error, Event, MessageKind};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> usize {
            (self.next() % n) as usize
        }
    }

    fn open_server() -> Connection {
        let req = ClientRequest::new("ws://localhost/t").unwrap();
        let mut client = Connection::client(req, Config::default()).unwrap();
        let mut server = Connection::server(Config::default()).unwrap();
        server.receive(client.output());
        let n = client.output().len();
        client.consume_output(n);
        assert!(matches!(server.next_event(), Ok(Some(Event::Open(_)))));
        let n = server.output().len();
        server.consume_output(n);
        server
    }

    fn push_frame(out: &mut Vec<u8>, fin: bool, opcode: OpCode, payload: &[u8], key: [u8; 4]) {
        let h = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask: Some(key),
            payload_len: payload.len() as u64,
        };
        h.encode(out);
        let start = out.len();
        out.extend_from_slice(payload);
        apply_mask(&mut out[start..], key, 0);
    }

    /// What a test stream should produce: data messages and pings, in order.
    #[derive(Debug, PartialEq)]
    enum Want {
        Msg(MessageKind, Vec<u8>),
        Ping(Vec<u8>),
    }

    /// Messages of random kinds and sizes, some fragmented with pings between fragments;
    /// `bad` appends invalid UTF-8 in a text message at the end.
    fn stream(rng: &mut Rng, bad: bool) -> (Vec<u8>, Vec<Want>) {
        let mut bytes = Vec::new();
        let mut want = Vec::new();
        for _ in 0..12 {
            let text = rng.below(2) == 0;
            let len = [0, 1, 7, 100, 1000, 5000, 70_000][rng.below(7)];
            let data: Vec<u8> = if text {
                "aé€😀"
                    .chars()
                    .cycle()
                    .take(len)
                    .collect::<String>()
                    .into_bytes()
            } else {
                (0..len).map(|_| rng.next() as u8).collect()
            };
            let parts = 1 + rng.below(3);
            let mut cuts: Vec<usize> = (0..parts - 1)
                .map(|_| rng.below(data.len() as u64 + 1))
                .collect();
            cuts.sort();
            cuts.push(data.len());
            let mut from = 0;
            for (i, &to) in cuts.iter().enumerate() {
                let op = match (i, text) {
                    (0, true) => OpCode::Text,
                    (0, false) => OpCode::Binary,
                    _ => OpCode::Continuation,
                };
                let key = (rng.next() as u32).to_le_bytes();
                push_frame(&mut bytes, i == parts - 1, op, &data[from..to], key);
                from = to;
                if i + 1 < parts && rng.below(3) == 0 {
                    push_frame(&mut bytes, true, OpCode::Ping, b"p", key);
                    want.push(Want::Ping(b"p".to_vec()));
                }
            }
            let kind = if text {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            want.push(Want::Msg(kind, data));
        }
        if bad {
            push_frame(&mut bytes, true, OpCode::Text, b"ok \xff no", [1, 2, 3, 4]);
        }
        (bytes, want)
    }

    /// Feeds `bytes` in random pieces, calling `next_event` at random moments; returns what
    /// came out (fragments joined per message) and the error, if any.
    fn run(
        rng: &mut Rng,
        bytes: &[u8],
        streaming: bool,
        zero_copy: &mut usize,
    ) -> (Vec<Want>, Option<Error>) {
        let mut conn = open_server();
        conn.set_streaming(streaming);
        let mut got = Vec::new();
        let mut partial: Option<(MessageKind, Vec<u8>)> = None;
        let mut pos = 0;
        loop {
            if pos < bytes.len() {
                let n = [1, 2, 13, 100, 4096, 65536, 200_000][rng.below(7)].min(bytes.len() - pos);
                // Zero-copy receive where the engine offers room, as the adapters do.
                match conn.receive_buffer().filter(|_| rng.below(2) == 0) {
                    Some(room) => {
                        let n = n.min(room.len());
                        for (dst, &src) in room.iter_mut().zip(&bytes[pos..pos + n]) {
                            dst.write(src);
                        }
                        // SAFETY: the first `n` bytes of `room` were just written.
                        unsafe { conn.commit_received(n) };
                        pos += n;
                        *zero_copy += n;
                    }
                    None => {
                        conn.receive(&bytes[pos..pos + n]);
                        pos += n;
                    }
                }
                if rng.below(3) == 0 {
                    continue;
                }
            }
            loop {
                match conn.next_event() {
                    Ok(Some(Event::Message(m))) => {
                        got.push(Want::Msg(m.kind(), m.as_bytes().to_vec()))
                    }
                    Ok(Some(Event::Fragment(f))) => {
                        let p = partial.get_or_insert((f.kind, Vec::new()));
                        p.1.extend_from_slice(&f.data);
                        if f.fin {
                            let (k, d) = partial.take().unwrap();
                            got.push(Want::Msg(k, d));
                        }
                    }
                    Ok(Some(Event::Ping(p))) => got.push(Want::Ping(p)),
                    Ok(Some(other)) => panic!("unexpected {other:?}"),
                    Ok(None) => break,
                    Err(e) => return (got, Some(e)),
                }
            }
            if pos == bytes.len() {
                return (got, None);
            }
        }
    }

    /// Header and the first `k` payload bytes of a masked binary frame carrying `payload`.
    fn frame_start(payload: &[u8], k: usize) -> (Vec<u8>, Vec<u8>) {
        let mut bytes = Vec::new();
        push_frame(&mut bytes, true, OpCode::Binary, payload, [9, 8, 7, 6]);
        let head = bytes.len() - payload.len();
        let rest = bytes.split_off(head + k);
        (bytes, rest)
    }

    #[test]
    fn zero_copy_room_is_the_rest_of_the_frame() {
        let mut conn = open_server();
        assert!(conn.receive_buffer().is_none(), "no frame yet");
        let payload: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let (start, rest) = frame_start(&payload, 10);
        conn.receive(&start);
        assert!(matches!(conn.next_event(), Ok(None)));
        let room = conn.receive_buffer().expect("inside the payload");
        assert_eq!(room.len(), 990);
        for (dst, &src) in room.iter_mut().zip(&rest) {
            dst.write(src);
        }
        // SAFETY: all 990 bytes were written.
        unsafe { conn.commit_received(990) };
        assert!(conn.receive_buffer().is_none(), "the frame is complete");
        match conn.next_event() {
            Ok(Some(Event::Message(m))) => assert_eq!(m.as_bytes(), &payload[..]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn streaming_room_is_bounded() {
        let mut conn = open_server();
        conn.set_streaming(true);
        let (start, _) = frame_start(&vec![0; 4 << 20], 3);
        conn.receive(&start);
        assert!(matches!(conn.next_event(), Ok(Some(Event::Fragment(_)))));
        let room = conn.receive_buffer().expect("inside the payload").len();
        assert!(room > 0 && room <= 64 * 1024, "{room}");
    }

    #[test]
    #[should_panic(expected = "more bytes than receive_buffer offered")]
    fn commit_beyond_the_room_panics() {
        let mut conn = open_server();
        let (start, _) = frame_start(&[1; 100], 10);
        conn.receive(&start);
        let room = conn.receive_buffer().expect("inside the payload").len();
        // SAFETY: not reached: the count is refused before any byte is taken.
        unsafe { conn.commit_received(room + 1) };
    }

    #[test]
    fn any_split_and_any_polling_yields_the_same_events() {
        let mut rng = Rng(0x1234_5678_9abc_def1);
        let mut zero_copy = 0;
        for round in 0..200 {
            let bad = round % 3 == 2;
            let (bytes, want) = stream(&mut rng, bad);
            let streaming = round % 2 == 1;
            let (got, err) = run(&mut rng, &bytes, streaming, &mut zero_copy);
            assert_eq!(got, want, "round {round}");
            assert_eq!(err.is_some(), bad, "round {round}: {err:?}");
            if let Some(e) = err {
                assert!(matches!(
                    e,
                    Error::Protocol(crate::ProtocolError::InvalidUtf8)
                ));
            }
        }
        // The zero-copy path was taken for a good share of the payload.
        assert!(zero_copy > 1_000_000, "{zero_copy} bytes zero-copy");
    }
}
