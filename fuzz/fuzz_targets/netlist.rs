#![no_main]
//! See `neuromap::fuzzing::netlist`.
libfuzzer_sys::fuzz_target!(|data: &[u8]| neuromap::fuzzing::netlist(data));
