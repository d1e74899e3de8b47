//! Design-space exploration: runs of networks on a chip model whose figures are set
//! to other values, one point per combination (a grid, or a seeded sample of it), each
//! point mapped and run on its own (in parallel, deterministic), a point that does not
//! map a row that says why; the non-dominated points of two or more objectives under
//! constraints; and the sensitivity of energy and latency to the figures a model
//! assumes or borrows.

use std::sync::atomic::{AtomicUsize, Ordering};

use neuromap_cost::Basis;
use neuromap_hw::{Certainty, HwModel};
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::any::run_any;
use crate::{Job, JobError};

/// One figure and the values it takes (`core.clock_hz=1e8,2e8`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

impl Axis {
    /// `KEY=V1,V2,…`, or `KEY=A..B` for the whole numbers from A to B.
    pub fn parse(s: &str) -> Result<Axis, String> {
        let (key, values) =
            s.split_once('=').ok_or_else(|| format!("`{s}`: expected KEY=V1,V2,… (e.g. core.clock_hz=1e8,2e8)"))?;
        if let Some((a, b)) = values.split_once("..") {
            let whole = |x: &str| {
                x.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("`{s}`: a range is A..B of whole numbers; `{}` is not one", x.trim()))
            };
            let (a, b) = (whole(a)?, whole(b)?);
            if b < a || b - a >= 100_000 {
                return Err(format!("`{s}`: a range runs upward over at most 100,000 values"));
            }
            return Ok(Axis { key: key.trim().to_string(), values: (a..=b).map(|v| v.to_string()).collect() });
        }
        let values: Vec<String> = values.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect();
        if values.is_empty() {
            return Err(format!("`{s}`: no values after `=`"));
        }
        Ok(Axis { key: key.trim().to_string(), values })
    }
}

/// A network to run at every point: its name and the job that runs it on the base
/// model (the point's model replaces the job's).
#[derive(Debug)]
pub struct Subject {
    pub name: String,
    pub job: Job,
}

/// What a point measured. Energies in J, times in s; `None` when the point did not run
/// (see `note`).
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Row {
    /// The point's index in the grid (networks outermost), so rows sort the same
    /// whatever order they finished in.
    pub index: usize,
    pub network: String,
    /// Per axis, the value set.
    pub set: Vec<(String, String)>,
    pub ran: bool,
    pub energy_allocated_j: Option<f64>,
    pub energy_in_use_j: Option<f64>,
    pub energy_dynamic_j: Option<f64>,
    /// In-use energy per synaptic event.
    pub energy_per_event_j: Option<f64>,
    /// Wall time of the run, and of a step on average.
    pub wall_s: Option<f64>,
    pub latency_s: Option<f64>,
    pub slowdown: Option<f64>,
    pub real_time: Option<bool>,
    /// In-use energy × wall time.
    pub edp_js: Option<f64>,
    pub synaptic_events: Option<u64>,
    pub spikes: Option<u64>,
    /// NeuroBench's memory footprint on the chip: bytes of weights and of neuron state
    /// (the state where the model gives its width).
    pub footprint_bytes: Option<f64>,
    /// Silicon area of the parts in use and allocated (mm²), where the model gives it.
    pub area_mm2: Option<f64>,
    pub area_allocated_mm2: Option<f64>,
    /// The largest |spike count error| of a population against the f64 reference
    /// (`None` where the family compares nothing).
    pub rate_error: Option<f64>,
    /// Share of the in-use energy resting on assumed and borrowed figures.
    pub assumed: Option<f64>,
    pub borrowed: Option<f64>,
    /// On the Pareto front of the objectives (among rows meeting the constraints).
    pub front: bool,
    /// Meets every constraint.
    pub feasible: bool,
    pub note: String,
}

/// A metric a row can be judged by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Energy,
    EnergyAllocated,
    EnergyDynamic,
    EnergyPerEvent,
    Latency,
    Wall,
    Slowdown,
    Edp,
    RateError,
    Area,
    AreaAllocated,
    Footprint,
}

impl Metric {
    pub const ALL: [(&'static str, Metric); 12] = [
        ("energy", Metric::Energy),
        ("energy_allocated", Metric::EnergyAllocated),
        ("energy_dynamic", Metric::EnergyDynamic),
        ("energy_per_event", Metric::EnergyPerEvent),
        ("latency", Metric::Latency),
        ("wall", Metric::Wall),
        ("slowdown", Metric::Slowdown),
        ("edp", Metric::Edp),
        ("rate_error", Metric::RateError),
        ("area", Metric::Area),
        ("area_allocated", Metric::AreaAllocated),
        ("footprint", Metric::Footprint),
    ];

    pub fn parse(s: &str) -> Result<Metric, String> {
        Metric::ALL.iter().find(|(n, _)| *n == s.trim()).map(|(_, m)| *m).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|(n, _)| *n).collect();
            format!("`{s}` is not a metric; the metrics are: {}", names.join(", "))
        })
    }

    pub fn name(self) -> &'static str {
        Metric::ALL.iter().find(|(_, m)| *m == self).map_or("?", |(n, _)| n)
    }

    /// Its unit, for axis labels.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::Energy | Metric::EnergyAllocated | Metric::EnergyDynamic | Metric::EnergyPerEvent => "J",
            Metric::Latency | Metric::Wall => "s",
            Metric::Slowdown => "×",
            Metric::Edp => "J·s",
            Metric::RateError => "relative",
            Metric::Area | Metric::AreaAllocated => "mm²",
            Metric::Footprint => "bytes",
        }
    }

    /// The row's value (smaller is better for every metric).
    pub fn of(self, r: &Row) -> Option<f64> {
        match self {
            Metric::Energy => r.energy_in_use_j,
            Metric::EnergyAllocated => r.energy_allocated_j,
            Metric::EnergyDynamic => r.energy_dynamic_j,
            Metric::EnergyPerEvent => r.energy_per_event_j,
            Metric::Latency => r.latency_s,
            Metric::Wall => r.wall_s,
            Metric::Slowdown => r.slowdown,
            Metric::Edp => r.edp_js,
            Metric::RateError => r.rate_error,
            Metric::Area => r.area_mm2,
            Metric::AreaAllocated => r.area_allocated_mm2,
            Metric::Footprint => r.footprint_bytes,
        }
    }
}

/// A condition a point must meet: real time kept, or a metric at most a bound.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Constraint {
    RealTime,
    AtMost(Metric, f64),
}

impl Constraint {
    /// `real_time` or `METRIC<=X`.
    pub fn parse(s: &str) -> Result<Constraint, String> {
        let s = s.trim();
        if s == "real_time" {
            return Ok(Constraint::RealTime);
        }
        let (m, x) = s
            .split_once("<=")
            .ok_or_else(|| format!("`{s}`: a constraint is `real_time` or METRIC<=X (e.g. latency<=1e-3)"))?;
        let x: f64 = x.trim().parse().map_err(|_| format!("`{s}`: `{}` is not a number", x.trim()))?;
        Ok(Constraint::AtMost(Metric::parse(m)?, x))
    }

    fn holds(&self, r: &Row) -> bool {
        match self {
            Constraint::RealTime => r.real_time == Some(true),
            Constraint::AtMost(m, x) => m.of(r).is_some_and(|v| v <= *x),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Constraint::RealTime => "real time kept".into(),
            Constraint::AtMost(m, x) => format!("{} ≤ {x:e} {}", m.name(), m.unit()),
        }
    }
}

/// A sweep: the axes, and how many points of their grid to run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub axes: Vec<Axis>,
    /// Run this many points drawn from the grid without replacement (seeded), or all.
    pub sample: Option<usize>,
    pub seed: u64,
    pub objectives: Vec<Metric>,
    pub constraints: Vec<Constraint>,
    /// Worker threads for the points (each point runs on one).
    pub threads: usize,
    /// The other processes of a distributed sweep (MPI ranks): process `r` of `R` runs
    /// the points `r`, `r + R`, … on its threads, and every process gets every row.
    pub peers: Option<neuromap_sim::chip::Ranks>,
}

/// The points of the grid for `n_subjects` networks (networks outermost, then the axes
/// in order, the last fastest): each the network and the index of every axis's value.
fn grid(plan: &Plan, n_subjects: usize) -> Vec<(usize, Vec<usize>)> {
    let per: usize = plan.axes.iter().map(|a| a.values.len()).product();
    let mut combos = Vec::with_capacity(per);
    for mut k in 0..per {
        let mut idx = vec![0; plan.axes.len()];
        for (i, a) in plan.axes.iter().enumerate().rev() {
            idx[i] = k % a.values.len();
            k /= a.values.len();
        }
        combos.push(idx);
    }
    if let Some(n) = plan.sample.filter(|&n| n < combos.len()) {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(plan.seed);
        combos.shuffle(&mut rng);
        combos.truncate(n);
        combos.sort();
    }
    (0..n_subjects).flat_map(|s| combos.iter().map(move |c| (s, c.clone()))).collect()
}

/// The model of a point: `base` with each axis's value set. The message names the
/// figure and the value.
pub fn point_model(base: &HwModel, set: &[(String, String)]) -> Result<HwModel, String> {
    let mut m = base.clone();
    for (k, v) in set {
        m = m.with_figure(k, v, &format!("set by a sweep: {k} = {v}"))?;
    }
    if !set.is_empty() {
        let s: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        m.name = format!("{} [{}]", base.name, s.join(", "));
    }
    Ok(m)
}

/// Checks every axis against the base model before anything runs: an unknown figure or
/// a value it cannot take is a mistake in the command, not a row.
pub fn check(base: &HwModel, plan: &Plan) -> Result<(), String> {
    if plan.axes.is_empty() {
        return Err("no figure to vary: give --set KEY=V1,V2,…".into());
    }
    for a in &plan.axes {
        for v in &a.values {
            base.with_figure(&a.key, v, "checked")?;
        }
    }
    Ok(())
}

/// Runs `job` (its model replaced) and reads a row from its outcome.
pub fn measure(job: Job, index: usize, network: &str, set: Vec<(String, String)>) -> Row {
    let blank = |note: String| Row { note, ..measure_nothing(index, network, set.clone()) };
    // A point's figures may be ones no model file gives; whatever they break is the
    // point's row, not the sweep's end.
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_any(job)));
    let out = match out {
        Ok(Ok(o)) => o,
        Ok(Err(JobError::Map { message, .. })) => return blank(format!("does not map: {message}")),
        Ok(Err(e)) => return blank(e.to_string()),
        Err(p) => {
            let what = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            return blank(format!("internal error at this point: {what}"));
        }
    };
    let Some(l) = out.ledger() else {
        return blank("the model gives no energy figures".into());
    };
    let u = l.basis(Basis::InUse);
    let (area, footprint) = (l.area(), out.footprint());
    let spikes: u64 = out.spikes().spike_counts.iter().sum();
    let mut note = out.warnings().join("; ");
    if !l.time.real_time_kept() {
        note = format!("overran its tick ({:.2}× slower); {note}", l.time.slowdown).trim_end_matches("; ").to_string();
    }
    Row {
        ran: true,
        energy_allocated_j: Some(l.total(Basis::Allocated)),
        energy_in_use_j: Some(u.joules),
        energy_dynamic_j: Some(l.total(Basis::Dynamic)),
        energy_per_event_j: u.per_synaptic_event_j,
        wall_s: Some(l.time.wall_s),
        latency_s: Some(l.time.wall_s / f64::from(l.time.steps.max(1))),
        slowdown: Some(l.time.slowdown),
        real_time: Some(l.time.real_time_kept()),
        edp_js: Some(u.edp_js),
        synaptic_events: Some(l.work.synaptic_events),
        spikes: Some(spikes),
        footprint_bytes: Some(footprint.weight_bytes + footprint.state_bytes.unwrap_or(0.0)),
        area_mm2: area.as_ref().map(|a| a.in_use_mm2),
        area_allocated_mm2: area.as_ref().map(|a| a.allocated_mm2),
        rate_error: out.fidelity().map(|f| f.iter().map(|p| p.count_error.abs()).fold(0.0, f64::max)),
        assumed: Some(u.shares[Certainty::Assumption as usize]),
        borrowed: Some(u.shares[Certainty::Borrowed as usize]),
        ..blank(note)
    }
}

/// Runs every point of `plan` for every subject, `progress(done, total)` called as
/// points finish; rows in grid order, with the constraints and the Pareto front marked
/// (per network).
pub fn sweep(
    subjects: &[Subject],
    base: &HwModel,
    plan: &Plan,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Row>, String> {
    check(base, plan)?;
    let points = grid(plan, subjects.len());
    // This process's points (all of them in a single process).
    let (rank, ranks) = plan.peers.as_ref().map_or((0, 1), |p| (p.0.rank(), p.0.size()));
    let mine: Vec<usize> = (rank..points.len()).step_by(ranks).collect();
    let total = mine.len();
    let done = AtomicUsize::new(0);
    let run = |(i, (s, idx)): (usize, &(usize, Vec<usize>))| -> Row {
        let set: Vec<(String, String)> =
            plan.axes.iter().zip(idx).map(|(a, &k)| (a.key.clone(), a.values[k].clone())).collect();
        // A subject's job may carry a stop (Ctrl-C from a front end): the points not
        // yet started are rows that say so.
        let row = match subjects[*s].job.stop.reason() {
            Some(why) => Row { note: format!("not run: {why}"), ..measure_nothing(i, &subjects[*s].name, set) },
            None => run_point(&subjects[*s], base, i, set),
        };
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        row
    };
    let mut rows: Vec<Row> = each(mine.len(), plan.threads, |k| run((mine[k], &points[mine[k]])))?;
    if let Some(p) = plan.peers.as_ref().filter(|_| ranks > 1) {
        let bytes = postcard::to_allocvec(&rows).map_err(|e| format!("a sweep's rows do not encode: {e}"))?;
        rows = Vec::with_capacity(points.len());
        for b in p.0.all_gather(bytes) {
            let theirs: Vec<Row> =
                postcard::from_bytes(&b).map_err(|e| format!("another rank's sweep rows do not decode: {e}"))?;
            rows.extend(theirs);
        }
    }
    rows.sort_by_key(|r| r.index);
    mark(&mut rows, &plan.objectives, &plan.constraints);
    Ok(rows)
}

/// `f(0..n)` on `threads` workers, each taking the next index when it is free, the
/// results in index order. The workers are plain threads with a large stack, not a
/// rayon pool: a point runs rayon work of its own, and a pool thread waiting for it
/// would steal other points onto the same stack.
fn each<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Result<Vec<T>, String> {
    const STACK: usize = 256 << 20;
    let next = AtomicUsize::new(0);
    let mut out: Vec<(usize, T)> = Vec::with_capacity(n);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.clamp(1, n.max(1)))
            .map(|_| {
                std::thread::Builder::new().stack_size(STACK).spawn_scoped(s, || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break mine;
                        }
                        mine.push((i, f(i)));
                    }
                })
            })
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot start a worker thread: {e}"))?;
        for w in workers {
            out.extend(w.join().map_err(|_| "a worker thread failed".to_string())?);
        }
        Ok::<(), String>(())
    })?;
    out.sort_by_key(|x| x.0);
    Ok(out.into_iter().map(|x| x.1).collect())
}

/// `subject` on `base` with the figures `set`, on one thread: its row, or a row that
/// says why the figures cannot be set.
fn run_point(subject: &Subject, base: &HwModel, index: usize, set: Vec<(String, String)>) -> Row {
    match point_model(base, &set) {
        Ok(model) => measure(Job { model, threads: 1, ..subject.job.clone() }, index, &subject.name, set),
        Err(e) => Row { note: e, ..measure_nothing(index, &subject.name, set) },
    }
}

/// A row for a point that has not run (or did not): every measure absent.
fn measure_nothing(index: usize, network: &str, set: Vec<(String, String)>) -> Row {
    Row {
        index,
        network: network.to_string(),
        set,
        ran: false,
        energy_allocated_j: None,
        energy_in_use_j: None,
        energy_dynamic_j: None,
        energy_per_event_j: None,
        wall_s: None,
        latency_s: None,
        slowdown: None,
        real_time: None,
        edp_js: None,
        synaptic_events: None,
        spikes: None,
        rate_error: None,
        footprint_bytes: None,
        area_mm2: None,
        area_allocated_mm2: None,
        assumed: None,
        borrowed: None,
        front: false,
        feasible: false,
        note: String::new(),
    }
}

/// Marks each row feasible (it ran and meets every constraint) and on the front (no
/// other feasible row of its network is at least as good in every objective and
/// better in one).
pub fn mark(rows: &mut [Row], objectives: &[Metric], constraints: &[Constraint]) {
    for r in rows.iter_mut() {
        r.feasible = r.ran && constraints.iter().all(|c| c.holds(r));
        r.front = false;
    }
    if objectives.is_empty() {
        return;
    }
    let vals: Vec<Option<Vec<f64>>> = rows
        .iter()
        .map(|r| {
            if !r.feasible {
                return None;
            }
            objectives.iter().map(|m| m.of(r)).collect::<Option<Vec<f64>>>()
        })
        .collect();
    let front: Vec<bool> = (0..rows.len())
        .map(|i| {
            let Some(a) = &vals[i] else { return false };
            !(0..rows.len()).any(|j| {
                j != i
                    && rows[j].network == rows[i].network
                    && vals[j]
                        .as_ref()
                        .is_some_and(|b| b.iter().zip(a).all(|(x, y)| x <= y) && b.iter().zip(a).any(|(x, y)| x < y))
            })
        })
        .collect();
    for (r, f) in rows.iter_mut().zip(front) {
        r.front = f;
    }
}

/// The rows as CSV: network, each axis, the metrics, feasible, front, note.
pub fn csv(rows: &[Row], axes: &[Axis]) -> String {
    let mut s = String::from("network");
    for a in axes {
        s.push(',');
        s.push_str(&a.key);
    }
    s.push_str(",ran,energy_in_use_j,energy_allocated_j,energy_dynamic_j,energy_per_event_j,wall_s,latency_s,slowdown,real_time,edp_js,synaptic_events,spikes,rate_error,footprint_bytes,area_mm2,area_allocated_mm2,assumed_share,borrowed_share,feasible,front,note\n");
    let f = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:e}"));
    for r in rows {
        let quote = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
        let mut line = quote(&r.network);
        for (_, v) in &r.set {
            line.push(',');
            line.push_str(&quote(v));
        }
        line.push_str(&format!(
            ",{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.ran,
            f(r.energy_in_use_j),
            f(r.energy_allocated_j),
            f(r.energy_dynamic_j),
            f(r.energy_per_event_j),
            f(r.wall_s),
            f(r.latency_s),
            f(r.slowdown),
            r.real_time.map_or(String::new(), |b| b.to_string()),
            f(r.edp_js),
            r.synaptic_events.map_or(String::new(), |x| x.to_string()),
            r.spikes.map_or(String::new(), |x| x.to_string()),
            f(r.rate_error),
            f(r.footprint_bytes),
            f(r.area_mm2),
            f(r.area_allocated_mm2),
            f(r.assumed),
            f(r.borrowed),
            r.feasible,
            r.front,
            quote(&r.note)
        ));
        s.push_str(&line);
    }
    s
}

/// How far one figure moves a model's energy and latency when scaled.
#[derive(Clone, Debug, Serialize)]
pub struct Sensitivity {
    pub figure: String,
    pub certainty: Certainty,
    pub value: f64,
    /// Per factor, in rising order.
    pub points: Vec<Scaled>,
    /// The largest |log ratio| of energy and of latency over the factors.
    pub energy_swing: f64,
    pub latency_swing: f64,
    /// Whether the comparison's ordering (energy, latency) held at every factor;
    /// `None` without a comparison.
    pub energy_order_holds: Option<bool>,
    pub latency_order_holds: Option<bool>,
}

/// Which end of a figure's values a search looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The smallest value that meets the constraints (e.g. the fewest cores that keep
    /// real time).
    Smallest,
    /// The largest value that meets them (e.g. the slowest step that keeps real time).
    Largest,
}

/// A search's points, in the order they ran, and how it ended.
#[derive(Clone, Debug, Serialize)]
pub struct Search {
    pub rows: Vec<Row>,
    /// The row (index in `rows`) of the value found, when one was.
    pub found: Option<usize>,
    /// Why it stopped.
    pub stop: String,
}

/// A budgeted search along one figure: bisection over `axis`'s values (in the order
/// given, which should be rising) for the smallest (or largest) that meets every
/// constraint, taking feasibility to change once along the values; at most `budget`
/// runs. The stop reason says what was found, or that the budget ran out (with the
/// bracket left), or that no value qualifies, and names any evaluated pair that
/// contradicts the one change.
pub fn search(
    subject: &Subject,
    base: &HwModel,
    axis: &Axis,
    constraints: &[Constraint],
    direction: Direction,
    budget: usize,
) -> Result<Search, String> {
    let plan = Plan {
        axes: vec![axis.clone()],
        sample: None,
        seed: 0,
        objectives: vec![],
        constraints: constraints.to_vec(),
        threads: 1,
        peers: None,
    };
    check(base, &plan)?;
    if constraints.is_empty() {
        return Err("a search needs a --constraint to meet (e.g. real_time)".into());
    }
    let n = axis.values.len();
    // Positions along the search: 0 is the end the search wants; feasibility is taken
    // to hold from some position on to the far end.
    let value_at = |k: usize| match direction {
        Direction::Smallest => k,
        Direction::Largest => n - 1 - k,
    };
    let mut seen: Vec<Option<bool>> = vec![None; n];
    let mut rows: Vec<Row> = Vec::new();
    let mut eval = |k: usize, rows: &mut Vec<Row>| -> bool {
        let i = value_at(k);
        let set = vec![(axis.key.clone(), axis.values[i].clone())];
        let mut row = run_point(subject, base, i, set);
        row.feasible = row.ran && constraints.iter().all(|c| c.holds(&row));
        let ok = row.feasible;
        rows.push(row);
        seen[k] = Some(ok);
        ok
    };
    let budget = budget.max(1);
    let what = match direction {
        Direction::Smallest => "smallest",
        Direction::Largest => "largest",
    };
    // The far end first: if it fails, no value qualifies (under the one change).
    if !eval(n - 1, &mut rows) {
        let stop = format!(
            "no value of {} meets the constraints: not even {}, the far end of the values",
            axis.key,
            axis.values[value_at(n - 1)]
        );
        return Ok(Search { rows, found: None, stop });
    }
    // `hi` meets them; the answer is in lo..=hi.
    let (mut lo, mut hi) = (0usize, n - 1);
    let mut stop = None;
    while lo < hi {
        if rows.len() >= budget {
            let (a, b) = (value_at(lo).min(value_at(hi)), value_at(lo).max(value_at(hi)));
            stop = Some(format!(
                "the budget of {budget} runs ran out with the answer between {} and {} ({} meets the constraints)",
                axis.values[a],
                axis.values[b],
                axis.values[value_at(hi)]
            ));
            break;
        }
        // The wanted end itself first: it is often the answer.
        let mid = if rows.len() == 1 { lo } else { lo + (hi - lo) / 2 };
        if eval(mid, &mut rows) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    let found = if stop.is_none() { rows.iter().position(|r| r.index == value_at(hi)) } else { None };
    let mut stop = stop.unwrap_or_else(|| {
        format!(
            "found: the {what} {} that meets the constraints is {} ({} runs of {} values)",
            axis.key,
            axis.values[value_at(hi)],
            rows.len(),
            n
        )
    });
    // A qualifying value before one that does not contradicts the one change.
    let bad: Vec<String> = (0..n)
        .filter(|&a| seen[a] == Some(true))
        .flat_map(|a| (a + 1..n).filter(|&b| seen[b] == Some(false)).map(move |b| (a, b)))
        .map(|(a, b)| format!("{} meets them and {} does not", axis.values[value_at(a)], axis.values[value_at(b)]))
        .collect();
    if !bad.is_empty() {
        stop.push_str(&format!(
            "; but the constraints do not change once along the values ({}): a grid is the safer answer",
            bad.join("; ")
        ));
    }
    Ok(Search { rows, found, stop })
}

/// One figure scaled by one factor.
#[derive(Clone, Debug, Serialize)]
pub struct Scaled {
    pub factor: f64,
    /// The value set (a count rounded to a whole number).
    pub value: f64,
    /// Energy and latency ÷ the baseline's; `None` when the point did not run.
    pub ratios: Option<(f64, f64)>,
    /// Why it did not run, or the run's warnings.
    pub note: String,
}

/// The figures of `m` that a sensitivity study moves: every number resting on an
/// assumption or a borrowed figure, not zero (scaling it would not move it).
pub fn uncertain_figures(m: &HwModel) -> Vec<(String, Certainty, f64)> {
    m.figures
        .iter()
        .filter(|f| m.choice_name(f).is_none() && f.value != 0.0 && f.value.is_finite())
        .filter_map(|f| {
            let c = f.provenance.certainty();
            matches!(c, Certainty::Assumption | Certainty::Borrowed)
                .then(|| (format!("{}.{}", f.section, f.key), c, f.value))
        })
        .collect()
}

/// The sensitivity study: `subject` on `base` and, for every uncertain figure and
/// every factor, on `base` with that figure scaled; ranked by the larger of the energy
/// and latency swings. With `compare` (another subject's baseline row on another
/// model), whether `base` stays on the same side of it in energy and latency.
pub fn sensitivity(
    subject: &Subject,
    base: &HwModel,
    factors: &[f64],
    compare: Option<&Row>,
    threads: usize,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Row, Vec<Sensitivity>), String> {
    let baseline = run_point(subject, base, 0, vec![]);
    let (Some(e0), Some(l0)) = (baseline.energy_in_use_j, baseline.latency_s) else {
        return Err(format!("the baseline does not run: {}", baseline.note));
    };
    let figures = uncertain_figures(base);
    let jobs: Vec<(usize, f64)> = (0..figures.len()).flat_map(|i| factors.iter().map(move |&f| (i, f))).collect();
    let total = jobs.len();
    let done = AtomicUsize::new(0);
    let results: Vec<(usize, Scaled)> = each(jobs.len(), threads, |k| {
        let (i, factor) = jobs[k];
        let (key, _, _) = &figures[i];
        // Scaled with its steps, so a figure that steps with a count keeps its shape (a
        // count stays whole); the value the row names is the scaled model's.
        let (r, value) = match base.with_figure_scaled(key, factor, &format!("scaled ×{factor} by a sensitivity study"))
        {
            Ok(model) => {
                let value = key.split_once('.').and_then(|(s, k)| model.get(s, k)).unwrap_or(f64::NAN);
                let set = vec![(key.clone(), format!("{value}"))];
                (measure(Job { model, threads: 1, ..subject.job.clone() }, 0, &subject.name, set), value)
            }
            Err(e) => (Row { note: e, ..measure_nothing(0, &subject.name, vec![]) }, f64::NAN),
        };
        let out = match (r.energy_in_use_j, r.latency_s) {
            (Some(e), Some(l)) => (Some((e / e0, l / l0)), r.note),
            _ => (None, r.note),
        };
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
        (i, Scaled { factor, value, ratios: out.0, note: out.1 })
    })?;
    let mut out: Vec<Sensitivity> = figures
        .iter()
        .map(|(k, c, v)| Sensitivity {
            figure: k.clone(),
            certainty: *c,
            value: *v,
            points: Vec::new(),
            energy_swing: 0.0,
            latency_swing: 0.0,
            energy_order_holds: None,
            latency_order_holds: None,
        })
        .collect();
    for (i, point) in results {
        let s = &mut out[i];
        if let Some((re, rl)) = point.ratios {
            s.energy_swing = s.energy_swing.max(re.ln().abs());
            s.latency_swing = s.latency_swing.max(rl.ln().abs());
            if let Some(c) = compare {
                let below = |x: f64, y: Option<f64>| y.map(|y| x < y);
                let (eb, lb) = (below(e0, c.energy_in_use_j), below(l0, c.latency_s));
                let (ea, la) = (below(re * e0, c.energy_in_use_j), below(rl * l0, c.latency_s));
                s.energy_order_holds = Some(s.energy_order_holds.unwrap_or(true) && eb == ea);
                s.latency_order_holds = Some(s.latency_order_holds.unwrap_or(true) && lb == la);
            }
        }
        s.points.push(point);
    }
    for s in &mut out {
        s.points.sort_by(|a, b| a.factor.total_cmp(&b.factor));
    }
    out.sort_by(|a, b| {
        b.energy_swing
            .max(b.latency_swing)
            .total_cmp(&a.energy_swing.max(a.latency_swing))
            .then(a.figure.cmp(&b.figure))
    });
    Ok((baseline, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(i: usize, e: f64, l: f64, rt: bool) -> Row {
        Row {
            energy_in_use_j: Some(e),
            latency_s: Some(l),
            real_time: Some(rt),
            ran: true,
            ..measure_nothing(i, "n", vec![])
        }
    }

    #[test]
    fn the_front_is_the_rows_no_other_beats_in_every_objective() {
        let mut rows =
            vec![row(0, 1.0, 4.0, true), row(1, 2.0, 2.0, true), row(2, 3.0, 3.0, true), row(3, 0.5, 5.0, false)];
        mark(&mut rows, &[Metric::Energy, Metric::Latency], &[]);
        let front: Vec<bool> = rows.iter().map(|r| r.front).collect();
        assert_eq!(front, [true, true, false, true]);
        mark(&mut rows, &[Metric::Energy, Metric::Latency], &[Constraint::RealTime]);
        let front: Vec<bool> = rows.iter().map(|r| r.front).collect();
        assert_eq!(front, [true, true, false, false]);
        assert!(!rows[3].feasible);
    }

    #[test]
    fn the_grid_varies_the_last_axis_fastest_and_a_sample_is_a_seeded_subset() {
        let plan = Plan {
            axes: vec![Axis::parse("a=1,2").unwrap(), Axis::parse("b=x,y,z").unwrap()],
            sample: None,
            seed: 1,
            objectives: vec![],
            constraints: vec![],
            threads: 1,
            peers: None,
        };
        let g = grid(&plan, 2);
        assert_eq!(g.len(), 12);
        assert_eq!(g[0], (0, vec![0, 0]));
        assert_eq!(g[1], (0, vec![0, 1]));
        assert_eq!(g[3], (0, vec![1, 0]));
        assert_eq!(g[6], (1, vec![0, 0]));
        let sampled = Plan { sample: Some(4), ..plan.clone() };
        let s = grid(&sampled, 1);
        assert_eq!(s.len(), 4);
        assert_eq!(s, grid(&sampled, 1), "seeded");
        assert!(s.iter().all(|p| g.contains(p)));
        assert_ne!(s, grid(&Plan { seed: 2, ..sampled }, 1));
    }

    #[test]
    fn constraints_and_axes_parse_or_say_what_they_expect() {
        assert_eq!(Constraint::parse("real_time").unwrap(), Constraint::RealTime);
        assert_eq!(Constraint::parse("latency<=1e-3").unwrap(), Constraint::AtMost(Metric::Latency, 1e-3));
        assert!(Constraint::parse("speed<=1").unwrap_err().contains("the metrics are"));
        assert!(Axis::parse("core.clock_hz").unwrap_err().contains("KEY=V1,V2"));
        assert_eq!(Axis::parse("x=1, 2").unwrap().values, ["1", "2"]);
    }
}
