//! Gathering a large message's frames — headers and slices of the caller's payload — into
//! the chunks written to the output stream (`wasi:io` has no vectored write).

/// The most gathered into one chunk. A chunk is what the output stream permits for one
/// write: wasmtime-wasi's TCP streams permit 64 KiB, a host's own streams may permit more
/// (wsengine-host's permit 1 MiB), and fewer, larger writes wake the peer fewer times.
pub(super) const MAX_CHUNK: usize = 1024 * 1024;

/// The relative alignment kept between a chunk's largest piece and where it is copied to.
/// The copy is wasm `memory.copy`, which wasmtime runs as the host's `memmove`; on AMD EPYC
/// its `rep movsb` is fifteen times slower when the destination is 1 to 31 bytes past the
/// source's alignment in a 64-byte line (measured here: 64 KiB in 21.6 µs at +8 bytes,
/// 1.5 µs at +0 or +32, 1.7 µs at −8), and a frame header puts the payload just a few bytes
/// off. The other pieces of a chunk cannot all be aligned so; [`copy`] moves them.
const ALIGN: usize = 64;

/// `dst.copy_from_slice(src)`, fast whatever the two slices' relative alignment: only one
/// piece of a chunk can keep its source's alignment (see [`ALIGN`]); the others go through
/// simd128 loads and stores, which do not care (2.8 µs at +10 bytes against 21.6 µs for
/// 64 KiB, measured natively with SSE2, which is what wasmtime compiles them to).
fn copy(dst: &mut [u8], src: &[u8]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if (src.as_ptr() as usize).wrapping_sub(dst.as_ptr() as usize) % ALIGN != 0 {
        return copy_simd128(dst, src);
    }
    dst.copy_from_slice(src);
}

/// [`copy`] for slices off each other's alignment.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn copy_simd128(dst: &mut [u8], src: &[u8]) {
    use core::arch::wasm32::{v128, v128_load, v128_store};
    const STEP: usize = 64;
    assert_eq!(dst.len(), src.len());
    let whole = src.len() / STEP * STEP;
    let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
    // Four loads, then four stores: a loop of single 16-byte load-store pairs is the shape
    // LLVM's loop-idiom pass may turn back into `memory.copy`.
    let mut i = 0;
    while i < whole {
        // SAFETY: `i + STEP <= whole <= len` for both slices (asserted equal above);
        // `v128_load` and `v128_store` take unaligned addresses.
        unsafe {
            let a = v128_load(s.add(i) as *const v128);
            let b = v128_load(s.add(i + 16) as *const v128);
            let c = v128_load(s.add(i + 32) as *const v128);
            let e = v128_load(s.add(i + 48) as *const v128);
            v128_store(d.add(i) as *mut v128, a);
            v128_store(d.add(i + 16) as *mut v128, b);
            v128_store(d.add(i + 32) as *mut v128, c);
            v128_store(d.add(i + 48) as *mut v128, e);
        }
        i += STEP;
    }
    dst[whole..].copy_from_slice(&src[whole..]);
}

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
            copy(&mut scratch[at..at + n], &piece[..n]);
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
