#![no_main]
//! See `neuromap::fuzzing::nir`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::nir(data));
