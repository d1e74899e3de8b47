//! The one ledger: every family charges static power by the same rule (the powered
//! parts' power over the wall time the hardware takes), an overrunning run is priced
//! over the slowed time, and the three bases nest.

use neuromap::cost::{Basis, Ledger, Pace, Term};
use neuromap::hw::HwModel;
use neuromap::pipeline::any::{RunPath, run_path};
use neuromap::pipeline::{RunOptions, load_hw, load_job};

/// Each family's runs, priced.
fn ledgers() -> Vec<(String, Ledger, HwModel)> {
    let o = |steps| RunOptions { steps: Some(steps), ..RunOptions::default() };
    let mut out = Vec::new();
    for (net, hw) in [
        ("brunel_1k", "spinnaker1-spinn5"),
        ("synfire", "spinnaker2"),
        ("cuba", "spinnaker1-spinn3"),
        ("lsm", "hybrid-spinn2-rram"),
        ("spiking_binary", "hybrid-spinn2-tulip"),
    ] {
        let r = neuromap::pipeline::map_and_run(format!("netlists/{net}.toml"), hw, &o(200)).unwrap();
        out.push((format!("{net}@{hw}"), r.energy.unwrap(), r.job.model));
    }
    for (net, hw) in [("lsm", "rram-lsm-40nm"), ("synfire", "neurosim-tile")] {
        let job = load_job(format!("netlists/{net}.toml"), hw, &o(100)).unwrap();
        let r = neuromap::pipeline::crossbar::run_crossbar_job(job).unwrap();
        out.push((format!("{net}@{hw}"), r.energy, r.job.model));
    }
    for (net, hw) in [("brunel_1k", "loihi"), ("synfire_if", "truenorth")] {
        let job = load_job(format!("netlists/{net}.toml"), hw, &o(100)).unwrap();
        let r = neuromap::pipeline::neurocore::run_neurocore_job(job).unwrap();
        out.push((format!("{net}@{hw}"), r.energy, r.job.model));
    }
    for hw in ["tulip-40nm", "mac-bnn-40nm"] {
        let job = load_job("netlists/binary_mlp.toml", hw, &o(20)).unwrap();
        let r = neuromap::pipeline::binary::run_binary_job(job).unwrap();
        out.push((format!("binary_mlp@{hw}"), r.energy, r.job.model));
    }
    out
}

/// The power the whole allocated machine draws when idle, from the model's figures by
/// the family's own names: what the allocated basis must charge over the wall time.
fn idle_power(m: &HwModel, l: &Ledger) -> f64 {
    let g = |s: &str, k: &str| m.get(s, k).unwrap();
    let part = |name: &str| l.parts.iter().find(|p| p.part == name).unwrap();
    let own = match m.family {
        "arm-core" => g("energy", "idle_chip_w") * m.machine.alive_chips() as f64,
        "crossbar" => g("periphery", "static_w") * part("tile").allocated as f64 / g("tile", "tiles"),
        "neurocore" | "threshold-logic" | "mac-bnn" => g("energy", "static_w"),
        f => panic!("no rule for {f}"),
    };
    // A hybrid chip's parts: every tile on every working chip, at its model's static power.
    let tiles: f64 = m
        .parts
        .iter()
        .map(|p| {
            let w = match p.model.family {
                "crossbar" => p.model.get("periphery", "static_w").unwrap(),
                _ => p.model.get("energy", "static_w").unwrap(),
            };
            p.per_chip.value * m.machine.alive_chips() as f64 * w
        })
        .sum();
    own + tiles
}

#[test]
fn every_family_charges_static_power_over_the_wall_time() {
    for (name, l, model) in ledgers() {
        let t = &l.time;
        // The wall time is what the hardware takes: never less than the steps need,
        // never less than their ticks.
        let need: f64 = t.need_s.iter().sum();
        assert!(t.wall_s >= need * (1.0 - 1e-12), "{name}: wall {} below the need {need}", t.wall_s);
        if let Some(r) = t.real_time_s {
            assert!(t.wall_s >= r * (1.0 - 1e-12), "{name}: wall {} below real time {r}", t.wall_s);
            assert!((t.slowdown - t.wall_s / r).abs() < 1e-9 * t.slowdown, "{name}");
        }
        assert!((t.step_s.iter().sum::<f64>() - t.wall_s).abs() <= 1e-12 * t.wall_s, "{name}");
        // Static energy of the parts' idle power, over that wall time. ARM cores'
        // baselines (DVFS levels) are static too but vary step by step: leave them out.
        let idle: f64 = l
            .lines
            .iter()
            .filter(|x| x.term != Term::Dynamic && !(x.component == "core" && run_path(&model) == RunPath::ArmCore))
            .map(|x| x.joules)
            .sum();
        let expect = idle_power(&model, &l) * t.wall_s;
        assert!(expect > 0.0, "{name}: no static power");
        assert!((idle - expect).abs() <= 1e-9 * expect, "{name}: static {idle:e} J, the rule gives {expect:e} J");
        // The bases nest, and dynamic energy is there.
        let (a, u, d) = (l.total(Basis::Allocated), l.total(Basis::InUse), l.total(Basis::Dynamic));
        assert!(a >= u && u >= d && d > 0.0, "{name}: {a} {u} {d}");
        // The split by population adds up: all of the static power in use; all of the
        // dynamic energy but the router's (whose passes know no population).
        if !l.by_population.is_empty() {
            let st: f64 = l.by_population.iter().map(|p| p.static_j).sum();
            let dy: f64 = l.by_population.iter().map(|p| p.dynamic_j).sum();
            assert!((st - (u - d)).abs() <= 1e-9 * u, "{name}: static by population {st} of {}", u - d);
            let router: f64 = l.lines.iter().filter(|x| x.component == "router").map(|x| x.joules).sum();
            assert!((dy + router - d).abs() <= 1e-9 * d, "{name}: dynamic by population {dy} + {router} of {d}");
        }
        // The shares of certainty add up to one.
        for b in l.bases() {
            let s: f64 = b.shares.iter().sum();
            assert!((s - 1.0).abs() < 1e-9, "{name}: shares {:?}", b.shares);
        }
    }
}

/// A run that overruns its tick is priced over the slowed time: slower cores (more
/// cycles per neuron update) slow the run down and every static term grows with it,
/// while the router's energy (counted actions) does not change.
#[test]
fn an_overrun_is_priced_over_the_slowed_time() {
    let run = |cycles: &str| {
        let mut job = load_job(
            "netlists/synfire.toml",
            "spinnaker1-spinn3",
            &RunOptions { steps: Some(300), ..RunOptions::default() },
        )
        .unwrap();
        let text = std::fs::read_to_string("hw-models/spinnaker1.toml")
            .unwrap()
            .replace("width = 1\nheight = 1", "width = 2\nheight = 2")
            .replace(
                "cycles_per_neuron_update = { value = 150,",
                &format!("cycles_per_neuron_update = {{ value = {cycles},"),
            );
        job.model = neuromap::hw::load_str("hw-models/slow.toml", &text).unwrap();
        neuromap::pipeline::run_job(job, &mut |_| true).unwrap().energy.unwrap()
    };
    let (fast, slow) = (run("150"), run("3000"));
    assert!(matches!(fast.time.pace, Pace::Timer { .. }));
    assert!(slow.time.slowdown > 1.5, "slow-down {}", slow.time.slowdown);
    assert!(slow.time.cause.as_deref().is_some_and(|c| c.contains("neuron updates")), "{:?}", slow.time.cause);
    let chip = |l: &Ledger| -> f64 { l.lines.iter().filter(|x| x.component == "chip").map(|x| x.joules).sum() };
    let router = |l: &Ledger| -> f64 { l.lines.iter().filter(|x| x.component == "router").map(|x| x.joules).sum() };
    let ratio = chip(&slow) / chip(&fast);
    let expect = slow.time.wall_s / fast.time.wall_s;
    assert!((ratio - expect).abs() < 1e-9 * expect && ratio > 1.5, "static ×{ratio}, wall ×{expect}");
    assert_eq!(router(&slow), router(&fast));
    // Priced at real time it would have been the fast run's static energy.
    assert!(slow.total(Basis::Allocated) > fast.total(Basis::Allocated) * 1.5);
}

/// SpiNNaker 2 prices a run with and without DVFS: the same dynamic work, a lower
/// baseline with the cores at the slow level when their load allows.
#[test]
fn spinnaker2_is_priced_with_and_without_dvfs() {
    let r = neuromap::pipeline::map_and_run(
        "netlists/synfire.toml",
        "spinnaker2",
        &RunOptions { steps: Some(300), ..RunOptions::default() },
    )
    .unwrap();
    let (with, without) = (r.energy.as_ref().unwrap(), r.energy_without_dvfs.as_ref().unwrap());
    assert!(with.total(Basis::Allocated) > 0.0);
    assert!(with.total(Basis::InUse) < without.total(Basis::InUse), "DVFS saves nothing on a light load");
    assert!(with.lines.iter().any(|x| x.what.contains("150 MHz")));
    assert!(without.lines.iter().all(|x| !x.what.contains("150 MHz")));
    // The model's energy rests on borrowed figures and assumptions, and says so.
    let b = with.basis(Basis::Allocated);
    assert!(b.shares[2] + b.shares[3] > 0.99, "{:?}", b.shares);
    assert!(
        load_hw("spinnaker2")
            .unwrap()
            .figures
            .iter()
            .any(|f| f.provenance.certainty() == neuromap::hw::Certainty::Borrowed)
    );
}

/// Timing closure: cuba's cores overrun the 0.1 ms tick on SpiNNaker 1; cutting its
/// populations into smaller slices keeps real time, names the caps, and changes no
/// spike. On brunel_1k the packets a core takes fill the tick in the worst steps, and
/// the run says so instead of pretending.
#[test]
fn timing_closure_keeps_real_time_or_says_why_not() {
    let o = RunOptions { steps: Some(300), ..RunOptions::default() };
    let plain = neuromap::pipeline::map_and_run("netlists/cuba.toml", "spinnaker1-spinn5", &o).unwrap();
    assert!(plain.energy.as_ref().unwrap().time.slowdown > 1.5);
    let cause = plain.energy.as_ref().unwrap().time.cause.clone().unwrap();
    assert!(cause.contains("--neurons-per-core exc="), "{cause}");
    let mut job = load_job("netlists/cuba.toml", "spinnaker1-spinn5", &o).unwrap();
    job.map.fit_real_time = true;
    let fitted = neuromap::pipeline::run_job(job, &mut |_| true).unwrap();
    let e = fitted.energy.as_ref().unwrap();
    assert!(e.time.real_time_kept(), "{:?}", fitted.fit);
    assert!(fitted.fit.iter().any(|f| f.contains("`exc` at most")), "{:?}", fitted.fit);
    assert!(fitted.mapping.partition.slices.len() > plain.mapping.partition.slices.len());
    assert_eq!(fitted.chip.result.spikes, plain.chip.result.spikes, "mapping changed behaviour");
    assert!((e.time.wall_s - e.time.real_time_s.unwrap()).abs() < 1e-12 && e.time.slowdown == 1.0);

    let mut job = load_job("netlists/brunel_1k.toml", "spinnaker1-spinn5", &o).unwrap();
    job.map.fit_real_time = true;
    let out = neuromap::pipeline::run_job(job, &mut |_| true).unwrap();
    let last = out.fit.last().unwrap();
    assert!(!out.energy.as_ref().unwrap().time.real_time_kept());
    assert!(last.contains("cannot keep real time") || last.contains("without keeping real time"), "{:?}", out.fit);
}

/// Holding a self-timed chip to the network's dt (one time basis with real-time chips)
/// stretches its wall time to steps × dt and its static energy with it; what it counted
/// does not change.
#[test]
fn a_self_timed_chip_held_to_dt_pays_static_power_for_the_held_time() {
    let o = RunOptions { steps: Some(50), ..RunOptions::default() };
    let run = |hold| {
        let mut job = load_job("netlists/lsm.toml", "rram-lsm-40nm", &o).unwrap();
        job.map.hold_to_dt = hold;
        neuromap::pipeline::crossbar::run_crossbar_job(job).unwrap().energy
    };
    let (free, held) = (run(false), run(true));
    let dt_s = 1e-3;
    assert!(free.time.wall_s < 50.0 * dt_s / 100.0);
    assert!((held.time.wall_s - 50.0 * dt_s).abs() < 1e-12, "{}", held.time.wall_s);
    assert_eq!(held.total(Basis::Dynamic), free.total(Basis::Dynamic));
    let st = |l: &Ledger| l.total(Basis::InUse) - l.total(Basis::Dynamic);
    assert!(
        (st(&held) / st(&free) - held.time.wall_s / free.time.wall_s).abs()
            < 1e-6 * held.time.wall_s / free.time.wall_s
    );
}

/// NeuroBench's workload metrics by hand: 4 inputs all-to-all into 2 neurons that never
/// fire (weight 0), and one input spike per step.
#[test]
fn neurobench_workload_by_hand() {
    let text = "[network]\nname = \"w\"\ndt = 1.0\n\n[[source]]\nname = \"in\"\nsize = 4\nkind = \"array\"\n\
                spikes = [[0.0, 1.0, 2.0, 3.0], [], [], []]\n\n[[population]]\nname = \"n\"\nsize = 2\nmodel = \"lif\"\n\n\
                [[projection]]\npre = \"in\"\npost = \"n\"\nconnector = \"all_to_all\"\nweight = 0.0\ndelay = 1.0\n";
    let net = neuromap::import::load_str("w.toml", text).unwrap().spec.build().unwrap();
    let run = neuromap::sim::simulate(&net, 4, neuromap::sim::Options::default());
    let w = neuromap::report::Workload::new(&net, &run);
    assert_eq!(w.dense_sops_per_step, 8.0);
    assert_eq!(w.effective_acs_per_step, 2.0, "one spike into two synapses a step");
    assert_eq!(w.effective_macs_per_step, 0.0);
    assert_eq!(w.activation_sparsity, 1.0);
    assert_eq!(w.connection_sparsity, 0.0);
    assert_eq!(w.parameters, 8);
}

/// Every family a model file may name has a run path in the registry, once.
#[test]
fn every_family_is_registered_once() {
    use neuromap::pipeline::any::REGISTRY;
    for (name, _, _) in neuromap::hw::family::FAMILIES {
        assert_eq!(REGISTRY.iter().filter(|f| f.name() == *name).count(), 1, "{name}");
    }
    assert_eq!(REGISTRY.len(), neuromap::hw::family::FAMILIES.len());
}

/// Area: where a model gives `area.<part>_mm2`, a run's area is its powered parts in
/// use and allocated times that figure, computed here from the ledger's part counts and
/// the model's figures; in use never exceeds allocated; a part whose model gives no
/// area is named, not counted as zero; and a model with no area figure has no area.
#[test]
fn area_is_the_parts_times_their_figures() {
    let mut seen = 0;
    for (name, l, m) in ledgers() {
        let Some(a) = l.area() else {
            assert!(
                m.figures.iter().all(|f| f.section != "area")
                    && m.parts.iter().all(|p| p.model.figures.iter().all(|f| f.section != "area")),
                "{name}: the model gives an area but the run has none"
            );
            continue;
        };
        seen += 1;
        // A hybrid chip's part is named with its model (`rram-ideal-40nm macro`); its
        // area is that model's area figure (and a crossbar's ADCs).
        let own = |part: &str| {
            let model = part
                .split_once(' ')
                .map_or(&m, |(name, _)| &m.parts.iter().find(|p| p.model.name == name).unwrap().model);
            let first = model.figures.iter().find(|f| f.section == "area").map(|f| f.value)?;
            // A crossbar tile adds one ADC per `columns_per_adc` columns, at the area
            // of the table's entry at or below its bits.
            let Some(adc) = model.figure("area", "adc_mm2") else { return Some(first) };
            let bits = model.get("adc", "bits").unwrap() as u32;
            let each = adc.steps.iter().rev().find(|s| s.0 <= bits).map_or(adc.value, |s| s.1);
            let adcs = (model.get("tile", "columns").unwrap() / model.get("adc", "columns_per_adc").unwrap()).ceil();
            Some(model.get("area", "tile_mm2").unwrap() + adcs * each)
        };
        let (mut in_use, mut allocated) = (0.0, 0.0);
        for p in l.parts.iter().filter(|p| p.area_mm2.is_some()) {
            let mm2 = own(&p.part).unwrap();
            in_use += p.in_use as f64 * mm2;
            allocated += p.allocated as f64 * mm2;
        }
        assert!(
            (a.in_use_mm2 - in_use).abs() <= 1e-9 * allocated
                && (a.allocated_mm2 - allocated).abs() <= 1e-9 * allocated,
            "{name}: {a:?}"
        );
        assert!(a.in_use_mm2 > 0.0 && a.in_use_mm2 <= a.allocated_mm2, "{name}: {a:?}");
        if m.family == "arm-core" && m.get("area", "chip_mm2").is_none() {
            assert!(a.missing.iter().any(|x| x.starts_with("chip")), "{name}: the chips' missing area is named: {a:?}");
        }
    }
    assert!(seen >= 4, "the models with area figures ran: {seen}");
}

/// NeuroBench's footprint in each chip's formats, by hand: TrueNorth holds a 256 × 256
/// binary crossbar per core in use, 4 weights of 9 bits and a 20-bit potential per
/// neuron; Loihi 9-bit weights and 48 bits of state a neuron; an ARM core holds at least `core.synapse_bytes` per synapse and
/// `core.neuron_state_bytes` per LIF neuron; a binary array one bit per weight and no
/// state; and the footprint is in every run summary.
#[test]
fn neurobench_footprint_in_each_chips_formats() {
    let o = RunOptions { steps: Some(20), ..RunOptions::default() };
    let job = load_job("netlists/synfire_if.toml", "truenorth", &o).unwrap();
    let tn = neuromap::pipeline::neurocore::run_neurocore_job(job).unwrap();
    let f = tn.footprint();
    let cores = tn.mapping.cores_used as f64;
    assert_eq!(f.weight_bytes, (cores * 256.0 * 256.0 + 1000.0 * 4.0 * 9.0) / 8.0);
    assert_eq!(f.state_bytes, Some(1000.0 * 20.0 / 8.0));
    assert!(tn.summary().contains("NeuroBench footprint: 124.4 KiB of weights"), "{}", tn.summary());

    // Loihi: a 9-bit weight per synapse and 48 bits of state (24-bit u and v).
    let job = load_job("netlists/brunel_1k.toml", "loihi", &o).unwrap();
    let (synapses, neurons) = (job.net.n_synapses() as f64, job.net.n_neurons() as f64);
    let f = neuromap::pipeline::neurocore::run_neurocore_job(job).unwrap().footprint();
    assert_eq!((f.weight_bytes, f.state_bytes), (synapses * 9.0 / 8.0, Some(neurons * 48.0 / 8.0)));

    let job = load_job("netlists/brunel_1k.toml", "spinnaker1-spinn5", &o).unwrap();
    let (synapses, neurons) = (job.net.n_synapses() as f64, job.net.n_neurons() as f64);
    let hw = load_hw("spinnaker1-spinn5").unwrap();
    let arm = neuromap::pipeline::run_job(job, &mut |_| true).unwrap();
    let f = arm.footprint();
    assert!(f.weight_bytes >= synapses * hw.get("core", "synapse_bytes").unwrap(), "{f:?}");
    assert!(f.weight_bytes < 2.0 * synapses * hw.get("core", "synapse_bytes").unwrap(), "{f:?}");
    assert_eq!(f.state_bytes, Some(neurons * hw.get("core", "neuron_state_bytes").unwrap()));

    let job = load_job("netlists/binary_mlp.toml", "tulip-40nm", &o).unwrap();
    let weights = job.net.n_synapses() as f64;
    let b = neuromap::pipeline::binary::run_binary_job(job).unwrap();
    let s = b.run_summary(false);
    let f = s.workload.footprint.as_ref().unwrap();
    assert!(f.weight_bytes >= weights / 8.0 && f.state_bytes == Some(0.0), "{f:?}");
}
