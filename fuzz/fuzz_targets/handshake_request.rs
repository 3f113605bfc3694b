//! A server fed an arbitrary opening request (format: `wsengine_fuzz::handshake`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wsengine_fuzz::handshake::request(data));
