//! Mapping never changes behaviour, over random networks × random placements × thread
//! counts: the chip simulator's spikes equal the quantised functional model's, bit for
//! bit, and every count is the same for any number of threads.

use neuromap_compile::{CompileOptions, compile};
use neuromap_ir::connect::{Connector, Dist};
use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProjSpec, SourceSpec};
use neuromap_ir::{Lif, NeuronModel, Receptor};
use neuromap_sim::Options;
use neuromap_sim::chip::{ChipConfig, simulate_chip_with};
use proptest::prelude::*;

const ALL: Options = Options::RECORD_ALL;

fn lif(tau_syn: f64, t_ref: f64) -> NeuronModel {
    NeuronModel::Lif(Lif::unit(10.0, t_ref, tau_syn))
}

/// Neuron populations of random sizes driven by a Poisson source (its delay
/// `drive_delay` steps), with random projections: excitatory or inhibitory, random
/// weights, delays from 0 (forward only, so zero-delay projections make levels) to 40
/// steps (delay extensions on SpiNNaker), one delay for all of a projection's synapses
/// or spread over 6 more steps (a core with such synapses queues its inputs by step).
fn network(
    sizes: &[u32],
    projs: &[(usize, usize, f64, u8, bool, bool)],
    syn: bool,
    drive_delay: u8,
    seed: u64,
) -> neuromap_ir::Network {
    let n = sizes.len();
    let mut populations: Vec<PopSpec> = sizes
        .iter()
        .enumerate()
        .map(|(i, &s)| PopSpec {
            name: format!("p{i}"),
            size: u64::from(s),
            kind: PopSpecKind::Neurons { model: lif(if syn { 2.0 } else { 0.0 }, 2.0), v_init_dist: None },
        })
        .collect();
    populations.push(PopSpec {
        name: "drive".into(),
        size: 60,
        kind: PopSpecKind::Source(SourceSpec::Poisson { rate_hz: 400.0.into(), start_ms: 0.0, stop_ms: None }),
    });
    let mut projections: Vec<ProjSpec> = (0..n)
        .map(|i| ProjSpec {
            name: format!("drive{i}"),
            pre: n,
            post: i,
            receptor: Receptor::Excitatory,
            connector: Connector::FixedProbability { p: 0.3, allow_self: true },
            weight: Some(Dist::Uniform { lo: 0.2, hi: 0.6 }),
            delay: Dist::constant(f64::from(drive_delay)),
        })
        .collect();
    for (k, &(a, b, p, d, inh, spread)) in projs.iter().enumerate() {
        let (a, b) = (a % n, b % n);
        // Zero delays only forward, so they cannot form a cycle.
        let d = if d == 0 && a >= b { 1 } else { d };
        projections.push(ProjSpec {
            name: format!("q{k}"),
            pre: a,
            post: b,
            receptor: if inh { Receptor::Inhibitory } else { Receptor::Excitatory },
            connector: Connector::FixedProbability { p, allow_self: true },
            weight: Some(Dist::Uniform { lo: 0.1, hi: 0.9 }),
            delay: if spread && d > 0 {
                Dist::Uniform { lo: f64::from(d), hi: f64::from(d) + 6.0 }
            } else {
                Dist::constant(f64::from(d))
            },
        });
    }
    NetworkSpec {
        name: "random".into(),
        dt: 1.0,
        seed,
        scale: 1.0,
        populations,
        projections,
        probes: vec![],
        assign: Default::default(),
    }
    .build()
    .unwrap()
}

fn model(name: &str) -> neuromap_hw::HwModel {
    let path = format!("{}/../../hw-models/{}.toml", env!("CARGO_MANIFEST_DIR"), name.trim_end_matches("-small"));
    if name.ends_with("-small") {
        // SpiNNaker 1 chips with 4 cores on a 3 × 3 hexagonal torus: small networks
        // spread over many chips, so packets cross links and pass routers.
        let text = std::fs::read_to_string(&path).unwrap();
        let small = text
            .replace("cores = { value = 18,", "cores = { value = 4,")
            .replace("width = 1\nheight = 1", "width = 3\nheight = 3\nwrap = true");
        assert_ne!(small, text);
        return neuromap_hw::load_str("small.toml", &small).unwrap_or_else(|d| panic!("{d}"));
    }
    neuromap_hw::load_path(std::path::Path::new(&path)).unwrap_or_else(|d| panic!("{d}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn chip_equals_the_quantised_model_for_any_placement_and_threads(
        sizes in prop::collection::vec(20u32..400, 1..5),
        projs in prop::collection::vec((0usize..5, 0usize..5, 0.02f64..0.3, 0u8..40, any::<bool>(), any::<bool>()), 0..6),
        syn in any::<bool>(),
        drive_delay in 1u8..5,
        seed in 0u64..1000,
        placement in 0u64..1000,
        threads in 1usize..5,
        hw in prop::sample::select(vec!["spinnaker1-small", "spinnaker1-small", "spinnaker1-spinn3", "spinnaker2"]),
    ) {
        let net = network(&sizes, &projs, syn, drive_delay, seed);
        let hw = model(hw);
        // Small slices spread the network over many cores and chips.
        let opts = CompileOptions { seed: placement, ..CompileOptions::default() };
        let Ok(mapping) = compile(&net, &hw, &opts) else { return Ok(()) };
        let steps = 120;
        let functional = neuromap_sim::simulate_quantised(&net, steps, ALL);
        let one = simulate_chip_with(&net, &hw, &mapping, steps, ALL, &ChipConfig::default(), &mut |_| true).unwrap();
        let config = ChipConfig { threads, ..ChipConfig::default() };
        let many = simulate_chip_with(&net, &hw, &mapping, steps, ALL, &config, &mut |_| true).unwrap();
        prop_assert_eq!(&one.result.spikes, &functional.spikes);
        prop_assert_eq!(&one.result.synaptic_events, &functional.synaptic_events);
        prop_assert_eq!(one.counts.losses.packets(), 0);
        prop_assert_eq!(&many.result, &one.result);
        prop_assert_eq!(&many.counts, &one.counts);
    }
}
