//! Every file in `netlists/invalid/` is rejected with diagnostics that name file, line
//! and column; the rendered text is snapshot-tested.

use neuromap::import::load_path;

#[test]
fn invalid_netlists_are_diagnosed() {
    insta::glob!("../netlists/invalid", "*.toml", |path| {
        let rel = std::path::Path::new("netlists/invalid").join(path.file_name().unwrap());
        let diags = match load_path(&rel) {
            Ok(_) => panic!("{} loaded, but it is in the invalid corpus", rel.display()),
            Err(d) => d,
        };
        assert!(diags.has_errors());
        for d in diags.iter() {
            assert!(d.span.is_some(), "{d}: no line and column");
        }
        insta::assert_snapshot!(neuromap_cli::render_diagnostics(&diags, false));
    });
}

/// The corpus really covers what the foundation promises.
#[test]
fn the_invalid_corpus_has_at_least_twenty_files() {
    let n = std::fs::read_dir("netlists/invalid")
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "toml"))
        .count();
    assert!(n >= 20, "{n} files");
}
