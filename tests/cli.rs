//! The `neuromap` binary as a user runs it: every subcommand over every invalid file
//! fails with a diagnostic and exit code 1 (never Rust's panic code 101); a valid run
//! writes complete output files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn neuromap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_neuromap"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn invalid_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir("netlists/invalid")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_subcommand_rejects_every_invalid_file_cleanly() {
    for f in invalid_files() {
        let f = f.to_str().unwrap();
        for args in [
            vec!["check", f],
            vec!["check", "--build", f],
            vec!["simulate", "--reference", f, "--no-output", "--steps", "5"],
        ] {
            let out = neuromap(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}\n{stderr}");
            let name = Path::new(f).file_name().unwrap().to_str().unwrap();
            assert!(
                stderr.contains(&format!("{name}:")),
                "{args:?}: no location in\n{stderr}"
            );
            assert!(!stderr.contains("panicked"), "{args:?}\n{stderr}");
        }
    }
}

#[test]
fn a_missing_file_is_an_error_not_a_panic() {
    let out = neuromap(&["simulate", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the file"));
}

#[test]
fn simulate_writes_complete_outputs() {
    let dir = std::env::temp_dir().join(format!("neuromap-cli-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = neuromap(&[
        "simulate",
        "--reference",
        "netlists/cuba.toml",
        "--steps",
        "200",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("population") && stdout.contains("exc"),
        "{stdout}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["steps"], 200);
    assert_eq!(summary["schema_version"], 1);
    let spikes = std::fs::read_to_string(dir.join("spikes.csv")).unwrap();
    let rows = spikes.lines().count() - 1;
    let total: u64 = summary["populations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["spikes"].as_u64().unwrap())
        .sum();
    assert_eq!(rows as u64, total, "one CSV row per spike");
    assert!(
        std::fs::read_to_string(dir.join("probes.csv"))
            .unwrap()
            .lines()
            .count()
            == 1 + 3 * 200
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
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
    assert!(
        s.contains("cuba_lif") && s.contains("tau_syn") && s.contains("fixed_total_number"),
        "{s}"
    );
}
