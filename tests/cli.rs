//! The `neuromap` binary as a user runs it: every subcommand over every invalid file
//! fails with a diagnostic and exit code 1 (never Rust's panic code 101); a valid run
//! writes complete output files.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::toml_files;

fn neuromap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_neuromap")).args(args).env("NO_COLOR", "1").output().expect("the binary runs")
}

fn invalid_files() -> Vec<PathBuf> {
    toml_files("netlists/invalid")
}

#[test]
fn every_subcommand_rejects_every_invalid_file_cleanly() {
    for f in invalid_files() {
        let f = f.to_str().unwrap();
        for args in [
            vec!["check", f],
            vec!["check", "--build", f],
            vec!["simulate", "--reference", f, "--no-output", "--steps", "5"],
            vec!["compile", f, "--hw", "spinnaker1-spinn5"],
        ] {
            let out = neuromap(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}\n{stderr}");
            let name = Path::new(f).file_name().unwrap().to_str().unwrap();
            assert!(stderr.contains(&format!("{name}:")), "{args:?}: no location in\n{stderr}");
            assert!(!stderr.contains("panicked"), "{args:?}\n{stderr}");
        }
    }
}

#[test]
fn diff_rejects_bad_documents_cleanly() {
    let bad = common::scratch_path("bad", "json");
    std::fs::write(&bad, "{\"slices\": [1, 2,\n").unwrap();
    let b = bad.to_str().unwrap();
    for args in [vec!["diff", b, b], vec!["diff", "no/such.json", b], vec!["diff", b, "netlists/cuba.toml"]] {
        let out = neuromap(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    let out = neuromap(&["diff", b, b]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(":2:1: error: not valid JSON"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(&bad).unwrap();
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let out = neuromap(&["simulate", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the file"));
}

#[test]
fn simulate_writes_complete_outputs() {
    let dir = common::scratch_path("cli-test", "");
    let _ = std::fs::remove_dir_all(&dir);
    let out =
        neuromap(&["simulate", "--reference", "netlists/cuba.toml", "--steps", "200", "--out", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("population") && stdout.contains("exc"), "{stdout}");
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"], 200);
    assert_eq!(summary["schema_version"], 1);
    let spikes = std::fs::read_to_string(dir.join("spikes.csv")).unwrap();
    let rows = spikes.lines().count() - 1;
    let total: u64 = summary["populations"].as_array().unwrap().iter().map(|p| p["spikes"].as_u64().unwrap()).sum();
    assert_eq!(rows as u64, total, "one CSV row per spike");
    assert!(std::fs::read_to_string(dir.join("probes.csv")).unwrap().lines().count() == 1 + 3 * 200);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_explains_the_commands() {
    let out = neuromap(&["--help"]);
    let s = String::from_utf8_lossy(&out.stdout);
    for word in ["check", "simulate", "models", "docs/netlist.md"] {
        assert!(s.contains(word), "--help lacks {word}:\n{s}");
    }
    let out = neuromap(&["models"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("cuba_lif") && s.contains("tau_syn") && s.contains("fixed_total_number"), "{s}");
}

#[test]
fn every_hw_command_rejects_every_invalid_chip_model_cleanly() {
    for f in toml_files("hw-models/invalid") {
        let f = f.to_str().unwrap();
        for args in [vec!["hw", "show", f], vec!["compile", "netlists/lsm.toml", "--hw", f]] {
            let out = neuromap(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}\n{stderr}");
            let name = Path::new(f).file_name().unwrap().to_str().unwrap();
            assert!(stderr.contains(&format!("{name}:")), "{args:?}: no location in\n{stderr}");
        }
    }
    for args in
        [vec!["compile", "netlists/lsm.toml", "--hw", "no-such-model"], vec!["hw", "describe", "no-such-family"]]
    {
        let out = neuromap(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    }
}

#[test]
fn compile_writes_a_complete_artifact_and_reports_faults() {
    let path = common::scratch_path("map", "json");
    let out = neuromap(&[
        "compile",
        "netlists/brunel_1k.toml",
        "--hw",
        "spinnaker1-spinn3",
        "--dead-chip",
        "0,0",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 1);
    let slices = doc["slices"].as_array().unwrap();
    assert!(slices.iter().all(|s| s["chip"] != serde_json::json!([0, 0])), "a slice sits on the dead chip");
    assert_eq!(doc["summary"]["machine_working_chips"], 3);
    // Each resource is shown against its capacity, neurons per core too (the model's
    // `core.max_neurons`, 255 on SpiNNaker 1), and no core holds more.
    assert_eq!(doc["summary"]["neurons_capacity"], 255);
    assert!(doc["summary"]["neurons_per_core"]["max"].as_f64().unwrap() <= 255.0);
    let text = String::from_utf8_lossy(&out.stdout);
    let row = text.lines().find(|l| l.starts_with("neurons per core")).expect("a neurons-per-core row");
    assert!(row.trim_end().ends_with(" 255"), "{row}");
    std::fs::remove_file(&path).unwrap();
    for (flag, value) in
        [("--dead-chip", "9,9"), ("--dead-link", "0,0,up"), ("--dead-core", "0,0,99"), ("--dead-chip", "x")]
    {
        let out = neuromap(&["compile", "netlists/lsm.toml", "--hw", "spinnaker1-spinn3", flag, value]);
        assert_eq!(out.status.code(), Some(1), "{flag} {value}");
    }
}

#[test]
fn hw_commands_describe_the_models() {
    let out = neuromap(&["hw", "describe", "arm-core"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("chip.router_entries") && s.contains("required") && s.contains("optional"), "{s}");
    let out = neuromap(&["hw", "show", "spinnaker1-spinn5"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("48 chips") && s.contains("source: SpiNNMachine version_spin1.py n_router_entries"), "{s}");
    let out = neuromap(&["hw", "list"]);
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("spinnaker2-board") && !s.contains("invalid"), "{s}");
}

/// A run over several threads says how long they waited for each other, shard by
/// shard, against the chip's time; one thread has nothing to wait for.
#[test]
fn run_reports_how_long_its_threads_waited_for_each_other() {
    let run = |threads: &str| {
        let out = neuromap(&[
            "run",
            "netlists/brunel_1k.toml",
            "--hw",
            "spinnaker1-spinn3",
            "--steps",
            "200",
            "--no-check",
            "--no-output",
            "--threads",
            threads,
        ]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = run("3");
    let line =
        text.lines().find(|l| l.starts_with("3 threads waited for each other: ")).unwrap_or_else(|| panic!("{text}"));
    let ms: Vec<f64> = (0..3)
        .map(|i| {
            let at =
                line.find(&format!("shard {i} ")).unwrap_or_else(|| panic!("{line}")) + format!("shard {i} ").len();
            line[at..].split(' ').next().unwrap().parse().unwrap_or_else(|e| panic!("{line}: {e}"))
        })
        .collect();
    assert!(ms.iter().all(|&w| w >= 0.0), "{line}");
    let share: f64 = line.split("at most ").nth(1).and_then(|r| r.split(' ').next()).unwrap().parse().unwrap();
    assert!((0.0..=100.0).contains(&share), "{line}");
    assert!(!run("1").contains("waited for each other"));
}

#[test]
fn run_compiles_simulates_the_chip_and_prices_it() {
    let dir = common::scratch_path("run", "");
    let out = neuromap(&[
        "run",
        "netlists/synfire.toml",
        "--hw",
        "spinnaker1-spinn3",
        "--steps",
        "600",
        "-o",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("chip = quantised functional model: identical"), "{stdout}");
    assert!(stdout.contains("per synaptic event") && stdout.contains("packets routed"), "{stdout}");
    for f in
        ["summary.json", "fidelity.json", "energy.json", "counts.json", "mapping.json", "config.json", "spikes.csv"]
    {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        if f.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(v.get("error").is_none(), "{f}: {text}");
        }
    }
    let energy: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("energy.json")).unwrap()).unwrap();
    assert!(energy["total_j"].as_f64().unwrap() > 0.0);
    std::fs::remove_dir_all(&dir).unwrap();
    // A model without energy figures (SpiNNaker 1 without its [energy] section) says so
    // instead of guessing.
    let text = std::fs::read_to_string("hw-models/spinnaker1.toml").unwrap();
    let (a, b) = (text.find("[energy]").unwrap(), text.find("[timing]").unwrap());
    let model = common::scratch_path("no-energy", "toml");
    std::fs::write(&model, format!("{}{}", &text[..a], &text[b..])).unwrap();
    let out = neuromap(&["run", "netlists/lsm.toml", "--hw", model.to_str().unwrap(), "--no-output"]);
    std::fs::remove_file(&model).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("energy: unknown"));
}

/// `neuromap table`: one row per network and model across families, each priced on the
/// same ledger; a pair that does not map is a row that says why.
#[test]
fn table_sets_families_side_by_side() {
    let out =
        neuromap(&["table", "netlists/lsm.toml", "--hw", "spinnaker1,rram-lsm-40nm,loihi,tulip-40nm", "--steps", "50"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| lsm |")).collect();
    assert_eq!(rows.len(), 4, "{text}");
    for (model, family) in [("spinnaker1", "arm-core"), ("rram-lsm-40nm", "crossbar"), ("loihi", "neurocore")] {
        let row = rows.iter().find(|r| r.contains(&format!("| {model} | {family} |"))).unwrap();
        assert!(!row.contains("| - |"), "{row}");
    }
    assert!(rows.iter().any(|r| r.contains("tulip-40nm") && r.contains("does not map")), "{text}");
}

/// Inputs that are not regular files are refused at once (a device would fill memory);
/// an output that cannot be written stops a run before it simulates; a link or device
/// in the way of an output is left as it is; a budget must allow a finite growth ≥ 0.
#[test]
fn bad_paths_and_budgets_are_refused_up_front() {
    let out = neuromap(&["check", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a regular file"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = common::scratch_path("paths", "");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let out =
        neuromap(&["run", "netlists/lsm.toml", "--hw", "spinnaker1", "--steps", "10", "--out", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("chip = quantised"), "the run went ahead: {stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a folder"));
    #[cfg(unix)]
    {
        let link = dir.join("link.toml");
        std::os::unix::fs::symlink(dir.join("elsewhere"), &link).unwrap();
        let out = neuromap(&["import", "tests/nir/ff_lif_lzf.nir", "-o", link.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    }
    let r = "tests/corpus/golden/lsm@spinnaker1-spinn5/report.json";
    for b in ["cores=nan", "energy=-5%", "energy=+inf"] {
        let out = neuromap(&["diff", r, r, "--budget", b]);
        assert_eq!(out.status.code(), Some(1), "{b}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("must be a finite number"), "{b}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
