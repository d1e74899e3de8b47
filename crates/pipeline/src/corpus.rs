//! Golden corpora: netlists × chip models recorded once (`neuromap snapshot DIR`) and
//! checked on every commit (`neuromap verify DIR`) with the semantic diff and budgets.
//!
//! A corpus is a folder with `corpus.toml`:
//!
//! ```toml
//! [corpus]
//! steps = 300                  # default run length of every case
//!
//! [[case]]
//! netlist = "../../netlists/brunel_1k.toml"   # relative to this folder
//! hw = ["spinnaker1-spinn5", "spinnaker1"]      # model names or paths
//! steps = 200                  # optional, per case
//! scale = 0.02                 # optional, per case
//!
//! [budget]                     # optional: without it, any change fails
//! energy = "+2%"
//! latency = "+5%"
//! cores = "+0"
//! spikes = "exact"
//! ```
//!
//! `snapshot` writes `golden/<network>@<model>/` with `report.json` (no wall time),
//! `mapping.json` and `summary.txt` for every case × model. `verify` runs them again
//! and diffs mapping and report against the golden ones: with budgets, it fails on a
//! broken budget; without, on any change.

use std::path::{Path, PathBuf};

use neuromap_diag::{Diagnostics, SourceFile};
use neuromap_report::diff::{Budget, Diff};

use crate::{JobError, Outcome, RunOptions, map_and_run};

/// One netlist on one chip model.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    /// `<network file stem>@<model>`: the golden folder's name.
    pub id: String,
    pub netlist: PathBuf,
    pub hw: String,
    pub steps: u32,
    pub scale: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Corpus {
    pub dir: PathBuf,
    pub cases: Vec<Case>,
    pub budgets: Vec<Budget>,
}

/// Reads the budgets of a `[budget]` table (`METRIC = "LIMIT"` lines), recording a
/// diagnostic for each bad limit.
pub fn budget_table(t: &neuromap_diag::toml::Table) -> Vec<Budget> {
    let doc = t.doc();
    let mut out = Vec::new();
    for (k, v) in t.entries() {
        let Some(limit) = v.get::<String>() else { continue };
        match format!("{}={limit}", k.value).parse() {
            Ok(b) => out.push(b),
            Err(e) => doc.emit(doc.error(v.span(), e).with_label("expected \"+N%\", \"+N\" or \"exact\"")),
        }
    }
    out
}

/// Reads `DIR/corpus.toml`.
pub fn load(dir: &Path) -> Result<Corpus, Diagnostics> {
    let path = dir.join("corpus.toml");
    let name = path.display().to_string();
    let text =
        neuromap_diag::read_input_text(&path).map_err(|e| Diagnostics::unreadable(name.clone(), "the corpus", &e))?;
    parse(dir, &name, text)
}

/// Parses the text of a `corpus.toml` (named `name`) of the corpus folder `dir`.
pub fn parse(dir: &Path, name: &str, text: String) -> Result<Corpus, Diagnostics> {
    let file = SourceFile::new(name.to_string(), text);
    let doc = neuromap_diag::toml::Document::parse(&file);
    let mut corpus = Corpus { dir: dir.to_path_buf(), cases: Vec::new(), budgets: Vec::new() };
    if !doc.has_errors() {
        let root = doc.root();
        let mut steps = 1000;
        if let Some(c) = root.get("corpus").and_then(|v| v.table("[corpus]")) {
            if let Some(s) = c.opt::<u64>("steps") {
                steps = s.value.min(u64::from(u32::MAX)) as u32;
            }
            c.finish();
        }
        if let Some(cases) = root.req_value("case", "an array of [[case]] tables").and_then(|v| v.array()) {
            {
                for v in cases {
                    let Some(t) = v.table("[[case]]") else { continue };
                    let netlist = t.req::<String>("netlist");
                    let hw = t.req_value("hw", "a list of chip model names").and_then(|v| v.array_of::<String>());
                    let case_steps = t.opt::<u64>("steps").map_or(steps, |s| s.value.min(u64::from(u32::MAX)) as u32);
                    let scale = t.opt::<f64>("scale").map(|s| s.value);
                    if let (Some(n), Some(hw)) = (netlist, hw) {
                        let netlist = dir.join(&n.value);
                        let stem = netlist.file_stem().map_or_else(|| n.value.clone(), |s| s.to_string_lossy().into());
                        for h in hw {
                            let model =
                                Path::new(&h).file_stem().map_or_else(|| h.clone(), |s| s.to_string_lossy().into());
                            corpus.cases.push(Case {
                                id: format!("{stem}@{model}"),
                                netlist: netlist.clone(),
                                hw: h,
                                steps: case_steps,
                                scale,
                            });
                        }
                    }
                    t.finish();
                }
            }
        }
        if let Some(b) = root.get("budget").and_then(|v| v.table("[budget]")) {
            corpus.budgets = budget_table(&b);
        }
        root.finish();
    }
    let d = doc.into_diagnostics();
    if d.has_errors() { Err(d) } else { Ok(corpus) }
}

impl Corpus {
    pub fn golden(&self, case: &Case) -> PathBuf {
        self.dir.join("golden").join(&case.id)
    }

    fn run(&self, case: &Case, threads: usize) -> Result<Outcome, JobError> {
        let hw = if Path::new(&case.hw).extension().is_some() {
            self.dir.join(&case.hw).display().to_string()
        } else {
            case.hw.clone()
        };
        let o = RunOptions { steps: Some(case.steps), scale: case.scale, threads, ..RunOptions::default() };
        map_and_run(&case.netlist, &hw, &o)
    }
}

/// The three files of a golden record.
fn record(out: &Outcome) -> [(&'static str, String); 3] {
    [
        ("report.json", neuromap_report::write::pretty_json(&out.report_json(false))),
        ("mapping.json", out.mapping_json()),
        ("summary.txt", out.summary()),
    ]
}

/// Runs every case and writes its golden record; returns the folders written.
pub fn snapshot(c: &Corpus, threads: usize) -> Result<Vec<PathBuf>, JobError> {
    let mut written = Vec::new();
    for case in &c.cases {
        let out = c.run(case, threads).map_err(|e| in_case(case, e))?;
        let dir = c.golden(case);
        for (name, body) in record(&out) {
            neuromap_report::write::write_atomic(&dir.join(name), body.as_bytes())
                .map_err(|e| JobError::Input(format!("{e}: {}", e.source)))?;
        }
        written.push(dir);
    }
    Ok(written)
}

fn in_case(case: &Case, e: JobError) -> JobError {
    JobError::Input(format!("case {}: {e}", case.id))
}

/// The verdict on one case.
#[derive(Debug)]
pub struct Verdict {
    pub id: String,
    pub ok: bool,
    /// The diff (metrics that changed and itemised changes) and the breaches.
    pub report: String,
    pub diff: Option<Diff>,
}

/// Runs every case again and compares it with its golden record.
pub fn verify(c: &Corpus, threads: usize) -> Result<Vec<Verdict>, JobError> {
    let mut out = Vec::new();
    for case in &c.cases {
        let dir = c.golden(case);
        let read = |name: &str| std::fs::read_to_string(dir.join(name));
        let (Ok(old_report), Ok(old_mapping), Ok(old_summary)) =
            (read("report.json"), read("mapping.json"), read("summary.txt"))
        else {
            out.push(Verdict {
                id: case.id.clone(),
                ok: false,
                report: format!("no golden record in {}: run `neuromap snapshot {}`", dir.display(), c.dir.display()),
                diff: None,
            });
            continue;
        };
        let new = c.run(case, threads).map_err(|e| in_case(case, e))?;
        let [(_, new_report), (_, new_mapping), (_, new_summary)] = record(&new);
        let parse = |s: &str, what: &str| {
            serde_json::from_str::<serde_json::Value>(s)
                .map_err(|e| JobError::Input(format!("{}/{what}: {e}", dir.display())))
        };
        let dm = neuromap_report::diff::diff(&parse(&old_mapping, "mapping.json")?, &parse(&new_mapping, "")?)
            .map_err(|e| JobError::Input(format!("{}: {e}", dir.display())))?;
        let dr = neuromap_report::diff::diff(&parse(&old_report, "report.json")?, &parse(&new_report, "")?)
            .map_err(|e| JobError::Input(format!("{}: {e}", dir.display())))?;
        let d = Diff {
            kind: "mapping and run".into(),
            metrics: dm.metrics.into_iter().chain(dr.metrics).collect(),
            changes: dm.changes.into_iter().chain(dr.changes).collect(),
        };
        let changed = d.metrics.iter().any(|m| m.old != m.new) || !d.changes.is_empty();
        let mut report = String::new();
        let ok = if c.budgets.is_empty() {
            if changed || old_summary != new_summary {
                report.push_str("changed, and the corpus sets no budgets, so any change fails\n");
                if !changed {
                    report.push_str(&text_change(&old_summary, &new_summary));
                }
            }
            !changed && old_summary == new_summary
        } else {
            let breaches = neuromap_report::diff::check(&d, &c.budgets);
            for b in &breaches {
                report.push_str(&format!("budget broken: {}\n", b.message));
            }
            breaches.is_empty()
        };
        if changed {
            report.push_str(&neuromap_report::diff::to_text(&only_changed(&d), 20));
        }
        out.push(Verdict { id: case.id.clone(), ok, report, diff: Some(d) });
    }
    Ok(out)
}

/// The diff with unchanged metrics left out (the text a failing check prints).
fn only_changed(d: &Diff) -> Diff {
    Diff {
        kind: d.kind.clone(),
        metrics: d.metrics.iter().filter(|m| m.old != m.new).cloned().collect(),
        changes: d.changes.clone(),
    }
}

/// The first lines where two summaries differ.
fn text_change(old: &str, new: &str) -> String {
    let mut s = String::new();
    for (a, b) in old.lines().zip(new.lines()).filter(|(a, b)| a != b).take(5) {
        s.push_str(&format!("  golden: {a}\n  now:    {b}\n"));
    }
    s
}
