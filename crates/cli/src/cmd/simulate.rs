//! `neuromap simulate`, `neuromap fidelity` and `neuromap models`.

use crate::*;

pub(crate) fn simulate(a: &SimulateArgs, color: bool) -> Result<(), Failure> {
    let (n, steps) = a.network.load(color)?;
    let t0 = Instant::now();
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let build_s = t0.elapsed().as_secs_f64();
    let (limit, why) = a.mem.bytes();
    let need = neuromap_sim::memory_estimate(&net) + net.synapse_bytes() as f64;
    if need > limit {
        return Err(anyhow::anyhow!(
            "{}: simulating needs about {:.2} GiB (synapses and input buffers); the limit is {:.2} GiB ({why}); lower `scale` or the sizes, or raise --max-memory",
            a.network.net.display(),
            need / (1u64 << 30) as f64,
            limit / (1u64 << 30) as f64
        )
        .into());
    }
    let t1 = Instant::now();
    let rounding = a.rounding.as_deref().and_then(neuromap_sim::arith::Rounding::from_name).unwrap_or_default();
    let format = a.format.as_deref().and_then(neuromap_sim::arith::Format::from_name).unwrap_or_default();
    let wide_constants = a.constants.as_deref() == Some("wide");
    let options = neuromap_sim::Options { record_sources: a.record_sources, rounding, format, wide_constants };
    let bar = progress(steps, if a.quantised { "quantised" } else { "reference" });
    let label = |l: String| if wide_constants { format!("{l}, wide constants") } else { l };
    let run = neuromap_sim::simulate_stepped(&net, steps, a.quantised, options, &mut |t| {
        if t % 64 == 0 || t == steps {
            bar.set_position(u64::from(t));
        }
        true
    });
    let engine = if a.quantised { label(format.label(rounding)) } else { "reference".to_string() };
    bar.finish_and_clear();
    let wall = t1.elapsed().as_secs_f64();
    let summary = RunSummary::new(&net, &run, &engine, Some(wall));
    const TAU_MS: f64 = 10.0;
    let fidelity = a.quantised.then(|| {
        let reference = neuromap_sim::simulate(&net, steps, options);
        neuromap_sim::fidelity::compare(&net, &reference, &run, TAU_MS)
    });
    if a.json {
        print!("{}", write::pretty_json(&summary));
    } else {
        print!("{}", summary.to_text());
        println!("network built in {build_s:.3} s");
        if let Some(f) = &fidelity {
            println!();
            print!("{}", neuromap_report::fidelity_text(f, TAU_MS));
        }
    }
    if a.no_output {
        return Ok(());
    }
    let dir = a.out.clone().unwrap_or_else(|| Path::new("out").join(&net.name));
    let mut files = vec![
        ("summary.json", write::pretty_json(&summary)),
        ("network.json", write::pretty_json(&n.spec)),
        ("spikes.csv", write::spikes_csv(&net, &run)),
        ("spikes.json", write::spikes_json(&net, &run)),
    ];
    if !net.probes().is_empty() {
        files.push(("probes.csv", write::probes_csv(&net, &run)));
    }
    if a.write_synapses {
        files.push(("synapses.csv", write::synapses_csv(&net)));
    }
    if let Some(f) = &fidelity {
        files.push(("fidelity.json", write::pretty_json(f)));
    }
    for (name, body) in &files {
        write::write_atomic(&dir.join(name), body.as_bytes())?;
    }
    if !a.json {
        let names: Vec<&str> = files.iter().map(|f| f.0).collect();
        println!("wrote {} in {}", names.join(", "), dir.display());
    }
    Ok(())
}

/// `neuromap models`: every model with its parameters and defaults.
pub fn models_text() -> String {
    use neuromap_import::netlist::{CONNECTORS, MODELS, SOURCE_KINDS, model_params};
    let mut s = String::from("Neuron models (population `model`), parameters and defaults:\n");
    for m in MODELS {
        s.push_str(&format!("\n  {m}\n"));
        for (k, d, _) in model_params(m).unwrap_or(&[]) {
            s.push_str(&format!("    {k:<12} {d}\n"));
        }
        match m {
            "threshold" => s.push_str("    encoding     \"binary\" | \"bipolar\"\n"),
            "li" => s.push_str("    v_init       v_rest\n"),
            _ => s.push_str("    reset        \"value\" | \"subtract\"\n    v_init       resting value, a list, or a distribution\n"),
        }
    }
    s.push_str(&format!("\nSpike sources (`[[source]] kind`): {}\n", SOURCE_KINDS.join(", ")));
    s.push_str(&format!("Connectors (`connector`): {}\n", CONNECTORS.join(", ")));
    s.push_str("\nUnits: ms, mV, nF, nA, Hz. See docs/netlist.md.\n");
    s
}

pub(crate) fn fidelity(a: &FidelityArgs, color: bool) -> Result<(), Failure> {
    let (n, steps) = a.network.load(color)?;
    let arith = if let Some(name) = &a.hw {
        let model = load_hw(name, color)?;
        let Some(hw) = neuromap_hw::arm_core::ArmCore::from_model(&model) else {
            return Err(anyhow::anyhow!(
                "--hw {name}: `{}` is of family `{}`; the arithmetic compared here is an ARM-core chip's (`neuromap run` reports any family's fidelity)",
                model.name,
                model.family
            )
            .into());
        };
        vec![neuromap_pipeline::fidelity::Arithmetic::of(&hw)]
    } else if a.arith.is_empty() {
        neuromap_pipeline::fidelity::Arithmetic::ALL.to_vec()
    } else {
        a.arith
            .iter()
            .map(|s| neuromap_pipeline::fidelity::Arithmetic::parse(s.trim()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("--arith: {e}"))?
    };
    if !(a.tau.is_finite() && a.tau > 0.0) {
        return Err(anyhow::anyhow!("--tau must be a positive number of ms, got {}", a.tau).into());
    }
    // One network at a time per thread: check the first seed's size against the limit.
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let (limit, why) = a.mem.bytes();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(a.seeds as usize).max(1) as f64;
    let need = (2.0 * neuromap_sim::memory_estimate(&net) + net.synapse_bytes() as f64) * threads;
    if need > limit {
        return Err(anyhow::anyhow!(
            "{}: {} seeds in parallel need about {:.2} GiB; the limit is {:.2} GiB ({why}); lower `scale`, the seeds, or raise --max-memory",
            a.network.net.display(),
            a.seeds,
            need / (1u64 << 30) as f64,
            limit / (1u64 << 30) as f64
        )
        .into());
    }
    drop(net);
    let seeds: Vec<u64> = (0..a.seeds).map(|k| n.spec.seed.wrapping_add(k)).collect();
    // A study writes nothing: Ctrl-C quits at once.
    eprintln!(
        "{} × {} × {steps} steps (the f64 reference and each arithmetic; seeds in parallel)",
        neuromap_compile::plural(seeds.len(), "seed"),
        neuromap_compile::plural(arith.len(), "arithmetic"),
    );
    let study = neuromap_pipeline::fidelity::study(&n.spec, steps, &seeds, &arith, a.tau, &Default::default())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if a.json {
        print!("{}", write::pretty_json(&study));
    } else {
        print!("{}", study.to_text());
    }
    Ok(())
}
