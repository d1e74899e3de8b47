#![no_main]
//! See `neuromap::fuzzing::hw_model`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::hw_model(data));
