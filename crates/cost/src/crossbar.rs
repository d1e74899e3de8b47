//! Pricing the crossbar family in the [`Ledger`]: cell reads (`V² · t_read · Σ G` over
//! the cells on driven word lines), ADC conversions (energy per conversion = power ÷
//! sample rate, the one convention), word-line drivers, digital partial-sum adds,
//! neuron updates in the periphery, network-on-chip hops; and static power per tile
//! (the chip's `static_w` shared over its tiles) over the wall time. The chip is
//! self-timed: each step lasts its slowest tile read plus its longest packet path.

use neuromap_hw::HwModel;
use neuromap_hw::crossbar::Crossbar;
use neuromap_xbar::XbarCounts;

use crate::ledger::{Ledger, Pace, Timeline, Work};

/// Prices `counts` (with `neuron_updates` from the run) on `hw` (the values of `model`,
/// perhaps varied by a sweep; certainty comes from `model`), with `tiles_used` of
/// `tiles_allocated` tiles.
pub fn crossbar_ledger(
    model: &HwModel,
    hw: &Crossbar,
    counts: &XbarCounts,
    neuron_updates: u64,
    tiles_used: u64,
    tiles_allocated: u64,
    work: Work,
) -> Ledger {
    let steps = counts.step_latency_s.len() as u32;
    let time = Timeline::new(Pace::SelfTimed { tick_s: None }, steps, Some(counts.step_latency_s.clone()));
    let mut l = Ledger::new(model, time, work);
    let cell_j = hw.v_read * hw.v_read * hw.t_read_s * counts.conductance_read_s;
    let c = counts;
    l.add(
        model,
        "tile",
        "cell reads",
        c.cell_reads as f64,
        cell_j,
        crate::Term::Dynamic,
        &["tile.v_read", "tile.t_read_s", "tile.g_max_s", "tile.g_min_s"],
    );
    l.dynamic(model, "ADC", "conversions", c.conversions as f64, hw.adc_energy_j, &["adc.energy_j"]);
    l.dynamic(model, "periphery", "word lines driven", c.active_rows as f64, hw.driver_j, &["periphery.driver_j"]);
    l.dynamic(model, "periphery", "partial-sum adds", c.adds as f64, hw.add_j, &["periphery.add_j"]);
    l.dynamic(
        model,
        "periphery",
        "neuron updates",
        neuron_updates as f64,
        hw.neuron_update_j,
        &["periphery.neuron_update_j"],
    );
    l.dynamic(model, "network", "hops", c.hops as f64, hw.hop_j, &["noc.hop_j"]);
    let per_tile = hw.static_w / f64::from(hw.tiles.max(1));
    l.static_power(model, "tile", tiles_used, tiles_allocated, per_tile, &["periphery.static_w"]);
    l
}

/// Prices a hybrid chip's crossbar macros into `l`: the actions their counters
/// counted ([`neuromap_xbar::tile::MacroCounter`]) with the part's figures, the neuron
/// updates of their periphery, and each macro's static power (`in_use` of
/// `allocated` macros) over the wall time. Packets reach the macros through the
/// chip's own routers, which the chip's lines price.
pub fn tile_lines(
    l: &mut Ledger,
    part: &HwModel,
    hw: &Crossbar,
    c: &neuromap_sim::chip::TileCounts,
    neuron_updates: u64,
    in_use: u64,
    allocated: u64,
) {
    let cell_j = hw.v_read * hw.v_read * hw.t_read_s * c.get("conductance read (S)");
    let cells = c.get("cell reads");
    let figs = ["tile.v_read", "tile.t_read_s", "tile.g_max_s", "tile.g_min_s"];
    l.add(part, "tile", "cell reads", cells, cell_j, crate::Term::Dynamic, &figs);
    l.dynamic(part, "ADC", "conversions", c.get("conversions"), hw.adc_energy_j, &["adc.energy_j"]);
    l.dynamic(part, "periphery", "word lines driven", c.get("word lines driven"), hw.driver_j, &["periphery.driver_j"]);
    l.dynamic(part, "periphery", "partial-sum adds", c.get("partial-sum adds"), hw.add_j, &["periphery.add_j"]);
    let upd = neuron_updates as f64;
    l.dynamic(part, "periphery", "neuron updates", upd, hw.neuron_update_j, &["periphery.neuron_update_j"]);
    l.static_power(part, "macro", in_use, allocated, hw.static_w, &["periphery.static_w"]);
}
