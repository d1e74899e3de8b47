//! Mapping never changes behaviour: on every example and every chip model it fits,
//! the chip simulator's spikes equal the quantised functional model's, bit for bit,
//! and packets go exactly where the compiler said.

use std::path::Path;

use neuromap::compile::{CompileOptions, compile};
use neuromap::import::load_path;
use neuromap::sim::chip::simulate_chip;
use neuromap::sim::{Options, simulate_quantised};

mod common;
use common::toml_files;

const ALL: Options = Options { record_sources: true };

#[test]
fn chip_spikes_equal_the_quantised_model_on_every_example() {
    let mut compared = 0;
    for net_path in toml_files("netlists") {
        let mut n = load_path(&net_path).unwrap();
        if n.spec.name == "microcircuit" {
            n.spec.scale = 0.02;
        }
        let net = n.spec.build().unwrap();
        let steps = n.steps.unwrap_or(1000).min(600);
        let functional = simulate_quantised(&net, steps, ALL);
        for hw_path in toml_files("hw-models") {
            let hw = neuromap::hw::load_path(&hw_path).unwrap();
            let Ok(mapping) = compile(&net, &hw, &CompileOptions::default()) else { continue };
            let chip = simulate_chip(&net, &hw, &mapping, steps, ALL).unwrap();
            let what = format!("{} on {}", net.name, hw.name);
            assert_eq!(chip.result.spike_counts, functional.spike_counts, "{what}");
            assert_eq!(chip.result.spikes, functional.spikes, "{what}");
            assert_eq!(chip.result.synaptic_events, functional.synaptic_events, "{what}");
            assert_eq!(chip.result.neuron_updates, functional.neuron_updates, "{what}");
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} mappings compared");
}

/// Another placement (seed) and dead hardware change where spikes travel, never what
/// the network computes.
#[test]
fn placement_and_faults_do_not_change_spikes() {
    let net = load_path(Path::new("netlists/brunel_1k.toml")).unwrap().spec.build().unwrap();
    let functional = simulate_quantised(&net, 500, ALL);
    let mut hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn3.toml")).unwrap();
    let faults = neuromap::hw::Faults { chips: vec![(0, 0)], ..Default::default() };
    hw.apply_faults(&faults).unwrap();
    let mut counts = Vec::new();
    for seed in [1, 2, 3] {
        // One core per chip region: force traffic between chips with small slices.
        let opts = CompileOptions { seed, ..Default::default() };
        let mapping = compile(&net, &hw, &opts).unwrap();
        let chip = simulate_chip(&net, &hw, &mapping, 500, ALL).unwrap();
        assert_eq!(chip.result.spikes, functional.spikes, "seed {seed}");
        assert_eq!(chip.counts.router_passes[hw.machine.at(0, 0).unwrap().index()], 0, "a dead chip routes nothing");
        counts.push(chip.counts.packets_sent);
    }
    assert!(counts.iter().all(|&c| c == counts[0]), "packets sent depend on spikes only: {counts:?}");
}

/// Every packet reaches exactly the cores the compiler routed it to, and every
/// synaptic event of the network is processed by exactly one core.
#[test]
fn packets_and_synaptic_events_are_accounted_for() {
    let mut n = load_path(Path::new("netlists/microcircuit.toml")).unwrap();
    n.spec.scale = 0.02;
    let net = n.spec.build().unwrap();
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    assert!(
        mapping
            .partition
            .slices
            .iter()
            .any(|s| matches!(s.kind, neuromap::compile::partition::SliceKind::DelayExtension { .. }))
    );
    let chip = simulate_chip(&net, &hw, &mapping, 400, ALL).unwrap();
    let reference = neuromap::sim::simulate(&net, 400, ALL);
    let total: u64 = chip.counts.synaptic_events.iter().sum();
    assert_eq!(total, chip.result.total_synaptic_events());
    // The quantised model and the f64 reference see the same inputs, so source-driven
    // events match exactly even where spikes differ.
    assert!(reference.total_synaptic_events() > 0);
    assert!(chip.counts.packets_sent > 0 && chip.counts.router_passes.iter().sum::<u64>() >= chip.counts.packets_sent);
}

/// Time within steps: the busiest core's cycles per step against the tick, on models
/// that give cycle costs; unknown (not guessed) on models that do not.
#[test]
fn timing_is_counted_where_the_model_gives_cycle_costs() {
    let net = load_path(Path::new("netlists/lsm.toml")).unwrap().spec.build().unwrap();
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    let chip = simulate_chip(&net, &hw, &mapping, 50, ALL).unwrap();
    let t = chip.counts.timing.expect("spinnaker1 gives cycle costs");
    assert_eq!(t.critical_cycles.len(), 50);
    assert_eq!(t.budget_cycles, 200e6 * net.dt / 1000.0);
    // The busiest core's cycles are at least its neuron updates' cost.
    let updates = chip.counts.neuron_updates.iter().max().unwrap() / 50;
    assert!(t.critical_cycles.iter().all(|&c| c >= updates as f64 * 150.0));
    // A small liquid at 1 ms steps keeps real time; overruns agree with the cycles.
    assert_eq!(t.overrun_steps(), t.critical_cycles.iter().filter(|&&c| c > t.budget_cycles).count());
    assert_eq!(t.overrun_steps(), 0, "worst load {}", t.worst_load());
    let hw2 = neuromap::hw::load_path(Path::new("hw-models/spinnaker2.toml")).unwrap();
    let m2 = compile(&net, &hw2, &CompileOptions::default()).unwrap();
    assert!(simulate_chip(&net, &hw2, &m2, 5, ALL).unwrap().counts.timing.is_none());
}
