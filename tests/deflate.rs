//! permessage-deflate codec (RFC 7692 §7.2) through its public API: the RFC's examples,
//! round trips at every window size checked by an independent reference inflater that
//! enforces the window, bounded inflation, corrupt input, and the configuration.
//!
//! Negotiation is `pub(crate)` and tested by unit tests in `src/deflate/negotiate.rs`.

use wsengine::deflate::{DeflateConfig, PerMessageDeflate, StreamParams};
use wsengine::error::ExtensionError;
use wsengine::extension::Extension;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A config that compresses every message, however short.
fn always() -> DeflateConfig {
    DeflateConfig {
        threshold: 0,
        ..DeflateConfig::default()
    }
}

fn params(no_context_takeover: bool, max_window_bits: u8) -> StreamParams {
    StreamParams {
        no_context_takeover,
        max_window_bits,
    }
}

/// A sender compressing with `p` and a receiver expecting `p`.
fn pair(p: StreamParams) -> (PerMessageDeflate, PerMessageDeflate) {
    let cfg = always();
    let sender = PerMessageDeflate::new(&cfg, p, StreamParams::default()).unwrap();
    let receiver = PerMessageDeflate::new(&cfg, StreamParams::default(), p).unwrap();
    (sender, receiver)
}

fn ext() -> PerMessageDeflate {
    PerMessageDeflate::new(&always(), StreamParams::default(), StreamParams::default()).unwrap()
}

/// Compresses a whole message as `send` would.
fn send(sender: &mut PerMessageDeflate, message: &[u8]) -> Vec<u8> {
    assert_eq!(sender.begin_message(message.len(), true), 0x40);
    let mut out = Vec::new();
    sender.encode(message, true, &mut out).unwrap();
    out
}

/// Inflates a whole message received in one frame.
fn receive(receiver: &mut PerMessageDeflate, payload: &[u8]) -> Result<Vec<u8>, ExtensionError> {
    let mut out = Vec::new();
    receiver.decode(payload, true, &mut out, usize::MAX)?;
    Ok(out)
}

/// Deterministic xorshift bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Text-like data: words from a small vocabulary and numbers, so that matches occur at
    /// every distance up to 32 KiB.
    fn text(&mut self, n: usize) -> Vec<u8> {
        const WORDS: [&str; 16] = [
            "the",
            "websocket",
            "message",
            "frame",
            "deflate",
            "window",
            "context",
            "takeover",
            "{\"type\":\"trade\",",
            "\"price\":",
            "\"size\":",
            "server",
            "client",
            "and",
            "of",
            "compression",
        ];
        let mut out = Vec::with_capacity(n + 32);
        while out.len() < n {
            let r = self.next();
            if r % 5 == 0 {
                let digits = (r >> 8).to_string();
                out.extend_from_slice(&digits.as_bytes()[..((r >> 40) % 6 + 1) as usize]);
            } else {
                out.extend_from_slice(WORDS[(r >> 16) as usize % WORDS.len()].as_bytes());
            }
            out.push(if r % 7 == 0 { b'\n' } else { b' ' });
        }
        out.truncate(n);
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// An independent reference inflater (RFC 1951, after zlib's `puff`): decodes bit by bit,
// keeps the whole history, and fails on any distance beyond its window or before the start of
// what it was allowed to keep. It treats a message as RFC 7692 §7.2.2 does: payload plus
// `00 00 ff ff`, decoded until the input ends (blocks with BFINAL set are followed by more
// blocks after padding).

struct Reference {
    history: Vec<u8>,
    /// History before this index may not be referenced (a message start without context).
    floor: usize,
    window: usize,
    max_distance: usize,
}

struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u64,
    count: u32,
}

impl Bits<'_> {
    fn take(&mut self, n: u32) -> Result<u32, String> {
        while self.count < n {
            let byte = *self.data.get(self.pos).ok_or("truncated")?;
            self.pos += 1;
            self.buf |= u64::from(byte) << self.count;
            self.count += 8;
        }
        let v = (self.buf & ((1u64 << n) - 1)) as u32;
        self.buf >>= n;
        self.count -= n;
        Ok(v)
    }

    fn align(&mut self) {
        let r = self.count % 8;
        self.buf >>= r;
        self.count -= r;
    }

    fn exhausted(&self) -> bool {
        self.pos == self.data.len() && self.count < 8
    }
}

struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Huffman {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        count[0] = 0;
        let mut offset = [0u16; 16];
        for i in 1..16 {
            offset[i] = offset[i - 1] + count[i - 1];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offset[l as usize] as usize] = s as u16;
                offset[l as usize] += 1;
            }
        }
        Huffman { count, symbol }
    }

    fn decode(&self, bits: &mut Bits) -> Result<usize, String> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.take(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return Ok(usize::from(self.symbol[(index + code - first) as usize]));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err("invalid Huffman code".into())
    }
}

const LENGTH_BASE: [usize; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u32; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DISTANCE_BASE: [usize; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DISTANCE_EXTRA: [u32; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

impl Reference {
    fn new(window_bits: u8) -> Reference {
        Reference {
            history: Vec::new(),
            floor: 0,
            window: 1 << window_bits,
            max_distance: 0,
        }
    }

    /// Decodes one message; `no_context` forbids references to earlier messages.
    fn message(&mut self, payload: &[u8], no_context: bool) -> Result<Vec<u8>, String> {
        let start = self.history.len();
        if no_context {
            self.floor = start;
        }
        let mut data = payload.to_vec();
        data.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
        let mut bits = Bits {
            data: &data,
            pos: 0,
            buf: 0,
            count: 0,
        };
        while !bits.exhausted() {
            let last = bits.take(1)?;
            match bits.take(2)? {
                0 => {
                    bits.align();
                    let len = bits.take(16)?;
                    if bits.take(16)? != !len & 0xffff {
                        return Err("stored block length mismatch".into());
                    }
                    for _ in 0..len {
                        let byte = bits.take(8)? as u8;
                        self.history.push(byte);
                    }
                }
                1 => {
                    let mut lengths = [8u8; 288];
                    lengths[144..256].fill(9);
                    lengths[256..280].fill(7);
                    self.codes(&mut bits, &Huffman::new(&lengths), &Huffman::new(&[5; 30]))?;
                }
                2 => {
                    let nlen = bits.take(5)? as usize + 257;
                    let ndist = bits.take(5)? as usize + 1;
                    let ncode = bits.take(4)? as usize + 4;
                    const ORDER: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut code_lengths = [0u8; 19];
                    for &i in &ORDER[..ncode] {
                        code_lengths[i] = bits.take(3)? as u8;
                    }
                    let code = Huffman::new(&code_lengths);
                    let mut lengths = Vec::new();
                    while lengths.len() < nlen + ndist {
                        let (value, repeat) = match code.decode(&mut bits)? {
                            s @ 0..=15 => (s as u8, 1),
                            16 => (
                                *lengths.last().ok_or("repeat of nothing")?,
                                3 + bits.take(2)?,
                            ),
                            17 => (0, 3 + bits.take(3)?),
                            _ => (0, 11 + bits.take(7)?),
                        };
                        lengths.extend(std::iter::repeat_n(value, repeat as usize));
                    }
                    if lengths.len() != nlen + ndist {
                        return Err("code lengths overflow".into());
                    }
                    let (lit, dist) = lengths.split_at(nlen);
                    self.codes(&mut bits, &Huffman::new(lit), &Huffman::new(dist))?;
                }
                _ => return Err("reserved block type".into()),
            }
            if last == 1 {
                bits.align();
            }
        }
        Ok(self.history[start..].to_vec())
    }

    fn codes(&mut self, bits: &mut Bits, lit: &Huffman, dist: &Huffman) -> Result<(), String> {
        loop {
            match lit.decode(bits)? {
                s @ 0..=255 => self.history.push(s as u8),
                256 => return Ok(()),
                s => {
                    let s = s - 257;
                    let len = LENGTH_BASE.get(s).ok_or("bad length")?
                        + bits.take(LENGTH_EXTRA[s])? as usize;
                    let d = dist.decode(bits)?;
                    let distance = DISTANCE_BASE.get(d).ok_or("bad distance")?
                        + bits.take(DISTANCE_EXTRA[d])? as usize;
                    if distance > self.window {
                        return Err(format!(
                            "distance {distance} beyond the {}-byte window",
                            self.window
                        ));
                    }
                    if distance > self.history.len() - self.floor {
                        return Err(format!("distance {distance} reaches before the context"));
                    }
                    self.max_distance = self.max_distance.max(distance);
                    for _ in 0..len {
                        self.history
                            .push(self.history[self.history.len() - distance]);
                    }
                }
            }
        }
    }
}

#[test]
fn reference_inflater_rejects_distances_beyond_its_window() {
    // The negative control for the window tests below: a 32 KiB-window stream with long
    // matches fails a 256-byte reference window.
    let (mut sender, _) = pair(params(false, 15));
    let mut rng = Rng(1);
    let block = rng.bytes(1000);
    let message = [block.clone(), rng.bytes(500), block].concat();
    let payload = send(&mut sender, &message);
    let err = Reference::new(8).message(&payload, false).unwrap_err();
    assert!(err.contains("beyond the 256-byte window"), "{err}");
    let mut wide = Reference::new(15);
    assert_eq!(wide.message(&payload, false).unwrap(), message);
    assert_eq!(wide.max_distance, 1500);
}

// ---------------------------------------------------------------------------------------------
// RFC 7692 §7.2.3 examples

#[test]
fn rfc_7692_7_2_3_1_hello_compresses_to_the_rfc_bytes() {
    for no_context_takeover in [false, true] {
        let (mut sender, _) = pair(params(no_context_takeover, 15));
        assert_eq!(hex(&send(&mut sender, b"Hello")), "f2 48 cd c9 c9 07 00");
    }
}

#[test]
fn rfc_7692_7_2_3_2_second_hello_with_context_takeover_refers_to_the_first() {
    let (mut sender, _) = pair(params(false, 15));
    assert_eq!(hex(&send(&mut sender, b"Hello")), "f2 48 cd c9 c9 07 00");
    assert_eq!(hex(&send(&mut sender, b"Hello")), "f2 00 11 00 00");
}

#[test]
fn second_hello_without_context_takeover_is_compressed_alone() {
    let (mut sender, _) = pair(params(true, 15));
    assert_eq!(hex(&send(&mut sender, b"Hello")), "f2 48 cd c9 c9 07 00");
    assert_eq!(hex(&send(&mut sender, b"Hello")), "f2 48 cd c9 c9 07 00");
}

#[test]
fn rfc_7692_7_2_3_1_and_2_examples_decode() {
    let mut receiver = ext();
    assert_eq!(
        receive(&mut receiver, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
        b"Hello"
    );
    assert_eq!(
        receive(&mut receiver, &[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap(),
        b"Hello"
    );
}

#[test]
fn rfc_7692_7_2_3_1_example_decodes_from_fragments() {
    let mut receiver = ext();
    let mut out = Vec::new();
    receiver
        .decode(&[0xf2, 0x48, 0xcd], false, &mut out, usize::MAX)
        .unwrap();
    receiver
        .decode(&[0xc9, 0xc9, 0x07, 0x00], true, &mut out, usize::MAX)
        .unwrap();
    assert_eq!(out, b"Hello");
}

#[test]
fn rfc_7692_7_2_3_3_stored_block_decodes() {
    let payload = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(receive(&mut ext(), &payload).unwrap(), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_4_bfinal_block_decodes() {
    let payload = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(receive(&mut ext(), &payload).unwrap(), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_5_two_blocks_in_one_message_decode() {
    let payload = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(receive(&mut ext(), &payload).unwrap(), b"Hello");
}

#[test]
fn rfc_7692_7_2_3_6_empty_final_fragment_is_the_single_byte_00() {
    let (mut sender, mut receiver) = pair(params(false, 15));
    assert_eq!(sender.begin_message(5, false), 0x40);
    let mut first = Vec::new();
    sender.encode(b"Hello", false, &mut first).unwrap();
    assert_eq!(hex(&first), "f2 48 cd c9 c9 07 00 00 00 ff ff");
    let mut last = Vec::new();
    sender.encode(b"", true, &mut last).unwrap();
    assert_eq!(hex(&last), "00");

    let mut out = Vec::new();
    receiver
        .decode(&first, false, &mut out, usize::MAX)
        .unwrap();
    assert_eq!(
        out, b"Hello",
        "a sync-flushed fragment decodes before the message ends"
    );
    receiver.decode(&last, true, &mut out, usize::MAX).unwrap();
    assert_eq!(out, b"Hello");
}

#[test]
fn empty_message_compresses_to_00_and_back() {
    let (mut sender, mut receiver) = pair(params(false, 15));
    let payload = send(&mut sender, b"");
    assert_eq!(hex(&payload), "00");
    assert_eq!(receive(&mut receiver, &payload).unwrap(), b"");
}

#[test]
fn compressed_message_with_no_payload_decodes_as_empty() {
    let mut receiver = ext();
    assert_eq!(receive(&mut receiver, b"").unwrap(), b"");
    // The stream is untouched: the next message still decodes.
    assert_eq!(
        receive(&mut receiver, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
        b"Hello"
    );
}

// ---------------------------------------------------------------------------------------------
// Blocks with BFINAL set (RFC 7692 §7.2.1: "The next DEFLATE block follows the padded data")

#[test]
fn bfinal_block_mid_message_is_followed_by_more_blocks() {
    let (mut world_sender, _) = pair(params(false, 15));
    let world = send(&mut world_sender, b"World");
    let mut payload = vec![0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]; // final block "Hello"
    payload.extend_from_slice(&world);
    assert_eq!(receive(&mut ext(), &payload).unwrap(), b"HelloWorld");
}

#[test]
fn bfinal_block_split_across_fragments_is_followed_by_more_blocks() {
    let (mut world_sender, _) = pair(params(false, 15));
    let world = send(&mut world_sender, b"World");
    let mut receiver = ext();
    let mut out = Vec::new();
    receiver
        .decode(&[0xf3, 0x48, 0xcd, 0xc9], false, &mut out, usize::MAX)
        .unwrap();
    receiver
        .decode(&[0xc9, 0x07, 0x00], false, &mut out, usize::MAX)
        .unwrap();
    receiver.decode(&world, true, &mut out, usize::MAX).unwrap();
    assert_eq!(out, b"HelloWorld");
}

#[test]
fn message_ending_with_a_bfinal_block_and_no_trailer_decodes() {
    // What a zlib peer flushing with Z_FINISH sends; the appended 00 00 ff ff is not needed.
    let mut receiver = ext();
    assert_eq!(
        receive(&mut receiver, &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
        b"Hello"
    );
    // The history survives the final block: the RFC's second "Hello" refers to the first.
    assert_eq!(
        receive(&mut receiver, &[0xf2, 0x00, 0x11, 0x00, 0x00]).unwrap(),
        b"Hello"
    );
}

#[test]
fn message_after_a_bfinal_message_decodes_with_a_fresh_block_state() {
    let mut receiver = ext();
    let stored_final = [0x01, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(receive(&mut receiver, &stored_final).unwrap(), b"Hello");
    let (mut sender, _) = pair(params(true, 15));
    let next = send(&mut sender, b"another message, another message");
    assert_eq!(
        receive(&mut receiver, &next).unwrap(),
        b"another message, another message"
    );
}

// ---------------------------------------------------------------------------------------------
// Round trips: every window size, both context modes, checked three ways (our inflater,
// miniz_oxide's one-shot inflater on the whole stream, and the window-enforcing reference).

fn workload(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut messages = vec![
        rng.text(40),
        rng.text(300),
        rng.bytes(700),
        rng.text(5000),
        b"Hello".to_vec(),
        rng.text(70_000),
        Vec::new(),
    ];
    for _ in 0..40 {
        let n = (rng.next() % 600) as usize;
        messages.push(rng.text(n));
    }
    messages.push(rng.bytes(40_000));
    messages.push(rng.text(20_000));
    messages
}

#[test]
fn round_trip_at_every_window_and_context_mode_stays_within_the_window() {
    for bits in 8..=15u8 {
        for no_context_takeover in [false, true] {
            let p = params(no_context_takeover, bits);
            let (mut sender, mut receiver) = pair(p);
            let mut reference = Reference::new(bits);
            let mut stream = Vec::new();
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(bits));
            for (i, message) in workload(&mut rng).iter().enumerate() {
                let payload = send(&mut sender, message);
                let what = format!("w={bits} nct={no_context_takeover} message {i}");
                assert_eq!(
                    &receive(&mut receiver, &payload).unwrap(),
                    message,
                    "{what}"
                );
                let decoded = reference
                    .message(&payload, no_context_takeover)
                    .unwrap_or_else(|e| panic!("{what}: reference inflater: {e}"));
                assert_eq!(&decoded, message, "{what}: reference inflater");
                stream.extend_from_slice(&payload);
                stream.extend_from_slice(&[0x00, 0x00, 0xff, 0xff]);
            }
            assert!(reference.max_distance <= 1 << bits);
            // Independent check of the whole stream (ended with a final empty block).
            stream.extend_from_slice(&[0x03, 0x00]);
            let all =
                miniz_oxide::inflate::decompress_to_vec(&stream).expect("miniz_oxide inflate");
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(bits));
            assert_eq!(
                all,
                workload(&mut rng).concat(),
                "w={bits} nct={no_context_takeover}"
            );
        }
    }
}

#[test]
fn limited_windows_still_use_most_of_the_window() {
    // Priming keeps matches long after a window reset: on repetitive text, the farthest match
    // comes close to the window size.
    for bits in 8..=14u8 {
        let (mut sender, _) = pair(params(false, bits));
        let mut reference = Reference::new(bits);
        let message = Rng(7).text(100_000);
        reference
            .message(&send(&mut sender, &message), false)
            .unwrap();
        assert!(
            reference.max_distance > (1 << bits) / 2,
            "w={bits}: {}",
            reference.max_distance
        );
    }
}

#[test]
fn fragmented_message_at_a_limited_window_round_trips() {
    for bits in [8u8, 10, 12, 15] {
        let (mut sender, mut receiver) = pair(params(false, bits));
        let mut reference = Reference::new(bits);
        let mut rng = Rng(99);
        for round in 0..3 {
            let chunks: Vec<Vec<u8>> = (0..20)
                .map(|i| rng.text(if i % 5 == 0 { 3000 } else { 150 }))
                .collect();
            assert_eq!(sender.begin_message(chunks[0].len(), false), 0x40);
            let mut wire = Vec::new();
            let mut decoded = Vec::new();
            for (i, chunk) in chunks.iter().enumerate() {
                let fin = i == chunks.len() - 1;
                let mut piece = Vec::new();
                sender.encode(chunk, fin, &mut piece).unwrap();
                if !fin {
                    assert!(
                        piece.ends_with(&[0x00, 0x00, 0xff, 0xff]),
                        "chunk {i} is sync-flushed"
                    );
                }
                receiver
                    .decode(&piece, fin, &mut decoded, usize::MAX)
                    .unwrap();
                let expected: usize = chunks[..=i].iter().map(Vec::len).sum();
                assert_eq!(
                    decoded.len(),
                    expected,
                    "w={bits} round {round}: chunk {i} decodes at once"
                );
                wire.extend_from_slice(&piece);
            }
            assert_eq!(decoded, chunks.concat());
            assert_eq!(
                reference.message(&wire, false).unwrap(),
                chunks.concat(),
                "w={bits}"
            );
        }
    }
}

#[test]
fn decoding_byte_by_byte_matches_decoding_at_once() {
    let (mut sender, _) = pair(params(false, 15));
    let mut rng = Rng(5);
    let messages: Vec<Vec<u8>> = (0..5).map(|i| rng.text(200 + i * 3000)).collect();
    let payloads: Vec<Vec<u8>> = messages.iter().map(|m| send(&mut sender, m)).collect();
    let mut receiver = ext();
    for (message, payload) in messages.iter().zip(&payloads) {
        let mut out = Vec::new();
        for (i, byte) in payload.iter().enumerate() {
            receiver
                .decode(
                    std::slice::from_ref(byte),
                    i + 1 == payload.len(),
                    &mut out,
                    usize::MAX,
                )
                .unwrap();
        }
        assert_eq!(&out, message);
    }
}

#[test]
fn no_context_takeover_messages_decode_independently() {
    let (mut sender, _) = pair(params(true, 15));
    let mut rng = Rng(11);
    let text = rng.text(3000);
    for _ in 0..3 {
        let payload = send(&mut sender, &text);
        // A fresh inflater for each message.
        assert_eq!(receive(&mut ext(), &payload).unwrap(), text);
    }
}

// ---------------------------------------------------------------------------------------------
// Bounded inflation

#[test]
fn decompression_bomb_stops_at_max_out() {
    let (mut sender, _) = pair(params(false, 15));
    let bomb = send(&mut sender, &vec![0u8; 1 << 20]);
    assert!(
        bomb.len() <= 1100,
        "1 MiB of zeros compresses to {} bytes",
        bomb.len()
    );
    let max_out = 64 * 1024;
    let mut receiver = ext();
    let mut out = Vec::new();
    assert_eq!(
        receiver.decode(&bomb, true, &mut out, max_out),
        Err(ExtensionError::TooBig)
    );
    assert!(out.len() <= max_out, "out grew to {}", out.len());
    assert!(out.capacity() <= max_out, "out reserved {}", out.capacity());
}

#[test]
fn larger_bomb_in_fragments_stops_at_max_out() {
    // 16 MiB from ~16 KiB, the most DEFLATE can expand (about 1032:1); a message that would
    // inflate to 1 GiB needs about 1 MiB of payload, and is stopped the same way.
    let (mut sender, _) = pair(params(false, 15));
    let bomb = send(&mut sender, &vec![0u8; 16 << 20]);
    assert!(bomb.len() < 20 * 1024, "{} bytes", bomb.len());
    let max_out = 1 << 20;
    let mut receiver = ext();
    let mut out = Vec::new();
    let mut result = Ok(());
    for (i, chunk) in bomb.chunks(1024).enumerate() {
        let last = (i + 1) * 1024 >= bomb.len();
        let remaining = max_out - out.len();
        result = receiver.decode(chunk, last, &mut out, remaining);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(ExtensionError::TooBig));
    assert!(out.len() <= max_out);
    assert!(out.capacity() <= max_out);
}

#[test]
fn message_of_exactly_max_out_bytes_is_accepted() {
    let (mut sender, _) = pair(params(false, 15));
    let message = Rng(3).text(10_000);
    let payload = send(&mut sender, &message);
    let mut out = Vec::new();
    ext()
        .decode(&payload, true, &mut out, message.len())
        .unwrap();
    assert_eq!(out, message);
    let mut out = Vec::new();
    assert_eq!(
        ext().decode(&payload, true, &mut out, message.len() - 1),
        Err(ExtensionError::TooBig)
    );
    assert_eq!(out.len(), message.len() - 1);
}

#[test]
fn max_out_applies_to_each_call_on_top_of_what_out_holds() {
    let mut out = b"prefix".to_vec();
    ext()
        .decode(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            5,
        )
        .unwrap();
    assert_eq!(out, b"prefixHello");
}

// ---------------------------------------------------------------------------------------------
// Corrupt input

fn assert_corrupt(payload: &[u8]) {
    match receive(&mut ext(), payload) {
        Err(ExtensionError::Corrupt(_)) => {}
        other => panic!("{} decoded as {other:?}", hex(payload)),
    }
}

#[test]
fn garbage_is_corrupt() {
    assert_corrupt(&[0xff; 16]);
}

#[test]
fn reserved_block_type_is_corrupt() {
    assert_corrupt(&[0x07, 0x00]);
}

#[test]
fn stored_block_with_mismatched_length_is_corrupt() {
    assert_corrupt(&[
        0x00, 0x05, 0x00, 0xfb, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ]);
}

/// Packs DEFLATE fields into bytes: `(value, bit count, Huffman code?)`; Huffman codes are
/// written most significant bit first, other fields least significant bit first.
fn pack(fields: &[(u32, u32, bool)]) -> Vec<u8> {
    let mut bits = Vec::new();
    for &(value, n, huffman) in fields {
        for i in 0..n {
            let shift = if huffman { n - 1 - i } else { i };
            bits.push(((value >> shift) & 1) as u8);
        }
    }
    let mut bytes = vec![0u8; bits.len().div_ceil(8)];
    for (i, bit) in bits.iter().enumerate() {
        bytes[i / 8] |= bit << (i % 8);
    }
    bytes
}

#[test]
fn pack_builds_the_rfc_hello_block() {
    // The packer used below, checked against RFC 7692 §7.2.3.1's fixed block.
    let mut fields = vec![(0, 1, false), (1, 2, false)];
    fields.extend(b"Hello".iter().map(|&c| (0x30 + u32::from(c), 8, true)));
    fields.push((0, 7, true));
    fields.extend([(0, 1, false), (0, 2, false)]); // the empty stored block's header
    assert_eq!(hex(&pack(&fields)), "f2 48 cd c9 c9 07 00");
}

#[test]
fn invalid_distance_code_is_corrupt() {
    // Fixed block: literal 'a', then length 3 with distance code 30, which does not exist.
    assert_corrupt(&pack(&[
        (0, 1, false),
        (1, 2, false),
        (0x30 + u32::from(b'a'), 8, true),
        (1, 7, true),
        (30, 5, true),
        (0, 7, true),
    ]));
}

#[test]
fn invalid_length_code_is_corrupt() {
    // Fixed block: literal/length symbol 286 (8-bit code 11000110) does not exist.
    assert_corrupt(&pack(&[
        (0, 1, false),
        (1, 2, false),
        (0xc6, 8, true),
        (0, 7, true),
    ]));
}

#[test]
fn truncated_message_is_corrupt_not_silently_accepted() {
    let (mut sender, _) = pair(params(false, 15));
    let message = Rng(17).text(2000);
    let payload = send(&mut sender, &message);
    for cut in [1, 2, 5, payload.len() / 2] {
        let truncated = &payload[..payload.len() - cut];
        match receive(&mut ext(), truncated) {
            Err(ExtensionError::Corrupt(_)) => {}
            Ok(out) => panic!(
                "cut {cut}: accepted {} bytes of {}",
                out.len(),
                message.len()
            ),
            Err(e) => panic!("cut {cut}: {e:?}"),
        }
    }
}

#[test]
fn stored_block_that_swallows_the_trailer_is_corrupt() {
    // LEN 6 with two bytes: the appended 00 00 ff ff would complete it as data.
    assert_corrupt(&[0x00, 0x06, 0x00, 0xf9, 0xff, 0x48, 0x65]);
}

#[test]
fn every_byte_decodes_before_the_trailer_is_appended() {
    // What the trailer check relies on: a conforming payload yields its whole message before
    // `fin`, at every bit alignment our encoder produces.
    let (mut sender, _) = pair(params(false, 15));
    let mut rng = Rng(23);
    let mut receiver = ext();
    for i in 0..300 {
        let message = if i % 2 == 0 {
            rng.text(i * 7)
        } else {
            rng.bytes(i)
        };
        let payload = send(&mut sender, &message);
        let mut out = Vec::new();
        receiver
            .decode(&payload, false, &mut out, usize::MAX)
            .unwrap();
        assert_eq!(out, message, "message {i} before fin");
        receiver.decode(&[], true, &mut out, usize::MAX).unwrap();
        assert_eq!(out, message, "message {i} after fin");
    }
}

#[test]
fn stored_block_cut_short_is_corrupt() {
    assert_corrupt(&[0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65]);
}

#[test]
fn random_input_never_panics() {
    let mut rng = Rng(0x1234_5678);
    for i in 0..2000 {
        let n = (rng.next() % 64) as usize;
        let mut payload = rng.bytes(n);
        if i % 3 == 0 && !payload.is_empty() {
            payload[0] &= 0xf8; // start with a stored block header now and then
        }
        let mut receiver = ext();
        let mut out = Vec::new();
        let _ = receiver.decode(&payload, i % 2 == 0, &mut out, 4096);
        assert!(out.len() <= 4096);
        let _ = receiver.decode(&payload, true, &mut out, 4096);
    }
}

#[test]
fn a_failed_message_does_not_poison_later_ones() {
    let mut receiver = ext();
    assert!(receive(&mut receiver, &[0xff; 8]).is_err());
    assert_eq!(
        receive(&mut receiver, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
        b"Hello"
    );
}

// ---------------------------------------------------------------------------------------------
// Extension surface and configuration

#[test]
fn extension_is_named_permessage_deflate_and_owns_rsv1() {
    let e = ext();
    assert_eq!(e.name(), "permessage-deflate");
    assert_eq!(e.rsv_mask(), 0x40);
}

#[test]
fn short_whole_messages_are_sent_uncompressed() {
    let cfg = DeflateConfig::default();
    let mut e =
        PerMessageDeflate::new(&cfg, StreamParams::default(), StreamParams::default()).unwrap();
    assert_eq!(e.begin_message(cfg.threshold - 1, true), 0);
    assert_eq!(e.begin_message(cfg.threshold, true), 0x40);
}

#[test]
fn streamed_messages_are_compressed_whatever_their_first_chunk() {
    let mut e = PerMessageDeflate::new(
        &DeflateConfig::default(),
        StreamParams::default(),
        StreamParams::default(),
    )
    .unwrap();
    assert_eq!(e.begin_message(0, false), 0x40);
}

#[test]
fn level_zero_sends_uncompressed_but_still_inflates() {
    let cfg = DeflateConfig {
        level: 0,
        threshold: 0,
        ..DeflateConfig::default()
    };
    let mut e =
        PerMessageDeflate::new(&cfg, StreamParams::default(), StreamParams::default()).unwrap();
    assert_eq!(e.begin_message(1 << 20, true), 0);
    assert_eq!(e.begin_message(1 << 20, false), 0);
    assert_eq!(
        receive(&mut e, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]).unwrap(),
        b"Hello"
    );
}

#[test]
fn state_is_allocated_on_first_use() {
    let (mut sender, mut receiver) = pair(params(false, 15));
    assert!(format!("{sender:?}").contains("compressor_allocated: false"));
    assert!(format!("{sender:?}").contains("inflater_allocated: false"));
    let payload = send(&mut sender, b"Hello");
    assert!(format!("{sender:?}").contains("compressor_allocated: true"));
    receive(&mut receiver, &payload).unwrap();
    assert!(format!("{receiver:?}").contains("inflater_allocated: true"));
    assert!(format!("{receiver:?}").contains("compressor_allocated: false"));
}

#[test]
fn negotiated_parameters_are_readable() {
    let (sender, receiver) = pair(params(true, 9));
    assert_eq!(sender.outgoing(), params(true, 9));
    assert_eq!(receiver.incoming(), params(true, 9));
    assert_eq!(sender.incoming(), StreamParams::default());
}

#[test]
fn default_config_values() {
    let d = DeflateConfig::default();
    assert!(!d.server_no_context_takeover);
    assert!(!d.client_no_context_takeover);
    assert_eq!(d.server_max_window_bits, None);
    assert_eq!(d.client_max_window_bits, None);
    assert_eq!(d.level, 3);
    assert_eq!(d.threshold, 32);
    assert_eq!(d.validate(), Ok(()));
}

#[test]
fn config_rejects_windows_outside_8_to_15_and_levels_above_10() {
    let ok = |c: DeflateConfig| c.validate().is_ok();
    let d = DeflateConfig::default;
    assert!(ok(DeflateConfig {
        server_max_window_bits: Some(8),
        client_max_window_bits: Some(15),
        level: 10,
        ..d()
    }));
    assert!(!ok(DeflateConfig {
        server_max_window_bits: Some(7),
        ..d()
    }));
    assert!(!ok(DeflateConfig {
        server_max_window_bits: Some(16),
        ..d()
    }));
    assert!(!ok(DeflateConfig {
        client_max_window_bits: Some(0),
        ..d()
    }));
    assert!(!ok(DeflateConfig {
        client_max_window_bits: Some(16),
        ..d()
    }));
    assert!(!ok(DeflateConfig { level: 11, ..d() }));
}

#[test]
fn extension_rejects_windows_outside_8_to_15() {
    let cfg = DeflateConfig::default();
    assert!(PerMessageDeflate::new(&cfg, params(false, 7), StreamParams::default()).is_err());
    assert!(PerMessageDeflate::new(&cfg, StreamParams::default(), params(false, 16)).is_err());
    assert!(PerMessageDeflate::new(
        &DeflateConfig { level: 11, ..cfg },
        StreamParams::default(),
        StreamParams::default()
    )
    .is_err());
}

// ---------------------------------------------------------------------------------------------
// Through the connection: negotiation in the handshake, then messages both ways

mod through_the_connection {
    use super::Rng;
    use wsengine::deflate::DeflateConfig;
    use wsengine::{
        ClientRequest, Config, Connection, Error, Event, Message, MessageKind, ProtocolError,
    };

    fn pump(from: &mut Connection, to: &mut Connection) {
        let n = from.output().len();
        to.receive(from.output());
        from.consume_output(n);
    }

    fn open(client_cfg: DeflateConfig, server_cfg: DeflateConfig) -> (Connection, Connection) {
        let config = |d| Config {
            deflate: Some(d),
            ..Config::default()
        };
        let request = ClientRequest::new("ws://example.com/").unwrap();
        let mut client = Connection::client(request, config(client_cfg)).unwrap();
        let mut server = Connection::server(config(server_cfg)).unwrap();
        pump(&mut client, &mut server);
        assert!(matches!(server.next_event().unwrap(), Some(Event::Open(_))));
        pump(&mut server, &mut client);
        assert!(matches!(client.next_event().unwrap(), Some(Event::Open(_))));
        (client, server)
    }

    fn next_message(conn: &mut Connection) -> Message {
        match conn.next_event().unwrap() {
            Some(Event::Message(m)) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn default_configs_negotiate_and_round_trip_both_ways() {
        let (mut client, mut server) = open(DeflateConfig::default(), DeflateConfig::default());
        assert_eq!(client.extensions(), Some("permessage-deflate"));
        assert_eq!(server.extensions(), Some("permessage-deflate"));
        let mut rng = Rng(42);
        for i in 0..20 {
            let text = String::from_utf8(rng.text(i * 997)).unwrap();
            client.send_text(&text).unwrap();
            let sent = client.output().len();
            pump(&mut client, &mut server);
            assert_eq!(next_message(&mut server), Message::Text(text.clone()));
            if i > 2 {
                assert!(
                    sent < text.len() / 2,
                    "message {i}: {sent} bytes for {}",
                    text.len()
                );
            }
            let data = rng.bytes(i * 50);
            server.send_binary(&data).unwrap();
            pump(&mut server, &mut client);
            assert_eq!(next_message(&mut client), Message::Binary(data));
        }
    }

    #[test]
    fn limited_windows_and_no_context_takeover_round_trip_in_fragments() {
        let cfg = DeflateConfig {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: Some(9),
            client_max_window_bits: Some(10),
            ..DeflateConfig::default()
        };
        let (mut client, mut server) = open(cfg.clone(), cfg);
        let mut rng = Rng(8);
        for _ in 0..5 {
            let parts: Vec<Vec<u8>> = (0..4).map(|_| rng.text(3000)).collect();
            for (i, part) in parts.iter().enumerate() {
                client
                    .write_some(i == parts.len() - 1, MessageKind::Binary, part)
                    .unwrap();
            }
            pump(&mut client, &mut server);
            assert_eq!(next_message(&mut server), Message::Binary(parts.concat()));
        }
    }

    #[test]
    fn a_compressed_bomb_fails_with_message_too_big() {
        let (mut client, mut server) = open(DeflateConfig::default(), DeflateConfig::default());
        let limit = Config::default().limits.max_message_size;
        client.send_binary(&vec![0u8; limit + 1]).unwrap();
        pump(&mut client, &mut server);
        match server.next_event() {
            Err(Error::Protocol(ProtocolError::MessageTooBig { .. })) => {}
            other => panic!("expected MessageTooBig, got {other:?}"),
        }
    }
}
