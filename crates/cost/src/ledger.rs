//! The one ledger every family is priced in, with the same rules for all:
//!
//! - **Time is what the hardware takes.** A family's simulator reports, per step, the
//!   time the chip needs (its slowest core, PE, tile or pipeline, and the network).
//!   The [`Pace`] of the chip turns that into wall time: a chip with a fixed timer
//!   (SpiNNaker) runs the whole run slower by one time-scale factor, the largest need
//!   over the tick, so that every step fits (sPyNNaker's `time_scale_factor`); a
//!   self-timed chip (Loihi's barrier, crossbars, binary arrays) lets each step last
//!   what it needs, at least its tick when it has one. The ratio of wall time to
//!   real time is the slow-down factor, reported with its cause.
//! - **Dynamic energy per counted action**; **static power per component over the
//!   wall time**, split into the parts the run uses and the parts allocated but idle.
//! - **Three bases** ([`Basis`]): the machine allocated (every powered part), the
//!   parts in use (unused ones power-gated) and dynamic only (the marginal cost).
//! - **Certainty**: every line rests on the least certain figure it uses
//!   ([`Certainty`]); reports give the share of energy on each kind.

use neuromap_hw::{Certainty, HwModel};
use serde::Serialize;

/// How a chip turns the time a step needs into the time it takes.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Pace {
    /// A fixed timer tick (s) for every step: when a step needs longer, the run is
    /// slowed by one factor (max need ÷ tick) so every step fits.
    Timer { tick_s: f64 },
    /// Each step lasts what it needs, at least `tick_s` when the chip keeps one.
    SelfTimed { tick_s: Option<f64> },
}

/// The run's time: what each step needed and what the hardware took.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Timeline {
    pub steps: u32,
    pub pace: Pace,
    /// Whether the time each step needs is known (a model without timing figures
    /// leaves it unknown; the run is then priced at its tick).
    pub need_known: bool,
    /// Per step: the time the hardware needs (s).
    #[serde(skip)]
    pub need_s: Vec<f64>,
    /// Per step: the time the hardware takes (s) under its pace.
    #[serde(skip)]
    pub step_s: Vec<f64>,
    /// The largest and mean need of a step (s).
    pub need_max_s: f64,
    pub need_mean_s: f64,
    /// Wall time of the run (s).
    pub wall_s: f64,
    /// The time the run should take: steps × tick (s), when the chip has a tick.
    pub real_time_s: Option<f64>,
    /// Wall time ÷ real time (1 when real time is kept or there is no tick).
    pub slowdown: f64,
    /// Steps whose need exceeded the tick.
    pub overrun_steps: usize,
    /// What made the run slow down (which component and which work), when it did.
    pub cause: Option<String>,
}

impl Timeline {
    /// The wall time of `need_s` (one entry per step) under `pace`. With `need_s`
    /// `None` the need is unknown and every step takes its tick.
    pub fn new(pace: Pace, steps: u32, need_s: Option<Vec<f64>>) -> Self {
        let need_known = need_s.is_some();
        let tick = match pace {
            Pace::Timer { tick_s } => Some(tick_s),
            Pace::SelfTimed { tick_s } => tick_s,
        };
        let need = need_s.unwrap_or_else(|| vec![tick.unwrap_or(0.0); steps as usize]);
        let need_max_s = need.iter().copied().fold(0.0, f64::max);
        let need_mean_s = need.iter().sum::<f64>() / need.len().max(1) as f64;
        // A need within rounding of the tick fits it.
        let over = |n: f64, t: f64| n > t * (1.0 + 1e-9);
        let step_s: Vec<f64> = match pace {
            Pace::Timer { tick_s } => {
                let factor = if over(need_max_s, tick_s) { need_max_s / tick_s } else { 1.0 };
                vec![tick_s * factor; need.len()]
            }
            Pace::SelfTimed { tick_s: Some(t) } => need.iter().map(|&n| if over(n, t) { n } else { t }).collect(),
            Pace::SelfTimed { tick_s: None } => need.clone(),
        };
        let wall_s: f64 = step_s.iter().sum();
        let real_time_s = tick.map(|t| t * need.len() as f64);
        let overrun_steps = tick.map_or(0, |t| need.iter().filter(|&&n| over(n, t)).count());
        let slowdown = match real_time_s {
            Some(r) if r > 0.0 && overrun_steps > 0 => wall_s / r,
            _ => 1.0,
        };
        Self {
            steps,
            pace,
            need_known,
            need_s: need,
            step_s,
            need_max_s,
            need_mean_s,
            wall_s,
            real_time_s,
            slowdown,
            overrun_steps,
            cause: None,
        }
    }

    /// Whether every step fitted its tick (true for a chip without one).
    pub fn real_time_kept(&self) -> bool {
        self.overrun_steps == 0
    }
}

/// What a line of energy is.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// Counted actions times their energy.
    Dynamic,
    /// Static power of parts the run uses, over the wall time.
    StaticInUse,
    /// Static power of parts allocated (powered) but unused, over the wall time.
    StaticIdle,
}

/// One priced line.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Line {
    /// The component: chip, core, router, tile, ADC, periphery, PE array, …
    pub component: String,
    /// What was counted (actions) or powered.
    pub what: String,
    /// How many actions, or for static lines the part-seconds powered.
    pub count: f64,
    pub joules: f64,
    pub term: Term,
    /// The least certain figure the line uses.
    pub certainty: Certainty,
    /// The figures it uses (`section.key`).
    pub figures: Vec<String>,
    /// For a static line of constant power: its parts and the power of each, so the
    /// line follows the wall time when the pace changes ([`Ledger::repaced`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power: Option<(f64, f64)>,
    /// On a hybrid chip: the part (tiles of another family) the line belongs to;
    /// `None` for the chip's own cores, routers and chips.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
}

/// The three bases every report prints.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Every powered part of the machine allocated.
    Allocated,
    /// The parts in use; unused ones power-gated.
    InUse,
    /// Dynamic energy only: the marginal cost of the run.
    Dynamic,
}

impl Basis {
    pub const ALL: [Basis; 3] = [Basis::Allocated, Basis::InUse, Basis::Dynamic];

    pub fn label(self) -> &'static str {
        match self {
            Basis::Allocated => "machine allocated",
            Basis::InUse => "parts in use",
            Basis::Dynamic => "dynamic only",
        }
    }

    fn counts(self, t: Term) -> bool {
        match self {
            Basis::Allocated => true,
            Basis::InUse => t != Term::StaticIdle,
            Basis::Dynamic => t == Term::Dynamic,
        }
    }
}

/// What the run did, for energy per unit of work.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Work {
    pub synaptic_events: u64,
    /// Neurons simulated (sources excluded), for energy per neuron per ms.
    pub neurons: u64,
    /// Simulated (biological) time per step (ms); 0 when steps are not timesteps.
    pub dt_ms: f64,
    /// Inferences (classifications, samples) the run made, when it makes them.
    pub inferences: Option<u64>,
}

/// A basis's totals and its energy per unit of work.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BasisTotals {
    pub basis: Basis,
    pub joules: f64,
    pub per_synaptic_event_j: Option<f64>,
    pub per_inference_j: Option<f64>,
    pub per_neuron_ms_j: Option<f64>,
    /// Energy × wall time (J·s).
    pub edp_js: f64,
    /// Share of the energy resting on each certainty, in [`Certainty::ALL`] order.
    pub shares: [f64; 4],
}

/// A priced run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Ledger {
    pub family: String,
    pub model: String,
    pub time: Timeline,
    pub work: Work,
    pub lines: Vec<Line>,
    /// Units in use and allocated of the component static power is charged per
    /// (chips, cores, tiles), for the report.
    pub parts: Vec<PartCount>,
    /// Notes the pricing wants a reader to see (e.g. "DVFS: off").
    pub notes: Vec<String>,
    /// Energy of each step on the allocated basis (J), when the family prices steps.
    #[serde(skip)]
    pub per_step_j: Vec<f64>,
    /// Energy and time by population (layer), where the family can split them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub by_population: Vec<PopulationShare>,
    /// On a hybrid chip: the time each part needed (its slowest step and its mean),
    /// the chip's own cores first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub part_time: Vec<PartTime>,
    /// Powered parts whose model gives no area figure: `area.KEY` of `model`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub area_missing: Vec<String>,
}

/// What one part of a hybrid chip needed per step.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PartTime {
    pub part: String,
    pub need_max_s: f64,
    pub need_mean_s: f64,
}

/// One population's (layer's) part of a run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PopulationShare {
    pub population: String,
    /// Cores, PEs or tiles it holds.
    pub parts: u64,
    /// Its dynamic energy (J).
    pub dynamic_j: f64,
    /// Its share of the static power of the parts in use, by the parts it holds (J).
    pub static_j: f64,
    /// The longest any of its parts needed in one step (s).
    pub worst_step_s: f64,
}

/// How many of a part the run used, of how many allocated.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PartCount {
    pub part: String,
    pub in_use: u64,
    pub allocated: u64,
    /// The area of one unit (mm²) and what that figure rests on, when the model gives
    /// it (the family's one `area` figure, e.g. `area.chip_mm2`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_mm2: Option<(f64, Certainty)>,
}

/// Silicon area of a run's parts: in use and allocated, over the parts whose model
/// gives an area.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Area {
    pub in_use_mm2: f64,
    pub allocated_mm2: f64,
    /// The least certain figure the area rests on.
    pub rests_on: Certainty,
    /// `part × units × mm² each`, for the report.
    pub parts: Vec<(String, u64, u64, f64)>,
    /// Powered parts not counted: their model gives no area.
    pub missing: Vec<String>,
}

impl Ledger {
    pub fn new(model: &HwModel, time: Timeline, work: Work) -> Self {
        Self {
            family: model.family.to_string(),
            model: model.name.clone(),
            time,
            work,
            lines: Vec::new(),
            parts: Vec::new(),
            notes: Vec::new(),
            per_step_j: Vec::new(),
            by_population: Vec::new(),
            part_time: Vec::new(),
            area_missing: Vec::new(),
        }
    }

    /// Dynamic energy: `count` actions of `each` joules.
    pub fn dynamic(&mut self, model: &HwModel, component: &str, what: &str, count: f64, each: f64, figures: &[&str]) {
        self.add(model, component, what, count, count * each, Term::Dynamic, figures);
    }

    /// Static power `watts` per unit of `part`, `in_use` units of `allocated`, over the
    /// wall time.
    pub fn static_power(
        &mut self,
        model: &HwModel,
        part: &str,
        in_use: u64,
        allocated: u64,
        watts: f64,
        figures: &[&str],
    ) {
        let idle = allocated.saturating_sub(in_use);
        let t = self.time.wall_s;
        for (units, what, term) in
            [(in_use, "static power (in use)", Term::StaticInUse), (idle, "static power (unused)", Term::StaticIdle)]
        {
            if units == 0 && term == Term::StaticIdle {
                continue;
            }
            let units = units as f64;
            self.add(model, part, what, units * t, units * t * watts, term, figures);
            if let Some(l) = self.lines.last_mut() {
                l.power = Some((units, watts));
            }
        }
        // A family powers one kind of part, whose area its model gives (a hybrid chip's
        // crossbar macro is its model's tile).
        let area_mm2 = model.unit_area();
        if area_mm2.is_none() {
            let key = neuromap_hw::family::family(model.family)
                .and_then(|defs| defs.iter().find(|d| d.section == "area"))
                .map_or_else(|| "area figure".to_string(), |d| d.path());
            self.area_missing.push(format!("{part} ({} gives no {key})", model.name));
        }
        self.parts.push(PartCount { part: part.to_string(), in_use, allocated: allocated.max(in_use), area_mm2 });
    }

    /// The run's silicon area (see [`Area`]); `None` when no part's model gives one.
    pub fn area(&self) -> Option<Area> {
        let with: Vec<&PartCount> = self.parts.iter().filter(|p| p.area_mm2.is_some()).collect();
        if with.is_empty() {
            return None;
        }
        let mut a = Area {
            in_use_mm2: 0.0,
            allocated_mm2: 0.0,
            rests_on: Certainty::Source,
            parts: Vec::new(),
            missing: self.area_missing.clone(),
        };
        for p in with {
            let (mm2, c) = p.area_mm2.unwrap_or((0.0, Certainty::Source));
            a.in_use_mm2 += p.in_use as f64 * mm2;
            a.allocated_mm2 += p.allocated as f64 * mm2;
            a.rests_on = a.rests_on.max(c);
            a.parts.push((p.part.clone(), p.in_use, p.allocated, mm2));
        }
        Some(a)
    }

    /// A line whose energy was worked out by the caller: actions that cost `joules`
    /// together, or a static part whose power changes from step to step (a PE's
    /// baseline at its DVFS level), `count` then being the part-seconds it covers.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        model: &HwModel,
        component: &str,
        what: &str,
        count: f64,
        joules: f64,
        term: Term,
        figures: &[&str],
    ) {
        self.lines.push(Line {
            component: component.to_string(),
            what: what.to_string(),
            count,
            joules,
            term,
            certainty: certainty_of(model, figures),
            figures: figures.iter().map(|s| s.to_string()).collect(),
            power: None,
            part: None,
        });
    }

    /// Marks the lines from index `from` on, and the part counts from `parts_from` on,
    /// as `part`'s (a hybrid chip's tiles of another family).
    pub fn tag_part(&mut self, from: usize, parts_from: usize, part: &str) {
        for l in &mut self.lines[from..] {
            l.part = Some(part.to_string());
        }
        for p in &mut self.parts[parts_from..] {
            p.part = format!("{part} {}", p.part);
        }
    }

    /// Energy on `basis` by part: the chip's own (`None`) first, then each part in the
    /// order its lines appear.
    pub fn by_part(&self, basis: Basis) -> Vec<(Option<&str>, f64)> {
        let mut out: Vec<(Option<&str>, f64)> = vec![(None, 0.0)];
        for l in self.lines.iter().filter(|l| basis.counts(l.term)) {
            let k = l.part.as_deref();
            match out.iter_mut().find(|x| x.0 == k) {
                Some(x) => x.1 += l.joules,
                None => out.push((k, l.joules)),
            }
        }
        out
    }

    /// The same run under another pace (e.g. a self-timed chip held to a real-time
    /// tick, to set it beside a chip that keeps one): the steps' needs stay, the wall
    /// time follows the new pace, and every static line of constant power is charged
    /// over it. `None` when a static line's power varies by step (DVFS baselines).
    pub fn repaced(&self, pace: Pace) -> Option<Ledger> {
        if self.lines.iter().any(|l| l.term != Term::Dynamic && l.power.is_none()) {
            return None;
        }
        let mut out = self.clone();
        let cause = out.time.cause.take();
        out.time = Timeline::new(pace, self.time.steps, self.time.need_known.then(|| self.time.need_s.clone()));
        out.time.cause = cause.filter(|_| out.time.slowdown > 1.0);
        let t = out.time.wall_s;
        for l in &mut out.lines {
            if let Some((units, watts)) = l.power {
                l.count = units * t;
                l.joules = units * t * watts;
            }
        }
        // Static power over each step's new wall time, plus the step's old dynamic part.
        if !out.per_step_j.is_empty() {
            let (old_w, new_w) = (self.time.wall_s.max(f64::MIN_POSITIVE), t.max(f64::MIN_POSITIVE));
            let static_old: f64 =
                self.lines.iter().filter(|l| l.term != Term::Dynamic).map(|l| l.joules).sum::<f64>() / old_w;
            let static_new: f64 =
                out.lines.iter().filter(|l| l.term != Term::Dynamic).map(|l| l.joules).sum::<f64>() / new_w;
            for (i, e) in out.per_step_j.iter_mut().enumerate() {
                let (a, b) =
                    (self.time.step_s.get(i).copied().unwrap_or(0.0), out.time.step_s.get(i).copied().unwrap_or(0.0));
                *e += static_new * b - static_old * a;
            }
        }
        out.notes.push(match pace {
            Pace::Timer { tick_s } | Pace::SelfTimed { tick_s: Some(tick_s) } => {
                format!("repaced: every step lasts at least {:.3} ms", tick_s * 1e3)
            }
            Pace::SelfTimed { tick_s: None } => "repaced: every step as long as its work".into(),
        });
        Some(out)
    }

    /// Total energy on a basis (J).
    pub fn total(&self, basis: Basis) -> f64 {
        self.lines.iter().filter(|l| basis.counts(l.term)).map(|l| l.joules).sum()
    }

    /// A basis's totals, energy per unit of work and certainty shares.
    pub fn basis(&self, basis: Basis) -> BasisTotals {
        let joules = self.total(basis);
        let w = &self.work;
        let ms = f64::from(self.time.steps) * w.dt_ms;
        let mut shares = [0.0; 4];
        for l in self.lines.iter().filter(|l| basis.counts(l.term)) {
            shares[l.certainty as usize] += l.joules;
        }
        if joules > 0.0 {
            shares.iter_mut().for_each(|s| *s /= joules);
        }
        BasisTotals {
            basis,
            joules,
            per_synaptic_event_j: (w.synaptic_events > 0).then(|| joules / w.synaptic_events as f64),
            per_inference_j: w.inferences.filter(|&n| n > 0).map(|n| joules / n as f64),
            per_neuron_ms_j: (w.neurons > 0 && ms > 0.0).then(|| joules / w.neurons as f64 / ms),
            edp_js: joules * self.time.wall_s,
            shares,
        }
    }

    /// The three bases.
    pub fn bases(&self) -> Vec<BasisTotals> {
        Basis::ALL.iter().map(|&b| self.basis(b)).collect()
    }
}

/// The least certain of the figures a line uses; a figure the model does not hold
/// (computed in code from others) adds nothing.
fn certainty_of(model: &HwModel, figures: &[&str]) -> Certainty {
    figures
        .iter()
        .filter_map(|f| f.split_once('.'))
        .filter_map(|(s, k)| model.figure(s, k))
        .map(|f| f.provenance.certainty())
        .max()
        .unwrap_or(Certainty::Source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timer_chip_slows_by_its_worst_step_and_a_self_timed_chip_by_each_step() {
        let t = Timeline::new(Pace::Timer { tick_s: 1e-3 }, 3, Some(vec![0.5e-3, 2.0e-3, 1.0e-3]));
        assert!((t.wall_s - 6e-3).abs() < 1e-15);
        assert!((t.slowdown - 2.0).abs() < 1e-12);
        assert_eq!(t.overrun_steps, 1);
        let s = Timeline::new(Pace::SelfTimed { tick_s: Some(1e-3) }, 3, Some(vec![0.5e-3, 2.0e-3, 1.0e-3]));
        assert!((s.wall_s - 4e-3).abs() < 1e-15);
        assert!((s.slowdown - 4.0 / 3.0).abs() < 1e-12);
        let free = Timeline::new(Pace::SelfTimed { tick_s: None }, 2, Some(vec![1e-6, 3e-6]));
        assert!((free.wall_s - 4e-6).abs() < 1e-18);
        assert_eq!(free.slowdown, 1.0);
        assert!(free.real_time_kept());
    }
}
