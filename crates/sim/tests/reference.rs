//! The reference simulator against results computed independently here, from the
//! continuous-time solutions or by direct arithmetic.

use neuromap_ir::connect::{Connector, Dist, ListEntry};
use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProbeSpec, ProjSpec, SourceSpec};
use neuromap_ir::{Encoding, Lif, LifFlavour, NeuronModel, Param, Receptor, Reset, Threshold, Variable};
use neuromap_sim::{Options, simulate};

const ALL: Options = Options::RECORD_ALL;

fn lif(tau_m: f64, cm: f64, v_rest: f64, v_reset: f64, v_thresh: f64, t_ref: f64, i_offset: f64) -> Lif {
    Lif {
        flavour: LifFlavour::Lif,
        tau_m: tau_m.into(),
        cm: cm.into(),
        v_rest: v_rest.into(),
        v_reset: v_reset.into(),
        v_thresh: v_thresh.into(),
        t_ref: t_ref.into(),
        tau_syn_e: 0.0.into(),
        tau_syn_i: 0.0.into(),
        i_offset: i_offset.into(),
        reset: Reset::ToValue,
        v_init: v_rest.into(),
        conductance: None,
        adaptation: None,
        linear_leak: None,
    }
}

fn neurons(name: &str, size: u64, model: NeuronModel) -> PopSpec {
    PopSpec { name: name.into(), size, kind: PopSpecKind::Neurons { model, v_init_dist: None } }
}

fn source(name: &str, size: u64, s: SourceSpec) -> PopSpec {
    PopSpec { name: name.into(), size, kind: PopSpecKind::Source(s) }
}

fn proj(pre: usize, post: usize, connector: Connector, weight: Option<f64>, delay_ms: f64) -> ProjSpec {
    ProjSpec {
        name: format!("{pre}->{post}"),
        pre,
        post,
        receptor: Receptor::Excitatory,
        connector,
        weight: weight.map(Dist::constant),
        delay: Dist::constant(delay_ms),
    }
}

fn net(dt: f64, populations: Vec<PopSpec>, projections: Vec<ProjSpec>, probes: Vec<ProbeSpec>) -> NetworkSpec {
    NetworkSpec {
        name: "t".into(),
        dt,
        seed: 1,
        scale: 1.0,
        populations,
        projections,
        probes,
        assign: Default::default(),
    }
}

/// Constant current: the spike times follow from the continuous solution
/// V(t) = v_inf + (V0 − v_inf)·exp(−t/τ), which the step rule integrates exactly.
#[test]
fn constant_current_spike_times_match_the_analytic_solution() {
    let (tau, cm, v_rest, v_reset, theta, t_ref, i) = (20.0, 0.5, -65.0, -70.0, -50.0, 2.0, 0.9);
    let dt = 0.1;
    let spec = net(
        dt,
        vec![neurons("n", 1, NeuronModel::Lif(lif(tau, cm, v_rest, v_reset, theta, t_ref, i)))],
        vec![],
        vec![],
    );
    let run = simulate(&spec.build().unwrap(), 3000, ALL);
    let v_inf: f64 = v_rest + i * tau / cm; // −29 mV
    // The first spike is in step s when V((s+1)·dt) ≥ θ.
    let t_first = tau * ((v_inf - v_rest) / (v_inf - theta)).ln();
    let t_next = tau * ((v_inf - v_reset) / (v_inf - theta)).ln();
    let ref_steps = (t_ref / dt).round() as u32;
    let mut want = vec![(t_first / dt).ceil() as u32 - 1];
    loop {
        let s = want.last().unwrap() + ref_steps + (t_next / dt).ceil() as u32;
        if s >= 3000 {
            break;
        }
        want.push(s);
    }
    assert_eq!(run.spikes[0].steps, want);
}

/// A delta synapse adds its weight to V in the arrival step, `d` steps after the spike;
/// then V decays by exp(−dt/τ) per step.
#[test]
fn delta_synapse_arrives_after_its_delay_and_decays() {
    let spikes = SourceSpec::Array { times_ms: vec![vec![0.5]] };
    let spec = net(
        0.1,
        vec![neurons("n", 1, NeuronModel::Lif(lif(10.0, 1.0, 0.0, 0.0, 100.0, 0.0, 0.0))), source("s", 1, spikes)],
        vec![proj(1, 0, Connector::OneToOne, Some(3.0), 0.2)],
        vec![ProbeSpec { population: 0, variable: Variable::V, neurons: None }],
    );
    let run = simulate(&spec.build().unwrap(), 12, ALL);
    let v = &run.probes[0].values;
    // Spike in step 5, delay 2 steps: V jumps in step 7.
    assert!(v[..7].iter().all(|&x| x == 0.0), "{v:?}");
    assert_eq!(v[7], 3.0);
    assert!((v[8] - 3.0 * (-0.01f64).exp()).abs() < 1e-12);
}

/// Exponential current into a non-leaky neuron: the final V is the charge over C.
/// The step rule gives the geometric sum (dt/C)·w/(1 − exp(−dt/τs)), within dt/τs of the
/// continuous w·τs/C.
#[test]
fn exponential_synapse_delivers_its_charge() {
    let (w, tau_s, cm, dt) = (2.0, 5.0, 0.25, 0.1);
    let mut m = lif(1.0, cm, 0.0, 0.0, 1e9, 0.0, 0.0);
    m.flavour = LifFlavour::If;
    m.tau_m = Param::Shared(f64::INFINITY);
    m.tau_syn_e = tau_s.into();
    let spec = net(
        dt,
        vec![neurons("n", 1, NeuronModel::Lif(m)), source("s", 1, SourceSpec::Array { times_ms: vec![vec![0.0]] })],
        vec![proj(1, 0, Connector::OneToOne, Some(w), dt)],
        vec![ProbeSpec { population: 0, variable: Variable::V, neurons: None }],
    );
    let run = simulate(&spec.build().unwrap(), 20_000, ALL);
    let v_end = *run.probes[0].values.last().unwrap();
    let geometric = dt / cm * w / (1.0 - (-dt / tau_s).exp());
    assert!((v_end - geometric).abs() < 1e-9 * geometric, "{v_end} vs {geometric}");
    let continuous = w * tau_s / cm;
    assert!((v_end - continuous).abs() / continuous < dt / tau_s);
}

/// Reset by subtraction keeps the overshoot: an IF neuron gaining 0.25 per step with
/// threshold 1 spikes exactly floor(0.25·n) times in n steps.
#[test]
fn reset_by_subtraction_conserves_charge() {
    let mut m = lif(1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 2.5);
    m.tau_m = Param::Shared(f64::INFINITY);
    m.reset = Reset::Subtract;
    let spec = net(0.1, vec![neurons("n", 1, NeuronModel::Lif(m))], vec![], vec![]);
    let run = simulate(&spec.build().unwrap(), 1001, ALL);
    assert_eq!(run.spikes[0].len(), 250);
    assert_eq!(run.spikes[0].steps[..3], [3, 7, 11]);
}

/// A zero-delay chain delivers within the step; a delay of d steps d steps later.
#[test]
fn zero_delay_chains_fire_in_the_same_step() {
    let model = NeuronModel::Lif(Lif { tau_m: Param::Shared(f64::INFINITY), ..lif(1.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0) });
    let spec = net(
        1.0,
        vec![
            neurons("c", 1, model.clone()),
            neurons("b", 1, model.clone()),
            neurons("a", 1, model),
            source("s", 1, SourceSpec::Array { times_ms: vec![vec![3.0, 9.0]] }),
        ],
        // Declared out of order on purpose: the update order must follow the zero delays.
        vec![
            proj(2, 1, Connector::OneToOne, Some(1.0), 0.0),
            proj(1, 0, Connector::OneToOne, Some(1.0), 4.0),
            proj(3, 2, Connector::OneToOne, Some(1.0), 0.0),
        ],
        vec![],
    );
    let run = simulate(&spec.build().unwrap(), 20, ALL);
    assert_eq!(run.spikes[2].steps, [3, 9], "a fires with the source");
    assert_eq!(run.spikes[1].steps, [3, 9], "b fires in the same step over a zero delay");
    assert_eq!(run.spikes[0].steps, [7, 13], "c fires 4 steps later");
}

/// Bipolar threshold neurons compute sign(Σ w·x) with x = ±1; checked against a direct
/// evaluation for every input pattern of 4 bits.
#[test]
fn bipolar_threshold_neurons_compute_the_xnor_popcount() {
    let w = [1.0, -1.0, 1.0, 1.0];
    let theta = 1.0;
    // Pattern p (0..16) is presented in step p: bit k of p drives input k.
    let times: Vec<Vec<f64>> = (0..4).map(|k| (0..16).filter(|p| p >> k & 1 == 1).map(f64::from).collect()).collect();
    let entries = (0..4).map(|k| ListEntry { pre: k, post: 0, weight: Some(w[k as usize]), delay: None }).collect();
    let spec = net(
        1.0,
        vec![
            neurons(
                "t",
                1,
                NeuronModel::Threshold(Threshold {
                    theta: theta.into(),
                    bias: 0.0.into(),
                    encoding: Encoding::Bipolar,
                }),
            ),
            source("x", 4, SourceSpec::Array { times_ms: times }),
        ],
        vec![proj(1, 0, Connector::List { entries }, None, 0.0)],
        vec![],
    );
    let run = simulate(&spec.build().unwrap(), 16, ALL);
    let want: Vec<u32> = (0..16u32)
        .filter(|p| {
            let s: f64 = (0..4).map(|k| w[k] * if p >> k & 1 == 1 { 1.0 } else { -1.0 }).sum();
            s >= theta
        })
        .collect();
    assert_eq!(run.spikes[0].steps, want);
}

/// Poisson counts: mean λ per step and variance λ (a count can exceed one).
#[test]
fn poisson_sources_have_poisson_counts() {
    let (rate, dt, n, steps) = (2000.0, 1.0, 200u64, 2000u32);
    let spec = net(
        dt,
        vec![
            source("p", n, SourceSpec::Poisson { rate_hz: rate.into(), start_ms: 0.0, stop_ms: None }),
            neurons("sink", 1, NeuronModel::Lif(lif(10.0, 1.0, 0.0, 0.0, 1e9, 0.0, 0.0))),
        ],
        vec![],
        vec![],
    );
    let run = simulate(&spec.build().unwrap(), steps, ALL);
    let lambda = rate * dt / 1000.0;
    let mut per_step = vec![0u32; (n as usize) * steps as usize];
    for (&t, &j) in run.spikes[0].steps.iter().zip(&run.spikes[0].neurons) {
        per_step[t as usize * n as usize + j as usize] += 1;
    }
    let m = per_step.len() as f64;
    let mean = per_step.iter().map(|&c| f64::from(c)).sum::<f64>() / m;
    let var = per_step.iter().map(|&c| (f64::from(c) - mean).powi(2)).sum::<f64>() / m;
    assert!((mean - lambda).abs() < 5.0 * (lambda / m).sqrt(), "mean {mean}");
    assert!((var - lambda).abs() < 0.05 * lambda, "variance {var}");
}

/// The same seed gives the same spikes; another seed other spikes.
#[test]
fn runs_are_deterministic_for_a_seed() {
    let make = |seed| {
        let mut s = net(
            0.1,
            vec![
                neurons("n", 100, NeuronModel::Lif(lif(20.0, 1.0, 0.0, 0.0, 15.0, 2.0, 0.0))),
                source("p", 100, SourceSpec::Poisson { rate_hz: 1500.0.into(), start_ms: 0.0, stop_ms: None }),
            ],
            vec![
                proj(1, 0, Connector::OneToOne, Some(1.0), 0.1),
                proj(0, 0, Connector::FixedProbability { p: 0.1, allow_self: false }, Some(0.5), 1.0),
            ],
            vec![],
        );
        s.seed = seed;
        simulate(&s.build().unwrap(), 2000, ALL)
    };
    let (a, b, c) = (make(1), make(1), make(2));
    assert!(a.spikes[0].len() > 100);
    assert_eq!(a, b);
    assert_ne!(a.spikes[0], c.spikes[0]);
}

/// Without `record_sources`, sources are counted but their trains are not kept; the
/// neurons' spikes are the same either way.
#[test]
fn sources_are_counted_without_being_recorded() {
    let spec = net(
        0.1,
        vec![
            neurons("n", 50, NeuronModel::Lif(lif(20.0, 1.0, 0.0, 0.0, 15.0, 2.0, 0.0))),
            source("p", 50, SourceSpec::Poisson { rate_hz: 1500.0.into(), start_ms: 0.0, stop_ms: None }),
        ],
        vec![proj(1, 0, Connector::OneToOne, Some(1.0), 0.1)],
        vec![],
    );
    let net = spec.build().unwrap();
    let all = simulate(&net, 1000, ALL);
    let lean = simulate(&net, 1000, Options::default());
    assert_eq!(all.spike_counts, lean.spike_counts);
    assert_eq!(all.spike_counts[1], all.spikes[1].len() as u64);
    assert!(lean.spikes[1].is_empty() && !lean.recorded[1]);
    assert_eq!(all.spikes[0], lean.spikes[0]);
}

/// Above λ = 30 per step, counts are drawn directly; mean and variance stay λ.
#[test]
fn very_high_rates_keep_poisson_statistics() {
    let (rate, dt, n, steps) = (1.0e6, 0.1, 50u64, 400u32);
    let spec = net(
        dt,
        vec![source("p", n, SourceSpec::Poisson { rate_hz: rate.into(), start_ms: 0.0, stop_ms: None })],
        vec![],
        vec![],
    );
    let run = simulate(&spec.build().unwrap(), steps, ALL);
    let lambda = rate * dt / 1000.0;
    let mut c = vec![0f64; (n as usize) * steps as usize];
    for (&t, &j) in run.spikes[0].steps.iter().zip(&run.spikes[0].neurons) {
        c[t as usize * n as usize + j as usize] += 1.0;
    }
    let m = c.len() as f64;
    let mean = c.iter().sum::<f64>() / m;
    let var = c.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / m;
    assert!((mean - lambda).abs() < 5.0 * (lambda / m).sqrt(), "mean {mean}");
    assert!((var / lambda - 1.0).abs() < 0.1, "variance {var}");
}

/// The quantised model (s16.15) against the reference on the analytic constant-current
/// neuron: the same spikes within one step each.
#[test]
fn quantised_constant_current_spikes_within_a_step_of_the_reference() {
    let spec = net(
        0.1,
        vec![neurons("n", 1, NeuronModel::Lif(lif(20.0, 0.5, -65.0, -70.0, -50.0, 2.0, 0.9)))],
        vec![],
        vec![],
    );
    let network = spec.build().unwrap();
    let f = simulate(&network, 3000, ALL);
    let q = neuromap_sim::simulate_quantised(&network, 3000, ALL);
    assert_eq!(f.spikes[0].len(), q.spikes[0].len());
    for (a, b) in f.spikes[0].steps.iter().zip(&q.spikes[0].steps) {
        assert!(a.abs_diff(*b) <= 1, "{a} vs {b}");
    }
}

/// Integer weights and thresholds are exact in s16.15: binary neurons agree bit for bit.
#[test]
fn quantised_binary_neurons_are_exact() {
    let w = [1.0, -1.0, 1.0, 1.0];
    let times: Vec<Vec<f64>> = (0..4).map(|k| (0..16).filter(|p| p >> k & 1 == 1).map(f64::from).collect()).collect();
    let entries = (0..4).map(|k| ListEntry { pre: k, post: 0, weight: Some(w[k as usize]), delay: None }).collect();
    let spec = net(
        1.0,
        vec![
            neurons(
                "t",
                1,
                NeuronModel::Threshold(Threshold { theta: 1.0.into(), bias: 0.0.into(), encoding: Encoding::Bipolar }),
            ),
            source("x", 4, SourceSpec::Array { times_ms: times }),
        ],
        vec![proj(1, 0, Connector::List { entries }, None, 0.0)],
        vec![],
    );
    let network = spec.build().unwrap();
    assert_eq!(simulate(&network, 16, ALL).spikes[0], neuromap_sim::simulate_quantised(&network, 16, ALL).spikes[0]);
}

/// Recurrent networks are chaotic, so spike times diverge; rates must not.
#[test]
fn quantised_rates_stay_close_to_the_reference() {
    let mut s = net(
        0.1,
        vec![
            neurons("n", 400, NeuronModel::Lif(lif(20.0, 1.0, 0.0, 0.0, 15.0, 2.0, 0.0))),
            source("p", 400, SourceSpec::Poisson { rate_hz: 1500.0.into(), start_ms: 0.0, stop_ms: None }),
        ],
        vec![
            proj(1, 0, Connector::OneToOne, Some(1.0), 0.1),
            proj(0, 0, Connector::FixedProbability { p: 0.1, allow_self: false }, Some(0.2), 1.0),
        ],
        vec![],
    );
    s.seed = 4;
    let network = s.build().unwrap();
    let f = simulate(&network, 5000, ALL);
    let q = neuromap_sim::simulate_quantised(&network, 5000, ALL);
    let fid = neuromap_sim::fidelity::compare(&network, &f, &q, 10.0);
    assert!(f.spike_counts[0] > 1000);
    assert!(fid[0].count_error.abs() < 0.03, "{:?}", fid[0]);
    // Same seed, same quantised spikes.
    assert_eq!(q, neuromap_sim::simulate_quantised(&network, 5000, ALL));
}
