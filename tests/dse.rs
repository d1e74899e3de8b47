//! Design-space exploration (`neuromap sweep --set`, `neuromap sensitivity`): a point
//! is the base model with figures set, run as any run is; energy and latency move the
//! way the figure says; a point that does not map is a row that says why; the rows do
//! not depend on the threads; the front is the non-dominated points; a sensitivity
//! study ranks the uncertain figures and says whether an ordering survives them.

use neuromap::pipeline::dse::{self, Axis, Constraint, Metric, Plan, Subject};
use neuromap::pipeline::{RunOptions, load_job};

fn subject(net: &str, hw: &str, steps: u32) -> Subject {
    let o = RunOptions { steps: Some(steps), ..RunOptions::default() };
    let job = load_job(format!("netlists/{net}.toml"), hw, &o).unwrap();
    Subject { name: net.to_string(), job }
}

fn plan(sets: &[&str], threads: usize) -> Plan {
    Plan {
        axes: sets.iter().map(|s| Axis::parse(s).unwrap()).collect(),
        sample: None,
        seed: 1,
        objectives: vec![Metric::Energy, Metric::Latency],
        constraints: vec![],
        threads,
        peers: None,
    }
}

/// Cycles per neuron update on SpiNNaker 1: brunel_1k's cores overrun their tick, so
/// more cycles mean a longer run and more energy (every static term over the longer
/// wall time); lsm keeps its tick up to 300 cycles, so only energy grows (the cores
/// work longer within it), until it overruns. The front of energy and latency is the
/// cheapest point of each network.
#[test]
fn a_sweep_moves_energy_and_latency_as_the_figure_says() {
    let subjects = [subject("brunel_1k", "spinnaker1", 100), subject("lsm", "spinnaker1", 100)];
    let base = subjects[0].job.model.clone();
    let p = plan(&["timing.cycles_per_neuron_update=50,150,300,450"], 2);
    let rows = dse::sweep(&subjects, &base, &p, &|_, _| {}).unwrap();
    assert_eq!(rows.len(), 8);
    for net in ["brunel_1k", "lsm"] {
        let r: Vec<_> = rows.iter().filter(|r| r.network == net).collect();
        assert!(r.iter().all(|r| r.ran && r.spikes.unwrap() > 0), "{net}: every point runs and fires");
        let e: Vec<f64> = r.iter().map(|r| r.energy_in_use_j.unwrap()).collect();
        assert!(e.windows(2).all(|w| w[1] > w[0]), "{net}: energy grows with the cycles: {e:?}");
        // The spikes and the footprint do not depend on the chip's timing.
        assert!(r.iter().all(|x| x.spikes == r[0].spikes), "{net}");
        assert!(r[0].footprint_bytes.unwrap() > 0.0 && r.iter().all(|x| x.footprint_bytes == r[0].footprint_bytes));
        let fronts: Vec<bool> = r.iter().map(|r| r.front).collect();
        assert_eq!(fronts, [true, false, false, false], "{net}");
    }
    let l: Vec<f64> = rows[..4].iter().map(|r| r.latency_s.unwrap()).collect();
    assert!(l.windows(2).all(|w| w[1] > w[0]) && rows[0].real_time == Some(false), "brunel_1k overruns: {l:?}");
    // lsm keeps its 1 ms tick up to 300 cycles, and overruns it at 450.
    assert!(rows[4..7].iter().all(|r| r.real_time == Some(true) && r.slowdown == Some(1.0)), "lsm keeps its tick");
    assert!(rows[7].real_time == Some(false) && rows[7].latency_s.unwrap() > 1e-3, "{:?}", rows[7]);
    // The base model is the point whose figure is its own.
    let own = rows.iter().find(|r| r.network == "lsm" && r.set[0].1 == "150").unwrap();
    let direct = dse::measure(subject("lsm", "spinnaker1", 100).job, 0, "lsm", vec![]);
    assert_eq!(own.energy_in_use_j, direct.energy_in_use_j);
}

/// The rows are the same on 1 and 2 threads, and a sample is a seeded subset of the
/// grid's rows.
#[test]
fn rows_do_not_depend_on_the_threads_and_a_sample_is_part_of_the_grid() {
    let subjects = [subject("lsm", "rram-lsm-40nm", 50)];
    let base = subjects[0].job.model.clone();
    let sets = ["adc.bits=4,6,8", "device.sigma=0,0.1"];
    let one = dse::sweep(&subjects, &base, &plan(&sets, 1), &|_, _| {}).unwrap();
    let two = dse::sweep(&subjects, &base, &plan(&sets, 2), &|_, _| {}).unwrap();
    assert_eq!(one, two);
    assert_eq!(one.len(), 6);
    assert!(one.iter().any(|r| r.energy_in_use_j != one[0].energy_in_use_j), "the ADC bits move energy");
    let sampled = dse::sweep(&subjects, &base, &Plan { sample: Some(3), ..plan(&sets, 2) }, &|_, _| {}).unwrap();
    assert_eq!(sampled.len(), 3);
    for r in &sampled {
        let same = one.iter().find(|x| x.set == r.set).unwrap();
        assert_eq!(r.energy_in_use_j, same.energy_in_use_j);
    }
}

/// A point that does not map is a row that says why; a figure the model does not have,
/// or a value it cannot take, is refused before anything runs.
#[test]
fn what_does_not_fit_is_a_row_and_what_is_not_a_figure_is_an_error() {
    let subjects = [subject("lsm", "rram-lsm-40nm", 20), subject("brunel_1k", "rram-lsm-40nm", 20)];
    let base = subjects[0].job.model.clone();
    let rows = dse::sweep(&subjects, &base, &plan(&["adc.bits=8"], 1), &|_, _| {}).unwrap();
    assert!(rows[0].ran);
    assert!(!rows[1].ran && rows[1].note.contains("does not map: crossbar tiles"), "{}", rows[1].note);
    let csv = dse::csv(&rows, &plan(&["adc.bits=8"], 1).axes);
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.lines().nth(2).unwrap().contains("does not map"));
    for (set, want) in [
        ("crossbar.adc_bits=4", "has no figure `crossbar.adc_bits`"),
        ("bits=4", "`section.key`"),
        ("adc.bits=4.5", "not a whole number"),
        ("adc.bits=-1", "not negative"),
        ("adc.bits=many", "is a number"),
    ] {
        let e = dse::sweep(&subjects, &base, &plan(&[set], 1), &|_, _| {}).unwrap_err();
        assert!(e.contains(want), "{set}: {e}");
    }
}

/// Constraints exclude points from the front: with real time required, brunel_1k's
/// overrunning points are all excluded.
#[test]
fn a_constraint_excludes_points_from_the_front() {
    let subjects = [subject("brunel_1k", "spinnaker1", 50)];
    let base = subjects[0].job.model.clone();
    let p = Plan { constraints: vec![Constraint::RealTime], ..plan(&["timing.cycles_per_neuron_update=50,150"], 1) };
    let rows = dse::sweep(&subjects, &base, &p, &|_, _| {}).unwrap();
    assert!(rows.iter().all(|r| r.ran && !r.feasible && !r.front));
}

/// The sensitivity study on TULIP's binary MLP: the clock moves latency by its factor
/// exactly (×0.5 doubles a step), the borrowed weight-read energy moves energy most, the
/// ranking puts a figure that moves nothing last, and against the MAC baseline TULIP's
/// latency ordering holds while the energy ordering turns with the weight reads.
#[test]
fn sensitivity_ranks_the_uncertain_figures_and_tests_an_ordering() {
    let s = subject("binary_mlp", "tulip-40nm", 20);
    let base = s.job.model.clone();
    let mac = dse::measure(subject("binary_mlp", "mac-bnn-40nm", 20).job, 0, "binary_mlp", vec![]);
    let (baseline, ranked) = dse::sensitivity(&s, &base, &[0.5, 2.0], Some(&mac), 2, &|_, _| {}).unwrap();
    assert!(baseline.ran);
    let find = |k: &str| ranked.iter().find(|x| x.figure == k).unwrap();
    let clock = find("array.clock_hz");
    let r = clock.points[0].ratios.unwrap();
    assert!(
        clock.points[0].factor == 0.5 && (r.1 - 2.0).abs() < 1e-9,
        "half the clock, twice the step: {:?}",
        clock.points
    );
    let weights = find("energy.weight_read_j");
    assert_eq!(weights.certainty, neuromap::hw::Certainty::Borrowed);
    assert!(weights.energy_swing > 0.3 && weights.latency_swing == 0.0);
    assert_eq!(weights.energy_order_holds, Some(false), "the weight reads decide TULIP against MAC");
    assert_eq!(clock.latency_order_holds, Some(true));
    let swing = |x: &dse::Sensitivity| x.energy_swing.max(x.latency_swing);
    assert!(ranked.windows(2).all(|w| swing(&w[0]) >= swing(&w[1])), "ranked");
    assert_eq!(swing(ranked.last().unwrap()), 0.0);
    assert!(
        ranked
            .iter()
            .all(|x| matches!(x.certainty, neuromap::hw::Certainty::Assumption | neuromap::hw::Certainty::Borrowed))
    );
}

/// The budgeted search finds what the grid finds, in far fewer runs: the largest
/// cycles per neuron update at which lsm keeps SpiNNaker 1's tick; with too small a
/// budget it stops and says between which values the answer lies; a range no value of
/// which qualifies says so.
#[test]
fn a_search_finds_what_the_grid_finds_in_fewer_runs() {
    let s = subject("lsm", "spinnaker1", 100);
    let base = s.job.model.clone();
    let axis = Axis::parse("timing.cycles_per_neuron_update=400..470").unwrap();
    let grid = dse::sweep(
        std::slice::from_ref(&s),
        &base,
        &Plan { constraints: vec![Constraint::RealTime], ..plan(&["timing.cycles_per_neuron_update=400..470"], 2) },
        &|_, _| {},
    )
    .unwrap();
    let want = grid.iter().filter(|r| r.feasible).map(|r| r.set[0].1.parse::<u32>().unwrap()).max().unwrap();
    assert!(want > 400 && want < 470, "the tick is lost inside the range: {want}");
    let found = dse::search(&s, &base, &axis, &[Constraint::RealTime], dse::Direction::Largest, 20).unwrap();
    let got = &found.rows[found.found.expect(&found.stop)];
    assert_eq!(got.set[0].1, want.to_string(), "{}", found.stop);
    assert!(found.rows.len() <= 9 && found.stop.starts_with("found:"), "{} runs: {}", found.rows.len(), found.stop);
    let short = dse::search(&s, &base, &axis, &[Constraint::RealTime], dse::Direction::Largest, 3).unwrap();
    assert!(
        short.found.is_none() && short.stop.contains("budget of 3 runs ran out with the answer between"),
        "{}",
        short.stop
    );
    let none = dse::search(
        &s,
        &base,
        &Axis::parse("timing.cycles_per_neuron_update=5000..5010").unwrap(),
        &[Constraint::RealTime],
        dse::Direction::Smallest,
        20,
    )
    .unwrap();
    assert!(none.found.is_none() && none.stop.starts_with("no value") && none.rows.len() == 1, "{}", none.stop);
}

/// A hybrid chip's part has figures of its own: `PART/section.key` (the part's model
/// name or family) sets them, and the point's energy moves with them; a part the chip
/// does not have is refused naming the parts it has.
#[test]
fn a_hybrid_parts_figures_are_swept_by_their_part() {
    let subjects = [subject("lsm", "hybrid-spinn2-rram", 50)];
    let base = subjects[0].job.model.clone();
    let rows = dse::sweep(&subjects, &base, &plan(&["crossbar/adc.energy_j=2e-12,2e-9"], 1), &|_, _| {}).unwrap();
    assert!(rows.iter().all(|r| r.ran), "{rows:?}");
    assert!(rows[1].energy_dynamic_j.unwrap() > rows[0].energy_dynamic_j.unwrap(), "{rows:?}");
    let same =
        dse::sweep(&subjects, &base, &plan(&["rram-ideal-40nm/adc.energy_j=2e-12,2e-9"], 1), &|_, _| {}).unwrap();
    assert_eq!(
        same.iter().map(|r| r.energy_dynamic_j).collect::<Vec<_>>(),
        rows.iter().map(|r| r.energy_dynamic_j).collect::<Vec<_>>()
    );
    let e = dse::sweep(&subjects, &base, &plan(&["tulip/array.pes=4"], 1), &|_, _| {}).unwrap_err();
    assert!(e.contains("has no part `tulip`; its parts are rram-ideal-40nm"), "{e}");
}

/// The ADC's energy, latency and area step with its bits (MNSIM-2.0's table in
/// `rram-lsm-40nm.toml`, `from = { bits = … }`): a sweep of `adc.bits` prices each
/// conversion and each tile at the entry at or below the point's bits, and a
/// sensitivity study scales the whole table, not one value of it.
#[test]
fn the_adcs_figures_follow_its_bits() {
    use neuromap::hw::crossbar::Crossbar;
    let s = subject("lsm", "rram-lsm-40nm", 50);
    let base = s.job.model.clone();
    // (bits, pJ a conversion, µm² an ADC), as the model file gives them.
    let table =
        [(4, 0.7, 580.0), (5, 0.7, 580.0), (6, 1.26, 580.0), (8, 2.0, 1200.0), (10, 4.6, 1600.0), (12, 4.6, 1600.0)];
    for (bits, pj, um2) in table {
        let m = base.with_figure("adc.bits", &bits.to_string(), "test").unwrap();
        let hw = Crossbar::from_model(&m).unwrap();
        assert!((hw.adc_energy_j - pj * 1e-12).abs() < 1e-18, "{bits} bits: {} J", hw.adc_energy_j);
        // The tile: its cells and 256 columns ÷ 8 = 32 ADCs.
        let (area, _) = m.unit_area().unwrap();
        assert!((area - (0.0050 + 32.0 * um2 * 1e-6)).abs() < 1e-12, "{bits} bits: {area} mm²");
    }
    let rows = dse::sweep(&[s], &base, &plan(&["adc.bits=6,10"], 1), &|_, _| {}).unwrap();
    assert!(rows.iter().all(|r| r.ran && r.spikes.unwrap() > 0), "{rows:?}");
    let (a6, a10) = (rows[0].area_mm2.unwrap(), rows[1].area_mm2.unwrap());
    assert!((a10 / a6 - (0.0050 + 32.0 * 1600e-6) / (0.0050 + 32.0 * 580e-6)).abs() < 1e-9, "{a6} {a10}");
    assert!(rows[1].energy_in_use_j.unwrap() > 1.5 * rows[0].energy_in_use_j.unwrap(), "{rows:?}");
    // Scaling keeps the table's shape: ×2 doubles the 10-bit entry, and setting a value
    // makes it one figure at every resolution.
    let ten = base.with_figure("adc.bits", "10", "test").unwrap();
    let scaled = ten.with_figure_scaled("adc.energy_j", 2.0, "test").unwrap();
    assert!((Crossbar::from_model(&scaled).unwrap().adc_energy_j - 9.2e-12).abs() < 1e-18);
    let set = ten.with_figure("adc.energy_j", "1e-12", "test").unwrap();
    assert_eq!(Crossbar::from_model(&set).unwrap().adc_energy_j, 1e-12);
}

/// A subject whose job carries a stop (Ctrl-C from a front end) runs no further
/// points: each is a row that says so, and the sweep still returns its rows.
#[test]
fn a_stopped_sweep_runs_no_further_points() {
    let mut s = subject("brunel_1k", "spinnaker1", 20);
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    s.job.stop = neuromap::sim::Stop { flag: Some(flag), ..Default::default() };
    let base = s.job.model.clone();
    let rows = dse::sweep(&[s], &base, &plan(&["timing.cycles_per_neuron_update=50,150"], 2), &|_, _| {}).unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| !r.ran && r.note == "not run: interrupted"), "{rows:?}");
}

/// A sweep's points shared out over ranks (each a process under MPI; here the
/// in-process stand-in) give every rank the rows of one process, in the same order.
#[test]
fn a_sweep_over_ranks_gives_the_rows_of_one_process() {
    use neuromap::sim::chip::{InProcessRanks, Ranks};
    let subjects = vec![subject("lsm", "rram-lsm-40nm", 50)];
    let base = neuromap::pipeline::load_hw("rram-lsm-40nm").unwrap();
    let one = dse::sweep(&subjects, &base, &plan(&["adc.bits=2,4,6,8,10"], 1), &|_, _| {}).unwrap();
    let split: Vec<Vec<dse::Row>> = std::thread::scope(|s| {
        let handles: Vec<_> = InProcessRanks::group(3)
            .into_iter()
            .map(|p| {
                let plan = Plan { peers: Some(Ranks(std::sync::Arc::new(p))), ..plan(&["adc.bits=2,4,6,8,10"], 1) };
                let (subjects, base) = (&subjects, &base);
                s.spawn(move || dse::sweep(subjects, base, &plan, &|_, _| {}).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let strip = |rows: &[dse::Row]| -> Vec<dse::Row> {
        rows.iter().map(|r| dse::Row { wall_s: None, edp_js: None, ..r.clone() }).collect()
    };
    assert_eq!(one.len(), 5);
    assert!(one.iter().all(|r| r.ran) && one.iter().any(|r| r.front));
    for rows in &split {
        assert_eq!(strip(rows), strip(&one));
    }
}
