//! The incoming half: inflates the peer's raw DEFLATE stream message by message
//! (RFC 7692 §7.2.2), checking the output size while inflating.
//!
//! miniz_oxide's low-level `decompress_with_limit` writes into a 32 KiB ring (the LZ77
//! history, valid for any window of 8–15 bits) and stops after a given number of bytes, so
//! the output is bounded *before* it is produced: a call never makes `out` grow past
//! `max_out`, and at most one byte beyond the limit is ever inflated (into the ring) to learn
//! that the limit is exceeded. Bytes are copied from the ring to `out`, whose capacity grows
//! geometrically but never past the limit.
//!
//! # Blocks with BFINAL set
//!
//! RFC 7692 §7.2.1 lets a sender use blocks with BFINAL set anywhere in a message: "the next
//! DEFLATE block follows the padded data if any", in the same message. So when a final block
//! ends, the inflater is restarted at the next byte and goes on with the same message; the
//! LZ77 history is kept, since keeping it is correct whatever the sender did (a sender that
//! restarted its own compressor just never refers to it).
//!
//! A message may also end right after a final block, without the `00` byte §7.2.3.4 adds so
//! that the appended `00 00 ff ff` forms an empty stored block (zlib-based peers that flush
//! with `Z_FINISH` do this). Then the appended bytes are not needed and are dropped, as zlib
//! itself would; likewise when our appended bytes complete a final block.
//!
//! # Checking that a message ends on a block boundary
//!
//! A conforming message, with `00 00 ff ff` appended, ends exactly after an empty stored block,
//! at a byte-aligned block boundary, and every output byte is produced before the appended
//! bytes (they only carry the stored block's LEN and NLEN). A message that is cut off would
//! otherwise silently corrupt itself and the next one, so two checks follow each message:
//! the appended bytes must produce no output, and the inflater is then fed `03 00`, a final
//! empty block with fixed codes, which at a block boundary ends the (virtual) stream with no
//! output and no leftover byte, and anywhere else yields output or an error. Either failure
//! makes the message `Corrupt`. The probe never writes to `out` and leaves the history as it
//! was.

use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_HAS_MORE_INPUT;
use miniz_oxide::inflate::core::{decompress_with_limit, DecompressorOxide, TINFL_LZ_DICT_SIZE};
use miniz_oxide::inflate::TINFLStatus;

use super::compress::SYNC_TAIL;
use crate::error::ExtensionError;

/// A final, empty block with fixed Huffman codes: header bits `1 10`, end-of-block code
/// `0000000`, padding.
const BOUNDARY_PROBE: [u8; 2] = [0x03, 0x00];

/// The inflater's history ring (32 KiB, a power of two as miniz_oxide requires).
const RING: usize = TINFL_LZ_DICT_SIZE;

/// The decompressing half of a permessage-deflate stream.
pub(super) struct Decompressor {
    /// Allocated on the first compressed message; kept for the connection's life unless
    /// `release` is set.
    state: Option<Inflater>,
    /// The peer compresses every message alone (it agreed to `*_no_context_takeover`), so
    /// the inflater and its history are released after every message.
    release: bool,
    /// The current message has had at least one byte of payload.
    in_message: bool,
    /// The last thing inflated was the end of a final block (nothing since).
    after_final: bool,
}

/// miniz_oxide's inflater and the history it needs.
struct Inflater {
    core: Box<DecompressorOxide>,
    /// The last 32 KiB of output, written as a ring.
    ring: Box<[u8]>,
    /// Where the next output byte goes in `ring`.
    pos: usize,
}

/// Where inflating one piece of input stopped.
enum Stop<'a> {
    /// All the input was used; the stream goes on.
    Consumed,
    /// A final block ended; this input follows it (a new stream, per RFC 7692).
    Final(&'a [u8]),
}

impl Decompressor {
    pub(super) fn new(no_context_takeover: bool) -> Decompressor {
        Decompressor {
            state: None,
            release: no_context_takeover,
            in_message: false,
            after_final: false,
        }
    }

    /// Whether the inflater has been allocated (for `Debug` and memory tests).
    pub(super) fn is_allocated(&self) -> bool {
        self.state.is_some()
    }

    /// Inflates the next chunk of a message's payload onto `out`, never letting it grow by
    /// more than `max_out` bytes (`TooBig` otherwise). `fin` ends the message.
    pub(super) fn decode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<(), ExtensionError> {
        let result = self.decode_inner(input, fin, out, max_out);
        if result.is_err() {
            // The stream cannot be resynchronised; start clean if the caller goes on.
            self.state = None;
            self.in_message = false;
            self.after_final = false;
        }
        result
    }

    fn decode_inner(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<(), ExtensionError> {
        let limit = out.len().saturating_add(max_out);
        if !input.is_empty() {
            self.in_message = true;
        } else if !fin {
            return Ok(());
        } else if !self.in_message {
            // A compressed message with no payload at all is not valid DEFLATE once
            // `00 00 ff ff` is appended, but it can only mean an empty message, and
            // zlib-based peers accept it: so do we, without touching the stream.
            return Ok(());
        }

        let inflater = self.state.get_or_insert_with(Inflater::new);
        let mut rest = input;
        while !rest.is_empty() {
            self.after_final = false;
            match inflater.inflate(rest, out, limit)? {
                Stop::Consumed => rest = &[],
                Stop::Final(after) => {
                    self.after_final = after.is_empty();
                    rest = after;
                }
            }
        }

        if fin {
            self.in_message = false;
            if !std::mem::take(&mut self.after_final) {
                let before = out.len();
                let stop = inflater.inflate(&SYNC_TAIL, out, limit)?;
                if out.len() != before {
                    // In a conforming message every symbol is complete before the appended
                    // bytes, which only close an empty stored block.
                    return Err(ExtensionError::Corrupt(
                        "message ends inside a DEFLATE block".into(),
                    ));
                }
                match stop {
                    // The appended bytes completed a final block: the rest of them is dropped.
                    Stop::Final(_) => {}
                    Stop::Consumed => inflater.check_block_boundary()?,
                }
            }
            if self.release {
                self.state = None;
            }
        }
        Ok(())
    }
}

impl Inflater {
    fn new() -> Inflater {
        Inflater {
            core: Box::default(),
            ring: vec![0; RING].into_boxed_slice(),
            pos: 0,
        }
    }

    /// Inflates `input` onto `out` until the input is used up or a final block ends, keeping
    /// `out.len() <= limit`.
    fn inflate<'a>(
        &mut self,
        mut input: &'a [u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<Stop<'a>, ExtensionError> {
        loop {
            let room = limit - out.len();
            // With no room left, let it inflate one byte (into the ring only) to find out
            // whether any output remains.
            let (status, used, n) = decompress_with_limit(
                &mut self.core,
                input,
                &mut self.ring,
                self.pos,
                room.max(1),
                TINFL_FLAG_HAS_MORE_INPUT,
            );
            if n > room {
                return Err(ExtensionError::TooBig);
            }
            let produced = self
                .ring
                .get(self.pos..self.pos + n)
                .ok_or_else(inflater_bug)?;
            push_bounded(out, produced, limit);
            self.pos = (self.pos + n) & (RING - 1);
            input = input.get(used..).ok_or_else(inflater_bug)?;
            match status {
                TINFLStatus::Done => {
                    self.core.init();
                    return Ok(Stop::Final(input));
                }
                TINFLStatus::NeedsMoreInput if input.is_empty() => return Ok(Stop::Consumed),
                TINFLStatus::NeedsMoreInput | TINFLStatus::HasMoreOutput => {
                    if used == 0 && n == 0 {
                        return Err(inflater_bug());
                    }
                }
                _ => return Err(ExtensionError::Corrupt("invalid DEFLATE data".into())),
            }
        }
    }

    /// Checks that the stream is at a block boundary (see the module docs).
    fn check_block_boundary(&mut self) -> Result<(), ExtensionError> {
        let (status, used, n) = decompress_with_limit(
            &mut self.core,
            &BOUNDARY_PROBE,
            &mut self.ring,
            self.pos,
            1,
            TINFL_FLAG_HAS_MORE_INPUT,
        );
        self.core.init();
        if status == TINFLStatus::Done && used == BOUNDARY_PROBE.len() && n == 0 {
            Ok(())
        } else {
            Err(ExtensionError::Corrupt(
                "message does not end on a DEFLATE block boundary".into(),
            ))
        }
    }
}

fn inflater_bug() -> ExtensionError {
    ExtensionError::Other("inflater made no progress".into())
}

/// Appends `data` to `out` (the caller guarantees `out.len() + data.len() <= limit`), growing
/// the capacity geometrically but never past `limit`.
fn push_bounded(out: &mut Vec<u8>, data: &[u8], limit: usize) {
    if out.capacity() - out.len() < data.len() {
        let extra = out.len().min(limit - out.len()).max(data.len());
        out.reserve_exact(extra);
    }
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_bounded_never_reserves_past_the_limit() {
        let mut out = Vec::new();
        for _ in 0..100 {
            push_bounded(&mut out, &[7; 10], 1000);
            assert!(out.capacity() <= 1000, "capacity {}", out.capacity());
        }
        assert_eq!(out.len(), 1000);
    }

    #[test]
    fn push_bounded_grows_geometrically() {
        let mut out = Vec::new();
        let mut reallocations = 0;
        let mut cap = out.capacity();
        for _ in 0..10_000 {
            push_bounded(&mut out, &[1; 16], usize::MAX);
            if out.capacity() != cap {
                reallocations += 1;
                cap = out.capacity();
            }
        }
        assert!(reallocations < 20, "{reallocations} reallocations");
    }

    #[test]
    fn inflater_is_allocated_on_the_first_compressed_byte() {
        let mut d = Decompressor::new(false);
        let mut out = Vec::new();
        d.decode(b"", true, &mut out, 100).unwrap();
        assert!(!d.is_allocated(), "an empty message needs no inflater");
        d.decode(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert!(d.is_allocated());
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn without_context_takeover_the_inflater_is_released_after_each_message() {
        // RFC 7692 §7.2.3.1: "Hello" compressed alone.
        let first = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut d = Decompressor::new(true);
        let mut out = Vec::new();
        d.decode(&first, true, &mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        assert!(!d.is_allocated());
        out.clear();
        d.decode(&first, true, &mut out, 100).unwrap();
        assert_eq!(out, b"Hello", "a message compressed alone decodes alone");
        assert!(!d.is_allocated());
    }

    #[test]
    fn an_error_drops_the_inflater() {
        let mut d = Decompressor::new(false);
        let mut out = Vec::new();
        assert!(d.decode(&[0xff; 8], true, &mut out, 100).is_err());
        assert!(!d.is_allocated());
    }
}
