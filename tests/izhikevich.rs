//! Izhikevich neurons: the f64 reference integrates them as sPyNNaker does (one
//! explicit midpoint step per timestep, docs/semantics.md), checked here against the
//! same formula computed independently; the quantised model runs them under every
//! rounding mode; a netlist round-trips; ARM-core chips run them, the other families
//! refuse them by name.

use std::path::Path;

use neuromap::sim::Options;

/// Spike steps of one neuron driven by the constant current `i`, from v = −70, u = −14.
fn midpoint(a: f64, b: f64, c: f64, d: f64, i: f64, h: f64, steps: u32) -> Vec<u32> {
    let (mut v, mut u) = (-70.0f64, -14.0f64);
    let mut out = Vec::new();
    for t in 0..steps {
        let pre = 140.0 + i - u;
        let alpha = pre + (5.0 + 0.04 * v) * v;
        let eta = v + h / 2.0 * alpha;
        let beta = h / 2.0 * (b * v - u) * a;
        let mut vn = v + h * (pre - beta + (5.0 + 0.04 * eta) * eta);
        let mut un = u + a * h * (b * eta - (u + beta));
        if vn >= 30.0 {
            out.push(t);
            vn = c;
            un += d;
        }
        (v, u) = (vn, un);
    }
    out
}

#[test]
fn the_reference_integrates_as_the_midpoint_formula_says() {
    let n = neuromap::import::load_path(Path::new("netlists/izhikevich.toml")).unwrap();
    let net = n.spec.build().unwrap();
    let run = neuromap::sim::simulate(&net, 1000, Options::RECORD_ALL);
    let currents = [5.0, 7.5, 10.0, 12.5, 15.0];
    for (p, (a, d)) in [(0usize, (0.02, 8.0)), (1, (0.1, 2.0))] {
        let rec = &run.spikes[p];
        for (j, &i) in currents.iter().enumerate() {
            let got: Vec<u32> =
                rec.steps.iter().zip(&rec.neurons).filter(|(_, n)| **n as usize == j).map(|(t, _)| *t).collect();
            let want = midpoint(a, 0.2, -65.0, d, i, 1.0, 1000);
            assert!(want.len() > 5, "population {p} neuron {j} barely fires");
            assert_eq!(got, want, "population {p}, current {i}");
        }
    }
}

#[test]
fn the_quantised_model_runs_izhikevich_in_every_rounding_mode() {
    let n = neuromap::import::load_path(Path::new("netlists/izhikevich.toml")).unwrap();
    let net = n.spec.build().unwrap();
    let reference = neuromap::sim::simulate(&net, 1000, Options::RECORD_ALL);
    let mut all = Vec::new();
    for rounding in [
        neuromap::sim::arith::Rounding::Truncate,
        neuromap::sim::arith::Rounding::Nearest,
        neuromap::sim::arith::Rounding::Stochastic,
    ] {
        let o = Options { rounding, ..Options::RECORD_ALL };
        let q = neuromap::sim::simulate_quantised(&net, 1000, o);
        assert_eq!(q.spikes, neuromap::sim::simulate_quantised(&net, 1000, o).spikes, "{rounding:?} repeats");
        // Tonic spiking keeps its rate within a few per cent in s16.15.
        for p in 0..2 {
            let (r, s) = (reference.spike_counts[p] as f64, q.spike_counts[p] as f64);
            assert!((s - r).abs() <= 0.05 * r, "{rounding:?}, population {p}: {s} spikes against {r}");
        }
        all.push(q.spikes);
    }
    assert_ne!(all[0], all[1], "truncate and nearest gave the same spikes");
}

#[test]
fn an_izhikevich_netlist_round_trips_and_runs_on_arm_cores_only() {
    let n = neuromap::import::load_path(Path::new("netlists/izhikevich.toml")).unwrap();
    let text = neuromap::import::write::to_toml(&n.spec, Some(1000), "round trip").unwrap();
    let back = neuromap::import::load_str("back.toml", &text).unwrap();
    assert_eq!(back.spec.populations, n.spec.populations);
    // ARM-core chips price it by their `[models]` figures.
    for hw in ["spinnaker1-spinn5", "spinnaker2"] {
        let o = neuromap::pipeline::RunOptions { steps: Some(200), ..Default::default() };
        let job = neuromap::pipeline::load_job("netlists/izhikevich.toml", hw, &o).unwrap();
        let out = neuromap::pipeline::run_job(job, &mut |_| true).unwrap();
        assert!(out.same_as_functional && out.functional_spikes > 0, "{hw}");
    }
    // The other families price a LIF update only.
    for hw in ["loihi", "rram-lsm-40nm", "tulip-40nm"] {
        let o = neuromap::pipeline::RunOptions { steps: Some(10), ..Default::default() };
        // Every family's own run path, as `neuromap run` takes it.
        let job = neuromap::pipeline::load_job("netlists/izhikevich.toml", hw, &o).unwrap();
        let e = neuromap::pipeline::any::run_any(job).map(|_| ()).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("population `regular_spiking` is of the izhikevich model"), "{hw}: {text}");
    }
}

/// Hopkins et al.'s solvers hold constants wider than the state: with 0.04, a and b in
/// u1.31 (`arith.constants = "wide"`) every s16.15 mode keeps more regular-spiking
/// spikes at their f64 step, stochastic rounding most; the chip takes the figure and
/// still equals its quantised model.
#[test]
fn wide_constants_bring_s1615_closer_to_f64() {
    use neuromap::pipeline::fidelity::{Arithmetic, study};
    let spec = neuromap::import::load_path(Path::new("netlists/izhikevich.toml")).unwrap().spec;
    let arith: Vec<Arithmetic> = ["s16.15", "s16.15:nearest", "s16.15:stochastic"]
        .iter()
        .flat_map(|a| [Arithmetic::parse(a).unwrap(), Arithmetic::parse(&format!("{a}:wide")).unwrap()])
        .collect();
    let s = study(&spec, 1000, &[1], &arith, 10.0, &Default::default()).unwrap();
    let same = |a: &Arithmetic| {
        s.cells.iter().find(|c| c.population == "regular_spiking" && c.arithmetic == a.name()).unwrap().same_step.mean
    };
    for pair in arith.chunks(2) {
        assert!(
            same(&pair[1]) > same(&pair[0]) + 0.03,
            "{}: {} against {}",
            pair[1].name(),
            same(&pair[1]),
            same(&pair[0])
        );
    }
    assert!(
        same(&arith[5]) > same(&arith[1]) && same(&arith[5]) > same(&arith[3]),
        "stochastic, wide is not the closest"
    );
    let o = neuromap::pipeline::RunOptions { steps: Some(300), threads: 2, ..Default::default() };
    let mut job = neuromap::pipeline::load_job("netlists/izhikevich.toml", "spinnaker1-spinn3", &o).unwrap();
    job.model.set_choice("arith", "constants", "wide", "a test").unwrap();
    job.model.set_choice("arith", "rounding", "stochastic", "a test").unwrap();
    let out = neuromap::pipeline::run_job(job, &mut |_| true).unwrap();
    assert!(out.same_as_functional && out.functional_spikes > 0);
}
