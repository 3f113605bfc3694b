//! Randomness for mask keys and handshake keys, from the OS CSPRNG (getrandom: the kernel,
//! `wasi:random`, or `crypto.getRandomValues`).
//!
//! Frames need a fresh mask key each; asking the OS for 4 bytes per frame would cost a
//! syscall (or a JS call on wasm) per frame, so keys are drawn from a buffer of OS randomness
//! refilled when used up. The buffer is per thread, not per connection: a connection then
//! holds no pool, and the OS is asked once per 256 keys (a 64-byte pool per connection asked it
//! every 16 frames, which was a third of the time of sending a small message).

use std::cell::RefCell;

/// Bytes of OS randomness drawn at a time (256 mask keys).
const POOL: usize = 1024;

thread_local! {
    /// The pool and how many of its bytes are still unused (zero: refill). All zeros to
    /// start, so the thread-local needs no initialisation.
    static KEYS: RefCell<([u8; POOL], usize)> = const { RefCell::new(([0; POOL], 0)) };
}

/// The connection's handle on the mask key source (which is per thread).
#[derive(Debug)]
pub(crate) struct Random;

impl Random {
    pub(crate) fn new() -> Self {
        Random
    }

    /// Fills `out` straight from the OS (for one-off keys).
    pub(crate) fn fill(out: &mut [u8]) {
        // The OS generator failing is not recoverable and not caused by input; every
        // platform this crate targets documents it as infallible after boot.
        getrandom::fill(out).expect("the OS random number generator failed");
    }

    /// A fresh mask key: 4 bytes of OS randomness never handed out before.
    pub(crate) fn mask_key(&mut self) -> [u8; 4] {
        KEYS.with(|keys| {
            let mut keys = keys.borrow_mut();
            let (pool, left) = &mut *keys;
            if *left < 4 {
                Self::fill(pool);
                *left = POOL;
            }
            let at = POOL - *left;
            *left -= 4;
            [pool[at], pool[at + 1], pool[at + 2], pool[at + 3]]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fresh_across_refills() {
        let mut r = Random::new();
        let keys: Vec<[u8; 4]> = (0..3 * POOL / 4).map(|_| r.mask_key()).collect();
        // 768 random 32-bit keys: a repeat is possible but very unlikely (p ≈ 7e-5); three
        // pools' worth being all zero or all equal would mean the pool is not refilled.
        let distinct: std::collections::HashSet<_> = keys.iter().collect();
        assert!(distinct.len() > keys.len() - 3);
    }
}
