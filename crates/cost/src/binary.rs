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
    for (component, what, count, each, fig) in price(model, &a) {
        l.dynamic(model, component, what, count as f64, each, &[fig]);
    }
    l.static_power(model, "array", 1, 1, mapping.static_w, &["energy.static_w"]);
    // By layer: its actions priced the same way, its share of the array's time.
    let static_j: f64 = l.lines.iter().filter(|x| x.term != crate::Term::Dynamic).map(|x| x.joules).sum();
    l.by_population = mapping
        .layers
        .iter()
        .zip(parts)
        .map(|(layer, acts)| crate::ledger::PopulationShare {
            population: layer.name.clone(),
            parts: 1,
            dynamic_j: price(model, acts).iter().map(|&(_, _, n, each, _)| n as f64 * each).sum(),
            static_j: static_j * acts.cycles as f64 / a.cycles.max(1) as f64,
            worst_step_s: layer.actions.cycles as f64 / mapping.clock_hz,
        })
        .collect();
    l
}

/// Every action of `a` with its component, name and figure on `model`'s family.
fn price(model: &HwModel, a: &Actions) -> Vec<(&'static str, &'static str, u64, f64, &'static str)> {
    if let Some(tl) = ThresholdLogic::from_model(model) {
        vec![
            ("PE", "cell evaluations", a.cell_evals, tl.cell_eval_j, "energy.cell_eval_j"),
            ("PE", "register reads (bits)", a.register_reads, tl.register_read_j, "energy.register_read_j"),
            ("PE", "register writes (bits)", a.register_writes, tl.register_write_j, "energy.register_write_j"),
            ("memory", "weight reads (bits)", a.weight_bits, tl.weight_read_j, "energy.weight_read_j"),
            ("bus", "input bits", a.input_bits, tl.input_read_j, "energy.input_read_j"),
        ]
    } else if let Some(m) = MacBnn::from_model(model) {
        vec![
            ("unit", "XNORs", a.xnors, m.xnor_j, "energy.xnor_j"),
            ("unit", "adder bits", a.adder_bits, m.adder_bit_j, "energy.adder_bit_j"),
            ("unit", "register bits", a.register_bits, m.register_bit_j, "energy.register_bit_j"),
            ("unit", "compares", a.compares, m.compare_j, "energy.compare_j"),
            ("memory", "weight reads (bits)", a.weight_bits, m.weight_read_j, "energy.weight_read_j"),
            ("bus", "input bits", a.input_bits, m.input_read_j, "energy.input_read_j"),
        ]
    } else {
        Vec::new()
    }
}

/// Prices a hybrid chip's binary-network arrays into `l`: the actions their counters
/// counted ([`neuromap_bnn::tile::ArrayCounter`]) with the part's figures, and each
/// array's static power (`in_use` of `allocated` arrays) over the wall time.
pub fn tile_lines(
    l: &mut Ledger,
    part: &HwModel,
    static_w: f64,
    c: &neuromap_sim::chip::TileCounts,
    in_use: u64,
    allocated: u64,
) {
    let n = |k: &str| c.get(k) as u64;
    let a = Actions {
        cycles: n("cycles"),
        cell_evals: n("cell evaluations"),
        register_reads: n("register reads (bits)"),
        register_writes: n("register writes (bits)"),
        xnors: n("XNORs"),
        adder_bits: n("adder bits"),
        register_bits: n("register bits"),
        compares: n("compares"),
        weight_bits: n("weight reads (bits)"),
        input_bits: n("input bits"),
    };
    for (component, what, count, each, fig) in price(part, &a) {
        l.dynamic(part, component, what, count as f64, each, &[fig]);
    }
    l.static_power(part, "array", in_use, allocated, static_w, &["energy.static_w"]);
}
