//! Pricing the crossbar family: cell reads (`V² · t_read · Σ G` over the cells on
//! driven word lines), ADC conversions (energy per conversion = power ÷ sample rate,
//! the one convention), word-line drivers, digital partial-sum adds, neuron updates in
//! the periphery, network-on-chip hops, and static power over the run's time (the sum
//! of the steps' latencies).

use neuromap_hw::crossbar::Crossbar;
use neuromap_xbar::XbarCounts;
use serde::Serialize;

use crate::binary::Part;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct XbarEnergy {
    pub parts: Vec<Part>,
    pub total_j: f64,
    pub seconds: f64,
}

/// Prices `counts` (with `neuron_updates` from the run) on `hw`.
pub fn crossbar_energy(hw: &Crossbar, counts: &XbarCounts, neuron_updates: u64) -> XbarEnergy {
    let seconds: f64 = counts.step_latency_s.iter().sum();
    let cell_j = hw.v_read * hw.v_read * hw.t_read_s * counts.conductance_read_s;
    let p = |name, count: u64, joules: f64, compute| Part { name, count, joules, compute };
    let parts = vec![
        p("cell reads", counts.cell_reads, cell_j, true),
        p("ADC conversions", counts.conversions, counts.conversions as f64 * hw.adc_energy_j, true),
        p("word-line drivers", counts.active_rows, counts.active_rows as f64 * hw.driver_j, true),
        p("partial-sum adds", counts.adds, counts.adds as f64 * hw.add_j, true),
        p("neuron updates", neuron_updates, neuron_updates as f64 * hw.neuron_update_j, true),
        p("network hops", counts.hops, counts.hops as f64 * hw.hop_j, false),
        p("static", counts.step_latency_s.len() as u64, hw.static_w * seconds, false),
    ];
    let total_j = parts.iter().map(|p| p.joules).sum();
    XbarEnergy { parts, total_j, seconds }
}
