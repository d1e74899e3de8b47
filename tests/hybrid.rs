//! Hybrid chips: several families on one network-on-chip, one network mapped across
//! them. Every example on every hybrid model (with 1, 2 and 4 threads, which must
//! agree), the compiler's assignment and `--assign`, refusals that name the capacity,
//! and a family added through the trait in this file alone.

use std::collections::BTreeMap;

use neuromap::cost::{Basis, Ledger, Term};
use neuromap::hw::arm_core::ArmCore;
use neuromap::hw::{Certainty, Figure, HwModel, Provenance};
use neuromap::ir::{Network, PopId, ProjId};
use neuromap::pipeline::hybrid::{PartFamily, Prepared};
use neuromap::pipeline::{JobError, Outcome, RunOptions, load_hw, load_job, map_and_run, run_job};
use neuromap::sim::chip::{TileCounter, TileCounts};

mod common;
use common::toml_files;

fn hybrid_models() -> Vec<String> {
    toml_files("hw-models")
        .into_iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .filter(|m| !load_hw(m).unwrap().parts.is_empty())
        .collect()
}

/// The family each population went to.
fn placed(out: &Outcome) -> BTreeMap<String, String> {
    let h = out.hybrid.as_ref().expect("a hybrid run");
    h.assignment.placed.iter().map(|p| (p.population.clone(), p.family.clone())).collect()
}

/// Energy of the lines of `part` on `basis`.
fn part_energy(l: &Ledger, part: &str, basis: Basis) -> f64 {
    l.by_part(basis).iter().filter(|x| x.0 == Some(part)).map(|x| x.1).sum()
}

#[test]
fn every_example_on_every_hybrid_model() {
    let models = hybrid_models();
    assert!(models.len() >= 2, "{models:?}");
    let mut ran = 0;
    for net in toml_files("netlists") {
        let stem = net.file_stem().unwrap().to_string_lossy().to_string();
        for model in &models {
            let scale = (stem == "microcircuit").then_some(0.02);
            let mut first: Option<String> = None;
            for threads in [1, 2, 4] {
                // Synfire's first pulse arrives at 30 ms (300 steps).
                let steps = if stem == "synfire" { 400 } else { 100 };
                let o = RunOptions { steps: Some(steps), scale, threads, ..RunOptions::default() };
                let summary = match map_and_run(&net, model, &o) {
                    Ok(out) => {
                        // Mapping never changes behaviour, across families too.
                        assert!(out.same_as_functional, "{stem} on {model}");
                        assert!(out.chip.result.neuron_spikes(&out.job.net) > 0, "{stem} on {model}: silent");
                        out.summary()
                    }
                    Err(e @ JobError::Map { .. }) => format!("does not map: {e}\n"),
                    Err(e) => panic!("{stem} on {model}: {e}"),
                };
                match &first {
                    None => {
                        insta::assert_snapshot!(format!("{stem}@{model}"), summary);
                        first = Some(summary);
                    }
                    Some(f) => assert_eq!(&summary, f, "{stem} on {model}: {threads} threads differ from 1"),
                }
            }
            ran += 1;
        }
    }
    assert!(ran >= 20, "only {ran} runs");
}

/// The liquid is recurrent: cores. The readout is fed by a static dense projection:
/// crossbar arrays. Its spikes cross from one family to the other as packets, and
/// both families' energy and time are in the one ledger.
#[test]
fn the_lsm_liquid_goes_to_cores_and_its_readout_to_crossbar_arrays() {
    let o = RunOptions { steps: Some(50), ..RunOptions::default() };
    let out = map_and_run("netlists/lsm.toml", "hybrid-spinn2-rram", &o).unwrap();
    let p = placed(&out);
    assert_eq!(p["liquid"], "arm-core");
    assert_eq!(p["readout"], "crossbar");
    assert_eq!(p["pixels"], "arm-core");
    let l = out.energy.as_ref().unwrap();
    // The macro read the liquid's spikes: one word line per liquid spike.
    let rows = l.lines.iter().find(|x| x.part.is_some() && x.what == "word lines driven").unwrap();
    let liquid = out.chip.result.spike_counts[out.job.net.pop_by_name("liquid").unwrap().index()];
    assert_eq!(rows.count, liquid as f64);
    assert!(part_energy(l, "rram-ideal-40nm", Basis::Dynamic) > 0.0);
    assert_eq!(l.part_time.len(), 2);
    assert!(l.part_time[1].need_max_s > 0.0 && l.part_time[0].need_max_s > 0.0);
    // The readout computes with the arrays' conductance grid: the chip's network is
    // not the network as written there, and is elsewhere.
    let h = out.hybrid.as_ref().unwrap();
    let q = |net: &Network, name: &str| {
        let id = net.projections().iter().position(|p| p.name == name).unwrap();
        net.proj(ProjId(id as u32)).synapses.weights().to_vec()
    };
    assert_ne!(q(&h.functional, "readout"), q(&out.job.net, "readout"));
    assert_eq!(q(&h.functional, "recurrent"), q(&out.job.net, "recurrent"));
}

/// The binary layers go to threshold-logic arrays, the reservoir to cores, and each
/// array's static schedule is priced every step.
#[test]
fn binary_layers_go_to_threshold_logic_and_the_reservoir_to_cores() {
    let o = RunOptions { steps: Some(40), ..RunOptions::default() };
    let out = map_and_run("netlists/spiking_binary.toml", "hybrid-spinn2-tulip", &o).unwrap();
    let p = placed(&out);
    assert_eq!(p["reservoir"], "arm-core");
    assert_eq!(p["hidden"], "threshold-logic");
    assert_eq!(p["output"], "threshold-logic");
    let l = out.energy.as_ref().unwrap();
    let evals = l.lines.iter().find(|x| x.part.is_some() && x.what == "cell evaluations").unwrap();
    assert!(evals.count > 0.0 && evals.count % 40.0 == 0.0, "{}", evals.count);
    // The binary layers sum integer weights of bits exactly: with the reservoir's
    // spikes given, they fire as the f64 arithmetic says (the chip equals the
    // functional model, and the threshold layers' arithmetic is exact in s16.15).
    assert!(out.same_as_functional);
    let hidden = out.job.net.pop_by_name("hidden").unwrap();
    assert!(out.chip.result.spike_counts[hidden.index()] > 0);
}

/// The MAC baseline's arrays are a part too (the registry's mac-bnn line): a binary
/// MLP's layers go there, and the chip equals the functional model.
#[test]
fn mac_bnn_arrays_are_a_part_too() {
    let o = RunOptions { steps: Some(20), ..RunOptions::default() };
    let mut job = load_job("netlists/binary_mlp.toml", "hybrid-spinn2-tulip", &o).unwrap();
    job.model.parts[0].model = load_hw("mac-bnn-40nm").unwrap();
    let out = run_job(job, &mut |_| true).unwrap();
    let p = placed(&out);
    assert_eq!(p["hidden"], "mac-bnn");
    assert_eq!(p["output"], "mac-bnn");
    assert!(out.same_as_functional);
    let l = out.energy.as_ref().unwrap();
    assert!(l.lines.iter().any(|x| x.part.as_deref() == Some("mac-bnn-40nm") && x.what == "XNORs" && x.count > 0.0));
}

/// `--assign` overrides the compiler; a part that cannot hold a population is
/// refused naming it and why; a pin on a one-family chip is refused.
#[test]
fn assign_overrides_and_refusals_name_the_capacity() {
    let o = RunOptions { steps: Some(30), ..RunOptions::default() };
    let mut job = load_job("netlists/lsm.toml", "hybrid-spinn2-rram", &o).unwrap();
    job.map.assign = [("readout".to_string(), "cores".to_string()), ("liquid".to_string(), "crossbar".to_string())]
        .into_iter()
        .collect();
    let out = run_job(job, &mut |_| true).unwrap();
    let p = placed(&out);
    assert_eq!(p["readout"], "arm-core");
    assert_eq!(p["liquid"], "crossbar");
    assert!(out.same_as_functional);

    // The netlist's `assign` pins too, and the command line wins over it.
    let mut job = load_job("netlists/lsm.toml", "hybrid-spinn2-rram", &o).unwrap();
    job.spec.as_mut().unwrap().assign.insert("readout".into(), "cores".into());
    let out = run_job(job.clone(), &mut |_| true).unwrap();
    assert_eq!(placed(&out)["readout"], "arm-core");
    job.map.assign.insert("readout".into(), "rram-ideal-40nm".into());
    let out = run_job(job, &mut |_| true).unwrap();
    assert_eq!(placed(&out)["readout"], "crossbar");

    let mut job = load_job("netlists/lsm.toml", "hybrid-spinn2-tulip", &o).unwrap();
    job.map.assign = [("liquid".to_string(), "threshold-logic".to_string())].into_iter().collect();
    let e = run_job(job, &mut |_| true).unwrap_err().to_string();
    assert!(e.contains("cannot hold `liquid`") && e.contains("threshold neurons"), "{e}");

    let mut job = load_job("netlists/lsm.toml", "spinnaker2", &o).unwrap();
    job.map.assign = [("liquid".to_string(), "crossbar".to_string())].into_iter().collect();
    let e = run_job(job, &mut |_| true).unwrap_err().to_string();
    assert!(e.contains("chip of one family"), "{e}");

    // One threshold-logic array for two binary layers: the layer that saves more takes
    // it, the other stays on cores and says why.
    let mut job = load_job("netlists/spiking_binary.toml", "hybrid-spinn2-tulip", &o).unwrap();
    job.model.parts[0].per_chip.value = 1.0;
    let out = run_job(job.clone(), &mut |_| true).unwrap();
    let h = out.hybrid.as_ref().unwrap();
    let on_tl = h.assignment.placed.iter().filter(|p| p.family == "threshold-logic").count();
    assert_eq!(on_tl, 1);
    assert!(h.assignment.placed.iter().any(|p| p.why.contains("0 of its 1 tiles left")), "{:?}", h.assignment.placed);
    assert!(out.same_as_functional);
    // Both pinned there: the tiles run out, and the error names the resource, the
    // demand and the capacity.
    job.map.assign = [("hidden", "threshold-logic"), ("output", "threshold-logic")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let e = run_job(job, &mut |_| true).unwrap_err().to_string();
    assert!(e.contains("not enough tulip-40nm tiles") && e.contains("2 tiles") && e.contains("1 tile"), "{e}");
}

/// A hybrid chip whose every neuron population is on crossbar macros computes what
/// the crossbar family computes alone, devices included: the same programmed cells,
/// the same read noise, the same converters, with the spikes travelling as packets.
#[test]
fn crossbar_tiles_compute_as_the_crossbar_family_devices_included() {
    let o = RunOptions { steps: Some(50), ..RunOptions::default() };
    for part in ["rram-ideal-40nm", "rram-lsm-40nm"] {
        let mut job = load_job("netlists/lsm.toml", "hybrid-spinn2-rram", &o).unwrap();
        job.model.parts[0].model = load_hw(part).unwrap();
        job.map.assign = [("liquid", "crossbar"), ("readout", "crossbar")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let alone =
            neuromap::pipeline::crossbar::run_crossbar_job(load_job("netlists/lsm.toml", part, &o).unwrap()).unwrap();
        let mut first = None;
        for threads in [1, 2, 4] {
            job.threads = threads;
            let out = run_job(job.clone(), &mut |_| true).unwrap();
            assert_eq!(out.chip.result.spikes, alone.run.result.spikes, "{part}, {threads} threads");
            let liquid = out.job.net.pop_by_name("liquid").unwrap();
            assert!(out.chip.result.spike_counts[liquid.index()] > 100, "{part}: the liquid fires");
            // Ideal cells and a converter that resolves every sum: the functional
            // model exactly; the non-ideal macro: a warning that says why.
            assert_eq!(out.same_as_functional, part == "rram-ideal-40nm", "{part}");
            if !out.same_as_functional {
                assert!(out.warnings.iter().any(|w| w.contains("device variation")), "{:?}", out.warnings);
            }
            let counts = format!("{:?}", out.chip.counts.tiles);
            assert_eq!(first.get_or_insert(counts.clone()), &counts, "{part}: tile counts, {threads} threads");
        }
    }
}

/// A toy family, added through the trait in this file alone: a digital accumulator
/// tile that takes any LIF population fed forward, counts the packets it receives,
/// and charges a figure per packet and a static power per tile.
#[derive(Debug)]
struct Accumulator;

#[derive(Debug)]
struct AccumulatorCounter {
    packets: f64,
}

impl TileCounter for AccumulatorCounter {
    fn packet(&mut self, _pre: PopId, _neuron: u32, k: u32) {
        self.packets += f64::from(k);
    }

    fn end_step(&mut self, _updates: u64) -> f64 {
        1e-6
    }

    fn finish(self: Box<Self>) -> TileCounts {
        TileCounts { actions: vec![("packets", self.packets)] }
    }
}

struct AccumulatorReady;

impl Prepared for AccumulatorReady {
    fn weights(&self, _q: ProjId) -> Option<Vec<f32>> {
        None
    }

    fn counter(&self, _net: &Network, _pop: PopId, _lo: u32, _hi: u32) -> Box<dyn TileCounter> {
        Box::new(AccumulatorCounter { packets: 0.0 })
    }

    fn price(&self, l: &mut Ledger, part: &HwModel, c: &TileCounts, _updates: u64, in_use: u64, allocated: u64) {
        let each = part.get("energy", "packet_j").unwrap();
        l.dynamic(part, "accumulator", "packets", c.get("packets"), each, &["energy.packet_j"]);
        l.static_power(part, "accumulator", in_use, allocated, 1e-4, &[]);
    }

    fn caveats(&self, _part: &HwModel) -> Vec<String> {
        Vec::new()
    }
}

impl PartFamily for Accumulator {
    fn family(&self) -> &'static str {
        "toy-accumulator"
    }

    fn tile(&self) -> &'static str {
        "accumulator"
    }

    fn capacity(&self, net: &Network, pop: PopId, _part: &HwModel, _host: &ArmCore) -> Result<u32, String> {
        if net.pop(pop).is_source() { Err("a source".into()) } else { Ok(64) }
    }

    fn suits(&self, _net: &Network, _pop: PopId, recurrent: bool) -> Result<&'static str, String> {
        if recurrent { Err("recurrent".into()) } else { Ok("fed forward") }
    }

    fn estimate_j(&self, _net: &Network, _pop: PopId, _part: &HwModel, _inputs: f64) -> Option<f64> {
        Some(0.0)
    }

    fn prepare(
        &self,
        _net: &Network,
        _pops: &[PopId],
        _part: &HwModel,
        _seed: u64,
    ) -> Result<Box<dyn Prepared>, String> {
        Ok(Box::new(AccumulatorReady))
    }
}

static ACCUMULATOR: Accumulator = Accumulator;

#[test]
fn a_family_added_through_the_trait_runs_a_network() {
    let o = RunOptions { steps: Some(50), ..RunOptions::default() };
    let mut job = load_job("netlists/lsm.toml", "hybrid-spinn2-rram", &o).unwrap();
    // The toy's tile model: a model of the toy family with its one figure.
    let mut toy = job.model.parts[0].model.clone();
    toy.name = "toy-tile".into();
    toy.family = "toy-accumulator";
    toy.figures = vec![Figure {
        section: "energy",
        key: "packet_j",
        unit: "J",
        value: 2e-12,
        provenance: Provenance::Assumption("a toy".into()),
        steps: Vec::new(),
    }];
    job.model.parts[0].model = toy;
    job.model.parts[0].per_chip.value = 8.0;
    job.map.part_families = vec![&ACCUMULATOR];
    let out = run_job(job, &mut |_| true).unwrap();
    assert_eq!(placed(&out)["readout"], "toy-accumulator");
    assert!(out.same_as_functional);
    let l = out.energy.as_ref().unwrap();
    let line = l.lines.iter().find(|x| x.component == "accumulator" && x.term == Term::Dynamic).unwrap();
    let liquid = out.chip.result.spike_counts[out.job.net.pop_by_name("liquid").unwrap().index()];
    assert_eq!(line.count, liquid as f64, "one packet per liquid spike");
    assert!((line.joules - 2e-12 * liquid as f64).abs() < 1e-20);
    assert_eq!(line.certainty, Certainty::Assumption);
    assert_eq!(part_energy(l, "toy-tile", Basis::Dynamic), line.joules);
    // The readout's 10 neurons fit one tile of 64.
    assert_eq!(l.parts.iter().find(|p| p.part == "toy-tile accumulator").unwrap().in_use, 1);
}
