//! How far a guest's linear memories have grown. Wasm memory never shrinks, so a guest that
//! leaks shows up as growth that keeps coming back under a steady load, and one that reuses
//! what it freed stops growing after a warm-up.

/// A `wasmtime::ResourceLimiter` that allows every growth and records it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MemoryWatch {
    /// The largest size any linear memory of the store has asked to grow to, in bytes.
    pub peak_bytes: usize,
    /// How many times a linear memory grew.
    pub grows: u64,
}

impl wasmtime::ResourceLimiter for MemoryWatch {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.peak_bytes = self.peak_bytes.max(desired);
        self.grows += 1;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}
