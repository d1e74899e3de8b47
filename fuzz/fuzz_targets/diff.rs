#![no_main]
//! See `neuromap::fuzzing::diff`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::diff(data));
