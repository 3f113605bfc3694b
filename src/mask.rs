//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, repeating.
//!
//! The bulk runs over 32-byte blocks with a pre-rotated key pattern. That shape is what LLVM
//! turns into SIMD XORs on every target (SSE2 on any x86-64, simd128 on wasm when enabled);
//! on x86-64 CPUs with AVX2, detected at run time, the same loop is compiled a second time for
//! 32-byte vectors (twice the bytes per instruction, which matters while the data is in cache).
//! The rest (under 32 bytes, so every small frame) goes 8 bytes at a time. [`extend_masked`]
//! copies and (un)masks in one pass, which the read and write paths use to move a payload: one
//! pass over the bytes instead of a `memcpy` and an in-place (un)mask (and, on large copies into
//! cold memory, a vector loop also outruns `rep movsb`).

use std::mem::MaybeUninit;

/// Buffers shorter than this skip the block loop and its dispatch.
const BULK: usize = 64;

/// The key as a little-endian 8-byte word (the key twice), rotated so that its first byte
/// applies to the first byte of a buffer that starts `offset` bytes into the payload.
#[inline(always)]
fn key_word(key: [u8; 4], offset: usize) -> u64 {
    let k = u32::from_le_bytes(key).rotate_right(8 * (offset & 3) as u32) as u64;
    k | k << 32
}

/// XORs `buf` with `key`, where `offset` is how many payload bytes of the same frame were
/// already (un)masked before `buf` (so a payload can be processed in pieces).
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let word = key_word(key, offset);
    let rest = if buf.len() >= BULK {
        xor_bulk(buf, word)
    } else {
        buf
    };
    // The rest starts at a multiple of 32 (or at 0), so the key phase is unchanged; and so it
    // is again after each 8-byte word.
    let mut words = rest.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_le_bytes((&*w).try_into().expect("8 bytes")) ^ word;
        w.copy_from_slice(&v.to_le_bytes());
    }
    for (i, b) in words.into_remainder().iter_mut().enumerate() {
        *b ^= (word >> (8 * i)) as u8;
    }
}

/// The 32-byte pattern of `word`.
#[inline(always)]
fn pattern(word: u64) -> [u8; 32] {
    let bytes = word.to_le_bytes();
    std::array::from_fn(|i| bytes[i & 7])
}

/// XORs the whole 32-byte blocks of `buf`; returns the rest.
#[inline(always)]
fn xor_blocks(buf: &mut [u8], word: u64) -> &mut [u8] {
    let pattern = pattern(word);
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for (b, p) in block.iter_mut().zip(pattern.iter()) {
            *b ^= *p;
        }
    }
    blocks.into_remainder()
}

/// Writes the whole 32-byte blocks of `src` XOR the pattern into `dst` (same length); returns
/// the rests.
#[inline(always)]
fn copy_blocks<'d, 's>(
    dst: &'d mut [MaybeUninit<u8>],
    src: &'s [u8],
    word: u64,
) -> (&'d mut [MaybeUninit<u8>], &'s [u8]) {
    let pattern = pattern(word);
    let mut d_blocks = dst.chunks_exact_mut(32);
    let mut s_blocks = src.chunks_exact(32);
    for (d, s) in (&mut d_blocks).zip(&mut s_blocks) {
        for ((d, s), p) in d.iter_mut().zip(s).zip(pattern.iter()) {
            d.write(*s ^ *p);
        }
    }
    (d_blocks.into_remainder(), s_blocks.remainder())
}

/// The block loops compiled for AVX2.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::mem::MaybeUninit;

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn xor_blocks(buf: &mut [u8], word: u64) -> &mut [u8] {
        super::xor_blocks(buf, word)
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn copy_blocks<'d, 's>(
        dst: &'d mut [MaybeUninit<u8>],
        src: &'s [u8],
        word: u64,
    ) -> (&'d mut [MaybeUninit<u8>], &'s [u8]) {
        super::copy_blocks(dst, src, word)
    }
}

/// [`xor_blocks`] with the widest vectors this CPU has.
#[inline(never)]
fn xor_bulk(buf: &mut [u8], word: u64) -> &mut [u8] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), all `avx2::xor_blocks` needs.
        return unsafe { avx2::xor_blocks(buf, word) };
    }
    xor_blocks(buf, word)
}

/// Writes `src` XOR the key into `dst` (same length), `offset` as in [`apply_mask`], with the
/// widest vectors this CPU has.
///
/// Not inlined: as a function of its own its two slices are known not to overlap, which is
/// what lets LLVM vectorise the loop (inlined into the read path, where both live in the
/// connection, it fell back to a byte loop: 2.5× the instructions on 64 KiB).
#[inline(never)]
fn copy_masked(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4], offset: usize) {
    debug_assert_eq!(dst.len(), src.len());
    let word = key_word(key, offset);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2 (checked just above), all `avx2::copy_blocks` needs.
        let (d, s) = unsafe { avx2::copy_blocks(dst, src, word) };
        return copy_masked_small(d, s, word);
    }
    let (d, s) = copy_blocks(dst, src, word);
    copy_masked_small(d, s, word);
}

/// [`copy_masked`] for short slices (the tail after the 32-byte blocks, or a small frame):
/// 8 bytes at a time, then byte by byte; `word` from [`key_word`] (the key phase is unchanged
/// at each step).
#[inline(always)]
fn copy_masked_small(dst: &mut [MaybeUninit<u8>], src: &[u8], word: u64) {
    let mut d_words = dst.chunks_exact_mut(8);
    let mut s_words = src.chunks_exact(8);
    for (d, s) in (&mut d_words).zip(&mut s_words) {
        let v = u64::from_le_bytes(s.try_into().expect("8 bytes")) ^ word;
        for (d, b) in d.iter_mut().zip(v.to_le_bytes()) {
            d.write(b);
        }
    }
    for (i, (d, s)) in d_words
        .into_remainder()
        .iter_mut()
        .zip(s_words.remainder())
        .enumerate()
    {
        d.write(*s ^ (word >> (8 * i)) as u8);
    }
}

/// Appends `src` (un)masked with `key` to `dst`, in one pass; `offset` as in [`apply_mask`].
/// Inlined, with short slices done in place: on small frames a call would cost as much as the
/// work.
#[inline(always)]
pub(crate) fn extend_masked(dst: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) {
    dst.reserve(src.len());
    let len = dst.len();
    let spare = &mut dst.spare_capacity_mut()[..src.len()];
    if src.len() < BULK {
        copy_masked_small(spare, src, key_word(key, offset));
    } else {
        copy_masked(spare, src, key, offset);
    }
    // SAFETY: `copy_masked` / `copy_masked_small` wrote every one of the `src.len()` bytes
    // after `len` (their loops cover the 32-byte blocks, the 8-byte words and the last bytes of
    // equal-length slices), and `reserve` made room for them.
    unsafe { dst.set_len(len + src.len()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn mask_matches_bytewise_definition_for_all_lengths_and_offsets() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..200 {
            for offset in 0..4 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut a = data.clone();
                let mut b = data.clone();
                apply_mask(&mut a, key, offset);
                naive(&mut b, key, offset);
                assert_eq!(a, b, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn extend_masked_matches_apply_mask_for_all_lengths_and_offsets() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..200 {
            for offset in 0..4 {
                let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let mut want = data.clone();
                naive(&mut want, key, offset);
                let mut got = vec![9u8; offset];
                extend_masked(&mut got, &data, key, offset);
                assert_eq!(&got[..offset], &vec![9u8; offset][..]);
                assert_eq!(&got[offset..], &want[..], "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn mask_in_pieces_equals_mask_at_once() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..1000).map(|i| i as u8).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        let mut pieces = data.clone();
        let mut off = 0;
        for n in [1, 2, 3, 5, 31, 33, 100, 825] {
            apply_mask(&mut pieces[off..off + n], key, off);
            off += n;
        }
        assert_eq!(whole, pieces);
    }
}
