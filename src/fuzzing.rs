//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), here so that `cargo test`
//! replays the fuzz corpora and every crash ever found (`tests/fuzz_replay.rs`)
//! through exactly the code the fuzzer ran. Each takes arbitrary bytes and must
//! return (an error is fine) without panicking, hanging or allocating without bound.

use std::path::Path;

/// Networks may be built from fuzzed netlists only within this memory.
const BUILD_LIMIT: f64 = 64.0 * 1024.0 * 1024.0;

/// A TOML netlist: load, and build what loads (within a memory limit).
pub fn netlist(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(n) = neuromap_import::load_str("fuzz.toml", text) {
        let _ = n.spec.build_within(BUILD_LIMIT);
    }
}

/// A NIR file's bytes (HDF5): import, and build what imports (within a memory limit).
pub fn nir(data: &[u8]) {
    let o = neuromap_import::nir::NirOptions::default();
    if let Ok(n) = neuromap_import::nir::load_bytes("fuzz.nir", data.to_vec(), &o) {
        let _ = n.spec.build_within(BUILD_LIMIT);
    }
}

/// A TOML chip model (no base files: `base` names nothing here).
pub fn hw_model(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = neuromap_hw::load_str("fuzz.toml", text) {
        let _ = neuromap_hw::arm_core::ArmCore::from_model(&m);
    }
}

/// Two JSON documents read back by `neuromap diff` (split at the first NUL byte or
/// in the middle), diffed and checked against budgets.
pub fn diff(data: &[u8]) {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len() / 2);
    let (a, b) = (&data[..cut], &data[(cut + 1).min(data.len())..]);
    let (Ok(a), Ok(b)) = (serde_json::from_slice::<serde_json::Value>(a), serde_json::from_slice(b)) else { return };
    if let Ok(d) = neuromap_report::diff::diff(&a, &b) {
        let budgets: Vec<neuromap_report::diff::Budget> =
            ["spikes=exact", "energy=+2%", "cores=+0", "latency=+5%"].iter().filter_map(|b| b.parse().ok()).collect();
        let _ = neuromap_report::diff::check(&d, &budgets);
        let _ = neuromap_report::diff::to_text(&d, 20);
    }
}

/// A SANA-FE architecture and network (YAML, split at the first NUL byte or in the
/// middle), loaded as `neuromap sanafe` loads them; the network built within a memory
/// limit. The network is read even when the architecture is refused.
pub fn sanafe(data: &[u8]) {
    let cut = data.iter().position(|&b| b == 0).unwrap_or(data.len() / 2);
    let (a, b) = (&data[..cut], &data[(cut + 1).min(data.len())..]);
    let (Ok(a), Ok(b)) = (std::str::from_utf8(a), std::str::from_utf8(b)) else { return };
    let cores_per_tile = neuromap_import::sanafe::load_arch_str("arch.yaml", a)
        .ok()
        .and_then(|m| m.get("core", "cores_per_tile"))
        .map_or(1, |c| c as u32);
    if let Ok(n) = neuromap_import::sanafe::load_net_str("net.yaml", b, cores_per_tile) {
        let _ = n.netlist.spec.build_within(BUILD_LIMIT);
    }
}

/// A budget file and a corpus file (`[budget]` tables, `[[case]]` lists).
pub fn corpus(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = neuromap_pipeline::corpus::parse(Path::new("."), "corpus.toml", text.to_string());
}

/// Structure-aware: a small network drawn from the bytes (sizes, connectors,
/// weights, delays, zero-delay levels) and a small SpiNNaker-like machine (hex or mesh,
/// 1–4 × 1–4 chips, wrap-around or not, 2–18 cores, 1–255 neurons per core), compiled
/// and run for a few steps on 1 and 2 threads; the chip must equal the quantised
/// model, and the threads must agree.
pub fn network_on_chip(data: &[u8]) {
    use neuromap_ir::connect::{Connector, Dist};
    use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProjSpec, SourceSpec};
    let mut u = arbitrary::Unstructured::new(data);
    let mut take = |lo: u32, hi: u32| u.int_in_range(lo..=hi).unwrap_or(lo);
    let n_pops = take(1, 4) as usize;
    let mut populations: Vec<PopSpec> = (0..n_pops)
        .map(|i| PopSpec {
            name: format!("p{i}"),
            size: u64::from(take(1, 300)),
            kind: PopSpecKind::Neurons {
                model: model(take(0, 4), f64::from(take(0, 3)), f64::from(take(0, 3))),
                v_init_dist: None,
            },
        })
        .collect();
    populations.push(PopSpec {
        name: "drive".into(),
        size: u64::from(take(1, 100)),
        kind: PopSpecKind::Source(SourceSpec::Poisson {
            rate_hz: f64::from(take(0, 2000)).into(),
            start_ms: 0.0,
            stop_ms: None,
        }),
    });
    let n_proj = take(0, 6) as usize;
    let mut projections = Vec::new();
    for k in 0..=n_proj {
        let pre = if k == 0 { n_pops } else { take(0, n_pops as u32) as usize };
        let post = take(0, n_pops as u32 - 1) as usize;
        let mut delay = take(0, 40);
        if delay == 0 && pre != n_pops && pre >= post {
            delay = 1;
        }
        let connector = match take(0, 3) {
            0 => Connector::AllToAll { allow_self: true },
            1 => Connector::FixedProbability { p: f64::from(take(1, 100)) / 100.0, allow_self: true },
            2 => Connector::FixedNumberPre { n: u64::from(take(1, 50)), allow_self: true, replace: true },
            _ => Connector::OneToOne,
        };
        projections.push(ProjSpec {
            name: format!("q{k}"),
            pre,
            post,
            receptor: if take(0, 3) == 0 {
                neuromap_ir::Receptor::Inhibitory
            } else {
                neuromap_ir::Receptor::Excitatory
            },
            connector,
            weight: Some(Dist::Uniform { lo: 0.0, hi: f64::from(take(1, 40)) / 10.0 }),
            delay: Dist::constant(f64::from(delay)),
        });
    }
    let spec = NetworkSpec {
        name: "fuzz".into(),
        dt: 1.0,
        seed: u64::from(take(0, 1000)),
        scale: 1.0,
        populations,
        projections,
        probes: vec![],
        assign: Default::default(),
    };
    let Ok(net) = spec.build_within(BUILD_LIMIT) else { return };
    // The chip description is drawn too: topology, size, wrap-around, cores, slice size.
    let text = SMALL_CHIPS
        .replace("topology = \"hex\"", if take(0, 1) == 0 { "topology = \"hex\"" } else { "topology = \"mesh\"" })
        .replace("width = 3", &format!("width = {}", take(1, 4)))
        .replace("height = 3", &format!("height = {}", take(1, 4)))
        .replace("wrap = true", if take(0, 1) == 0 { "wrap = true" } else { "wrap = false" })
        .replace("cores = { value = 4,", &format!("cores = {{ value = {},", take(2, 18)))
        .replace("max_neurons = { value = 64,", &format!("max_neurons = {{ value = {},", take(1, 255)))
        // The arithmetic: s16.15 under each rounding mode, or f32.
        .replace(
            "rounding = { value = \"truncate\",",
            &format!(
                "rounding = {{ value = \"{}\",",
                ["truncate", "nearest", "stochastic", "truncate"][take(0, 3) as usize]
            ),
        );
    let text = if take(0, 3) == 3 && !text.contains("\"nearest\"") && !text.contains("\"stochastic\"") {
        text.replace("format = { value = \"s16.15\",", "format = { value = \"f32\",")
    } else {
        text
    };
    let hw = match neuromap_hw::load_str("small.toml", &text) {
        Ok(hw) => hw,
        Err(d) => panic!("a drawn chip description must load: {d}"),
    };
    let opts = neuromap_compile::CompileOptions { seed: u64::from(take(0, 100)), ..Default::default() };
    let Ok(mapping) = neuromap_compile::compile(&net, &hw, &opts) else { return };
    let all = neuromap_sim::Options { record_sources: true, ..neuromap_sim::Options::for_chip(&mapping.hw) };
    let steps = 20;
    let functional = neuromap_sim::simulate_quantised(&net, steps, all);
    let run = |threads| {
        let config = neuromap_sim::chip::ChipConfig { threads, ..Default::default() };
        neuromap_sim::chip::simulate_chip_with(&net, &hw, &mapping, steps, all, &config, &mut |_| true)
            .expect("a verified mapping simulates")
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.result.spikes, functional.spikes, "chip ≠ quantised model");
    assert_eq!(one.result, two.result, "threads disagree");
    assert_eq!(one.counts, two.counts, "threads disagree on counts");
}

/// A LIF neuron in units where the threshold is 1 (`kind` 0), with conductance
/// synapses (1), with an adaptation current (2), an Izhikevich neuron (3), or an
/// integrate-and-fire neuron with a linear leak (4, TrueNorth's).
fn model(kind: u32, t_ref: f64, tau_syn: f64) -> neuromap_ir::NeuronModel {
    use neuromap_ir::Param::Shared;
    let mut l = neuromap_ir::Lif::unit(10.0, t_ref, tau_syn);
    match kind {
        1 => {
            l.flavour = neuromap_ir::LifFlavour::CondLif;
            (l.tau_syn_e, l.tau_syn_i) = (Shared(tau_syn.max(1.0)), Shared(tau_syn.max(1.0)));
            l.conductance = Some(neuromap_ir::Conductance { e_rev_e: Shared(4.0), e_rev_i: Shared(-2.0) });
        }
        4 => {
            l.flavour = neuromap_ir::LifFlavour::If;
            l.tau_m = Shared(f64::INFINITY);
            l.linear_leak = Some(Shared(0.05));
        }
        2 => {
            l.flavour = neuromap_ir::LifFlavour::AdaptiveLif;
            l.adaptation = Some(neuromap_ir::Adaptation { tau_w: Shared(20.0), b: Shared(0.2), w_init: Shared(0.0) });
        }
        3 => {
            return neuromap_ir::NeuronModel::Izhikevich(neuromap_ir::Izhikevich {
                a: Shared(0.02),
                b: Shared(0.2),
                c: Shared(-65.0),
                d: Shared(8.0),
                tau_syn_e: Shared(tau_syn),
                tau_syn_i: Shared(tau_syn),
                i_offset: Shared(5.0),
                v_init: Shared(-70.0),
                u_init: Shared(-14.0),
            });
        }
        _ => {}
    }
    neuromap_ir::NeuronModel::Lif(l)
}

/// SpiNNaker 1 chips cut to 4 cores, on a 3 × 3 torus, so small networks spread over
/// chips (figures as `hw-models/spinnaker1.toml`).
const SMALL_CHIPS: &str = r#"
[model]
name = "spinnaker1-small"
schema = 1
family = "arm-core"
description = "SpiNNaker 1 chips with 4 cores on a 3 x 3 torus, for fuzzing"

[machine]
topology = "hex"
width = 3
height = 3
wrap = true

[chip]
cores = { value = 4, assumption = "cut from 18 so that small networks span chips" }
reserved_cores = { value = 1, source = "hw-models/spinnaker1.toml" }
sdram_bytes = { value = 123469792, source = "hw-models/spinnaker1.toml" }
router_entries = { value = 1023, source = "hw-models/spinnaker1.toml" }
clock_hz = { value = 200e6, source = "hw-models/spinnaker1.toml" }

[core]
local_memory_bytes = { value = 65536, source = "hw-models/spinnaker1.toml" }
max_neurons = { value = 64, assumption = "small slices, for more cores" }
neuron_state_bytes = { value = 128, source = "hw-models/spinnaker1.toml" }
overhead_bytes = { value = 16384, source = "hw-models/spinnaker1.toml" }
synapse_bytes = { value = 4, source = "hw-models/spinnaker1.toml" }
row_header_bytes = { value = 12, source = "hw-models/spinnaker1.toml" }
max_delay_steps = { value = 16, source = "hw-models/spinnaker1.toml" }
delay_extension_stages = { value = 8, source = "hw-models/spinnaker1.toml" }

[router]
packet_bits = { value = 40, source = "hw-models/spinnaker1.toml" }
clock_hz = { value = 133e6, source = "hw-models/spinnaker1.toml" }
pipeline_cycles = { value = 7, source = "hw-models/spinnaker1.toml" }
link_packet_s = { value = 160e-9, source = "hw-models/spinnaker1.toml" }
drop_wait_cycles = { value = 150, source = "hw-models/spinnaker1.toml" }

[timing]
cycles_per_synaptic_event = { value = 40, source = "hw-models/spinnaker1.toml" }
cycles_per_packet = { value = 200, source = "hw-models/spinnaker1.toml" }
cycles_per_neuron_update = { value = 150, source = "hw-models/spinnaker1.toml" }

[models]
izhikevich_state_bytes = { value = 124, source = "hw-models/spinnaker1.toml" }
izhikevich_cycles = { value = 200, source = "hw-models/spinnaker1.toml" }
cond_lif_state_bytes = { value = 136, source = "hw-models/spinnaker1.toml" }
cond_lif_cycles = { value = 160, source = "hw-models/spinnaker1.toml" }
adaptive_lif_state_bytes = { value = 140, source = "hw-models/spinnaker1.toml" }
adaptive_lif_cycles = { value = 153, source = "hw-models/spinnaker1.toml" }

[arith]
format = { value = "s16.15", source = "hw-models/spinnaker1.toml" }
rounding = { value = "truncate", source = "hw-models/spinnaker1.toml" }
"#;
