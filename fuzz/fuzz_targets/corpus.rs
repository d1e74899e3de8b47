#![no_main]
//! See `neuromap::fuzzing::corpus`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::corpus(data));
