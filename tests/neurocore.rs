//! The `neurocore` family (Loihi, TrueNorth): the Loihi model against SANA-FE's output
//! for a measured example, TrueNorth at its published operating point, golden
//! summaries of the examples on both models.

use neuromap::pipeline::neurocore::run_neurocore_job;
use neuromap::pipeline::{JobError, RunOptions, load_hw, load_job};

/// SANA-FE 2.2.9 on its own loihi.yaml, `python3 benches/sanafe/tiny_network.py`:
/// energy {synapse 2.556e-9, soma 2.8995e-9, network 2.664e-9, total 8.1195e-9} J,
/// simulated time 7.0723e-6 s for 10 steps.
#[test]
fn loihi_matches_sanafe_on_a_measured_example() {
    let job = load_job("tests/neurocore/sanafe_tiny.toml", "loihi", &RunOptions::default()).unwrap();
    let out = run_neurocore_job(job).unwrap();
    let part =
        |names: &[&str]| -> f64 { out.energy.parts.iter().filter(|p| names.contains(&p.name)).map(|p| p.joules).sum() };
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs();
    let synapse = part(&["synaptic events"]);
    let soma = part(&["neuron accesses", "neuron updates", "spikes out"]);
    let network = part(&["messages", "hops east-west", "hops north-south"]);
    assert!(close(synapse, 2.556e-9), "synapse {synapse:e}");
    assert!(close(soma, 2.8995e-9), "soma {soma:e}");
    assert!(close(network, 2.664e-9), "network {network:e}");
    assert!(close(out.energy.total_j, 8.1195e-9), "total {:e}", out.energy.total_j);
    let spikes: u64 = out.result.spike_counts.iter().sum();
    assert_eq!(spikes, 39, "SANA-FE counts 39 neurons fired");
    let t = out.energy.seconds;
    assert!((t - 7.0723e-6).abs() / 7.0723e-6 < 0.02, "simulated time {t:e} s against SANA-FE's 7.0723e-6 s");
}

/// Merolla et al. (2014): 26 pJ per synaptic event at 20 Hz and 128 active synapses
/// per neuron.
#[test]
fn truenorth_at_its_operating_point() {
    let spec = neuromap::ncore::operating_point(4, 1);
    let net = spec.build().unwrap();
    let job = neuromap::pipeline::Job {
        spec,
        net,
        model: load_hw("truenorth").unwrap(),
        steps: 1000,
        placement_seed: 1,
        threads: 1,
        faults: Default::default(),
        max_memory: None,
    };
    let out = run_neurocore_job(job).unwrap();
    let rate = out.result.spike_counts[0] as f64 / 1024.0 / 1.0;
    assert!((rate - 20.0).abs() < 0.5, "rate {rate} Hz");
    let e = out.energy.per_synaptic_event_j.unwrap() * 1e12;
    assert!((e - 26.0).abs() / 26.0 < 0.10, "{e} pJ per synaptic event against the published 26 pJ");
}

#[test]
fn golden_neurocore_runs() {
    for hw in ["loihi", "truenorth"] {
        for net in ["brunel_1k", "synfire", "lsm", "cuba"] {
            let o = RunOptions { steps: Some(200), ..RunOptions::default() };
            let job = load_job(format!("netlists/{net}.toml"), hw, &o).unwrap();
            let text = match run_neurocore_job(job) {
                Ok(out) => out.summary(),
                Err(e @ JobError::Map { .. }) => format!("does not map: {e}\n"),
                Err(e) => panic!("{net} on {hw}: {e}"),
            };
            insta::assert_snapshot!(format!("{net}@{hw}"), text);
        }
    }
}
