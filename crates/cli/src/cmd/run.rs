//! `neuromap run`: the main job on every family, its report and its files.

use crate::*;

pub(crate) fn run(a: &RunArgs, processes: &ranks::Processes, color: bool) -> Result<(), Failure> {
    // Signals and the time limit hold from the start (see `Interrupts` for each phase).
    // Over MPI ranks the deadline is rank 0's alone: it asks the stop, so it can name
    // it (every rank honours its own signals; the ranks stop after the same step).
    let interrupts = on_interrupt();
    let deadline =
        a.time_limit.filter(|_| processes.leads()).map(|l| Instant::now() + std::time::Duration::from_secs_f64(l));
    if let (Some(d), Some(l)) = (deadline, a.time_limit) {
        interrupts.watch(d, l);
    }
    let stop = interrupts.stop(deadline);
    let (n, steps) = a.network.load(color)?;
    let mut model = load_hw(&a.hw, color)?;
    if let Some(b) = a.boards {
        model.set_boards(b).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    if let Some(r) = &a.rounding {
        model
            .set_choice("arith", "rounding", r, "set on the command line (--rounding)")
            .map_err(|e| anyhow::anyhow!("--rounding: {e}"))?;
    }
    if let Some(c) = &a.constants {
        model
            .set_choice("arith", "constants", c, "set on the command line (--constants)")
            .map_err(|e| anyhow::anyhow!("--constants: {e}"))?;
    }
    if let Some(f) = &a.format {
        model
            .set_choice("arith", "format", f, "set on the command line (--format)")
            .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    }
    let net = build(&n.spec, a.mem, &a.network.net)?;
    if a.compare.is_some() && !neuromap_pipeline::binary::is_binary_family(&model) {
        let hint = if neuromap_pipeline::crossbar::is_crossbar_family(&model) {
            "; `neuromap sweep … --compare MODEL` sets a crossbar beside an ARM-core model"
        } else {
            ""
        };
        return Err(anyhow::anyhow!(
            "--compare sets binary-network models side by side; `{}` is of family `{}`{hint}",
            model.name,
            model.family
        )
        .into());
    }
    // Where the outputs go is checked before anything runs.
    if !a.no_output && processes.leads() {
        write::check_output_dir(&out_dir(a.out.as_deref(), &net.name, &model.name))?;
    }
    // Families other than arm-core take only the fault seed (device programming).
    let seeded = neuromap_sim::chip::RunFaults { seed: a.fault_seed, ..Default::default() };
    // Only an ARM-core chip's simulation is split over ranks (a hybrid chip's tiles
    // count in one process); rank 0 runs the rest alone.
    let split = neuromap_pipeline::any::run_path(&model) == neuromap_pipeline::any::RunPath::ArmCore
        && model.parts.is_empty()
        && a.compare.is_none();
    if !processes.leads() && !split {
        return Ok(());
    }
    if a.compare.is_some() {
        return run_binary(a, job_of(a, n.spec, net, model, steps, seeded), color);
    }
    if neuromap_pipeline::any::run_path(&model) != neuromap_pipeline::any::RunPath::ArmCore {
        return run_other(a, job_of(a, n.spec, net, model, steps, seeded));
    }
    let mut faults =
        neuromap_sim::chip::RunFaults { packet_drop_rate: a.drop_rate, dead_links: Vec::new(), seed: a.fault_seed };
    for f in &a.fail_link {
        let [x, y, d] = parse_fault::<3>("fail-link", f)?;
        let (id, d) = model
            .machine
            .link_at(num("fail-link", &x)?, num("fail-link", &y)?, &d)
            .map_err(|e| anyhow::anyhow!("--fail-link {e}"))?;
        faults.dead_links.push((id, d as u8));
    }
    let job = neuromap_pipeline::Job {
        stop: stop.clone(),
        peers: if split { processes.peers.clone() } else { None },
        ..job_of(a, n.spec, net, model, steps, faults)
    };
    let leads = processes.leads();
    let bar = progress(if leads { steps } else { 0 }, "chip");
    let mut stopped: Option<&str> = None;
    // The steps already under way when a stop is seen still report; the checks are
    // announced once.
    let mut announced = false;
    let out = neuromap_pipeline::run_job(job, &mut |t| {
        stopped = stop.reason();
        if t == 1 {
            // From here a signal or the deadline stops the run cleanly, on every rank.
            interrupts.simulating();
        }
        if !leads {
            return stopped.is_none();
        }
        if t == 1 {
            eprintln!("simulating {steps} steps (Ctrl-C stops after the current step and writes what was simulated)");
        }
        if t % 64 == 0 || t == steps {
            bar.set_position(u64::from(t));
        }
        if (stopped.is_some() || t == steps) && !a.no_check && !announced {
            announced = true;
            eprintln!(
                "checking the steps simulated against the quantised model and the f64 reference (Ctrl-C cuts the checks short)"
            );
        }
        stopped.is_none()
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    let per_rank = if split { ranks::per_rank(processes, out.chip_s) } else { Vec::new() };
    if !leads {
        return Ok(());
    }
    let done = out.chip.result.steps;
    // Over ranks, a stop another rank asked (a signal it got first) ended the run
    // here too.
    let stopped =
        stopped.or_else(|| stop.reason()).or((!per_rank.is_empty()).then_some("interrupted on another MPI rank"));
    let stopped = stopped.filter(|_| done < steps).map(|why| format!("{why}: stopped after {done} of {steps} steps"));
    if let Some(s) = &stopped {
        eprintln!("{s}; the report covers the steps done");
    }
    if !per_rank.is_empty() {
        let unit = if a.threads == 1 { "thread" } else { "threads" };
        println!("{} MPI ranks × {} {unit}:", per_rank.len(), a.threads);
        for (r, (s, m)) in per_rank.iter().enumerate() {
            println!("  rank {r}: chip simulated in {s:.3} s, peak memory {:.2} GiB", *m as f64 / (1u64 << 30) as f64);
        }
    }
    if let Some(line) = shard_waits(&out.chip.shard_wait_s, out.chip_s, !per_rank.is_empty()) {
        println!("{line}");
    }
    let (net, model, mapping, chip) = (&out.job.net, &out.job.model, &out.mapping, &out.chip);
    let mapping_summary = out.mapping_summary();
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    println!(
        "compiled in {:.3} s: {} on {}",
        out.compile_s,
        neuromap_compile::plural(mapping_summary.cores_used, "core"),
        neuromap_compile::plural(mapping_summary.chips_used, "chip")
    );
    print!("{}", out.assignment_text());
    print!("{}", out.network_text());
    println!();
    let tau = neuromap_pipeline::TAU_MS;
    print!("{}", neuromap_report::fidelity_text(&out.fidelity, tau));
    print!("{}", neuromap_pipeline::warnings_text(&out.warnings));
    for f in &out.fit {
        println!("{f}");
    }
    println!();
    match &chip.counts.timing {
        Some(t) => print!("{}", neuromap_report::timing_text(t, mapping.hw.clock_hz)),
        None => println!("time per step: unknown (the model `{}` does not give the [timing] figures)", model.name),
    }
    println!();
    let energy = out.energy.as_ref();
    let per_step = energy.map(|e| e.per_step_j.clone());
    print!("{}", out.energy_text());
    if let Some(v) = &per_step {
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let max = v.iter().copied().fold(0.0, f64::max);
        println!("per timestep (machine allocated): mean {:.4} µJ, max {:.4} µJ", mean * 1e6, max * 1e6);
    }
    if a.no_output {
        return Ok(());
    }
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    #[derive(serde::Serialize)]
    struct Config<'a> {
        schema_version: u32,
        network: Option<&'a neuromap_ir::spec::NetworkSpec>,
        steps: u32,
        placement_seed: u64,
        threads: usize,
        /// MPI ranks the chip simulation was split over (1: one process).
        ranks: usize,
        run_faults: &'a neuromap_sim::chip::RunFaults,
        /// Why the run stopped before the steps asked for, if it did.
        stopped: Option<&'a str>,
        hw_model: &'a neuromap_hw::HwModel,
    }
    let resolved = Config {
        schema_version: 1,
        network: out.job.spec.as_ref(),
        steps: done,
        placement_seed: a.placement_seed,
        threads: a.threads,
        ranks: per_rank.len().max(1),
        run_faults: &out.job.faults,
        stopped: stopped.as_deref(),
        hw_model: model,
    };
    let (figures, html) = out.report_page(&summary);
    let mut files = vec![
        ("report.json", write::pretty_json(&out.report_json(true))),
        ("energy_steps.csv", energy_steps_csv(per_step.as_deref(), &chip.counts.router_passes_per_step)),
        ("summary.json", write::pretty_json(&summary)),
        ("fidelity.json", write::pretty_json(&out.fidelity)),
        ("energy.json", write::pretty_json(&energy.map(neuromap_report::ledger_json))),
        ("counts.json", write::pretty_json(&chip.counts)),
        ("mapping.json", out.mapping_json()),
        ("config.json", write::pretty_json(&resolved)),
        ("spikes.csv", write::spikes_csv(net, &chip.result)),
        ("report.html", html),
    ];
    files.extend(figures.into_iter().map(|(name, _, svg)| (name, svg)));
    write_files(&dir, &files)?;
    Ok(())
}

/// `run` on a binary-network family: map, run, check bit for bit against the reference,
/// price per classification; with `--compare`, the same on a second model and the ratios.
pub(crate) fn run_binary(a: &RunArgs, job: neuromap_pipeline::Job, color: bool) -> Result<(), Failure> {
    let other = match &a.compare {
        Some(name) => {
            let m = load_hw(name, color)?;
            if !neuromap_pipeline::binary::is_binary_family(&m) {
                return Err(anyhow::anyhow!(
                    "--compare sets binary-network models side by side; `{}` is of family `{}`",
                    m.name,
                    m.family
                )
                .into());
            }
            Some(neuromap_pipeline::Job { model: m, ..job.clone() })
        }
        None => None,
    };
    let run = |j| neuromap_pipeline::binary::run_binary_job(j).map_err(|e| anyhow::anyhow!("{e}"));
    let out = run(job)?;
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    println!("mapped in {:.3} s, simulated in {:.3} s", out.map_s, out.chip_s);
    print!("{}", out.mapping_text());
    let spikes: u64 = out.run.spike_counts.iter().sum();
    println!("chip = reference: identical ({spikes} spikes)\n");
    print!("{}", out.energy_text());
    let compared = match other {
        Some(other) => {
            let o = run(other)?;
            println!("\n{}", o.mapping_text());
            print!("{}", o.energy_text());
            let text = neuromap_pipeline::binary::comparison_text(&out, &o);
            println!("\n{text}");
            Some(text)
        }
        None => None,
    };
    if a.no_output {
        return Ok(());
    }
    let (net, model) = (&out.job.net, &out.job.model);
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    let mut files =
        family_files(out.report_json(true), &summary, out.summary(), &out.energy, write::spikes_csv(net, &out.result));
    if let Some(t) = compared {
        files.push(("comparison.txt", t));
    }
    write_files(&dir, &files)?;
    Ok(())
}

/// `run` on a family whose run path is not the arm-core chip's (crossbar, neurocore,
/// binary networks): the one entry, `run_any`, and the one report of its outcome.
pub(crate) fn run_other(a: &RunArgs, job: neuromap_pipeline::Job) -> Result<(), Failure> {
    let out = neuromap_pipeline::any::run_any(job).map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary = out.run_summary(true);
    print!("{}", summary.to_text());
    print!("{}", out.report_text());
    if a.no_output {
        return Ok(());
    }
    let (net, model) = (&out.job().net, &out.job().model);
    let Some(ledger) = out.ledger() else {
        return Err(anyhow::anyhow!("`{}` gives no energy figures", model.name).into());
    };
    let dir = out_dir(a.out.as_deref(), &net.name, &model.name);
    let files =
        family_files(out.report_json(true), &summary, out.summary(), ledger, write::spikes_csv(net, out.spikes()));
    write_files(&dir, &files)?;
    Ok(())
}

/// The files every family's run writes: its report, summary, ledger and spikes.
pub(crate) fn family_files(
    report: serde_json::Value,
    summary: &RunSummary,
    summary_text: String,
    ledger: &neuromap_cost::Ledger,
    spikes_csv: String,
) -> Vec<(&'static str, String)> {
    vec![
        ("report.json", write::pretty_json(&report)),
        ("summary.json", write::pretty_json(summary)),
        ("summary.txt", summary_text),
        ("energy.json", write::pretty_json(&neuromap_report::ledger_json(ledger))),
        ("spikes.csv", spikes_csv),
    ]
}

/// `step,energy_j,router_passes`, one row per step (energy empty where the model
/// gives no energy figures).
pub(crate) fn energy_steps_csv(per_step: Option<&[f64]>, passes: &[u64]) -> String {
    let mut s = String::from("step,energy_j,router_passes\n");
    for (t, p) in passes.iter().enumerate() {
        let e = per_step.and_then(|v| v.get(t)).map_or_else(String::new, |e| format!("{e:e}"));
        s.push_str(&format!("{t},{e},{p}\n"));
    }
    s
}

/// How long the threads of a run over several waited for each other, against the
/// chip's time ([`ChipRun::shard_wait_s`]): the time the split or the host's cores,
/// not the simulator's work, added to the run.
///
/// [`ChipRun::shard_wait_s`]: neuromap_sim::chip::ChipRun::shard_wait_s
fn shard_waits(waits: &[f64], chip_s: f64, ranks: bool) -> Option<String> {
    if waits.len() < 2 {
        return None;
    }
    let most = waits.iter().copied().fold(0.0, f64::max);
    let each =
        waits.iter().enumerate().map(|(i, w)| format!("shard {i} {:.1} ms", w * 1e3)).collect::<Vec<_>>().join(", ");
    let whose = if ranks { "rank 0's threads" } else { "threads" };
    Some(format!(
        "{} {whose} waited for each other: {each} (at most {:.1} % of the chip's {chip_s:.3} s; \
         one shard waiting far longer than another had less work or a faster core; all waiting long, the host held them up)",
        waits.len(),
        if chip_s > 0.0 { 100.0 * most / chip_s } else { 0.0 }
    ))
}
