//! Invariants of the mapper over random networks and random dead hardware.

use std::collections::BTreeMap;

use neuromap_compile::route::{self, Entry, Route, Table};
use neuromap_compile::{CompileError, CompileOptions, compile};
use neuromap_hw::{ChipId, Faults, HwModel};
use neuromap_ir::connect::{Connector, Dist};
use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProjSpec, SourceSpec};
use neuromap_ir::{Lif, NeuronModel, Receptor};
use proptest::prelude::*;

fn model(name: &str) -> HwModel {
    let path = format!("{}/../../hw-models/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    neuromap_hw::load_path(std::path::Path::new(&path)).unwrap_or_else(|d| panic!("{d}"))
}

fn lif() -> NeuronModel {
    NeuronModel::Lif(Lif::unit(20.0, 0.0, 0.0))
}

/// A random network: `sizes` neuron populations and a Poisson source, random
/// projections with delays up to 60 steps (so some need delay extensions).
fn network(sizes: &[u64], projs: &[(usize, usize, f64, u8)], seed: u64) -> neuromap_ir::Network {
    let mut populations: Vec<PopSpec> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| PopSpec {
            name: format!("p{i}"),
            size: n,
            kind: PopSpecKind::Neurons { model: lif(), v_init_dist: None },
        })
        .collect();
    populations.push(PopSpec {
        name: "src".into(),
        size: 100,
        kind: PopSpecKind::Source(SourceSpec::Poisson { rate_hz: 20.0.into(), start_ms: 0.0, stop_ms: None }),
    });
    let n = populations.len();
    let projections = projs
        .iter()
        .enumerate()
        .map(|(k, &(a, b, p, d))| ProjSpec {
            name: format!("q{k}"),
            pre: a % n,
            post: b % (n - 1),
            receptor: Receptor::Excitatory,
            connector: Connector::FixedProbability { p, allow_self: true },
            weight: Some(Dist::constant(0.1)),
            delay: Dist::constant(f64::from(d.max(1))),
        })
        .collect();
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every mapping that compiles has passed the verifier (it runs inside `compile`):
    /// each neuron in exactly one slice, slices on distinct working cores, tables within
    /// capacity, every key reaching exactly its targets. Dead hardware either is mapped
    /// around or gives a clean error.
    #[test]
    fn random_networks_map_or_fail_cleanly(
        sizes in proptest::collection::vec(1u64..700, 1..5),
        projs in proptest::collection::vec((0usize..6, 0usize..6, 0.0f64..0.3, 1u8..60), 0..8),
        dead in proptest::collection::vec((0u32..8, 0u32..8), 0..6),
        dead_links in proptest::collection::vec((0u32..8, 0u32..8, 0usize..6), 0..6),
        seed in any::<u64>(),
    ) {
        let net = network(&sizes, &projs, seed);
        let mut hw = model("spinnaker1-spinn5");
        let dirs = ["east", "north_east", "north", "west", "south_west", "south"];
        let faults = Faults {
            chips: dead.into_iter().filter(|&(x, y)| hw.machine.at(x, y).is_some()).collect(),
            cores: vec![],
            links: dead_links.into_iter().filter(|&(x, y, _)| hw.machine.at(x, y).is_some()).map(|(x, y, d)| (x, y, dirs[d].to_string())).collect(),
        };
        hw.apply_faults(&faults).unwrap();
        match compile(&net, &hw, &CompileOptions { seed, placement_budget: Some(2000), ..Default::default() }) {
            Ok(m) => {
                let neurons: u64 = m.partition.slices.iter()
                    .filter(|s| !matches!(s.kind, neuromap_compile::partition::SliceKind::DelayExtension { .. }))
                    .map(|s| u64::from(s.len())).sum();
                prop_assert_eq!(neurons, net.n_neurons() + net.n_sources());
                for (c, _) in m.placement.core_of.iter() {
                    prop_assert!(hw.machine.chip(*c).alive);
                }
            }
            Err(CompileError::DoesNotFit { .. } | CompileError::NoRoute(_)) => {}
            Err(e) => prop_assert!(false, "unexpected error: {e}"),
        }
    }

    /// The property above accepts a clean refusal; on healthy hardware these networks
    /// (at most 5 × 700 neurons on a 48-chip board) must map, so the verified success
    /// is what is checked, not the refusal.
    #[test]
    fn random_networks_map_on_healthy_hardware(
        sizes in proptest::collection::vec(1u64..700, 1..5),
        projs in proptest::collection::vec((0usize..6, 0usize..6, 0.0f64..0.3, 1u8..60), 0..8),
        seed in any::<u64>(),
    ) {
        let net = network(&sizes, &projs, seed);
        let hw = model("spinnaker1-spinn5");
        let m = compile(&net, &hw, &CompileOptions { seed, placement_budget: Some(2000), ..Default::default() });
        prop_assert!(m.is_ok(), "{:?}", m.err().map(|e| e.to_string()));
        let m = m.unwrap();
        let neurons: u64 = m.partition.slices.iter()
            .filter(|s| !matches!(s.kind, neuromap_compile::partition::SliceKind::DelayExtension { .. }))
            .map(|s| u64::from(s.len())).sum();
        prop_assert_eq!(neurons, net.n_neurons() + net.n_sources());
    }

    /// Compression keeps the route of every key that reaches the router: entries' keys
    /// and keys that pass on the default route.
    #[test]
    fn compression_routes_every_present_key_as_before(
        blocks in proptest::collection::btree_map(0u32..512, 0u8..4, 1..200),
        defaulted in proptest::collection::btree_set(0u32..512, 0..50),
        capacity in 1usize..64,
    ) {
        let bits = 8;
        let routes = [
            Route { links: 1, cores: [0; 3].into() },
            Route { links: 2, cores: [0; 3].into() },
            Route { links: 0, cores: [1, 0, 0].into() },
            Route { links: 5, cores: [6, 0, 0].into() },
        ];
        let entries: Vec<Entry> = blocks.iter().map(|(&b, &r)| Entry { key: b << bits, mask: u32::MAX << bits, route: routes[r as usize] }).collect();
        let defaulted: Vec<u32> = defaulted.into_iter().filter(|b| !blocks.contains_key(b)).map(|b| b << bits).collect();
        let before = Table { entries: entries.clone(), routed: entries.len(), uncompressed: entries.len(), defaulted: defaulted.clone(), index: Default::default() };
        let mut before = before;
        before.seal();
        let mut after = before.clone();
        route::compress(&mut after, capacity, bits);
        let lookup = |t: &Table, k: u32| t.entries.iter().find(|e| k & e.mask == e.key).map(|e| e.route);
        for k in entries.iter().map(|e| e.key).chain(defaulted.iter().copied()) {
            for low in [0, 0xff] {
                prop_assert_eq!(lookup(&after, k | low), lookup(&before, k | low), "key {:#x}", k | low);
                // The binary search of a sealed table finds the first match.
                prop_assert!(after.index != neuromap_compile::route::TableIndex::Scan);
                prop_assert_eq!(after.find(k | low).map(|e| e.route), lookup(&after, k | low));
            }
        }
        prop_assert!(after.entries.len() <= before.entries.len());
        let _ = BTreeMap::<ChipId, Table>::new();
    }
}

/// Placement and the artifact do not depend on anything but the inputs and the seed.
#[test]
fn compiling_twice_gives_identical_artifacts() {
    let net = network(&[300, 500, 200], &[(0, 1, 0.1, 3), (1, 2, 0.2, 40), (3, 0, 0.3, 1), (2, 0, 0.05, 20)], 9);
    let hw = model("spinnaker1-spinn5");
    let opts = CompileOptions::default();
    let a = compile(&net, &hw, &opts).unwrap();
    let b = compile(&net, &hw, &opts).unwrap();
    let ja = neuromap_compile::artifact::to_json(&net, &hw, &a, &opts);
    let jb = neuromap_compile::artifact::to_json(&net, &hw, &b, &opts);
    assert_eq!(ja, jb);
    assert!(
        a.partition
            .slices
            .iter()
            .any(|s| matches!(s.kind, neuromap_compile::partition::SliceKind::DelayExtension { .. }))
    );
}

/// A router too small for the uncompressed tables: compression must make them fit,
/// and the verifier (inside `compile`) checks every key still routes as it should.
#[test]
fn compression_makes_tables_fit_a_small_router() {
    // 17 slices of p0 fill chip 0 and all send to p1 on chip 1: 17 entries with one
    // route on each chip, which compression merges.
    let net = network(&[17 * 255, 10], &[(0, 1, 0.1, 1)], 3);
    let text =
        std::fs::read_to_string(format!("{}/../../hw-models/spinnaker1.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut small = text.replace("router_entries = { value = 1023,", "router_entries = { value = 6,");
    small = small.replace("width = 1\nheight = 1", "width = 4\nheight = 4");
    let hw = neuromap_hw::load_str("small-router.toml", &small).unwrap();
    let opts = CompileOptions { placement_budget: Some(0), ..Default::default() };
    let m = compile(&net, &hw, &opts).unwrap();
    assert!(m.table_stats.max_uncompressed > 6, "the test needs tables that do not fit: {:?}", m.table_stats);
    assert!(m.table_stats.max_compressed <= 6);
}
