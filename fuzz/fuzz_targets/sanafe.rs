#![no_main]
//! See `neuromap::fuzzing::sanafe`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::sanafe(data));
