//! The outgoing half: one raw DEFLATE stream (RFC 1951) cut into messages by sync flushes
//! (RFC 7692 §7.2.1), compressed with miniz_oxide, never reaching further back than the
//! negotiated window.
//!
//! # Honouring a window smaller than 32 KiB
//!
//! miniz_oxide's compressor always searches a 32 KiB window, and its `window_bits` knob does
//! not bound match distances (below 12 bits it falls back to run-length matches only, and for
//! 12–14 bits it selects level 1, whose matches still reach 32 KiB back). So the window is
//! enforced from outside, with two public primitives:
//!
//! * `TDEFLFlush::Full` ends the current block with an empty stored block (byte-aligned, like a
//!   sync flush) and then empties the compressor's window: it clears the hash chains and sets
//!   the amount of history a match may reach (`dict.size`) to 0. Every match the compressor
//!   emits is at a distance of at most `dict.size`, which counts only bytes fed after the last
//!   full flush and before the current position.
//! * Priming: right after a full flush the compressor is given the last `H = 2^(w-2)` bytes of
//!   the uncompressed stream, sync-flushed, and its output is thrown away. The peer's inflater
//!   already holds exactly those bytes as the most recent part of its history (they were sent
//!   just before), so later matches into them decode correctly; and since the thrown-away
//!   output ends with a sync flush, the compressor is byte-aligned at a block boundary and the
//!   next real block follows the full flush's empty stored block seamlessly.
//!
//! **Proof that no distance exceeds `2^w`.** Let `in_window` count the bytes fed since the last
//! full flush, primed bytes included. We only feed a byte while `in_window < 2^w`, and a full
//! flush happens before `in_window` would pass `2^w` (a segment is cut, mid-message if need
//! be). A match starting at the `k`-th byte since the flush (`1 ≤ k ≤ in_window ≤ 2^w`) has
//! distance `≤ dict.size ≤ k - 1 < 2^w`. Messages do not matter: with context takeover
//! `in_window` simply carries over to the next message (the peer keeps its history too), so a
//! segment may span messages; with `no_context_takeover` the last flush of every message is a
//! full flush and nothing is primed, so each message starts with an empty window as §7.2.1
//! requires. Resetting at message boundaries under context takeover is never needed for the
//! bound, and would only cost ratio. At `w = 15` no segmenting is done: miniz_oxide's own
//! window is 32 KiB, exactly what RFC 7692 allows.
//!
//! **Cost** (level 3, measured while developing this module; ratio = compressed / original,
//! unlimited = w 15 for comparison):
//!
//! | w  | GPL-3 text, 35 KB | boto3 JSON, 77 KB | 5000 small JSON messages, context takeover |
//! |----|-------------------|-------------------|--------------------------------------------|
//! | 15 | 0.357             | 0.067             | 0.304                                      |
//! | 14 | 0.369 (0.385)     | 0.075 (0.089)     | 0.312 (0.323)                              |
//! | 12 | 0.413 (0.432)     | 0.107 (0.137)     | 0.328 (0.361)                              |
//! | 10 | 0.495 (0.513)     | 0.187 (0.248)     | 0.392 (0.473)                              |
//! | 8  | 0.691 (0.669)     | 0.522 (0.532)     | 0.708 (0.757)                              |
//!
//! In parentheses: plain segmenting without priming (every segment starts with an empty
//! window). Priming `2^(w-1)` bytes instead of `2^(w-2)` gained at most 0.01–0.07 more but
//! halved throughput (every byte compressed twice, twice as many full flushes); a quarter
//! window costs about 1.1–1.5× the CPU of plain segmenting. Each segment also costs a 5-byte
//! empty stored block and a block header, which is why w = 8 is so much worse.

use miniz_oxide::deflate::core::{
    compress_to_output, create_comp_flags_from_zip_params, CompressionStrategy, CompressorOxide,
    TDEFLFlush, TDEFLStatus,
};

use crate::error::ExtensionError;

/// The empty stored block a sync flush ends with; RFC 7692 §7.2.1 strips it from every
/// message and the receiver appends it back.
pub(super) const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The window miniz_oxide always uses and the largest RFC 7692 allows.
const FULL_WINDOW_BITS: u8 = 15;

/// The compressing half of a permessage-deflate stream.
pub(super) struct Compressor {
    /// miniz_oxide flags (level, raw deflate, default strategy).
    flags: u32,
    /// Start every message with an empty window (we agreed to `*_no_context_takeover`).
    no_context_takeover: bool,
    /// `Some(2^w)` when the negotiated window is smaller than miniz_oxide's 32 KiB and
    /// matches are possible (level > 0): the most bytes the compressor may reach back over.
    limit: Option<usize>,
    /// Bytes fed since the last full flush, primed bytes included.
    in_window: usize,
    /// The compressor, allocated on first use; kept for the connection's life with context
    /// takeover, released after every message without it.
    state: Option<Box<CompressorOxide>>,
    /// The most recent uncompressed bytes, to prime the compressor after a full flush.
    recent: Recent,
}

impl Compressor {
    /// A compressor at miniz_oxide `level` (0..=10) whose matches stay within
    /// `2^window_bits` bytes (8..=15).
    pub(super) fn new(level: u8, window_bits: u8, no_context_takeover: bool) -> Compressor {
        let level = level.min(10);
        let window_bits = window_bits.clamp(8, FULL_WINDOW_BITS);
        let flags = create_comp_flags_from_zip_params(
            i32::from(level),
            -i32::from(FULL_WINDOW_BITS),
            CompressionStrategy::Default as i32,
        );
        // Level 0 only writes stored blocks: it never matches, so it needs no window limit.
        let limit = (window_bits < FULL_WINDOW_BITS && level > 0).then(|| 1usize << window_bits);
        Compressor {
            flags,
            no_context_takeover,
            limit,
            in_window: 0,
            state: None,
            recent: Recent::new(limit.map_or(0, |l| l / 4)),
        }
    }

    /// Whether the compressor state has been allocated (for `Debug` and memory tests).
    pub(super) fn is_allocated(&self) -> bool {
        self.state.is_some()
    }

    /// Compresses the next chunk of the current message, appending exactly the bytes to put on
    /// the wire to `out`. Every call ends with a sync flush, so each chunk's output decodes on
    /// its own; with `fin` the flush's trailing `00 00 ff ff` is removed. A message may be
    /// empty: `encode(&[], true)` on a fresh message yields `00`, RFC 7692 §7.2.3.6's empty
    /// block.
    pub(super) fn encode(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), ExtensionError> {
        let result = self.encode_inner(input, fin, out);
        if result.is_err() {
            // The stream is broken for the peer too; start afresh if the caller goes on.
            self.state = None;
            self.in_window = 0;
            self.recent.clear();
        }
        result
    }

    fn encode_inner(
        &mut self,
        input: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), ExtensionError> {
        if input.is_empty() && !fin {
            // The previous chunk ended with a flush: nothing is pending.
            return Ok(());
        }
        let start = out.len();
        let flags = self.flags;
        let state = self
            .state
            .get_or_insert_with(|| Box::new(CompressorOxide::new(flags)));

        let mut rest = input;
        while !rest.is_empty() {
            let n = match self.limit {
                None => rest.len(),
                Some(limit) => {
                    if self.in_window >= limit {
                        deflate(state, &[], TDEFLFlush::Full, out)?;
                        self.in_window = prime(state, &self.recent)?;
                    }
                    rest.len().min(limit - self.in_window)
                }
            };
            let (now, later) = rest.split_at(n);
            deflate(state, now, TDEFLFlush::None, out)?;
            if self.limit.is_some() {
                self.in_window += n;
                self.recent.push(now);
            }
            rest = later;
        }

        let end_context = fin && self.no_context_takeover;
        let window_full = self.limit.is_some_and(|limit| self.in_window >= limit);
        if end_context || window_full {
            // A full flush ends in the same empty stored block as a sync flush, so it costs
            // nothing on the wire, and it saves a separate reset later.
            deflate(state, &[], TDEFLFlush::Full, out)?;
            self.in_window = 0;
            if end_context {
                self.recent.clear();
            } else {
                self.in_window = prime(state, &self.recent)?;
            }
        } else {
            deflate(state, &[], TDEFLFlush::Sync, out)?;
        }

        if fin {
            if out.len() < start + SYNC_TAIL.len() || !out.ends_with(&SYNC_TAIL) {
                return Err(ExtensionError::Other(
                    "deflate flush did not end with an empty stored block".into(),
                ));
            }
            out.truncate(out.len() - SYNC_TAIL.len());
            if end_context {
                // Nothing of this message is needed by the next one: give the memory back
                // while the connection is idle (RFC 7692 §8.1.1.1: what the parameter is for).
                self.state = None;
            }
        }
        Ok(())
    }
}

/// Feeds `input` to the compressor with `flush`, appending its output to `out`.
fn deflate(
    state: &mut CompressorOxide,
    input: &[u8],
    flush: TDEFLFlush,
    out: &mut Vec<u8>,
) -> Result<(), ExtensionError> {
    let (status, used) = compress_to_output(state, input, flush, |chunk| {
        out.extend_from_slice(chunk);
        true
    });
    check(status, used, input.len())
}

/// Gives the compressor the most recent bytes of the stream as history (its output is
/// discarded: the peer already has those bytes). Returns how many bytes were primed.
fn prime(state: &mut CompressorOxide, recent: &Recent) -> Result<usize, ExtensionError> {
    let history = recent.get();
    if history.is_empty() {
        return Ok(0);
    }
    let (status, used) = compress_to_output(state, history, TDEFLFlush::Sync, |_| true);
    check(status, used, history.len())?;
    Ok(history.len())
}

fn check(status: TDEFLStatus, used: usize, len: usize) -> Result<(), ExtensionError> {
    if status != TDEFLStatus::Okay || used != len {
        return Err(ExtensionError::Other(format!(
            "deflate failed ({status:?}, {used} of {len} bytes taken)"
        )));
    }
    Ok(())
}

/// The last `keep` bytes pushed, kept contiguous in a buffer of at most `2 * keep` bytes
/// (allocated on first push), so that dropping old bytes costs O(1) amortised per byte.
struct Recent {
    keep: usize,
    buf: Vec<u8>,
}

impl Recent {
    fn new(keep: usize) -> Recent {
        Recent {
            keep,
            buf: Vec::new(),
        }
    }

    fn push(&mut self, data: &[u8]) {
        if self.keep == 0 {
            return;
        }
        let data = &data[data.len().saturating_sub(self.keep)..];
        if self.buf.len() + data.len() > 2 * self.keep {
            let old = (self.keep - data.len()).min(self.buf.len());
            self.buf.drain(..self.buf.len() - old);
        }
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(2 * self.keep);
        }
        self.buf.extend_from_slice(data);
    }

    fn get(&self) -> &[u8] {
        &self.buf[self.buf.len().saturating_sub(self.keep)..]
    }

    fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_keeps_the_last_bytes_across_pushes() {
        let mut r = Recent::new(4);
        r.push(b"ab");
        assert_eq!(r.get(), b"ab");
        r.push(b"cdef");
        assert_eq!(r.get(), b"cdef");
        r.push(b"g");
        assert_eq!(r.get(), b"defg");
        r.push(b"0123456789");
        assert_eq!(r.get(), b"6789");
        assert!(r.buf.len() <= 8);
        r.clear();
        assert_eq!(r.get(), b"");
    }

    #[test]
    fn recent_with_no_room_keeps_nothing() {
        let mut r = Recent::new(0);
        r.push(b"abc");
        assert_eq!(r.get(), b"");
        assert_eq!(r.buf.capacity(), 0);
    }

    #[test]
    fn compressor_is_allocated_on_first_use_only() {
        let mut c = Compressor::new(3, 15, false);
        assert!(!c.is_allocated());
        let mut out = Vec::new();
        c.encode(b"", false, &mut out).unwrap();
        assert!(
            !c.is_allocated(),
            "an empty non-final chunk needs no compressor"
        );
        c.encode(b"x", true, &mut out).unwrap();
        assert!(c.is_allocated());
    }

    #[test]
    fn without_context_takeover_the_compressor_is_released_after_each_message() {
        let mut c = Compressor::new(3, 15, true);
        let mut out = Vec::new();
        c.encode(b"part one, ", false, &mut out).unwrap();
        assert!(c.is_allocated(), "kept while the message goes on");
        c.encode(b"part two", true, &mut out).unwrap();
        assert!(!c.is_allocated());
        let first = std::mem::take(&mut out);
        c.encode(b"part one, ", false, &mut out).unwrap();
        c.encode(b"part two", true, &mut out).unwrap();
        assert_eq!(out, first, "each message is compressed alone, the same way");
    }

    #[test]
    fn level_zero_never_limits_the_window() {
        assert_eq!(Compressor::new(0, 8, false).limit, None);
        assert_eq!(Compressor::new(1, 8, false).limit, Some(256));
        assert_eq!(Compressor::new(1, 15, false).limit, None);
    }

    #[test]
    fn window_bits_out_of_range_are_clamped() {
        assert_eq!(Compressor::new(3, 3, false).limit, Some(256));
        assert_eq!(Compressor::new(3, 40, false).limit, None);
    }
}
