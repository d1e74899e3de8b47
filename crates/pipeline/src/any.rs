//! One entry for every family: [`run_any`] runs a job on whatever family its model
//! belongs to and returns the outcome behind one face ([`AnyOutcome`]): its ledger, its
//! stable summary, its warnings. Tables across families (`neuromap table`) and any
//! caller that does not care which family ran use it.

use neuromap_cost::{Basis, Ledger};

use crate::binary::{BinaryOutcome, run_binary_job};
use crate::crossbar::{XbarOutcome, run_crossbar_job};
use crate::neurocore::{NcoreOutcome, run_neurocore_job};
use crate::{Job, JobError, Outcome, run_job};

/// The outcome of a job on any family.
#[derive(Debug)]
pub enum AnyOutcome {
    ArmCore(Box<Outcome>),
    Crossbar(Box<XbarOutcome>),
    Neurocore(Box<NcoreOutcome>),
    Binary(Box<BinaryOutcome>),
}

/// A family's run path: the pipeline (and outcome) that serves a model of it. The
/// arm-core path also serves hybrid chips (arm-core models with `[[part]]`s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunPath {
    ArmCore,
    Crossbar,
    Neurocore,
    Binary,
}

/// A hardware family as the generic layers see it: its name, the run path that serves
/// a model of it alone, and what it can do as a part of a hybrid chip. Adding a family
/// is its own crate (parameters, mapping, counting, pricing), one implementation of
/// this trait, and one line of [`REGISTRY`].
pub trait Family: Sync + std::fmt::Debug {
    /// The name a model file's `family` gives.
    fn name(&self) -> &'static str;
    /// The run path of a model of this family alone.
    fn path(&self) -> RunPath;
    /// The family as tiles beside the cores of a hybrid chip, when it can be.
    fn part(&self) -> Option<&'static dyn crate::hybrid::PartFamily> {
        None
    }
}

macro_rules! family {
    ($ty:ident, $name:literal, $path:expr, $part:expr) => {
        #[derive(Debug)]
        pub struct $ty;
        impl Family for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn path(&self) -> RunPath {
                $path
            }
            fn part(&self) -> Option<&'static dyn crate::hybrid::PartFamily> {
                $part
            }
        }
    };
}

family!(ArmCore, "arm-core", RunPath::ArmCore, None);
family!(Crossbar, "crossbar", RunPath::Crossbar, Some(&crate::hybrid::CrossbarPart));
family!(Neurocore, "neurocore", RunPath::Neurocore, None);
family!(ThresholdLogic, "threshold-logic", RunPath::Binary, Some(&crate::hybrid::THRESHOLD_LOGIC));
family!(MacBnn, "mac-bnn", RunPath::Binary, Some(&crate::hybrid::MAC_BNN));

/// The registry: every family a model file may name. The only place in the generic
/// layers that reads a family's name; a new family adds its line here.
pub const REGISTRY: &[&dyn Family] = &[&ArmCore, &Crossbar, &Neurocore, &ThresholdLogic, &MacBnn];

/// The registered family of `model` (the loader admits only registered families).
pub fn family_of(model: &neuromap_hw::HwModel) -> Option<&'static dyn Family> {
    REGISTRY.iter().copied().find(|f| f.name() == model.family)
}

/// The run path of `model`'s family.
pub fn run_path(model: &neuromap_hw::HwModel) -> RunPath {
    family_of(model).map_or(RunPath::ArmCore, |f| f.path())
}

fn path(p: RunPath) -> fn(Job) -> Result<AnyOutcome, JobError> {
    match p {
        RunPath::Crossbar => |j| run_crossbar_job(j).map(|o| AnyOutcome::Crossbar(Box::new(o))),
        RunPath::Neurocore => |j| run_neurocore_job(j).map(|o| AnyOutcome::Neurocore(Box::new(o))),
        RunPath::Binary => |j| run_binary_job(j).map(|o| AnyOutcome::Binary(Box::new(o))),
        RunPath::ArmCore => |j| run_job(j, &mut |_| true).map(|o| AnyOutcome::ArmCore(Box::new(o))),
    }
}

/// Runs `job` on its model's family.
pub fn run_any(job: Job) -> Result<AnyOutcome, JobError> {
    path(run_path(&job.model))(job)
}

impl AnyOutcome {
    pub fn job(&self) -> &Job {
        match self {
            AnyOutcome::ArmCore(o) => &o.job,
            AnyOutcome::Crossbar(o) => &o.job,
            AnyOutcome::Neurocore(o) => &o.job,
            AnyOutcome::Binary(o) => &o.job,
        }
    }

    /// The priced run (`None` when an arm-core model gives no energy figures).
    pub fn ledger(&self) -> Option<&Ledger> {
        match self {
            AnyOutcome::ArmCore(o) => o.energy.as_ref(),
            AnyOutcome::Crossbar(o) => Some(&o.energy),
            AnyOutcome::Neurocore(o) => Some(&o.energy),
            AnyOutcome::Binary(o) => Some(&o.energy),
        }
    }

    /// Per population, the chip's spikes against the f64 reference's, when the family
    /// compares them (ARM cores and crossbars; a binary chip computes the reference
    /// exactly, and a neurocore run is compared with nothing).
    pub fn fidelity(&self) -> Option<&[neuromap_sim::fidelity::PopFidelity]> {
        match self {
            AnyOutcome::ArmCore(o) => Some(&o.fidelity),
            AnyOutcome::Crossbar(o) => Some(&o.fidelity),
            AnyOutcome::Binary(_) => Some(&[]),
            AnyOutcome::Neurocore(_) => None,
        }
    }

    /// NeuroBench's memory footprint in the chip's formats.
    pub fn footprint(&self) -> neuromap_report::Footprint {
        match self {
            AnyOutcome::ArmCore(o) => o.footprint(),
            AnyOutcome::Crossbar(o) => o.footprint(),
            AnyOutcome::Neurocore(o) => o.footprint(),
            AnyOutcome::Binary(o) => o.footprint(),
        }
    }

    /// The stable text the family's golden tests snapshot.
    pub fn summary(&self) -> String {
        match self {
            AnyOutcome::ArmCore(o) => o.summary(),
            AnyOutcome::Crossbar(o) => o.summary(),
            AnyOutcome::Neurocore(o) => o.summary(),
            AnyOutcome::Binary(o) => o.summary(),
        }
    }

    /// The run's account for a reader (everything after the spike table): the same
    /// text for every family but the arm-core path, whose CLI adds its figures.
    pub fn report_text(&self) -> String {
        match self {
            AnyOutcome::ArmCore(o) => {
                let mut s = o.assignment_text();
                s.push_str(&o.network_text());
                s.push_str(&o.energy_text());
                s.push_str(&neuromap_report::fidelity_text(&o.fidelity, crate::TAU_MS));
                s.push_str(&crate::warnings_text(&o.warnings));
                s
            }
            AnyOutcome::Crossbar(o) => {
                let mut s = format!("mapped in {:.3} s, simulated in {:.3} s\n", o.map_s, o.chip_s);
                s.push_str(&crate::crossbar::mapping_text(
                    &o.mapping,
                    &o.job.net,
                    o.run.result.steps,
                    Some(&o.run.counts),
                ));
                s.push_str(&o.check_text());
                s.push('\n');
                s.push_str(&neuromap_report::ledger_text(&o.energy));
                s.push('\n');
                s.push_str(&neuromap_report::fidelity_text(&o.fidelity, crate::TAU_MS));
                s.push_str(&crate::warnings_text(&o.warnings));
                s
            }
            AnyOutcome::Neurocore(o) => o.report_text(),
            AnyOutcome::Binary(o) => {
                let mut s = format!("mapped in {:.3} s, simulated in {:.3} s\n", o.map_s, o.chip_s);
                s.push_str(&o.mapping_text());
                let spikes: u64 = o.run.spike_counts.iter().sum();
                s.push_str(&format!("chip = reference: identical ({spikes} spikes)\n\n"));
                s.push_str(&o.energy_text());
                s
            }
        }
    }

    /// The run's HTML page: the arm-core path's page with its figures (as `neuromap
    /// run` writes `report.html`), else the summary and the report text.
    pub fn report_html(&self) -> String {
        let summary = self.run_summary(true);
        match self {
            AnyOutcome::ArmCore(o) => o.report_page(&summary).1,
            _ => {
                let j = self.job();
                let texts = [("summary", summary.to_text()), ("report", self.report_text())];
                neuromap_report::plot::html(&format!("{} on {}", j.net.name, j.model.name), &texts, &[])
            }
        }
    }

    /// The spike-count table and workload, as every family's report opens.
    pub fn run_summary(&self, wall: bool) -> neuromap_report::RunSummary {
        match self {
            AnyOutcome::ArmCore(o) => o.run_summary(wall),
            AnyOutcome::Crossbar(o) => o.run_summary(wall),
            AnyOutcome::Neurocore(o) => o.run_summary(wall),
            AnyOutcome::Binary(o) => o.run_summary(wall),
        }
    }

    /// The machine-readable report (`report.json`).
    pub fn report_json(&self, wall: bool) -> serde_json::Value {
        match self {
            AnyOutcome::ArmCore(o) => o.report_json(wall),
            AnyOutcome::Crossbar(o) => o.report_json(wall),
            AnyOutcome::Neurocore(o) => o.report_json(wall),
            AnyOutcome::Binary(o) => o.report_json(wall),
        }
    }

    /// The chip's spikes.
    pub fn spikes(&self) -> &neuromap_sim::RunResult {
        match self {
            AnyOutcome::ArmCore(o) => &o.chip.result,
            AnyOutcome::Crossbar(o) => &o.run.result,
            AnyOutcome::Neurocore(o) => &o.result,
            AnyOutcome::Binary(o) => &o.result,
        }
    }

    /// What a reader must not miss.
    pub fn warnings(&self) -> &[String] {
        match self {
            AnyOutcome::ArmCore(o) => &o.warnings,
            AnyOutcome::Crossbar(o) => &o.warnings,
            AnyOutcome::Neurocore(_) | AnyOutcome::Binary(_) => &[],
        }
    }
}

/// One row of a table across families.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TableRow {
    pub network: String,
    pub model: String,
    pub family: String,
    pub steps: u32,
    /// `None` when the network does not map; the reason is in `note`.
    pub wall_s: Option<f64>,
    pub slowdown: Option<f64>,
    pub allocated_j: Option<f64>,
    pub in_use_j: Option<f64>,
    pub dynamic_j: Option<f64>,
    /// Energy per synaptic event on the basis of the parts in use.
    pub in_use_per_event_j: Option<f64>,
    /// Share of the in-use energy resting on borrowed figures and on assumptions.
    pub borrowed: Option<f64>,
    pub assumed: Option<f64>,
    pub note: String,
}

/// A row for `job`: run it on its family and read the ledger.
pub fn table_row(job: Job, network: &str) -> TableRow {
    let mut family = job.model.family.to_string();
    for p in &job.model.parts {
        family = format!("{family}+{}", p.model.family);
    }
    let (model, steps) = (job.model.name.clone(), job.steps);
    let blank = |note: String| TableRow {
        network: network.to_string(),
        model: model.clone(),
        family: family.clone(),
        steps,
        wall_s: None,
        slowdown: None,
        allocated_j: None,
        in_use_j: None,
        dynamic_j: None,
        in_use_per_event_j: None,
        borrowed: None,
        assumed: None,
        note,
    };
    match run_any(job) {
        Err(e) => blank(match e {
            JobError::Map { message, .. } => format!("does not map: {message}"),
            e => e.to_string(),
        }),
        Ok(out) => match out.ledger() {
            None => blank("no energy figures".into()),
            Some(l) => {
                let u = l.basis(Basis::InUse);
                let mut note = out.warnings().join("; ");
                if let AnyOutcome::ArmCore(o) = &out
                    && let Some(h) = &o.hybrid
                {
                    let on: Vec<String> = h
                        .assignment
                        .placed
                        .iter()
                        .filter(|p| p.on != "cores")
                        .map(|p| format!("{} on {}", p.population, p.family))
                        .collect();
                    let on = if on.is_empty() { "every population on cores".to_string() } else { on.join(", ") };
                    note = if note.is_empty() { on } else { format!("{on}; {note}") };
                }
                if !l.time.real_time_kept() {
                    note = format!("overran its tick; {note}").trim_end_matches("; ").to_string();
                }
                TableRow {
                    wall_s: Some(l.time.wall_s),
                    slowdown: Some(l.time.slowdown),
                    allocated_j: Some(l.total(Basis::Allocated)),
                    in_use_j: Some(u.joules),
                    dynamic_j: Some(l.total(Basis::Dynamic)),
                    in_use_per_event_j: u.per_synaptic_event_j,
                    borrowed: Some(u.shares[2]),
                    assumed: Some(u.shares[3]),
                    ..blank(note)
                }
            }
        },
    }
}
