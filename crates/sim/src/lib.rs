//! Simulators of a [`neuromap_ir::Network`].
//!
//! **Architecture invariant:** simulators count what happened (spikes, synaptic events,
//! neuron updates); they never price it and never print. Spike sources come from
//! [`sources`], shared by every simulator so all of them see the same input spikes.

pub mod reference;
pub mod sources;

pub use reference::{
    Options, ProbeTrace, Reference, RunResult, SpikeRecord, memory_estimate, simulate,
};
