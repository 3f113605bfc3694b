//! An open server fed arbitrary client bytes in arbitrary splits, interleaved with API calls
//! (format: `wsengine_fuzz::conn`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| wsengine_fuzz::conn::drive(wsengine::Role::Server, data));
