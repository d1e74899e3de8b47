//! The cost layer: energy from the actions a chip simulator counted and the figures of
//! the chip model.
//!
//! **Architecture invariant:** simulators count, this crate prices, and figures come
//! only from the model file. A figure the model does not give makes the estimate
//! unknown (`None`), never a guess.
//!
//! `arm-core` energy (the SpiNNaker 1 vendor model of SpiNNMachine's
//! `version_spin1.py`): `E = T·(N_chips·P_idle + N_busy·P_core) + Σ router passes ×
//! packet bits × J_bit`. `T` is the simulated time, since the machine runs in real
//! time. `N_chips` counts the working chips of the machine, which are powered whether
//! or not they hold slices. `N_busy` counts the cores running slices.

pub mod binary;
pub mod crossbar;
pub mod neurocore;

use neuromap_compile::Mapping;
use neuromap_hw::HwModel;
use neuromap_hw::arm_core::ArmCore;
use neuromap_ir::Network;
use neuromap_sim::chip::ChipCounts;
use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Energy {
    pub duration_s: f64,
    pub chips_powered: usize,
    pub cores_busy: usize,
    /// Idle power of the powered chips over the run (J).
    pub idle_j: f64,
    /// Extra power of the busy cores over the run (J).
    pub cores_j: f64,
    /// Multicast packets routed (J).
    pub router_j: f64,
    pub total_j: f64,
    pub synaptic_events: u64,
    /// Total energy per synaptic event (J); `None` with no events.
    pub per_synaptic_event_j: Option<f64>,
    /// Total energy per neuron per simulated millisecond (J).
    pub per_neuron_ms_j: Option<f64>,
}

/// Prices a chip run of `net` as mapped by `mapping` onto `model`: every working chip
/// of the machine is powered, every slice keeps a core busy. `None` when the model
/// leaves an energy figure out.
pub fn chip_run_energy(
    net: &Network,
    model: &HwModel,
    mapping: &Mapping,
    counts: &ChipCounts,
    steps: u32,
) -> Option<Energy> {
    arm_core_energy(
        &mapping.hw,
        model.machine.alive_chips(),
        mapping.partition.slices.len(),
        counts,
        steps,
        net.dt,
        net.n_neurons(),
    )
}

/// Energy of each step (J): the constant power of the powered chips and busy cores
/// over one tick, plus the packets routed in that step. `None` when the model leaves
/// an energy figure out.
pub fn energy_per_step(net: &Network, model: &HwModel, mapping: &Mapping, counts: &ChipCounts) -> Option<Vec<f64>> {
    let hw = &mapping.hw;
    let (idle, core, bit) = (hw.idle_chip_w?, hw.busy_core_w?, hw.router_bit_j?);
    let tick_s = net.dt / 1000.0;
    let constant = tick_s * (model.machine.alive_chips() as f64 * idle + mapping.partition.slices.len() as f64 * core);
    let per_pass = f64::from(hw.packet_bits) * bit;
    Some(counts.router_passes_per_step.iter().map(|&p| constant + p as f64 * per_pass).collect())
}

/// Prices an `arm-core` run; `None` when the model leaves an energy figure out.
pub fn arm_core_energy(
    hw: &ArmCore,
    chips_powered: usize,
    cores_busy: usize,
    counts: &ChipCounts,
    steps: u32,
    dt_ms: f64,
    neurons: u64,
) -> Option<Energy> {
    let (idle, core, bit) = (hw.idle_chip_w?, hw.busy_core_w?, hw.router_bit_j?);
    let duration_s = f64::from(steps) * dt_ms / 1000.0;
    let idle_j = duration_s * chips_powered as f64 * idle;
    let cores_j = duration_s * cores_busy as f64 * core;
    let passes: u64 = counts.router_passes.iter().sum();
    let router_j = passes as f64 * f64::from(hw.packet_bits) * bit;
    let total_j = idle_j + cores_j + router_j;
    let synaptic_events: u64 = counts.synaptic_events.iter().sum();
    let ms = duration_s * 1000.0;
    Some(Energy {
        duration_s,
        chips_powered,
        cores_busy,
        idle_j,
        cores_j,
        router_j,
        total_j,
        synaptic_events,
        per_synaptic_event_j: (synaptic_events > 0).then(|| total_j / synaptic_events as f64),
        per_neuron_ms_j: (neurons > 0 && ms > 0.0).then(|| total_j / neurons as f64 / ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spinnaker1() -> ArmCore {
        ArmCore {
            cores: 18,
            reserved_cores: 1,
            sdram_bytes: 123_469_792,
            router_entries: 1023,
            clock_hz: 200e6,
            local_memory_bytes: 65536,
            max_neurons: 255,
            neuron_state_bytes: 128,
            overhead_bytes: 16384,
            synapse_bytes: 4,
            row_header_bytes: 12,
            max_delay_steps: 16,
            delay_extension_stages: 8,
            packet_bits: 40,
            router: None,
            idle_chip_w: Some(0.35),
            busy_core_w: Some(0.034),
            router_bit_j: Some(25e-12),
            cycles_per_packet: None,
            cycles_per_synaptic_event: None,
            cycles_per_neuron_update: None,
        }
    }

    #[test]
    fn the_vendor_model_by_hand() {
        let counts =
            ChipCounts { router_passes: vec![1000, 3000], synaptic_events: vec![50_000], ..Default::default() };
        // 1 s on 4 chips with 10 busy cores, 4000 router passes of 40 bits.
        let e = arm_core_energy(&spinnaker1(), 4, 10, &counts, 1000, 1.0, 2000).unwrap();
        assert!((e.idle_j - 1.4).abs() < 1e-12);
        assert!((e.cores_j - 0.34).abs() < 1e-12);
        assert!((e.router_j - 4000.0 * 40.0 * 25e-12).abs() < 1e-18);
        assert!((e.per_synaptic_event_j.unwrap() - e.total_j / 50_000.0).abs() < 1e-18);
        assert!((e.per_neuron_ms_j.unwrap() - e.total_j / 2000.0 / 1000.0).abs() < 1e-18);
    }

    #[test]
    fn a_missing_figure_makes_the_estimate_unknown() {
        let hw = ArmCore { idle_chip_w: None, ..spinnaker1() };
        assert_eq!(arm_core_energy(&hw, 1, 1, &ChipCounts::default(), 10, 1.0, 1), None);
    }
}
