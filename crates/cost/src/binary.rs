//! Pricing the binary-network families: every action a binary chip counted
//! ([`Actions`]) times its figure, plus static power over the time the array runs
//! (cycles ÷ clock). One step is one classification.

use neuromap_bnn::{Actions, BinaryMapping};
use neuromap_hw::HwModel;
use neuromap_hw::binary::{MacBnn, ThresholdLogic};
use serde::Serialize;

/// One priced component.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Part {
    pub name: &'static str,
    pub count: u64,
    pub joules: f64,
    /// Datapath work (cells, registers, XNORs, adders, comparators), as opposed to
    /// memory, input delivery and static power.
    pub compute: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BinaryEnergy {
    pub steps: u32,
    pub cycles: u64,
    pub seconds: f64,
    pub parts: Vec<Part>,
    pub total_j: f64,
    pub per_classification_j: f64,
    pub compute_per_classification_j: f64,
    /// Classifications per second with the array busy.
    pub throughput_hz: f64,
    /// Time for one classification (s).
    pub latency_s: f64,
}

/// Prices `actions` (summed over `steps` steps) on `model`.
pub fn binary_energy(model: &HwModel, mapping: &BinaryMapping, actions: &Actions, steps: u32) -> BinaryEnergy {
    let a = actions;
    let seconds = a.cycles as f64 / mapping.clock_hz;
    let p = |name, count: u64, j: f64, compute| Part { name, count, joules: count as f64 * j, compute };
    let mut parts = if let Some(tl) = ThresholdLogic::from_model(model) {
        vec![
            p("cell evaluations", a.cell_evals, tl.cell_eval_j, true),
            p("register reads (bits)", a.register_reads, tl.register_read_j, true),
            p("register writes (bits)", a.register_writes, tl.register_write_j, true),
            p("weight reads (bits)", a.weight_bits, tl.weight_read_j, false),
            p("input bits", a.input_bits, tl.input_read_j, false),
        ]
    } else if let Some(m) = MacBnn::from_model(model) {
        vec![
            p("XNORs", a.xnors, m.xnor_j, true),
            p("adder bits", a.adder_bits, m.adder_bit_j, true),
            p("register bits", a.register_bits, m.register_bit_j, true),
            p("compares", a.compares, m.compare_j, true),
            p("weight reads (bits)", a.weight_bits, m.weight_read_j, false),
            p("input bits", a.input_bits, m.input_read_j, false),
        ]
    } else {
        Vec::new()
    };
    parts.push(Part { name: "static", count: a.cycles, joules: mapping.static_w * seconds, compute: false });
    let total_j: f64 = parts.iter().map(|p| p.joules).sum();
    let compute: f64 = parts.iter().filter(|p| p.compute).map(|p| p.joules).sum();
    let n = f64::from(steps.max(1));
    BinaryEnergy {
        steps,
        cycles: a.cycles,
        seconds,
        total_j,
        per_classification_j: total_j / n,
        compute_per_classification_j: compute / n,
        throughput_hz: if seconds > 0.0 { n / seconds } else { f64::INFINITY },
        latency_s: seconds / n,
        parts,
    }
}
