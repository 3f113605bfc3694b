//! Payload masking (RFC 6455 §5.3): XOR with a 4-byte key, repeating.
//!
//! The bulk runs over 32-byte blocks with a pre-rotated key pattern. That shape is what LLVM
//! turns into SIMD XORs on every target (SSE2/AVX2 natively, simd128 on wasm when enabled)
//! without any `unsafe` here.

/// XORs `buf` with `key`, where `offset` is how many payload bytes of the same frame were
/// already (un)masked before `buf` (so a payload can be processed in pieces).
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let rot = offset & 3;
    let key = [
        key[rot],
        key[(rot + 1) & 3],
        key[(rot + 2) & 3],
        key[(rot + 3) & 3],
    ];
    if buf.len() < 32 {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[i & 3];
        }
        return;
    }
    let mut pattern = [0u8; 32];
    for (i, p) in pattern.iter_mut().enumerate() {
        *p = key[i & 3];
    }
    let mut blocks = buf.chunks_exact_mut(32);
    for block in &mut blocks {
        for (b, p) in block.iter_mut().zip(pattern.iter()) {
            *b ^= *p;
        }
    }
    // The tail starts at a multiple of 32, so the key phase is unchanged.
    for (i, b) in blocks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i & 3];
    }
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
