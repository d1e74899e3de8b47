//! `neuromap table`: networks on models of every family, one row each.

use crate::*;

/// `neuromap table`: every network on every model, one row each.
pub(crate) fn table(a: &TableArgs, color: bool) -> Result<(), Failure> {
    let mut models = Vec::new();
    for h in &a.hw {
        if h == "all" {
            let mut names: Vec<String> = std::fs::read_dir(
                neuromap_pipeline::resolve_hw("spinnaker1").parent().unwrap_or(Path::new("hw-models")),
            )
            .map_err(|e| anyhow::anyhow!("hw-models/: {e}"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()))
            .collect();
            names.sort();
            models.extend(names);
        } else {
            models.push(h.clone());
        }
    }
    let mut rows = Vec::new();
    for net in &a.nets {
        for m in &models {
            load_hw(m, color)?;
            let o = neuromap_pipeline::RunOptions { steps: a.steps, ..Default::default() };
            let mut job = neuromap_pipeline::load_job(net, m, &o).map_err(|e| anyhow::anyhow!("{e}"))?;
            job.map.hold_to_dt = a.hold_to_dt;
            let name = net.file_stem().map_or_else(String::new, |s| s.to_string_lossy().to_string());
            eprintln!("{name} on {m} ...");
            rows.push(neuromap_pipeline::any::table_row(job, &name));
        }
    }
    let md = neuromap_report::table_markdown(&rows_text(&rows));
    print!("{md}");
    if let Some(out) = &a.output {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let text = format!("<!-- Written by `neuromap {}`; run it again to refresh. -->\n\n{md}", args.join(" "));
        write::write_atomic(out, text.as_bytes())?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// The table's header and cells.
pub(crate) fn rows_text(rows: &[neuromap_pipeline::any::TableRow]) -> Vec<Vec<String>> {
    use neuromap_report::{fmt_joules, fmt_time};
    let o = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("-".to_string(), f);
    let pct = |x: f64| format!("{:.0} %", 100.0 * x);
    let mut out = vec![
        [
            "network",
            "model",
            "family",
            "steps",
            "wall time",
            "slow-down",
            "allocated",
            "in use",
            "dynamic",
            "in use per synaptic event",
            "borrowed",
            "assumed",
            "note",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for r in rows {
        out.push(vec![
            r.network.clone(),
            r.model.clone(),
            r.family.clone(),
            r.steps.to_string(),
            o(r.wall_s, &fmt_time),
            o(r.slowdown, &|x| format!("{x:.2}")),
            o(r.allocated_j, &fmt_joules),
            o(r.in_use_j, &fmt_joules),
            o(r.dynamic_j, &fmt_joules),
            o(r.in_use_per_event_j, &fmt_joules),
            o(r.borrowed, &pct),
            o(r.assumed, &pct),
            {
                // The first clause of the note: the reason, not its whole story.
                let n = r.note.replace('|', "/");
                match n.char_indices().nth(140) {
                    Some((i, _)) => format!("{}…", &n[..i]),
                    None => n,
                }
            },
        ]);
    }
    out
}
