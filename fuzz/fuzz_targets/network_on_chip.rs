#![no_main]
//! See `neuromap::fuzzing::network_on_chip`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::network_on_chip(data));
