//! `neuromap diff`: semantic differences and budgets.

use crate::*;

pub(crate) fn budgets(a: &DiffArgs, color: bool) -> Result<Vec<neuromap_report::diff::Budget>, Failure> {
    let mut out = Vec::new();
    for b in &a.budget {
        out.push(b.parse().map_err(|e: String| anyhow::anyhow!("{e}"))?);
    }
    if let Some(path) = &a.budget_file {
        let name = path.display().to_string();
        let text = neuromap_diag::read_input_text(path).map_err(|e| {
            report(&neuromap_diag::Diagnostics::unreadable(name.clone(), "the budget file", &e), color);
            Failure::Input
        })?;
        let file = neuromap_diag::SourceFile::new(name, text);
        let doc = neuromap_diag::toml::Document::parse(&file);
        if !doc.has_errors() {
            let root = doc.root();
            match root.get("budget").and_then(|v| v.table("[budget]")) {
                Some(t) => out.extend(neuromap_pipeline::corpus::budget_table(&t)),
                None => root.missing("budget", "a table of METRIC = \"LIMIT\" lines"),
            }
            root.finish();
        }
        let d = doc.into_diagnostics();
        if d.has_errors() {
            report(&d, color);
            return Err(Failure::Input);
        }
    }
    Ok(out)
}

pub(crate) fn diff(a: &DiffArgs, color: bool) -> Result<(), Failure> {
    let old = read_json(&a.old, color)?;
    let new = read_json(&a.new, color)?;
    let budgets = budgets(a, color)?;
    let d = neuromap_report::diff::diff(&old, &new)
        .map_err(|e| anyhow::anyhow!("{} vs {}: {e}", a.old.display(), a.new.display()))?;
    let breaches = neuromap_report::diff::check(&d, &budgets);
    if a.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            diff: &'a neuromap_report::diff::Diff,
            breaches: &'a [neuromap_report::diff::Breach],
        }
        print!("{}", write::pretty_json(&Out { diff: &d, breaches: &breaches }));
    } else {
        print!("{}", neuromap_report::diff::to_text(&d, a.max_items));
        if !budgets.is_empty() {
            if breaches.is_empty() {
                println!("\nall {} budget(s) hold", budgets.len());
            } else {
                println!("\n{} budget(s) broken:", breaches.len());
                for b in &breaches {
                    println!("  {}", b.message);
                }
            }
        }
    }
    if breaches.is_empty() { Ok(()) } else { Err(Failure::Budget) }
}
