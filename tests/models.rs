//! The conductance-based LIF (`cond_lif`, PyNN's IF_cond_exp) and the adaptive LIF
//! (`adaptive_lif`): the f64 reference against their discretisation computed
//! independently (docs/semantics.md); on ARM-core chips, which price them by their
//! `[models]` figures, the chip equals the quantised model in every rounding mode and
//! on any thread count; a chip model without the figures, and the other families,
//! refuse them by name.

use std::path::Path;

use neuromap::sim::Options;

/// A one-neuron network: `model` with `extra` keys, fed by a spike source.
fn one_neuron(model: &str, extra: &str, spikes: &str, weight: f64, receptor: &str) -> String {
    format!(
        r#"
[network]
name = "one"
dt = 0.1
steps = 400

[[source]]
name = "in"
size = 1
kind = "array"
spikes = [{spikes}]

[[population]]
name = "n"
size = 1
model = "{model}"
{extra}

[[projection]]
pre = "in"
post = "n"
receptor = "{receptor}"
connector = "one_to_one"
weight = {weight}
delay = 0.1

[[probe]]
population = "n"
variable = "v"
"#
    )
}

fn build(text: &str) -> neuromap::ir::Network {
    neuromap::import::load_str("t.toml", text).unwrap().spec.build().unwrap()
}

/// The potential of a `cond_lif` neuron (tau_m 20 ms, cm 0.2 nF, v_rest −60 mV, both
/// tau_syn `tau`) after each step, given the conductance (µS) arriving in each step:
/// the synaptic current at the potential entering the step, held over the step.
fn cond_trajectory(arrivals: &[f64], e_rev: f64, tau: f64) -> Vec<f64> {
    let (dt, tau_m, cm, v_rest) = (0.1f64, 20.0f64, 0.2f64, -60.0f64);
    let a = (-dt / tau_m).exp();
    let k = tau_m / cm * (1.0 - a);
    let decay = (-dt / tau).exp();
    let (mut v, mut g) = (v_rest, 0.0f64);
    let mut out = Vec::new();
    for &x in arrivals {
        g += x;
        v = a * v + k * (g * (e_rev - v)) + (1.0 - a) * v_rest;
        g *= decay;
        out.push(v);
    }
    out
}

#[test]
fn a_conductance_drives_the_membrane_toward_its_reversal_potential() {
    let params =
        "cm = 0.2\nv_rest = -60.0\nv_thresh = 100.0\ntau_syn_e = 5.0\ntau_syn_i = 10.0\ne_rev_e = 0.0\ne_rev_i = -80.0";
    for (receptor, e_rev, tau) in [("excitatory", 0.0, 5.0), ("inhibitory", -80.0, 10.0)] {
        let net = build(&one_neuron("cond_lif", params, "[0.0, 5.0]", 0.05, receptor));
        let run = neuromap::sim::simulate(&net, 400, Options::RECORD_ALL);
        let got = &run.probes[0].values;
        // The spikes at steps 0 and 50 arrive one step later.
        let mut arrivals = vec![0.0; 400];
        // Weights are stored as f32.
        arrivals[1] = f64::from(0.05f32);
        arrivals[51] = f64::from(0.05f32);
        let want = cond_trajectory(&arrivals, e_rev, tau);
        assert_eq!(got.len(), want.len());
        for (t, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-9, "{receptor}, step {t}: {g} against {w}");
        }
        // Excitation depolarises, inhibition hyperpolarises, by different amounts: the
        // driving force is e_rev − v.
        let peak =
            want.iter().copied().fold(-60.0, |m: f64, x| if (x + 60.0).abs() > (m + 60.0).abs() { x } else { m });
        assert!(if receptor == "excitatory" { peak > -59.0 } else { peak < -60.5 }, "{receptor}: {peak}");
    }
}

#[test]
fn a_negative_conductance_is_refused_where_it_is_written() {
    let text = one_neuron("cond_lif", "", "[0.0]", -0.05, "inhibitory");
    let e = neuromap::import::load_str("t.toml", &text).unwrap_err().to_string();
    assert!(e.contains("is a conductance (µS) and must not be negative"), "{e}");
    // Current-based models keep their signed weights.
    assert!(neuromap::import::load_str("t.toml", &one_neuron("lif", "", "[0.0]", -0.05, "inhibitory")).is_ok());
}

/// Spike steps of an adaptive LIF neuron (PyNN's defaults, t_ref 2 ms) driven by the
/// constant current `i` (nA): the adaptation current decays every step, is subtracted
/// from the input, and grows by `b` at each spike.
fn adaptive_spikes(i: f64, tau_w: f64, b: f64, steps: u32) -> Vec<u32> {
    let (dt, tau_m, cm, v_rest, v_reset, v_thresh) = (0.1f64, 20.0f64, 1.0f64, -65.0f64, -65.0f64, -50.0f64);
    let a = (-dt / tau_m).exp();
    let k = tau_m / cm * (1.0 - a);
    let (decay_w, t_ref) = ((-dt / tau_w).exp(), 20u32);
    let (mut v, mut w, mut refractory) = (v_rest, 0.0f64, 0u32);
    let mut out = Vec::new();
    for t in 0..steps {
        w *= decay_w;
        let was = refractory > 0;
        if was {
            refractory -= 1;
        } else {
            v = a * v + k * (i - w) + (1.0 - a) * v_rest;
        }
        if !was && v >= v_thresh {
            out.push(t);
            v = v_reset;
            refractory = t_ref;
            w += b;
        }
    }
    out
}

#[test]
fn adaptation_lengthens_the_intervals_as_the_formula_says() {
    let text = |b: f64| {
        one_neuron(
            "adaptive_lif",
            &format!("t_ref = 2.0\ni_offset = 1.5\ntau_w = 100.0\nb = {b}"),
            "[]",
            0.0,
            "excitatory",
        )
    };
    for b in [0.0, 0.05] {
        let net = build(&text(b));
        let run = neuromap::sim::simulate(&net, 4000, Options::RECORD_ALL);
        let got = run.spikes[net.pop_by_name("n").unwrap().index()].steps.clone();
        let want = adaptive_spikes(1.5, 100.0, b, 4000);
        assert!(want.len() > 10, "b = {b}: {} spikes", want.len());
        assert_eq!(got, want, "b = {b}");
        let isi: Vec<u32> = want.windows(2).map(|w| w[1] - w[0]).collect();
        if b > 0.0 {
            assert!(isi.last() > isi.first(), "b = {b}: intervals {isi:?} do not lengthen");
        } else {
            assert_eq!(isi.first(), isi.last(), "without adaptation the neuron fires regularly");
        }
    }
}

fn chip_run(path: &str, hw: &str, mode: &str, threads: usize, steps: u32) -> neuromap::pipeline::Outcome {
    let o = neuromap::pipeline::RunOptions { steps: Some(steps), threads, ..Default::default() };
    let mut job = neuromap::pipeline::load_job(path, hw, &o).unwrap();
    job.model.set_choice("arith", "rounding", mode, "a test").unwrap();
    neuromap::pipeline::run_job(job, &mut |_| true).unwrap()
}

#[test]
fn chips_run_the_new_models_equal_to_their_quantised_model() {
    // SpiNNaker 2 computes in f32, which rounds to nearest even only.
    for (path, hw, modes) in [
        ("netlists/coba.toml", "spinnaker1-spinn5", &["truncate", "nearest", "stochastic"][..]),
        ("netlists/adaptive.toml", "spinnaker1-spinn3", &["truncate", "nearest", "stochastic"]),
        ("netlists/coba.toml", "spinnaker2-board", &["truncate"]),
        ("netlists/adaptive.toml", "spinnaker2-board", &["truncate"]),
    ] {
        for &mode in modes {
            let one = chip_run(path, hw, mode, 1, 1000);
            assert!(one.same_as_functional, "{path} on {hw}, {mode}: the chip differs from the quantised model");
            assert!(one.chip.result.neuron_spikes(&one.job.net) > 0, "{path}, {mode}: silent");
            let two = chip_run(path, hw, mode, 2, 1000);
            assert_eq!(two.chip.result.spikes, one.chip.result.spikes, "{path}, {mode}: 2 threads differ from 1");
        }
    }
}

/// A model's update is priced by its own `[models]` cycles: the Izhikevich netlist
/// (no synapses, no packets) takes exactly its updates × `models.izhikevich_cycles`.
#[test]
fn each_model_is_priced_by_its_own_cycles() {
    let run = |cycles: &str| {
        let text = std::fs::read_to_string("hw-models/spinnaker1.toml")
            .unwrap()
            .replace("izhikevich_cycles = { value = 200,", &format!("izhikevich_cycles = {{ value = {cycles},"));
        let o = neuromap::pipeline::RunOptions { steps: Some(100), ..Default::default() };
        let mut job = neuromap::pipeline::load_job("netlists/izhikevich.toml", "spinnaker1", &o).unwrap();
        job.model = neuromap::hw::load_str("hw-models/s.toml", &text).unwrap();
        let out = neuromap::pipeline::run_job(job, &mut |_| true).unwrap();
        let l = out.energy.unwrap();
        let line = l.lines.iter().find(|x| x.component == "core" && x.what.starts_with("active cycles")).unwrap();
        assert!(line.figures.iter().any(|f| f == "models.izhikevich_cycles"), "{:?}", line.figures);
        assert!(line.figures.iter().all(|f| f != "timing.cycles_per_neuron_update"), "{:?}", line.figures);
        (line.count, out.chip.result.neuron_updates)
    };
    let (cycles, updates) = run("200");
    assert_eq!(updates, 1000);
    assert_eq!(cycles, 200.0 * 1000.0);
    assert_eq!(run("350").0, 350.0 * 1000.0);
}

#[test]
fn a_chip_without_a_models_figures_and_other_families_refuse_by_name() {
    let text = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let without = text.split("\n[models]").next().unwrap().to_string();
    let o = neuromap::pipeline::RunOptions { steps: Some(10), ..Default::default() };
    let mut job = neuromap::pipeline::load_job("netlists/coba.toml", "spinnaker1", &o).unwrap();
    job.model = neuromap::hw::load_str("hw-models/no-models.toml", &without).unwrap();
    let e = neuromap::pipeline::run_job(job, &mut |_| true).map(|_| ()).unwrap_err().to_string();
    assert!(
        e.contains("population `exc` is of the cond_lif model") && e.contains("models.cond_lif_state_bytes"),
        "{e}"
    );
    for (path, pop) in [("netlists/coba.toml", "exc"), ("netlists/adaptive.toml", "exc")] {
        for hw in ["loihi", "rram-lsm-40nm", "tulip-40nm"] {
            let job = neuromap::pipeline::load_job(path, hw, &o).unwrap();
            let e = neuromap::pipeline::any::run_any(job).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains(&format!("population `{pop}` is of the")), "{path} on {hw}: {e}");
        }
    }
}

#[test]
fn the_new_models_round_trip_through_the_netlist_writer() {
    for path in ["netlists/coba.toml", "netlists/adaptive.toml", "netlists/synfire_if.toml"] {
        let n = neuromap::import::load_path(Path::new(path)).unwrap();
        let mut spec = n.spec.clone();
        // Random connectors and drawn initial potentials are not written.
        spec.projections.clear();
        for p in &mut spec.populations {
            if let neuromap::ir::spec::PopSpecKind::Neurons { v_init_dist, .. } = &mut p.kind {
                *v_init_dist = None;
            }
        }
        let text = neuromap::import::write::to_toml(&spec, Some(100), "round trip").unwrap();
        let back = neuromap::import::load_str("back.toml", &text).unwrap();
        assert_eq!(back.spec.populations, spec.populations, "{path}");
    }
}

/// Truncation biases a slow decay: the adaptation current, truncated toward −∞ every
/// step, stays too small and the adaptive neurons fire a few per cent too often;
/// stochastic rounding is unbiased (Hopkins et al. 2020's point, on a network).
#[test]
fn truncation_biases_adaptation_and_stochastic_rounding_does_not() {
    use neuromap::pipeline::fidelity::{Arithmetic, study};
    let spec = neuromap::import::load_path(Path::new("netlists/adaptive.toml")).unwrap().spec;
    let arith = [Arithmetic::ALL[0], Arithmetic::ALL[2]];
    let s = study(&spec, 5000, &[1, 2, 3], &arith, 10.0, &Default::default()).unwrap();
    let err = |a: &str| s.cells.iter().find(|c| c.population == "exc" && c.arithmetic == a).unwrap().count_error;
    let (t, st) = (err("s16.15 truncate"), err("s16.15 stochastic"));
    assert!(t.mean > 0.03 && t.mean > 3.0 * t.sd, "truncate: {t:?}");
    assert!(st.mean.abs() < 0.015, "stochastic: {st:?}");
}

/// The `if` model's linear leak (TrueNorth's leak with leak reversal): after the inputs,
/// `V` moves by `leak·dt` toward zero, overshooting it by less than one step's leak
/// (docs/semantics.md), computed here independently of the engine.
#[test]
fn a_linear_leak_moves_the_potential_toward_zero_by_a_constant_step() {
    let text = one_neuron("if", "v_thresh = 100.0\nleak = 0.5", "[0.0, 10.0]", 0.123, "excitatory")
        + "\n[[source]]\nname = \"neg\"\nsize = 1\nkind = \"array\"\nspikes = [[20.0]]\n\n[[projection]]\npre = \"neg\"\npost = \"n\"\nreceptor = \"inhibitory\"\nconnector = \"one_to_one\"\nweight = -0.2\ndelay = 0.1\n";
    let net = build(&text);
    let run = neuromap::sim::simulate(&net, 400, Options::RECORD_ALL);
    let got = &run.probes[0].values;
    let step = 0.5 * 0.1;
    let (mut v, mut want) = (0f64, Vec::new());
    for t in 0..400u32 {
        // Spikes at 0 ms and 10 ms (steps 0, 100) and −0.2 at 20 ms (step 200), each
        // arriving a step later.
        if t == 1 || t == 101 {
            v += f64::from(0.123f32);
        }
        if t == 201 {
            v += f64::from(-0.2f32);
        }
        if v > 0.0 {
            v -= step;
        } else if v < 0.0 {
            v += step;
        }
        want.push(v);
    }
    for (t, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() < 1e-12, "step {t}: {g} against {w}");
    }
    // The potential falls to within a step of zero and stays there, on either side.
    assert!(want[50].abs() < step && want[150].abs() < step && want[250].abs() < step);
    assert!(want[1] > 0.07 && want[201] < -0.1, "{} {}", want[1], want[201]);
}
