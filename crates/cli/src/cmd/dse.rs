//! `neuromap sweep --set …` (any figure of any model) and `neuromap sensitivity`.

use neuromap_pipeline::dse::{self, Axis, Constraint, Metric, Plan, Row, Subject};

use crate::*;

/// The networks of a sweep as jobs on `model`.
fn subjects(
    first: &NetworkArgs,
    more: &[PathBuf],
    mem: MemoryLimit,
    model: &neuromap_hw::HwModel,
    color: bool,
) -> Result<Vec<Subject>, Failure> {
    let mut out = Vec::new();
    for path in std::iter::once(&first.net).chain(more) {
        let args =
            NetworkArgs { net: path.clone(), nir: first.nir, steps: first.steps, seed: first.seed, scale: first.scale };
        let (n, steps) = args.load(color)?;
        let net = build(&n.spec, mem, path)?;
        let name = path.file_stem().map_or_else(|| net.name.clone(), |s| s.to_string_lossy().to_string());
        let job = neuromap_pipeline::Job {
            max_memory: Some(mem.bytes()),
            ..neuromap_pipeline::Job::new(Some(n.spec), net, model.clone(), steps)
        };
        out.push(Subject { name, job });
    }
    Ok(out)
}

/// Points done of all, with an estimate of the time left, on one line of stderr.
/// On a terminal the line is redrawn; elsewhere (a log) a line at every tenth.
fn progress(start: std::time::Instant) -> impl Fn(usize, usize) + Sync {
    use std::io::IsTerminal;
    let tty = std::io::stderr().is_terminal();
    move |done, total| {
        let t = start.elapsed().as_secs_f64();
        let left = t / done.max(1) as f64 * (total - done) as f64;
        let line = format!("{done}/{total} points, {t:.1} s, about {left:.0} s left");
        if tty {
            eprint!("\r{line}   ");
            if done == total {
                eprintln!();
            }
        } else if done == total || (done * 10 / total.max(1)) != ((done - 1) * 10 / total.max(1)) {
            eprintln!("{line}");
        }
    }
}

fn bad(e: impl std::fmt::Display) -> Failure {
    anyhow::anyhow!("{e}").into()
}

/// `neuromap sweep NETS… --hw MODEL --set KEY=V1,V2,…`.
pub(crate) fn sweep_figures(a: &SweepArgs, processes: &ranks::Processes, color: bool) -> Result<(), Failure> {
    let model = load_hw(&a.hw, color)?;
    let axes = a.set.iter().map(|s| Axis::parse(s)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
    let objectives = a.objective.iter().map(|s| Metric::parse(s)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
    let constraints = a.constraint.iter().map(|s| Constraint::parse(s)).collect::<Result<Vec<_>, _>>().map_err(bad)?;
    let plan = Plan {
        axes,
        sample: a.sample,
        seed: a.sample_seed,
        objectives,
        constraints,
        threads: a.threads,
        peers: processes.peers.clone(),
    };
    dse::check(&model, &plan).map_err(bad)?;
    let subjects = subjects(&a.network, &a.more, a.mem, &model, color)?;
    if let Some(dir) = &a.search {
        // A search is sequential: rank 0 runs it alone.
        if !processes.leads() {
            return Ok(());
        }
        return search(a, &model, &Plan { peers: None, ..plan }, &subjects, dir);
    }
    let points: usize = plan.axes.iter().map(|x| x.values.len()).product::<usize>();
    let points = plan.sample.map_or(points, |s| s.min(points)) * subjects.len();
    let ranks = plan.peers.as_ref().map_or(1, |p| p.0.size());
    if processes.leads() {
        eprintln!(
            "sweeping {} on {}: {points} points on {}{} threads",
            plan.axes.iter().map(|x| x.key.as_str()).collect::<Vec<_>>().join(" × "),
            model.name,
            if ranks > 1 { format!("{ranks} MPI ranks × ") } else { String::new() },
            plan.threads
        );
    }
    let start = std::time::Instant::now();
    let (shown, quiet) = (progress(start), |_: usize, _: usize| {});
    let report: &(dyn Fn(usize, usize) + Sync) = if processes.leads() { &shown } else { &quiet };
    let rows = dse::sweep(&subjects, &model, &plan, report).map_err(bad)?;
    if !processes.leads() {
        return Ok(());
    }
    let wall = start.elapsed().as_secs_f64();
    let text = rows_table(&rows, &plan);
    print!("{text}");
    let feasible = rows.iter().filter(|r| r.feasible).count();
    let front: Vec<&Row> = rows.iter().filter(|r| r.front).collect();
    let objective_names: Vec<&str> = plan.objectives.iter().map(|m| m.name()).collect();
    let mut summary = format!(
        "\n{} points in {wall:.1} s; {} ran, {feasible} meet the constraints ({}); {} on the front of {}\n",
        rows.len(),
        rows.iter().filter(|r| r.ran).count(),
        if plan.constraints.is_empty() {
            "none".to_string()
        } else {
            plan.constraints.iter().map(Constraint::text).collect::<Vec<_>>().join(", ")
        },
        front.len(),
        objective_names.join(" and ")
    );
    for r in &front {
        summary.push_str(&format!("  front: {} {}\n", r.network, set_text(r)));
    }
    print!("{summary}");
    // Files: CSV, JSON, one plot per axis and metric, the Pareto plot, an HTML page.
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(format!("{}-sweep", model.name.replace(['/', ' '], "_"))));
    let json = serde_json::json!({
        "model": model.name,
        "axes": plan.axes,
        "objectives": objective_names,
        "constraints": plan.constraints.iter().map(Constraint::text).collect::<Vec<_>>(),
        "rows": rows,
    });
    let mut files: Vec<(String, String)> = vec![
        ("sweep.csv".into(), dse::csv(&rows, &plan.axes)),
        ("sweep.json".into(), serde_json::to_string_pretty(&json).unwrap_or_default()),
    ];
    let mut figures: Vec<(String, String)> = Vec::new();
    for (k, axis) in plan.axes.iter().enumerate() {
        let numeric = axis.values.iter().all(|v| v.parse::<f64>().is_ok());
        if !numeric {
            continue;
        }
        for metric in [Metric::Energy, Metric::Latency] {
            let series: Vec<(String, Vec<(f64, f64)>)> = subjects
                .iter()
                .map(|s| {
                    // With more than one axis, the other axes at their first value.
                    let pts = rows
                        .iter()
                        .filter(|r| {
                            r.network == s.name
                                && r.set.iter().enumerate().all(|(j, (_, v))| j == k || *v == plan.axes[j].values[0])
                        })
                        .filter_map(|r| Some((r.set[k].1.parse::<f64>().ok()?, metric.of(r)?)))
                        .collect();
                    (s.name.clone(), pts)
                })
                .collect();
            let name = format!("{}-{}.svg", metric.name(), axis.key.replace('.', "_"));
            let title = format!("{} against {} on {}", metric.name(), axis.key, model.name);
            figures.push((
                name,
                neuromap_report::plot::lines(
                    &title,
                    &axis.key,
                    &format!("{} ({})", metric.name(), metric.unit()),
                    &series,
                ),
            ));
        }
    }
    if plan.objectives.len() >= 2 {
        let (mx, my) = (plan.objectives[0], plan.objectives[1]);
        let pts: Vec<neuromap_report::plot::ParetoPoint> = rows
            .iter()
            .filter_map(|r| Some((mx.of(r)?, my.of(r)?, r.front, r.feasible, format!("{} {}", r.network, set_text(r)))))
            .collect();
        let title = format!("{} against {}: the front", my.name(), mx.name());
        figures.push((
            "pareto.svg".into(),
            neuromap_report::plot::pareto(
                &title,
                &format!("{} ({})", mx.name(), mx.unit()),
                &format!("{} ({})", my.name(), my.unit()),
                &pts,
            ),
        ));
    }
    let html = neuromap_report::plot::html(
        &format!(
            "Sweep of {} on {}",
            plan.axes.iter().map(|x| x.key.as_str()).collect::<Vec<_>>().join(", "),
            model.name
        ),
        &[("Points", format!("{text}{summary}"))],
        &figures.iter().map(|(n, s)| (n.as_str(), s.clone())).collect::<Vec<_>>(),
    );
    files.extend(figures);
    files.push(("sweep.html".into(), html));
    let refs: Vec<(&str, String)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    write_files(&dir, &refs)
}

fn set_text(r: &Row) -> String {
    r.set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// The rows as a terminal table.
fn rows_table(rows: &[Row], plan: &Plan) -> String {
    use neuromap_report::{fmt_joules, fmt_time};
    let mut head = vec!["network".to_string()];
    head.extend(plan.axes.iter().map(|a| a.key.clone()));
    head.extend(
        [
            "energy (in use)",
            "per event",
            "latency/step",
            "slow-down",
            "real time",
            "rate error",
            "area (in use)",
            "front",
            "note",
        ]
        .map(String::from),
    );
    let mut t = neuromap_report::table::Table::with_header(&head.iter().map(String::as_str).collect::<Vec<_>>());
    let o = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("-".to_string(), f);
    for r in rows {
        let mut cells = vec![r.network.clone()];
        cells.extend(r.set.iter().map(|(_, v)| v.clone()));
        cells.extend([
            o(r.energy_in_use_j, &fmt_joules),
            o(r.energy_per_event_j, &fmt_joules),
            o(r.latency_s, &fmt_time),
            o(r.slowdown, &|x| format!("{x:.2}")),
            r.real_time.map_or("-".into(), |b| if b { "yes".into() } else { "no".into() }),
            o(r.rate_error, &|x| format!("{:.1} %", 100.0 * x)),
            o(r.area_mm2, &|x| format!("{} mm²", neuromap_report::fmt_g(x))),
            if r.front {
                "*".into()
            } else if r.ran && !r.feasible {
                "excluded".into()
            } else {
                String::new()
            },
            r.note.chars().take(100).collect(),
        ]);
        t.push(cells);
    }
    t.render()
}

/// `neuromap sensitivity NET --hw MODEL [--compare MODEL2]`.
pub(crate) fn sensitivity(a: &SensitivityArgs, color: bool) -> Result<(), Failure> {
    let model = load_hw(&a.hw, color)?;
    let subject = subjects(&a.network, &[], MemoryLimit { max_memory: None }, &model, color)?.remove(0);
    let compare = match &a.compare {
        None => None,
        Some(c) => {
            let other = load_hw(c, color)?;
            let job = neuromap_pipeline::Job { model: other.clone(), ..subject.job.clone() };
            let r = dse::measure(job, 0, &subject.name, vec![]);
            if !r.ran {
                return Err(bad(format!("{} on {}: {}", subject.name, other.name, r.note)));
            }
            Some((other.name.clone(), r))
        }
    };
    let other = match &a.compare {
        Some(c) => Some(load_hw(c, color)?),
        None => None,
    };
    let n = (dse::uncertain_figures(&model).len() + other.as_ref().map_or(0, |o| dse::uncertain_figures(o).len()))
        * a.factor.len();
    eprintln!("{n} runs: each assumed or borrowed figure × {} factors", a.factor.len());
    let start = std::time::Instant::now();
    let (base, ranked) =
        dse::sensitivity(&subject, &model, &a.factor, compare.as_ref().map(|c| &c.1), a.threads, &progress(start))
            .map_err(bad)?;
    // The other model's own figures, against this one's baseline.
    let theirs = match &other {
        Some(o) => {
            let s = Subject {
                name: subject.name.clone(),
                job: neuromap_pipeline::Job { model: o.clone(), ..subject.job.clone() },
            };
            Some(dse::sensitivity(&s, o, &a.factor, Some(&base), a.threads, &progress(start)).map_err(bad)?.1)
        }
        None => None,
    };
    use neuromap_report::{fmt_joules, fmt_time};
    let mut out = format!(
        "{} on {}: {} in use, {} a step (baseline)\n",
        subject.name,
        model.name,
        fmt_joules(base.energy_in_use_j.unwrap_or(0.0)),
        fmt_time(base.latency_s.unwrap_or(0.0))
    );
    if let Some((name, c)) = &compare {
        out.push_str(&format!(
            "{} on {name}: {} in use, {} a step\n",
            subject.name,
            fmt_joules(c.energy_in_use_j.unwrap_or(0.0)),
            fmt_time(c.latency_s.unwrap_or(0.0))
        ));
    }
    out.push_str(&format!(
        "\n{}'s figures, ranked by the larger swing of energy and latency:\n{}",
        model.name,
        sensitivity_table(&ranked, &a.factor)
    ));
    if let (Some(o), Some(t)) = (&other, &theirs) {
        out.push_str(&format!("\n{}'s figures:\n{}", o.name, sensitivity_table(t, &a.factor)));
    }
    if let Some((name, c)) = &compare {
        let (e0, l0) = (base.energy_in_use_j.unwrap_or(0.0), base.latency_s.unwrap_or(0.0));
        let flips = |f: &dyn Fn(&dse::Sensitivity) -> Option<bool>| -> Vec<String> {
            ranked
                .iter()
                .filter(|s| f(s) == Some(false))
                .map(|s| format!("{}'s {}", model.name, s.figure))
                .chain(
                    theirs.iter().flatten().filter(|s| f(s) == Some(false)).map(|s| format!("{name}'s {}", s.figure)),
                )
                .collect()
        };
        for (what, less, more, mine, theirs_v, turned) in [
            (
                "energy",
                "uses less energy than",
                "uses more energy than",
                e0,
                c.energy_in_use_j.unwrap_or(0.0),
                flips(&|s| s.energy_order_holds),
            ),
            (
                "latency",
                "is faster per step than",
                "is slower per step than",
                l0,
                c.latency_s.unwrap_or(0.0),
                flips(&|s| s.latency_order_holds),
            ),
        ] {
            let side = if mine < theirs_v { less } else { more };
            if turned.is_empty() {
                out.push_str(&format!(
                    "{} {side} {name} whichever assumed or borrowed figure of either model moves, one at a time (×{}): the {what} ordering holds over the whole range\n",
                    model.name,
                    a.factor.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ×")
                ));
            } else {
                out.push_str(&format!(
                    "{} {side} {name} at the baseline; the {what} ordering turns when these figures move: {}\n",
                    model.name,
                    turned.join(", ")
                ));
            }
        }
    }
    print!("\n{out}");
    if let Some(path) = &a.out {
        let json = serde_json::json!({ "model": model.name, "baseline": base, "compare": compare.as_ref().map(|c| &c.1), "figures": ranked, "compare_figures": theirs });
        write::write_atomic(path, serde_json::to_string_pretty(&json).unwrap_or_default().as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A sensitivity study as a table: each figure, what it rests on, its value, and per
/// factor the change of energy and of latency (or why the point did not run).
fn sensitivity_table(ranked: &[dse::Sensitivity], factors: &[f64]) -> String {
    let mut head: Vec<String> = ["figure", "rests on", "value"].map(String::from).to_vec();
    for f in factors {
        head.push(format!("×{f} energy"));
        head.push(format!("×{f} latency"));
    }
    let mut t = neuromap_report::table::Table::with_header(&head.iter().map(String::as_str).collect::<Vec<_>>());
    for s in ranked {
        let mut cells = vec![s.figure.clone(), s.certainty.key().to_string(), neuromap_report::fmt_g(s.value)];
        for p in &s.points {
            match p.ratios {
                Some((e, l)) => {
                    cells.push(format!("{:+.1} %", 100.0 * (e - 1.0)));
                    cells.push(format!("{:+.1} %", 100.0 * (l - 1.0)));
                }
                None => {
                    let short = if p.note.starts_with("does not map") {
                        "does not map".to_string()
                    } else {
                        p.note.chars().take(30).collect()
                    };
                    cells.push(short);
                    cells.push("-".into());
                }
            }
        }
        t.push(cells);
    }
    t.render()
}

/// `neuromap sweep NET --hw MODEL --set KEY=A..B --search smallest --constraint C`.
fn search(
    a: &SweepArgs,
    model: &neuromap_hw::HwModel,
    plan: &Plan,
    subjects: &[Subject],
    dir: &str,
) -> Result<(), Failure> {
    let ([axis], [subject]) = (plan.axes.as_slice(), subjects) else {
        return Err(bad("--search takes one --set figure and one network"));
    };
    let direction = if dir == "largest" { dse::Direction::Largest } else { dse::Direction::Smallest };
    eprintln!(
        "searching {} ({} values) on {} for the {dir} value that meets the constraints, at most {} runs",
        axis.key,
        axis.values.len(),
        model.name,
        a.budget
    );
    let s = dse::search(subject, model, axis, &plan.constraints, direction, a.budget).map_err(bad)?;
    let text = rows_table(&s.rows, plan);
    println!("points in the order they ran:\n{text}\n{}", s.stop);
    let dir_out = a
        .out
        .clone()
        .unwrap_or_else(|| Path::new("out").join(format!("{}-search", model.name.replace(['/', ' '], "_"))));
    let json = serde_json::json!({
        "model": model.name,
        "figure": axis.key,
        "direction": direction,
        "constraints": plan.constraints.iter().map(Constraint::text).collect::<Vec<_>>(),
        "budget": a.budget,
        "found": s.found.map(|i| &s.rows[i].set[0].1),
        "stop": s.stop,
        "rows": s.rows,
    });
    write_files(
        &dir_out,
        &[
            ("search.csv", dse::csv(&s.rows, &plan.axes)),
            ("search.json", serde_json::to_string_pretty(&json).unwrap_or_default()),
        ],
    )
}
