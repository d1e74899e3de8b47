//! Binary-network families, each a vertical slice: its mapping and its step-by-step
//! simulator.
//!
//! - `threshold-logic` (TULIP-like): SIMD processing elements of reconfigurable
//!   threshold-logic cells. A neuron too wide for one cell is decomposed into a
//!   circuit of threshold gates ([`gates`]), scheduled on a PE's cells and registers
//!   ([`schedule`]).
//! - `mac-bnn`: the conventional XNOR-popcount baseline in the same technology.
//!
//! [`lower`] turns a network's threshold populations into integer neurons; [`map`]
//! places them on an array and counts each step's actions; [`sim`] runs the chip and
//! must fire exactly when the reference does. Pricing is `neuromap_cost`'s.
//!
//! **Invariant:** for every neuron and every input, the circuit (and the MAC
//! popcount) equals the arithmetic definition `Σ w·b ≥ T` (checked exhaustively for
//! small neurons and at random for large ones, in unit and property tests).

pub mod dataset;
pub mod gates;
pub mod lower;
pub mod map;
pub mod schedule;
pub mod sim;
pub mod tile;

pub use lower::{BinaryNet, LowerError, lower};
pub use map::{Actions, BinaryMapping, MapError, map};
pub use sim::{BinaryRun, SimError, run};
