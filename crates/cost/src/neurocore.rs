//! Pricing the `neurocore` family (Loihi, TrueNorth) in the [`Ledger`]: each counted
//! event times its figure (SANA-FE's per-event model), and static power per core (the
//! chip's `static_w` shared over its cores) over the wall time. The chip is
//! self-timed: a step lasts its slowest core and the barrier, at least the tick of a
//! real-time chip.

use neuromap_hw::HwModel;
use neuromap_hw::neurocore::NeuroCore;
use neuromap_ncore::NcoreCounts;

use crate::ledger::{Ledger, Pace, Timeline, Work};

/// Prices `c` on `hw` with `cores_used` cores of the chip in use.
pub fn neurocore_ledger(model: &HwModel, hw: &NeuroCore, c: &NcoreCounts, cores_used: usize, work: Work) -> Ledger {
    let steps = c.step_s.len() as u32;
    let time = Timeline::new(Pace::SelfTimed { tick_s: hw.tick_s }, steps, Some(c.step_s.clone()));
    let mut l = Ledger::new(model, time, work);
    let mut p = |what: &str, count: u64, each: f64, fig: &str| {
        l.dynamic(model, "core", what, count as f64, each, &[fig]);
    };
    p("neuron accesses", c.neuron_accesses, hw.neuron_access_j, "energy.neuron_access_j");
    p("neuron updates", c.neuron_updates, hw.neuron_update_j, "energy.neuron_update_j");
    p("spikes out", c.spikes_out, hw.spike_out_j, "energy.spike_out_j");
    p("synaptic events", c.synaptic_events, hw.synapse_j, "energy.synapse_j");
    p("messages", c.messages, hw.message_j, "energy.message_j");
    l.dynamic(model, "network", "hops east-west", c.hops_x as f64, hw.hop_x_j, &["energy.hop_x_j"]);
    l.dynamic(model, "network", "hops north-south", c.hops_y as f64, hw.hop_y_j, &["energy.hop_y_j"]);
    match hw.static_w {
        Some(w) => {
            let per_core = w / f64::from(hw.cores.max(1));
            l.static_power(model, "core", cores_used as u64, u64::from(hw.cores), per_core, &["energy.static_w"]);
        }
        None => l.notes.push("static power unknown (the model gives no energy.static_w): dynamic energy only".into()),
    }
    l
}
