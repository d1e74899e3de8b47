//! Binary networks on the binary-network families: every binary example on every
//! `threshold-logic` and `mac-bnn` model (golden summaries: the mapping with its
//! schedule, energy per classification, spike digests), the synthetic-digits example
//! classified identically by the reference and both chips, and the refusals.

use std::path::Path;

use neuromap::bnn::dataset;
use neuromap::pipeline::binary::{BinaryOutcome, is_binary_family, run_binary_job};
use neuromap::pipeline::{JobError, RunOptions, load_hw, load_job};

mod common;
use common::toml_files;

fn binary_models() -> Vec<String> {
    toml_files("hw-models")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|m| is_binary_family(&load_hw(m).unwrap()))
        .collect()
}

fn run(net: &str, hw: &str) -> Result<BinaryOutcome, JobError> {
    run_binary_job(load_job(net, hw, &RunOptions::default())?)
}

#[test]
fn golden_binary_runs() {
    let models = binary_models();
    assert!(models.len() >= 2, "{models:?}");
    for net in ["binary_mlp", "binary_digits", "binary_conv"] {
        for hw in &models {
            let out = run(&format!("netlists/{net}.toml"), hw).unwrap_or_else(|e| panic!("{net} on {hw}: {e}"));
            insta::assert_snapshot!(format!("{net}@{hw}"), out.summary());
        }
    }
}

#[test]
fn the_digits_example_is_current() {
    let c = dataset::Config::default();
    let d = dataset::generate(&c);
    let m = dataset::train(&c, &d);
    let text = std::fs::read_to_string("netlists/binary_digits.toml").unwrap();
    assert!(
        text == dataset::netlist(&c, &d, &m),
        "netlists/binary_digits.toml is stale: `neuromap generate binary-digits -o netlists/binary_digits.toml`"
    );
}

/// The digits example classifies its held-out samples the same, bit for bit, on the
/// reference, the threshold-logic chip and the MAC baseline, and well.
#[test]
fn digits_classify_identically_on_every_chip() {
    let c = dataset::Config::default();
    let d = dataset::generate(&c);
    let m = dataset::train(&c, &d);
    let expected: Vec<Vec<bool>> = d.test.iter().map(|(x, _)| m.outputs(x)).collect();
    let want_acc = dataset::accuracy(&expected, &d.test);
    assert!(want_acc > 0.8, "held-out accuracy of the trained MLP: {want_acc}");
    let mut accs = Vec::new();
    for hw in binary_models() {
        let out = run("netlists/binary_digits.toml", &hw).unwrap();
        let net = &out.job.net;
        let o = net.find("output").unwrap().index();
        let mut outputs = vec![vec![false; c.classes]; c.test];
        for (&t, &n) in out.run.spikes[o].steps.iter().zip(&out.run.spikes[o].neurons) {
            outputs[t as usize][n as usize] = true;
        }
        assert_eq!(outputs, expected, "{hw}: outputs differ from the arithmetic MLP");
        accs.push((hw, dataset::accuracy(&outputs, &d.test)));
    }
    assert!(accs.iter().all(|(_, a)| *a == want_acc), "{accs:?}");
}

#[test]
fn spiking_networks_are_refused_with_the_reason() {
    let e = run("netlists/brunel_1k.toml", "tulip-40nm").expect_err("refused").to_string();
    insta::assert_snapshot!("refused_lif", e);
}

#[test]
fn mac_baseline_refuses_multi_bit_weights() {
    let dir = common::scratch_path("binary", "");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("w2.toml");
    std::fs::write(
        &p,
        r#"[network]
name = "w2"
dt = 1.0
seed = 1
steps = 20

[[source]]
name = "in"
size = 12
kind = "bernoulli"
p = 0.5

[[population]]
name = "out"
size = 3
model = "threshold"
theta = 2.0

[[projection]]
pre = "in"
post = "out"
connector = "all_to_all"
weight = { choice = [-2.0, 1.0, 2.0] }
"#,
    )
    .unwrap();
    let e = run(p.to_str().unwrap(), "mac-bnn-40nm").expect_err("refused").to_string();
    assert!(e.contains("mac-bnn units take ±1 weights"), "{e}");
    // Threshold logic takes small integer weights (bits of the magnitude in the counter).
    let out = run(p.to_str().unwrap(), "tulip-40nm").expect("threshold logic maps weights of 2");
    assert!(out.run.spike_counts.iter().sum::<u64>() > 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn weight_memory_overflow_names_demand_and_capacity() {
    let mut model = load_hw("tulip-40nm").unwrap();
    for f in &mut model.figures {
        if f.key == "weight_memory_bits" {
            f.value = 1000.0;
        }
    }
    let mut job = load_job(Path::new("netlists/binary_mlp.toml"), "tulip-40nm", &RunOptions::default()).unwrap();
    job.model = model;
    let e = run_binary_job(job).expect_err("refused").to_string();
    assert!(e.contains("weight memory: the network's weights need 203264 bits, the array holds 1000"), "{e}");
}

/// A batch of PEs reads a shared weight vector once: a convolution, whose positions all
/// use their channel's kernel, reads far fewer weight bits than it has synapses; an MLP,
/// whose neurons all differ, reads every synapse's weight.
#[test]
fn convolutions_reuse_their_weights() {
    for hw in binary_models() {
        let conv = run("netlists/binary_conv.toml", &hw).unwrap();
        let conv_layer = conv.mapping.layers.iter().find(|l| l.name == "c2").unwrap();
        let synapses = conv.bin.layers.iter().find(|l| l.name == "c2").unwrap().synapses();
        // 1,152 neurons of 72 inputs in batches: a few batches × 8 kernels × 72 weights.
        assert!(
            conv_layer.actions.weight_bits * 20 < synapses,
            "{hw}: {} of {synapses}",
            conv_layer.actions.weight_bits
        );
        let mlp = run("netlists/binary_mlp.toml", &hw).unwrap();
        for (l, ml) in mlp.bin.layers.iter().zip(&mlp.mapping.layers) {
            let bits = neuromap::bnn::map::weight_bits_per_synapse(l);
            let bits = if hw.contains("mac") { 1 } else { bits };
            assert_eq!(ml.actions.weight_bits, l.synapses() * bits, "{hw}: {}", l.name);
        }
    }
}
