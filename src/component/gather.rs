//! Gathering a large message's frames — headers and slices of the caller's payload — into
//! the chunks written to the output stream (`wasi:io` has no vectored write).

/// The most gathered into one chunk. A chunk is what the output stream permits for one
/// write: wasmtime-wasi's TCP streams permit 64 KiB, a host's own streams may permit more
/// (wsengine-host's permit 1 MiB), and fewer, larger writes wake the peer fewer times.
pub(super) const MAX_CHUNK: usize = 1024 * 1024;

/// The relative alignment kept between a chunk's largest piece and where it is copied to.
/// The copy is wasm `memory.copy`, which wasmtime runs as the host's `memmove`; on AMD EPYC
/// its `rep movsb` is ten times slower when source and destination differ in alignment by a
/// few bytes (measured here: 64 KiB in 57 µs at +4 bytes, 5.5 µs at +0, 1.9 µs at +64), and
/// a frame header puts the payload just a few bytes off.
const ALIGN: usize = 64;

/// A read position in a list of byte slices.
pub(super) struct Gather<'a> {
    parts: &'a [&'a [u8]],
    /// The next byte is `parts[i][off]`.
    i: usize,
    off: usize,
}

impl<'a> Gather<'a> {
    pub(super) fn new(parts: &'a [&'a [u8]]) -> Self {
        Gather {
            parts,
            i: 0,
            off: 0,
        }
    }

    /// How many bytes are left to gather.
    pub(super) fn remaining(&self) -> usize {
        let rest = self.parts.get(self.i..).unwrap_or_default();
        rest.iter().map(|p| p.len()).sum::<usize>() - self.off
    }

    /// The parts' next bytes (at most `max`, itself at most [`MAX_CHUNK`]), copied into
    /// `scratch`; empty once every part is gathered. `scratch` only grows (to the largest
    /// `max + ALIGN` used), so that it is not zeroed again for every chunk.
    pub(super) fn next_chunk<'s>(&mut self, scratch: &'s mut Vec<u8>, max: usize) -> &'s [u8] {
        let max = max.min(MAX_CHUNK);
        // First where each piece would land, to place the chunk so that its largest piece
        // keeps its source's alignment.
        let (mut i, mut off, mut len) = (self.i, self.off, 0);
        let (mut best_len, mut best_at, mut best_src) = (0, 0, 0usize);
        while len < max && i < self.parts.len() {
            let piece = &self.parts[i][off..];
            let n = piece.len().min(max - len);
            if n > best_len {
                (best_len, best_at, best_src) = (n, len, piece.as_ptr() as usize);
            }
            len += n;
            off += n;
            if off == self.parts[i].len() {
                i += 1;
                off = 0;
            }
        }
        if scratch.len() < len + ALIGN {
            scratch.resize(max + ALIGN, 0);
        }
        let base = scratch.as_ptr() as usize + best_at;
        let start = best_src.wrapping_sub(base) % ALIGN;
        let mut at = start;
        let mut left = len;
        while left > 0 {
            let piece = &self.parts[self.i][self.off..];
            let n = piece.len().min(left);
            scratch[at..at + n].copy_from_slice(&piece[..n]);
            at += n;
            left -= n;
            self.off += n;
            if self.off == self.parts[self.i].len() {
                self.i += 1;
                self.off = 0;
            }
        }
        &scratch[start..start + len]
    }
}
