//! The golden-corpus workflow (`neuromap snapshot` / `neuromap verify`): a corpus
//! recorded, then checked after one change at a time, with and without budgets.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use neuromap::pipeline::corpus;

fn temp_corpus(tag: &str, budget: &str) -> PathBuf {
    let dir = common::scratch_path(&format!("corpus-{tag}"), "");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("netlists/brunel_1k.toml", dir.join("net.toml")).unwrap();
    let hw = Path::new(env!("CARGO_MANIFEST_DIR")).join("hw-models/spinnaker1-spinn5.toml");
    std::fs::write(
        dir.join("corpus.toml"),
        format!(
            "[corpus]\nsteps = 150\n\n[[case]]\nnetlist = \"net.toml\"\nhw = [{:?}]\n{budget}",
            hw.display().to_string()
        ),
    )
    .unwrap();
    dir
}

fn edit(dir: &Path, from: &str, to: &str) {
    let p = dir.join("net.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains(from));
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn verify_fails_on_any_change_without_budgets() {
    let dir = temp_corpus("exact", "");
    let c = corpus::load(&dir).unwrap();
    assert_eq!(c.cases.len(), 1);
    assert_eq!(c.cases[0].id, "net@spinnaker1-spinn5");
    corpus::snapshot(&c, 1).unwrap();
    let v = corpus::verify(&c, 2).unwrap();
    assert!(v[0].ok, "{}", v[0].report);
    // One weight changes: the spikes change, and verify says so.
    edit(&dir, "weight = 1.25", "weight = 1.35");
    let v = corpus::verify(&c, 1).unwrap();
    assert!(!v[0].ok);
    assert!(v[0].report.contains("spikes"), "{}", v[0].report);
    // The command fails with exit status 3 and prints the diff.
    let out = Command::new(env!("CARGO_BIN_EXE_neuromap")).args(["verify", dir.to_str().unwrap()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("FAIL net@spinnaker1-spinn5") && text.contains("spikes"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn budgets_decide_what_may_change() {
    // A loose energy budget lets a small change of activity through.
    let dir = temp_corpus("loose", "\n[budget]\nenergy = \"+50%\"\ncores = \"+0\"\n");
    let c = corpus::load(&dir).unwrap();
    corpus::snapshot(&c, 1).unwrap();
    edit(&dir, "weight = 1.25", "weight = 1.3");
    let v = corpus::verify(&c, 1).unwrap();
    assert!(v[0].ok, "{}", v[0].report);
    assert!(v[0].report.contains("spikes"), "the diff is still shown: {}", v[0].report);
    std::fs::remove_dir_all(&dir).unwrap();
    // An exact spike budget does not.
    let dir = temp_corpus("strict", "\n[budget]\nspikes = \"exact\"\n");
    let c = corpus::load(&dir).unwrap();
    corpus::snapshot(&c, 1).unwrap();
    edit(&dir, "weight = 1.25", "weight = 1.3");
    let v = corpus::verify(&c, 1).unwrap();
    assert!(!v[0].ok, "{}", v[0].report);
    assert!(v[0].report.contains("budget broken: spikes"), "{}", v[0].report);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_corpus_file_is_a_diagnostic() {
    let dir = temp_corpus("bad", "\n[budget]\nenergy = \"lots\"\n");
    let d = corpus::load(&dir).unwrap_err();
    let text = d.to_string();
    assert!(text.contains("corpus.toml") && text.contains("energy"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The project's own corpus holds.
#[test]
fn the_project_corpus_verifies() {
    let c = corpus::load(Path::new("tests/corpus")).unwrap();
    for v in corpus::verify(&c, 2).unwrap() {
        assert!(v.ok, "{}: {}", v.id, v.report);
    }
}
