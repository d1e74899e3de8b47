//! Pricing the binary-network families in the [`Ledger`]: every action a binary chip
//! counted ([`Actions`]) times its figure, and the array's static power over the wall
//! time (cycles ÷ clock; the array is self-timed). One step is one classification.

use neuromap_bnn::{Actions, BinaryMapping};
use neuromap_hw::HwModel;
use neuromap_hw::binary::{MacBnn, ThresholdLogic};

use crate::ledger::{Ledger, Pace, Timeline, Work};

/// Prices `parts` (actions summed over the run, e.g. one entry per layer) over `steps`
/// classifications on `model`. The array's schedule is the same every step, so each
/// step takes the run's cycles ÷ steps.
pub fn binary_ledger(
    model: &HwModel,
    mapping: &BinaryMapping,
    parts: &[Actions],
    steps: u32,
    mut work: Work,
) -> Ledger {
    let mut a = Actions::default();
    for x in parts {
        a.add(x);
    }
    let per_step = a.cycles as f64 / f64::from(steps.max(1)) / mapping.clock_hz;
    let time = Timeline::new(Pace::SelfTimed { tick_s: None }, steps, Some(vec![per_step; steps as usize]));
    work.inferences = Some(u64::from(steps));
    let mut l = Ledger::new(model, time, work);
    if let Some(tl) = ThresholdLogic::from_model(model) {
        l.dynamic(model, "PE", "cell evaluations", a.cell_evals as f64, tl.cell_eval_j, &["energy.cell_eval_j"]);
        l.dynamic(
            model,
            "PE",
            "register reads (bits)",
            a.register_reads as f64,
            tl.register_read_j,
            &["energy.register_read_j"],
        );
        l.dynamic(
            model,
            "PE",
            "register writes (bits)",
            a.register_writes as f64,
            tl.register_write_j,
            &["energy.register_write_j"],
        );
        l.dynamic(
            model,
            "memory",
            "weight reads (bits)",
            a.weight_bits as f64,
            tl.weight_read_j,
            &["energy.weight_read_j"],
        );
        l.dynamic(model, "bus", "input bits", a.input_bits as f64, tl.input_read_j, &["energy.input_read_j"]);
    } else if let Some(m) = MacBnn::from_model(model) {
        l.dynamic(model, "unit", "XNORs", a.xnors as f64, m.xnor_j, &["energy.xnor_j"]);
        l.dynamic(model, "unit", "adder bits", a.adder_bits as f64, m.adder_bit_j, &["energy.adder_bit_j"]);
        l.dynamic(model, "unit", "register bits", a.register_bits as f64, m.register_bit_j, &["energy.register_bit_j"]);
        l.dynamic(model, "unit", "compares", a.compares as f64, m.compare_j, &["energy.compare_j"]);
        l.dynamic(
            model,
            "memory",
            "weight reads (bits)",
            a.weight_bits as f64,
            m.weight_read_j,
            &["energy.weight_read_j"],
        );
        l.dynamic(model, "bus", "input bits", a.input_bits as f64, m.input_read_j, &["energy.input_read_j"]);
    }
    l.static_power(model, "array", 1, 1, mapping.static_w, &["energy.static_w"]);
    l
}
