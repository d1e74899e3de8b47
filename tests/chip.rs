//! Mapping never changes behaviour: on every example and every chip model it fits,
//! the chip simulator's spikes equal the quantised functional model's, bit for bit,
//! and packets go exactly where the compiler said.

use std::path::Path;

use neuromap::compile::{CompileOptions, compile};
use neuromap::import::load_path;
use neuromap::sim::chip::{ChipConfig, Losses, RunFaults, simulate_chip, simulate_chip_with};
use neuromap::sim::{Options, simulate_quantised};

mod common;
use common::toml_files;

const ALL: Options = Options::RECORD_ALL;

#[test]
fn chip_spikes_equal_the_quantised_model_on_every_example() {
    let mut compared = 0;
    for net_path in toml_files("netlists") {
        let mut n = load_path(&net_path).unwrap();
        if n.spec.name == "microcircuit" {
            n.spec.scale = 0.02;
        }
        let net = n.spec.build().unwrap();
        let steps = n.steps.unwrap_or(1000).min(600);
        // The quantised model in each chip model's format (`arith.format`).
        let mut functional = std::collections::HashMap::new();
        for hw_path in toml_files("hw-models") {
            let hw = neuromap::hw::load_path(&hw_path).unwrap();
            let Ok(mapping) = compile(&net, &hw, &CompileOptions::default()) else { continue };
            let format = neuromap::sim::arith::Format::of(&mapping.hw);
            let functional =
                functional.entry(format).or_insert_with(|| simulate_quantised(&net, steps, Options { format, ..ALL }));
            // Thread counts take turns (their equality is checked below).
            let threads = [1, 2, 4][compared % 3];
            let config = ChipConfig { threads, ..ChipConfig::default() };
            let chip = simulate_chip_with(&net, &hw, &mapping, steps, ALL, &config, &mut |_| true).unwrap();
            let what = format!("{} on {} with {threads} threads", net.name, hw.name);
            assert_eq!(chip.result.spike_counts, functional.spike_counts, "{what}");
            assert_eq!(chip.result.spikes, functional.spikes, "{what}");
            assert_eq!(chip.result.synaptic_events, functional.synaptic_events, "{what}");
            assert_eq!(chip.result.neuron_updates, functional.neuron_updates, "{what}");
            assert_eq!(chip.counts.losses, Losses::default(), "{what}");
            compared += 1;
        }
    }
    assert!(compared >= 20, "only {compared} mappings compared");
}

/// Another placement (seed) and dead hardware change where spikes travel, never what
/// the network computes.
#[test]
fn placement_and_faults_do_not_change_spikes() {
    let net = load_path(Path::new("netlists/brunel_1k.toml")).unwrap().spec.build().unwrap();
    let functional = simulate_quantised(&net, 500, ALL);
    let mut hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn3.toml")).unwrap();
    let faults = neuromap::hw::Faults { chips: vec![(0, 0)], ..Default::default() };
    hw.apply_faults(&faults).unwrap();
    let mut counts = Vec::new();
    for seed in [1, 2, 3] {
        // One core per chip region: force traffic between chips with small slices.
        let opts = CompileOptions { seed, ..Default::default() };
        let mapping = compile(&net, &hw, &opts).unwrap();
        let chip = simulate_chip(&net, &hw, &mapping, 500, ALL).unwrap();
        assert_eq!(chip.result.spikes, functional.spikes, "seed {seed}");
        assert_eq!(chip.counts.router_passes[hw.machine.at(0, 0).unwrap().index()], 0, "a dead chip routes nothing");
        counts.push(chip.counts.packets_sent);
    }
    assert!(counts.iter().all(|&c| c == counts[0]), "packets sent depend on spikes only: {counts:?}");
}

/// Every packet reaches exactly the synapses it must: the synaptic events the chip's
/// cores processed, projection by projection, equal those of the quantised functional
/// model (no routing: every spike through every one of its synapses), whose spikes the
/// chip's equal; a packet lost, duplicated or sent to a wrong core would change them.
#[test]
fn packets_and_synaptic_events_are_accounted_for() {
    let mut n = load_path(Path::new("netlists/microcircuit.toml")).unwrap();
    n.spec.scale = 0.02;
    let net = n.spec.build().unwrap();
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    assert!(
        mapping
            .partition
            .slices
            .iter()
            .any(|s| matches!(s.kind, neuromap::compile::partition::SliceKind::DelayExtension { .. }))
    );
    let chip = simulate_chip(&net, &hw, &mapping, 400, ALL).unwrap();
    let functional = simulate_quantised(&net, 400, ALL);
    assert_eq!(chip.result.spikes, functional.spikes);
    assert!(functional.total_synaptic_events() > 0);
    assert_eq!(chip.result.synaptic_events, functional.synaptic_events, "events per projection");
    // The cores' own tallies add up to the same.
    let total: u64 = chip.counts.synaptic_events.iter().sum();
    assert_eq!(total, functional.total_synaptic_events());
    assert!(chip.counts.packets_sent > 0 && chip.counts.router_passes.iter().sum::<u64>() >= chip.counts.packets_sent);
}

/// Time within steps: the busiest core's cycles per step against the tick, on models
/// that give cycle costs; unknown (not guessed) on models that do not.
#[test]
fn timing_is_counted_where_the_model_gives_cycle_costs() {
    let net = load_path(Path::new("netlists/lsm.toml")).unwrap().spec.build().unwrap();
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    let chip = simulate_chip(&net, &hw, &mapping, 50, ALL).unwrap();
    let t = chip.counts.timing.expect("spinnaker1 gives cycle costs");
    assert_eq!(t.critical_cycles.len(), 50);
    assert_eq!(t.budget_cycles, 200e6 * net.dt / 1000.0);
    // The busiest core's cycles are at least its neuron updates' cost.
    let updates = chip.counts.neuron_updates.iter().max().unwrap() / 50;
    assert!(t.critical_cycles.iter().all(|&c| c >= updates as f64 * 150.0));
    // A small liquid at 1 ms steps keeps real time; overruns agree with the cycles.
    assert_eq!(t.overrun_steps(), t.critical_cycles.iter().filter(|&&c| c > t.budget_cycles).count());
    assert_eq!(t.overrun_steps(), 0, "worst load {}", t.worst_load());
    // SpiNNaker 1 without its [timing] section.
    let text = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let untimed = &text[..text.find("[timing]").unwrap()];
    let hw2 = neuromap::hw::load_str("hw-models/untimed.toml", untimed).unwrap();
    let m2 = compile(&net, &hw2, &CompileOptions::default()).unwrap();
    assert!(simulate_chip(&net, &hw2, &m2, 5, ALL).unwrap().counts.timing.is_none());
}

fn with_threads(
    net: &neuromap::ir::Network,
    hw: &neuromap::hw::HwModel,
    mapping: &neuromap::compile::Mapping,
    steps: u32,
    threads: usize,
    faults: &RunFaults,
) -> neuromap::sim::chip::ChipRun {
    let config = ChipConfig { threads, faults: faults.clone(), ..ChipConfig::default() };
    simulate_chip_with(net, hw, mapping, steps, ALL, &config, &mut |_| true).unwrap()
}

/// Results and every count (packets, routers, links, cycles, losses) are the same
/// for 1, 2 and 4 threads, with and without run-time faults.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let mut mc = load_path(Path::new("netlists/microcircuit.toml")).unwrap();
    mc.spec.scale = 0.02;
    let nets = [
        load_path(Path::new("netlists/brunel_1k.toml")).unwrap().spec.build().unwrap(),
        load_path(Path::new("netlists/synfire.toml")).unwrap().spec.build().unwrap(),
        load_path(Path::new("netlists/binary_mlp.toml")).unwrap().spec.build().unwrap(),
        mc.spec.build().unwrap(),
    ];
    let dropping = RunFaults { packet_drop_rate: 0.01, dead_links: Vec::new(), ..RunFaults::default() };
    for net in &nets {
        let opts = CompileOptions { seed: 3, ..CompileOptions::default() };
        let mapping = compile(net, &hw, &opts).unwrap();
        for faults in [RunFaults::default(), dropping.clone()] {
            let one = with_threads(net, &hw, &mapping, 200, 1, &faults);
            for threads in [2, 4] {
                let many = with_threads(net, &hw, &mapping, 200, threads, &faults);
                let what = format!("{} with {threads} threads, faults {faults:?}", net.name);
                assert_eq!(many.result, one.result, "{what}");
                assert_eq!(many.counts, one.counts, "{what}");
            }
        }
    }
}

/// No cap on threads: brunel_10k's 80 cores on 80 shards (more than a 64-bit mask of
/// shards holds) give the one-thread run's results and counts, with packet drops too.
#[test]
fn more_than_64_threads_give_the_same_run() {
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let net = load_path(Path::new("netlists/brunel_10k.toml")).unwrap().spec.build().unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    assert!(mapping.placement.core_of.len() >= 80, "{} cores", mapping.placement.core_of.len());
    let dropping = RunFaults { packet_drop_rate: 0.01, dead_links: Vec::new(), ..RunFaults::default() };
    let one = with_threads(&net, &hw, &mapping, 60, 1, &dropping);
    let many = with_threads(&net, &hw, &mapping, 60, 80, &dropping);
    assert!(one.result.spike_counts.iter().sum::<u64>() > 0 && one.counts.losses.packets() > 0);
    assert_eq!(many.result, one.result);
    assert_eq!(many.counts, one.counts);
}

/// Run-time faults lose packets, and every loss is counted by cause; with no faults
/// the run equals the plain one.
#[test]
fn run_time_faults_are_counted_by_cause() {
    let net = load_path(Path::new("netlists/brunel_10k.toml")).unwrap().spec.build().unwrap();
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    let functional = simulate_quantised(&net, 200, ALL);
    let plain = simulate_chip(&net, &hw, &mapping, 200, ALL).unwrap();
    let none = with_threads(&net, &hw, &mapping, 200, 2, &RunFaults::default());
    assert_eq!(none.result, plain.result);
    assert_eq!(none.counts, plain.counts);
    // Router passes per step add up, and so does the energy per step.
    let c = &plain.counts;
    assert_eq!(c.router_passes_per_step.len(), 200);
    assert_eq!(c.router_passes_per_step.iter().sum::<u64>(), c.router_passes.iter().sum::<u64>());
    let ledger = neuromap::cost::arm_core_ledger(&net, &hw, &mapping, c, 200, neuromap::cost::Dvfs::PerStep).unwrap();
    let (per_step, total) = (&ledger.per_step_j, ledger.total(neuromap::cost::Basis::Allocated));
    assert_eq!(per_step.len(), 200);
    assert!((per_step.iter().sum::<f64>() - total).abs() < 1e-9 * total, "{} vs {total}", per_step.iter().sum::<f64>());
    // A drop rate loses packets at random, on links only.
    let rate = RunFaults { packet_drop_rate: 0.05, dead_links: Vec::new(), ..RunFaults::default() };
    let dropped = with_threads(&net, &hw, &mapping, 200, 2, &rate);
    let l = &dropped.counts.losses;
    let passes = &dropped.counts;
    assert_eq!(passes.router_passes_per_step.iter().sum::<u64>(), passes.router_passes.iter().sum::<u64>());
    assert!(l.random > 0 && l.lost_deliveries >= l.random, "{l:?}");
    assert_eq!((l.congestion, l.dead_link), (0, 0));
    let links: u64 = dropped.counts.link_packets.values().sum();
    let share = l.random as f64 / (links + l.random) as f64;
    assert!((0.03..0.07).contains(&share), "share of link crossings lost {share}");
    assert_ne!(dropped.result.spikes, functional.spikes, "lost input changes the spikes");
    // Each used link, failed at run time: emergency routes where the triangle's other
    // two sides work, losses where they do not.
    let all: Vec<(u32, u8)> = plain.counts.link_packets.keys().copied().collect();
    let used: Vec<(u32, u8)> = all.iter().step_by(all.len().div_ceil(8).max(1)).copied().collect();
    assert!(!used.is_empty());
    let mut detoured = 0;
    for &(c, d) in &used {
        let faults =
            RunFaults { packet_drop_rate: 0.0, dead_links: vec![(neuromap::hw::ChipId(c), d)], ..RunFaults::default() };
        let run = with_threads(&net, &hw, &mapping, 200, 1, &faults);
        let l = &run.counts.losses;
        if l.dead_link == 0 {
            assert!(l.emergency_routed > 0, "{l:?}");
            if l.congestion == 0 {
                assert_eq!(run.result.spikes, functional.spikes, "an emergency route delivers everything: {l:?}");
            } else {
                // The detour's two links also carry their own traffic: a queue there
                // may overflow, and what it drops is counted.
                assert!(l.lost_deliveries > 0, "{l:?}");
            }
            assert!(run.counts.router_passes.iter().sum::<u64>() > plain.counts.router_passes.iter().sum::<u64>());
            detoured += 1;
        } else {
            assert!(l.lost_deliveries > 0);
        }
        assert!(!run.counts.link_packets.contains_key(&(c, d)), "a dead link carries nothing");
    }
    assert!(detoured > 0, "no link of {used:?} had an emergency route");
}

/// One SpiNN-5 board whose links take 40 µs a packet instead of 160 ns: too slow for
/// brunel_10k's traffic (the model files are written under a temporary folder `tag`).
fn slow_links(tag: &str) -> neuromap::hw::HwModel {
    slowed(tag, "link_packet_s = { value = 160e-9", "link_packet_s = { value = 40e-6")
}

/// One SpiNN-5 board whose chip model has `from` replaced by `to`.
fn slowed(tag: &str, from: &str, to: &str) -> neuromap::hw::HwModel {
    let chip = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let slow = chip.replace(from, to);
    assert_ne!(slow, chip);
    let dir = common::scratch_path(tag, "");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("spinnaker1.toml"), slow).unwrap();
    std::fs::copy("hw-models/spinnaker1-spinn5.toml", dir.join("spinn5.toml")).unwrap();
    let hw = neuromap::hw::load_path(&dir.join("spinn5.toml")).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    hw
}

/// Links too slow for the traffic: the router drops packets that wait too long, and
/// says so.
#[test]
fn congested_links_drop_packets_and_count_them() {
    let net = load_path(Path::new("netlists/brunel_10k.toml")).unwrap().spec.build().unwrap();
    let hw = slow_links("slow-links");
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    let run = with_threads(&net, &hw, &mapping, 200, 2, &RunFaults::default());
    let l = &run.counts.losses;
    assert!(l.congestion > 0 && l.lost_deliveries > 0, "{l:?}");
    assert_eq!(with_threads(&net, &hw, &mapping, 200, 1, &RunFaults::default()).counts, run.counts);
    let t = run.counts.timing.unwrap();
    assert!(t.max_wait_s > 0.0 && t.max_wait_s <= 150.0 / 133e6 + 1e-12, "wait {}", t.max_wait_s);
}

/// The chip simulator indexes a core's neurons in 16 bits: a model that puts more than
/// 65,536 neurons on one core is refused by name before anything is allocated.
#[test]
fn a_core_of_more_than_65536_neurons_is_refused_by_name() {
    let hw = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml"))
        .unwrap()
        .with_figure("core.max_neurons", "100000", "a test")
        .and_then(|m| m.with_figure("core.local_memory_bytes", "1e9", "a test"))
        .unwrap();
    let text = "[network]\ndt = 1.0\n[[source]]\nname = \"in\"\nsize = 10\nkind = \"poisson\"\nrate = 10.0\n\
                [[population]]\nname = \"big\"\nsize = 70000\nmodel = \"lif\"\n\
                [[projection]]\npre = \"in\"\npost = \"big\"\nconnector = { kind = \"fixed_number_post\", n = 2 }\nweight = 0.1\n";
    let net = neuromap::import::load_str("big.toml", text).unwrap().spec.build().unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    let e = simulate_chip(&net, &hw, &mapping, 2, Options::default()).unwrap_err();
    assert!(e.contains("`big` holds 70000 neurons") && e.contains("at most 65536"), "{e}");
}

/// The run on `ranks` in-process ranks (the stand-in for MPI) of `threads` threads
/// each; every rank must get the same result.
fn with_ranks(
    net: &neuromap::ir::Network,
    hw: &neuromap::hw::HwModel,
    mapping: &neuromap::compile::Mapping,
    steps: u32,
    (ranks, threads): (usize, usize),
    faults: &RunFaults,
) -> neuromap::sim::chip::ChipRun {
    use neuromap::sim::chip::{InProcessRanks, Ranks};
    let runs: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = InProcessRanks::group(ranks)
            .into_iter()
            .map(|p| {
                let peers = Some(Ranks(std::sync::Arc::new(p)));
                let config = ChipConfig { threads, faults: faults.clone(), peers, ..ChipConfig::default() };
                s.spawn(move || simulate_chip_with(net, hw, mapping, steps, ALL, &config, &mut |_| true).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for r in &runs[1..] {
        assert!(r.result == runs[0].result, "every rank gets the same spikes");
        assert!(r.counts == runs[0].counts, "every rank gets the same counts");
    }
    runs.into_iter().next().unwrap()
}

/// A run split over ranks (each a process under MPI; here the in-process stand-in)
/// and their threads is the run on one thread, count for count: spikes, packets,
/// routers, links, cycles, network times, and the packets the routers dropped (each
/// shard models the queues of its own routers and links).
#[test]
fn a_run_split_over_ranks_is_the_run_on_one_thread() {
    let net = load_path(Path::new("netlists/brunel_10k.toml")).unwrap().spec.build().unwrap();
    let congested = slow_links("ranks");
    // Routers too slow for the sources' packets too: a packet that reaches no core of
    // a rank may still queue at a router that rank owns, and must reach it.
    let routers = slowed("ranks-routers", "clock_hz = { value = 133e6", "clock_hz = { value = 8e6");
    let plain = neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap();
    let lossy = RunFaults { packet_drop_rate: 0.01, seed: 3, ..RunFaults::default() };
    let cases = [
        (&plain, RunFaults::default()),
        (&congested, RunFaults::default()),
        (&plain, lossy),
        (&routers, RunFaults::default()),
    ];
    for (case, (hw, faults)) in cases.into_iter().enumerate() {
        let mapping = compile(&net, hw, &CompileOptions::default()).unwrap();
        let one = with_threads(&net, hw, &mapping, 120, 1, &faults);
        assert!(one.result.spike_counts.iter().sum::<u64>() > 0, "the network is not silent");
        for split in [(2, 1), (3, 2)] {
            let run = with_ranks(&net, hw, &mapping, 120, split, &faults);
            let what = format!("{split:?} on {} with {faults:?}", hw.name);
            assert_eq!(run.result.spike_counts, one.result.spike_counts, "{what}");
            assert_eq!(run.counts.losses, one.counts.losses, "{what}");
            // Whole structures: a difference is not printed (it is megabytes).
            assert!(run.result == one.result, "{what}: the spikes differ");
            assert!(run.counts == one.counts, "{what}: the counts differ");
        }
        let l = &one.counts.losses;
        assert_eq!([l.congestion > 0, l.random > 0], [case == 1 || case == 3, case == 2], "{l:?}");
    }
}
