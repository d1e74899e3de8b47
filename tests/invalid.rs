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

/// A mistake far along a very long line (past column 65,535, where miette's renderer
/// panics) is shown through a window around it, at its own line and column.
#[test]
fn a_mistake_on_a_very_long_line_is_shown_through_a_window() {
    let long = "x".repeat(70_000);
    let text = format!("[network]\nname = \"{long}\" junk\ndt = 1.0\n");
    let diags = match neuromap::import::load_str("long.toml", &text) {
        Ok(_) => panic!("a syntax error loaded"),
        Err(d) => d,
    };
    let shown = neuromap_cli::render_diagnostics(&diags, false);
    assert!(shown.contains("long.toml:2:"), "{shown}");
    assert!(shown.contains("junk"), "{}", &shown[..shown.len().min(2000)]);
    assert!(shown.len() < 5_000, "{} bytes rendered", shown.len());
    // A long line whose mistake is near its start is windowed too.
    let text = format!("[network]\nname = 5 \"{long}\"\n");
    let diags = neuromap::import::load_str("long.toml", &text).err().unwrap();
    let shown = neuromap_cli::render_diagnostics(&diags, false);
    assert!(shown.contains("long.toml:2:") && shown.len() < 5_000, "{}", &shown[..shown.len().min(2000)]);
}

/// A huge string where a name belongs (here a 2 MB connector kind) gives a short
/// diagnostic: the quoted text is cut, and no "did you mean" is computed for it (the
/// edit distance is quadratic; a 24 MB string took 25 s and 4.5 GiB).
#[test]
fn a_huge_string_gives_a_short_diagnostic() {
    let huge = "x".repeat(2_000_000);
    let text = format!(
        "[network]\nname = \"h\"\ndt = 1.0\n\n[[population]]\nname = \"p\"\nsize = 2\nmodel = \"lif\"\n\n\
         [[projection]]\npre = \"p\"\npost = \"p\"\nconnector = \"{huge}\"\nweight = 0.5\n"
    );
    let Err(diags) = neuromap::import::load_str("h.toml", &text) else { panic!("an unknown connector loaded") };
    let shown = neuromap_cli::render_diagnostics(&diags, false);
    let head: String = shown.chars().take(2000).collect();
    assert!(shown.contains("h.toml:13:13") && shown.contains("unknown connector"), "{head}");
    assert!(shown.contains("more characters"), "the quoted text is cut");
    assert!(shown.len() < 5_000, "{} bytes rendered", shown.len());
    // A near miss still gets its suggestion.
    let near = text.replace(&huge, "one_to_onw");
    let shown = neuromap_cli::render_diagnostics(&neuromap::import::load_str("h.toml", &near).err().unwrap(), false);
    assert!(shown.contains("did you mean `one_to_one`"), "{shown}");
}

/// An inhibitory projection whose weights are all positive loads (the file is usable)
/// but draws a warning at the weight: weights keep their sign.
#[test]
fn a_positive_inhibitory_weight_is_warned() {
    let text = "[network]\nname = \"w\"\ndt = 1.0\n\n[[population]]\nname = \"p\"\nsize = 2\nmodel = \"lif\"\n\n\
                [[projection]]\npre = \"p\"\npost = \"p\"\nreceptor = \"inhibitory\"\nconnector = \"all_to_all\"\nweight = 0.5\n";
    let n = neuromap::import::load_str("w.toml", text).unwrap();
    let w: Vec<String> = n.warnings.iter().map(|d| d.to_string()).collect();
    assert!(
        w.len() == 1 && w[0].starts_with("w.toml:15:10: warning:") && w[0].contains("weights keep their sign"),
        "{w:?}"
    );
    let negative = text.replace("weight = 0.5", "weight = -0.5");
    assert!(neuromap::import::load_str("w.toml", &negative).unwrap().warnings.is_empty());
}
