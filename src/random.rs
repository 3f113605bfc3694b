//! Randomness for mask keys and handshake keys, from the OS CSPRNG (getrandom: the kernel,
//! `wasi:random`, or `crypto.getRandomValues`).
//!
//! Frames need a fresh mask key each; asking the OS for 4 bytes per frame would cost a
//! syscall (or a JS call on wasm) per frame, so keys are drawn from a small refilled buffer.

const POOL: usize = 64;

#[derive(Debug)]
pub(crate) struct Random {
    pool: [u8; POOL],
    used: usize,
}

impl Random {
    pub(crate) fn new() -> Self {
        Random {
            pool: [0; POOL],
            used: POOL,
        }
    }

    /// Fills `out` straight from the OS (for one-off keys).
    pub(crate) fn fill(out: &mut [u8]) {
        // The OS generator failing is not recoverable and not caused by input; every
        // platform this crate targets documents it as infallible after boot.
        getrandom::fill(out).expect("the OS random number generator failed");
    }

    pub(crate) fn mask_key(&mut self) -> [u8; 4] {
        if self.used + 4 > POOL {
            Self::fill(&mut self.pool);
            self.used = 0;
        }
        let k = &self.pool[self.used..self.used + 4];
        self.used += 4;
        [k[0], k[1], k[2], k[3]]
    }
}
