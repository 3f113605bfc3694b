//! permessage-deflate negotiated, frames with arbitrary (or validly compressed) payloads, a
//! 4 KiB message limit (format: `wsengine_fuzz::deflate`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wsengine_fuzz::deflate::drive(data));
