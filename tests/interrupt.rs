//! An interrupted run stops cleanly: Ctrl-C (SIGINT) stops the simulation after the
//! current step, and the run writes complete files for the steps done and says so;
//! a second Ctrl-C quits at once. Either way no file under a final name is partial.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `neuromap run` of brunel_10k for a million steps, writing to `dir`, with `extra`
/// arguments; returns once its standard error has printed a line starting with `until`.
fn start_until(dir: &Path, extra: &[&str], until: &str) -> (Child, BufReader<std::process::ChildStderr>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_neuromap"))
        .args(["run", "netlists/brunel_10k.toml", "--hw", "spinnaker1-spinn5", "--steps", "1000000"])
        .args(extra)
        .arg("-o")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while !line.starts_with(until) {
        line.clear();
        assert!(err.read_line(&mut line).unwrap() > 0, "the run ended before a line starting {until:?}");
    }
    (child, err)
}

/// Blocks until the simulation runs (the handler is installed by then).
fn start(dir: &Path) -> (Child, BufReader<std::process::ChildStderr>) {
    start_until(dir, &[], "simulating")
}

/// Waits for the run to end: its status, the rest of its standard error, its output.
fn finish(
    mut child: Child,
    mut err: BufReader<std::process::ChildStderr>,
) -> (std::process::ExitStatus, String, String) {
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    (status, rest, out)
}

fn interrupt(child: &Child) {
    signal(child, "-INT");
}

fn signal(child: &Child, which: &str) {
    let ok = Command::new("kill").args([which, &child.id().to_string()]).status().unwrap().success();
    assert!(ok);
}

/// Every file under a final name is complete: JSON parses, CSV and SVG end whole.
fn check_complete(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return names };
    for e in entries {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with('.') {
            continue; // a temporary file, never a final name
        }
        let text = std::fs::read_to_string(&p).unwrap();
        match p.extension().and_then(|x| x.to_str()) {
            Some("json") => {
                serde_json::from_str::<serde_json::Value>(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
            Some("csv") => assert!(text.ends_with('\n'), "{name} ends mid-line"),
            Some("svg") => assert!(text.trim_end().ends_with("</svg>"), "{name} is cut"),
            Some("html") => assert!(text.trim_end().ends_with("</html>"), "{name} is cut"),
            _ => panic!("unexpected file {name}"),
        }
        names.push(name);
    }
    names.sort();
    names
}

#[test]
fn ctrl_c_stops_cleanly_and_writes_what_was_simulated() {
    let dir = common::scratch_path("interrupt", "");
    let _ = std::fs::remove_dir_all(&dir);
    let (child, err) = start(&dir);
    interrupt(&child);
    let (status, rest, out) = finish(child, err);
    assert!(status.success(), "{rest}");
    assert!(rest.contains("interrupted: stopped after"), "{rest}");
    assert!(out.contains("wrote report.json"), "{out}");
    let names = check_complete(&dir);
    assert!(names.contains(&"report.json".to_string()) && names.contains(&"spikes.csv".to_string()), "{names:?}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    let steps = config["steps"].as_u64().unwrap();
    assert!(steps > 0 && steps < 1_000_000, "{steps}");
    assert!(config["stopped"].as_str().unwrap().starts_with("interrupted"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["steps"].as_u64(), Some(steps), "the report covers the steps done");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_ctrl_c_quits_at_once_without_partial_files() {
    let dir = common::scratch_path("interrupt2", "");
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, _err) = start(&dir);
    interrupt(&child);
    interrupt(&child);
    let status = child.wait().unwrap();
    // Quit at once (130), or the first Ctrl-C's clean stop finished first (0).
    assert!(matches!(status.code(), Some(0) | Some(130)), "{status:?}");
    check_complete(&dir);
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM (what a batch scheduler or `kill` sends) stops as cleanly as Ctrl-C: the
/// run writes complete files for the steps done.
#[test]
fn sigterm_stops_cleanly_and_writes_what_was_simulated() {
    let dir = common::scratch_path("term", "");
    let _ = std::fs::remove_dir_all(&dir);
    let (child, err) = start(&dir);
    signal(&child, "-TERM");
    let (status, rest, _) = finish(child, err);
    assert!(status.success(), "{rest}");
    assert!(rest.contains("interrupted: stopped after"), "{rest}");
    let names = check_complete(&dir);
    assert!(names.contains(&"report.json".to_string()), "{names:?}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert!(config["stopped"].as_str().unwrap().starts_with("interrupted"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `kill -9` while a run writes its folder leaves the previous run's complete folder
/// or the new one's, never a mix: every file parses, and every report in it is of one
/// run (the same step count).
#[test]
fn kill_9_while_writing_leaves_one_complete_folder() {
    let dir = common::scratch_path("kill9", "");
    let _ = std::fs::remove_dir_all(&dir);
    let run = |steps: &str| {
        Command::new(env!("CARGO_BIN_EXE_neuromap"))
            .args(["run", "netlists/lsm.toml", "--hw", "spinnaker2", "--steps", steps, "-o"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs")
    };
    let first = run("7").wait_with_output().unwrap();
    assert!(first.status.success());
    let steps_of = |name: &str| -> u64 {
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        v["steps"].as_u64().unwrap_or_else(|| panic!("{name} has no steps"))
    };
    for attempt in 0..4 {
        let mut child = run("9");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        while !line.starts_with("writing") {
            line.clear();
            assert!(err.read_line(&mut line).unwrap() > 0, "the run ended before writing");
        }
        signal(&child, "-KILL");
        let _ = child.wait();
        let names = check_complete(&dir);
        assert!(names.contains(&"report.json".to_string()), "attempt {attempt}: {names:?}");
        let steps = [steps_of("config.json"), steps_of("report.json"), steps_of("summary.json")];
        assert!(steps == [7; 3] || steps == [9; 3], "attempt {attempt}: a mixed folder, steps {steps:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-C once the chip has stopped at its time limit, while the checks (the quantised
/// and f64 reference models, simulated beside the chip) may still run: the run
/// succeeds and writes its files, and either the checks had already covered the chip's
/// steps (they run beside it, and are often ahead), or they are cut short and the run
/// says over how many steps the chip was compared.
#[test]
fn ctrl_c_during_the_checks_cuts_them_short() {
    let dir = common::scratch_path("checks", "");
    let _ = std::fs::remove_dir_all(&dir);
    let (child, err) = start_until(&dir, &["--time-limit", "5"], "checking");
    interrupt(&child);
    let (status, rest, out) = finish(child, err);
    assert!(status.success(), "{rest}");
    let cut = out.contains("chip = quantised functional model: identical over the first");
    assert!(cut || out.contains("chip = quantised functional model: identical ("), "{out}");
    assert_eq!(cut, out.contains("the checks stopped early (interrupted)"), "{out}");
    let names = check_complete(&dir);
    assert!(names.contains(&"report.json".to_string()), "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A time limit reached before the simulation starts (here while the network is built)
/// ends the run with an error and writes nothing.
#[test]
fn a_time_limit_reached_while_preparing_writes_nothing() {
    let dir = common::scratch_path("prepare", "");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_neuromap"))
        .args(["run", "netlists/brunel_10k.toml", "--hw", "spinnaker1-spinn5", "--steps", "1000"])
        .args(["--time-limit", "0.001", "-o"])
        .arg(&dir)
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("time limit of 0.001 s reached before the run could stop cleanly"), "{err}");
    assert!(!dir.exists(), "nothing is written");
}
