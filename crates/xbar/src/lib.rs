//! The resistive-memory crossbar family as one vertical slice.
//!
//! [`map`] quantises each projection's weights to the cells' conductance levels (the
//! scale recorded, on the quantised model's weight grid), tiles the weight matrices
//! onto arrays (rows = inputs, columns = outputs; signed weights as differential
//! column pairs or against an offset reference column) and programs every device once
//! per run from a seed (variation, stuck-at faults). [`sim`] runs the chip: each
//! step the spikes present drive word lines, column currents come from the programmed
//! conductances (read noise, first-order IR drop), ADCs convert them, and the
//! periphery adds the partial sums into the neurons' input and updates the neurons in
//! s16.15, the quantised model's kernels. [`lsm`] is the liquid-state-machine
//! workload: a seeded event dataset, a readout trained on the reference, accuracy.
//!
//! **Invariant:** with no variation, no faults, no read noise, no IR drop and an ADC
//! that resolves every column sum, the chip's spikes equal the quantised functional
//! model of the conductance-quantised network ([`map::XbarMapping::quantised_net`])
//! bit for bit.

pub mod lsm;
pub mod map;
pub mod sim;
pub mod tile;

pub use map::{Signed, XbarError, XbarMapping, map};
pub use sim::{XbarCounts, XbarRun, run, run_on};
