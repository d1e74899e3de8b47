//! Pricing the `neurocore` family: each counted event times its figure (SANA-FE's
//! per-event model), plus, when the model gives it, static power for the share of the
//! chip's cores in use over the run's time.

use neuromap_hw::neurocore::NeuroCore;
use neuromap_ncore::NcoreCounts;
use serde::Serialize;

use crate::binary::Part;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NcoreEnergy {
    pub parts: Vec<Part>,
    pub total_j: f64,
    /// The dynamic part (every event; no static power), what SANA-FE reports.
    pub dynamic_j: f64,
    pub seconds: f64,
    pub per_synaptic_event_j: Option<f64>,
}

pub fn neurocore_energy(hw: &NeuroCore, c: &NcoreCounts, cores_used: usize) -> NcoreEnergy {
    let seconds: f64 = c.step_s.iter().sum();
    let p = |name, count: u64, j: f64| Part { name, count, joules: count as f64 * j, compute: true };
    let mut parts = vec![
        p("neuron accesses", c.neuron_accesses, hw.neuron_access_j),
        p("neuron updates", c.neuron_updates, hw.neuron_update_j),
        p("spikes out", c.spikes_out, hw.spike_out_j),
        p("synaptic events", c.synaptic_events, hw.synapse_j),
        p("messages", c.messages, hw.message_j),
        p("hops east-west", c.hops_x, hw.hop_x_j),
        p("hops north-south", c.hops_y, hw.hop_y_j),
    ];
    let dynamic_j: f64 = parts.iter().map(|p| p.joules).sum();
    if let Some(w) = hw.static_w {
        let share = cores_used as f64 / f64::from(hw.cores.max(1));
        parts.push(Part {
            name: "static (cores in use)",
            count: c.step_s.len() as u64,
            joules: w * share * seconds,
            compute: false,
        });
    }
    let total_j = parts.iter().map(|p| p.joules).sum();
    NcoreEnergy {
        parts,
        total_j,
        dynamic_j,
        seconds,
        per_synaptic_event_j: (c.synaptic_events > 0).then(|| total_j / c.synaptic_events as f64),
    }
}
