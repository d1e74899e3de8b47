//! `diff` reports exactly the change that was made, and budgets pass or fail as they
//! should. Each test changes one thing.

mod common;

use std::path::Path;

use neuromap::compile::{CompileOptions, artifact, compile};
use neuromap::import::load_str;
use neuromap::report::diff::{Budget, Diff, check, diff};
use serde_json::Value;

fn mapping(netlist: &str, model: &neuromap::hw::HwModel, opts: &CompileOptions) -> Value {
    let net = load_str("net.toml", netlist).unwrap().spec.build().unwrap();
    let m = compile(&net, model, opts).unwrap();
    serde_json::from_str(&artifact::to_json(&net, model, &m, opts)).unwrap()
}

fn run(netlist: &str) -> Value {
    let net = load_str("net.toml", netlist).unwrap().spec.build().unwrap();
    let r = neuromap::sim::simulate(&net, 1000, neuromap::sim::Options::default());
    serde_json::to_value(neuromap::report::RunSummary::new(&net, &r, "reference", None)).unwrap()
}

fn metric(d: &Diff, name: &str) -> (f64, f64) {
    let m = d.metrics.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no metric {name}"));
    (m.old, m.new)
}

fn budgets(s: &[&str]) -> Vec<Budget> {
    s.iter().map(|b| b.parse().unwrap()).collect()
}

fn brunel() -> String {
    std::fs::read_to_string("netlists/brunel_10k.toml").unwrap()
}

fn board() -> neuromap::hw::HwModel {
    neuromap::hw::load_path(Path::new("hw-models/spinnaker1-spinn5.toml")).unwrap()
}

#[test]
fn identical_inputs_give_an_empty_diff() {
    let a = mapping(&brunel(), &board(), &CompileOptions::default());
    let d = diff(&a, &a.clone()).unwrap();
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(d.metrics.iter().all(|m| m.old == m.new || m.name.ends_with("moves") || m.name.ends_with("changes")));
    assert_eq!(metric(&d, "placement_moves").1, 0.0);
    assert!(check(&d, &budgets(&["cores=exact", "router_entries=exact", "placement_moves=+0"])).is_empty());
}

#[test]
fn a_new_placement_seed_moves_slices_and_nothing_else() {
    let hw = board();
    let a = mapping(&brunel(), &hw, &CompileOptions::default());
    let b = mapping(&brunel(), &hw, &CompileOptions { seed: 2, ..Default::default() });
    let d = diff(&a, &b).unwrap();
    assert!(metric(&d, "placement_moves").1 > 0.0);
    // Keys are allocated by location, so every slice that moved (all of them send)
    // has a new key, and no other slice has.
    assert_eq!(metric(&d, "key_changes").1, metric(&d, "placement_moves").1, "keys follow places");
    let (c0, c1) = metric(&d, "cores");
    assert_eq!(c0, c1);
    assert!(
        d.changes.iter().all(|c| c.starts_with("moved: ") || c.starts_with("key: ") || c.starts_with("routing table")),
        "{:?}",
        d.changes
    );
    assert!(check(&d, &budgets(&["cores=+0", "synapse_bytes_max=exact"])).is_empty());
    let broken = check(&d, &budgets(&["placement_moves=+0"]));
    assert_eq!(broken.len(), 1);
    assert!(broken[0].message.starts_with("placement_moves: 0 → "), "{}", broken[0].message);
}

#[test]
fn a_smaller_router_shows_as_fewer_entries() {
    let base = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let model = |entries: &str| {
        let text = base
            .replace("router_entries = { value = 1023,", &format!("router_entries = {{ value = {entries},"))
            .replace("width = 1\nheight = 1", "width = 4\nheight = 4");
        neuromap::hw::load_str("m.toml", &text).unwrap()
    };
    let opts = CompileOptions { placement_budget: Some(0), ..Default::default() };
    let a = mapping(&brunel(), &model("1023"), &opts);
    let b = mapping(&brunel(), &model("32"), &opts);
    let d = diff(&a, &b).unwrap();
    let (before, after) = metric(&d, "router_entries");
    assert!(after < before && after <= 32.0, "{before} → {after}");
    assert_eq!(metric(&d, "placement_moves").1, 0.0, "the router size does not move slices");
    assert!(d.changes.iter().all(|c| c.starts_with("routing table")), "{:?}", d.changes);
    assert!(check(&d, &budgets(&["router_entries=+0"])).is_empty());
    assert_eq!(check(&d, &budgets(&["router_entries=exact"])).len(), 1);
}

#[test]
fn a_weight_change_changes_spikes_and_budgets_catch_it() {
    let cuba = std::fs::read_to_string("netlists/cuba.toml").unwrap();
    let a = run(&cuba);
    let b = run(&cuba.replacen("weight = 1.62", "weight = 1.7", 1));
    let d = diff(&a, &b).unwrap();
    let (s0, s1) = metric(&d, "spikes");
    assert_ne!(s0, s1);
    assert_eq!(metric(&d, "neuron_updates").0, metric(&d, "neuron_updates").1);
    // `spikes` holds the total and each population's count: all three changed.
    let breaches = check(&d, &budgets(&["spikes=exact"]));
    let names: Vec<&str> = breaches.iter().map(|b| b.metric.as_str()).collect();
    assert_eq!(names, ["spikes", "spikes.exc", "spikes.inh"]);
    assert!(check(&d, &budgets(&["spikes=+1000%", "neuron_updates=exact"])).is_empty());
}

#[test]
fn a_neuron_parameter_change_shows_per_population() {
    let cuba = std::fs::read_to_string("netlists/cuba.toml").unwrap();
    let a = run(&cuba);
    // Raise only the inhibitory population's threshold.
    let i = cuba.find("name = \"inh\"").unwrap();
    let b = format!("{}{}", &cuba[..i], cuba[i..].replacen("v_thresh = -50.0", "v_thresh = -49.0", 1));
    let d = diff(&a, &run(&b)).unwrap();
    // Recurrent feedback decides the direction (less inhibition, more excitation);
    // the diff must show that the population changed, and the run length did not.
    let (i0, i1) = metric(&d, "spikes.inh");
    assert_ne!(i0, i1);
    assert_eq!(metric(&d, "steps").0, metric(&d, "steps").1);
    assert!(d.changes.iter().any(|c| c.starts_with("population inh:")));
}

#[test]
fn budgets_parse_and_unknown_metrics_do_not_pass_silently() {
    assert!("cores=+0".parse::<Budget>().is_ok());
    assert!("energy=+2%".parse::<Budget>().is_ok());
    assert!("cores".parse::<Budget>().is_err());
    assert!("cores=+two".parse::<Budget>().is_err());
    let a = mapping(&brunel(), &board(), &CompileOptions::default());
    let d = diff(&a, &a.clone()).unwrap();
    let broken = check(&d, &budgets(&["core=+0"]));
    assert!(broken[0].message.contains("no metric `core`"), "{}", broken[0].message);
    let r = run(&std::fs::read_to_string("netlists/lsm.toml").unwrap());
    assert!(diff(&a, &r).is_err(), "a mapping and a run cannot be compared");
}

#[test]
fn the_cli_exits_3_on_a_broken_budget() {
    let dir = common::scratch_path("diff", "");
    std::fs::create_dir_all(&dir).unwrap();
    let exe = env!("CARGO_BIN_EXE_neuromap");
    let compile_to = |seed: &str, out: &Path| {
        let st = std::process::Command::new(exe)
            .args(["compile", "netlists/brunel_10k.toml", "--hw", "spinnaker1-spinn5", "--seed", seed, "-o"])
            .arg(out)
            .output()
            .unwrap();
        assert!(st.status.success());
    };
    let (a, b) = (dir.join("a.json"), dir.join("b.json"));
    compile_to("1", &a);
    compile_to("1", &b);
    let diff_with = |budget: &str| {
        std::process::Command::new(exe).arg("diff").arg(&a).arg(&b).args(["--budget", budget]).output().unwrap()
    };
    assert_eq!(diff_with("cores=exact").status.code(), Some(0));
    std::fs::write(dir.join("budgets.toml"), "[budget]\ncores = \"+0\"\nkey_changes = \"exact\"\n").unwrap();
    let out = std::process::Command::new(exe)
        .arg("diff")
        .arg(&a)
        .arg(&b)
        .arg("--budget-file")
        .arg(dir.join("budgets.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("all 2 budget(s) hold"));
    compile_to("7", &b);
    let out = diff_with("placement_moves=+0");
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("budget(s) broken"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A chip run's report: energy by component and time per step, for `diff`.
fn chip_report(netlist: &str, model_text: &str) -> Value {
    let net = load_str("net.toml", netlist).unwrap().spec.build().unwrap();
    let hw = neuromap::hw::load_str("hw-models/m.toml", model_text).unwrap();
    let mapping = compile(&net, &hw, &CompileOptions::default()).unwrap();
    let chip = neuromap::sim::chip::simulate_chip(&net, &hw, &mapping, 300, neuromap::sim::Options::default()).unwrap();
    let energy = neuromap::cost::arm_core_ledger(&net, &hw, &mapping, &chip.counts, 300, neuromap::cost::Dvfs::PerStep);
    let summary = neuromap::report::RunSummary::new(&net, &chip.result, "chip", None);
    neuromap::report::run_report(
        &summary,
        energy.as_ref(),
        chip.counts.timing.as_ref(),
        &chip.counts.losses,
        mapping.hw.clock_hz,
    )
}

#[test]
fn a_cores_energy_figure_changes_energy_and_nothing_else() {
    let base = std::fs::read_to_string("hw-models/spinnaker1.toml")
        .unwrap()
        .replace("width = 1\nheight = 1", "width = 2\nheight = 2");
    let more = base.replace("busy_core_w = { value = 0.034,", "busy_core_w = { value = 0.040,");
    assert_ne!(base, more);
    let lsm = std::fs::read_to_string("netlists/lsm.toml").unwrap();
    let d = diff(&chip_report(&lsm, &base), &chip_report(&lsm, &more)).unwrap();
    let (c0, c1) = metric(&d, "energy_core");
    assert!(c0 > 0.0 && (c1 / c0 - 0.040 / 0.034).abs() < 1e-9, "{c0} → {c1}");
    assert!(metric(&d, "energy_chip").0 > 0.0);
    assert_eq!(metric(&d, "energy_chip").0, metric(&d, "energy_chip").1);
    assert_eq!(metric(&d, "energy_router").0, metric(&d, "energy_router").1);
    assert_eq!(metric(&d, "wall_time_s").0, metric(&d, "wall_time_s").1);
    assert_eq!(metric(&d, "spikes").0, metric(&d, "spikes").1, "an energy figure does not change behaviour");
    assert_eq!(metric(&d, "step_time_max_us").0, metric(&d, "step_time_max_us").1);
    assert!(d.changes.is_empty(), "{:?}", d.changes);
    assert!(check(&d, &budgets(&["spikes=exact", "latency=exact", "energy=+50%"])).is_empty());
    assert_eq!(check(&d, &budgets(&["energy=+0.1%"])).len(), 1);
}

/// A larger die shows as area and nothing else: a budget on area catches it, and the
/// energy, time and spikes stay.
#[test]
fn a_larger_die_shows_as_area_and_a_budget_catches_it() {
    let base = std::fs::read_to_string("hw-models/spinnaker1.toml")
        .unwrap()
        .replace("width = 1\nheight = 1", "width = 2\nheight = 2");
    let bigger = base.replace("chip_mm2 = { value = 102,", "chip_mm2 = { value = 120,");
    assert_ne!(base, bigger);
    let lsm = std::fs::read_to_string("netlists/lsm.toml").unwrap();
    let d = diff(&chip_report(&lsm, &base), &chip_report(&lsm, &bigger)).unwrap();
    let (a0, a1) = metric(&d, "area");
    assert!(a0 > 0.0 && (a1 / a0 - 120.0 / 102.0).abs() < 1e-12, "{a0} → {a1}");
    let (b0, b1) = metric(&d, "area_allocated");
    assert!((b0 - 4.0 * 102.0).abs() < 1e-9 && (b1 - 4.0 * 120.0).abs() < 1e-9, "{b0} → {b1}");
    assert_eq!(metric(&d, "energy").0, metric(&d, "energy").1);
    assert_eq!(metric(&d, "spikes").0, metric(&d, "spikes").1);
    assert!(check(&d, &budgets(&["energy=exact", "spikes=exact", "area=+20%"])).is_empty());
    assert_eq!(check(&d, &budgets(&["area=+10%"])).len(), 1);
}
