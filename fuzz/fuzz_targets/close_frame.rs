//! The close payload parser, alone and inside a close frame sent to an open server
//! (format: `wsengine_fuzz::close`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wsengine_fuzz::close::check(data));
