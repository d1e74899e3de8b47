//! Simulators of a [`neuromap_ir::Network`]: one engine ([`Engine`]) in two number
//! formats ([`arith`]): the f64 reference and the quantised functional model; and
//! [`fidelity`], how far a run is from the reference.
//!
//! **Architecture invariant:** simulators count what happened (spikes, synaptic events,
//! neuron updates); they never price it and never print. Spike sources come from
//! [`sources`], shared by every simulator so all of them see the same input spikes.

pub mod arith;
mod chacha;
pub mod chip;
pub mod fidelity;
pub mod reference;
pub mod sources;

pub use reference::{
    Deliver, Engine, Options, ProbeTrace, Quantised, Reference, RowDelivery, RunResult, SpikeRecord, Stop,
    memory_estimate, simulate, simulate_in, simulate_quantised, simulate_quantised_until, simulate_stepped,
    simulate_until,
};
