//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and every crash the fuzzers
//! ever found (`fuzz/regressions/<target>/`) through the fuzz targets' bodies
//! (`neuromap::fuzzing`): none may panic. See `fuzz/README.md` to run the fuzzers.

use std::path::Path;

fn replay(target: &str, body: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in ["fuzz/corpus", "fuzz/regressions"] {
        let Ok(entries) = std::fs::read_dir(Path::new(dir).join(target)) else { continue };
        let mut files: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let data = std::fs::read(&f).unwrap();
            let r = std::panic::catch_unwind(|| body(&data));
            assert!(r.is_ok(), "{} panics (replay with: cargo fuzz run {target} {})", f.display(), f.display());
            n += 1;
        }
    }
    n
}

#[test]
fn netlist_corpus() {
    assert!(replay("netlist", neuromap::fuzzing::netlist) > 10);
}

#[test]
fn hw_model_corpus() {
    assert!(replay("hw_model", neuromap::fuzzing::hw_model) > 10);
}

#[test]
fn diff_corpus() {
    assert!(replay("diff", neuromap::fuzzing::diff) > 5);
}

#[test]
fn corpus_corpus() {
    assert!(replay("corpus", neuromap::fuzzing::corpus) > 1);
}

#[test]
fn network_on_chip_corpus() {
    assert!(replay("network_on_chip", neuromap::fuzzing::network_on_chip) > 5);
}

#[test]
fn nir_corpus() {
    assert!(replay("nir", neuromap::fuzzing::nir) > 8);
}

#[test]
fn sanafe_corpus() {
    assert!(replay("sanafe", neuromap::fuzzing::sanafe) > 1);
}
