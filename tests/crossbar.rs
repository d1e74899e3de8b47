//! The crossbar family: with ideal devices and converters the chip equals the quantised
//! functional model of the conductance-quantised network bit for bit (every example
//! that fits, both signed-weight schemes); accuracy falls as stuck-at faults rise;
//! golden summaries of the mappings (tiles, scales, ADC, conversions per step) and runs.

use neuromap::hw::crossbar::Crossbar;
use neuromap::pipeline::crossbar::{LsmStudy, is_crossbar_family, run_crossbar_job};
use neuromap::pipeline::{JobError, RunOptions, load_hw, load_job};
use neuromap::sim::Options;

mod common;
use common::toml_files;

fn crossbar_models() -> Vec<String> {
    toml_files("hw-models")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|m| is_crossbar_family(&load_hw(m).unwrap()))
        .collect()
}

fn ideal(hw: &Crossbar, differential: bool) -> Crossbar {
    Crossbar {
        sigma: 0.0,
        stuck_low: 0.0,
        stuck_high: 0.0,
        read_noise: 0.0,
        r_wire_ohm: 0.0,
        levels: 64,
        adc_bits: 40,
        adc_range_rows: None,
        tiles: 100_000,
        differential,
        ..hw.clone()
    }
}

#[test]
fn ideal_crossbars_equal_the_quantised_model() {
    let hw = Crossbar::from_model(&load_hw("neurosim-tile").unwrap()).unwrap();
    let mut compared = 0;
    for net in ["lsm", "synfire", "brunel_1k", "binary_mlp", "cuba"] {
        let job = load_job(format!("netlists/{net}.toml"), "neurosim-tile", &RunOptions::default()).unwrap();
        for differential in [true, false] {
            let x = ideal(&hw, differential);
            let m = neuromap::xbar::map::map_onto(&job.net, "ideal", &x, 3, 1).unwrap();
            let run = neuromap::xbar::run(&m, 120, Options::default(), 3);
            let functional = neuromap::sim::simulate_quantised(&m.quantised_net, 120, Options::default());
            assert_eq!(run.result.spikes, functional.spikes, "{net}, differential {differential}");
            assert_eq!(run.result.spike_counts, functional.spike_counts, "{net}");
            assert_eq!(run.counts.clipped, 0);
            // The neuron populations fire (the sources always do).
            let neurons: u64 = m
                .quantised_net
                .populations()
                .iter()
                .zip(&functional.spike_counts)
                .filter(|(p, _)| !p.is_source())
                .map(|(_, &c)| c)
                .sum();
            assert!(neurons > 0, "{net}: no neuron population fires");
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
}

/// The same network with variation or faults differs from the functional model.
#[test]
fn variation_changes_spikes() {
    let hw = Crossbar::from_model(&load_hw("neurosim-tile").unwrap()).unwrap();
    let job = load_job("netlists/lsm.toml", "neurosim-tile", &RunOptions::default()).unwrap();
    let noisy = Crossbar { sigma: 0.2, ..ideal(&hw, true) };
    let m = neuromap::xbar::map::map_onto(&job.net, "noisy", &noisy, 3, 1).unwrap();
    let run = neuromap::xbar::run(&m, 50, Options::default(), 3);
    let functional = neuromap::sim::simulate_quantised(&m.quantised_net, 50, Options::default());
    assert_ne!(run.result.spikes, functional.spikes);
}

#[test]
fn accuracy_falls_as_faults_rise() {
    let job = load_job("netlists/lsm.toml", "rram-lsm-40nm", &RunOptions::default()).unwrap();
    let data = neuromap::xbar::lsm::Dataset { train: 150, test: 80, ..Default::default() };
    let study = LsmStudy::prepare(job.net, data).unwrap();
    assert!(study.reference_accuracy > 0.8, "reference accuracy {}", study.reference_accuracy);
    let model = load_hw("rram-lsm-40nm").unwrap();
    let base = Crossbar::from_model(&model).unwrap();
    let acc = |stuck: f64| {
        let hw = Crossbar { stuck_low: 0.9 * stuck, stuck_high: 0.1 * stuck, ..base.clone() };
        study.on_crossbar(&model, &hw, 5).unwrap().accuracy
    };
    let (a0, a1, a2) = (acc(0.0), acc(0.02), acc(0.2));
    assert!(a0 > a1 && a1 >= a2 - 0.05 && a0 > a2 + 0.3, "accuracy at stuck-at 0, 2 %, 20 %: {a0} {a1} {a2}");
    let exact = ideal(&base, false);
    let e = study.on_crossbar(&model, &Crossbar { levels: 64, ..exact }, 5).unwrap();
    assert!(e.accuracy >= a0, "ideal {} below the modelled {a0}", e.accuracy);
}

#[test]
fn golden_crossbar_runs() {
    // The runs whose every neuron population the chip leaves silent: only NeuroSim's
    // tile (a 5-bit ADC over 128 rows rounds one spike's input to zero; see
    // `a_silent_crossbar_run_says_why`), and there by intent.
    let mut silent = Vec::new();
    for hw in crossbar_models() {
        for net in ["lsm", "synfire", "brunel_1k", "binary_mlp"] {
            // The synfire chain's first pulse arrives at 10 ms: run it past its spread.
            let steps = if net == "synfire" { 300 } else { 100 };
            let o = RunOptions { steps: Some(steps), ..RunOptions::default() };
            let job = load_job(format!("netlists/{net}.toml"), &hw, &o).unwrap();
            let text = match run_crossbar_job(job) {
                Ok(out) => {
                    // The network fires in the reference, so a silent chip is the chip's.
                    assert!(out.reference.neuron_spikes(&out.job.net) > 0, "{net}: the reference is silent");
                    // A population the chip leaves silent is named in a warning.
                    for f in &out.fidelity {
                        let quiet = f.reference_spikes >= neuromap::pipeline::SILENT_MIN_SPIKES
                            && (f.spikes as f64) < neuromap::pipeline::SILENT_SHARE * f.reference_spikes as f64;
                        let warned = out.warnings.iter().any(|w| w.contains(&format!("`{}`", f.population)));
                        assert_eq!(quiet, warned, "{net} on {hw}, {}: {:?}", f.population, out.warnings);
                    }
                    if out.run.result.neuron_spikes(&out.job.net) == 0 {
                        silent.push(format!("{net}@{hw}"));
                    }
                    out.summary()
                }
                Err(e @ JobError::Map { .. }) => format!("does not map: {e}\n"),
                Err(e) => panic!("{net} on {hw}: {e}"),
            };
            insta::assert_snapshot!(format!("{net}@{hw}"), text);
        }
    }
    assert_eq!(silent, ["lsm@neurosim-tile", "brunel_1k@neurosim-tile"], "the silent chip runs");
}

/// brunel_1k and the LSM on NeuroSim's tile: the 5-bit ADC's step is 128 level steps,
/// far above one spike's input, so every neuron population falls silent (the golden
/// snapshots record it); the run must say so and why. The LSM on its own macro fires
/// and draws no warning.
#[test]
fn a_silent_crossbar_run_says_why() {
    let o = RunOptions { steps: Some(100), ..RunOptions::default() };
    let out = run_crossbar_job(load_job("netlists/brunel_1k.toml", "neurosim-tile", &o).unwrap()).unwrap();
    for pop in ["exc", "inh"] {
        let w = out.warnings.iter().find(|w| w.contains(&format!("`{pop}`")));
        let w = w.unwrap_or_else(|| panic!("no warning for {pop}: {:?}", out.warnings));
        assert!(w.contains("ADC") && w.contains("adc.bits"), "{w}");
    }
    assert!(out.summary().contains("warning: population `exc` is nearly silent"));
    assert_eq!(out.run.result.neuron_spikes(&out.job.net), 0, "brunel_1k is silent on neurosim-tile, as intended");
    assert!(out.reference.neuron_spikes(&out.job.net) > 0);
    // The cause is the ADC's step: the same tile with a full scale of 8 rows resolves
    // one spike's input, and the network fires.
    let mut job = load_job("netlists/brunel_1k.toml", "neurosim-tile", &o).unwrap();
    job.model = job.model.with_figure("adc.range_rows", "8", "test: a smaller ADC range").unwrap();
    let fine = run_crossbar_job(job).unwrap();
    assert!(fine.run.result.neuron_spikes(&fine.job.net) > 0, "{:?}", fine.warnings);
    // The LSM on the same tile is silent for the same reason, by design of the figures
    // (5 bits over the full 128 rows): the liquid fires in the reference, not on the
    // chip, and the readout (a leaky integrator) never fires anywhere.
    let tile = run_crossbar_job(load_job("netlists/lsm.toml", "neurosim-tile", &o).unwrap()).unwrap();
    assert_eq!(tile.run.result.neuron_spikes(&tile.job.net), 0, "the LSM on neurosim-tile fires");
    assert!(tile.reference.neuron_spikes(&tile.job.net) > 0);
    let w = tile.warnings.iter().find(|w| w.contains("`liquid`")).expect("the liquid's silence is warned");
    assert!(w.contains("ADC") && w.contains("rounds to zero"), "{w}");
    let lsm = run_crossbar_job(load_job("netlists/lsm.toml", "rram-lsm-40nm", &o).unwrap()).unwrap();
    assert!(lsm.warnings.is_empty(), "{:?}", lsm.warnings);
    assert!(lsm.run.result.spike_counts.iter().zip(lsm.job.net.populations()).any(|(&c, p)| !p.is_source() && c > 0));
}
