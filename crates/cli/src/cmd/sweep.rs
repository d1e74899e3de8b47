//! `neuromap sweep`: the liquid-state-machine study on a crossbar.

use crate::*;

/// `neuromap sweep`: the LSM workload on a crossbar model under one parameter at a
/// time, accuracy and energy per inference, CSV and SVG; optionally beside an ARM-core
/// model.
pub(crate) fn sweep_cmd(a: &SweepArgs, color: bool) -> Result<(), Failure> {
    if !a.more.is_empty() || a.search.is_some() {
        return Err(anyhow::anyhow!(
            "more than one network, and --search, are for a sweep over figures: give --set KEY=V1,V2,… (the crossbar study takes one network)"
        )
        .into());
    }
    let (n, _) = a.network.load(color)?;
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let model = load_hw(&a.hw, color)?;
    let Some(base) = neuromap_hw::crossbar::Crossbar::from_model(&model) else {
        return Err(anyhow::anyhow!(
            "`{}` is of family `{}`; `sweep` varies the devices of a crossbar model",
            model.name,
            model.family
        )
        .into());
    };
    let data = neuromap_xbar::lsm::Dataset { seed: a.data_seed, train: a.train, test: a.test, ..Default::default() };
    eprintln!("training the readout on {} reference runs, {} held-out samples…", data.train, data.test);
    let study = neuromap_pipeline::crossbar::LsmStudy::prepare(net, data).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "LSM `{}`: readout trained on the f64 reference (training accuracy {:.1} %); held-out accuracy on the reference {:.1} %",
        study.net.name,
        100.0 * study.train_accuracy,
        100.0 * study.reference_accuracy
    );
    let ideal = neuromap_hw::crossbar::Crossbar {
        sigma: 0.0,
        stuck_low: 0.0,
        stuck_high: 0.0,
        read_noise: 0.0,
        r_wire_ohm: 0.0,
        levels: 256,
        adc_bits: 40,
        ..base.clone()
    };
    let e_ideal = study.on_crossbar(&model, &ideal, a.fault_seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let e_model = study.on_crossbar(&model, &base, a.fault_seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("ideal devices, 256 levels, exact ADC: accuracy {:.1} %", 100.0 * e_ideal.accuracy);
    println!(
        "{} as modelled: accuracy {:.1} %, {:.3} nJ and {:.3} µs per inference ({} steps)",
        model.name,
        100.0 * e_model.accuracy,
        e_model.energy_per_inference_j * 1e9,
        e_model.latency_per_inference_s * 1e6,
        study.data.steps
    );
    let sw = neuromap_pipeline::crossbar::Sweep {
        sigma: a.sigma.clone(),
        stuck: a.stuck.clone(),
        levels: a.levels.clone(),
        adc_bits: a.adc_bits.clone(),
    };
    let rows =
        neuromap_pipeline::crossbar::sweep(&study, &model, &sw, a.fault_seed).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut t = neuromap_report::table::Table::new([
        "parameter",
        "value",
        "accuracy",
        "energy/inference (nJ)",
        "latency (µs)",
        "clipped",
    ]);
    for r in &rows {
        t.row([
            r.parameter.to_string(),
            neuromap_report::fmt_g(r.value),
            format!("{:.1} %", 100.0 * r.eval.accuracy),
            format!("{:.3}", r.eval.energy_per_inference_j * 1e9),
            format!("{:.3}", r.eval.latency_per_inference_s * 1e6),
            r.eval.clipped.to_string(),
        ]);
    }
    print!("\n{}", t.render());
    let mut compare = String::new();
    if let Some(arm) = &a.compare {
        let arm_model = load_hw(arm, color)?;
        let (total, dynamic, ticks) =
            study.on_model(&arm_model, a.compare_samples).map_err(|e| anyhow::anyhow!("{e}"))?;
        let x = e_model.energy_per_inference_j;
        compare = format!(
            "energy per inference: {} {:.3e} J, {} {:.3e} J ({:.3e} J without idle power); ratio {:.3e}× ({:.3e}× against the dynamic part)\n",
            model.name,
            x,
            arm_model.name,
            total,
            dynamic,
            total / x,
            dynamic / x
        );
        let held = e_model.energy_per_inference_held_j;
        if ticks {
            compare.push_str(&format!(
            "held to the {} ms step ({} held to the network's dt, as a chip that keeps real time): {:.3e} J per inference; ratio {:.3e}×\n",
            neuromap_report::fmt_g(study.net.dt),
            model.name,
            held,
            total / held
        ));
        }
        print!("\n{compare}");
    }
    let dir =
        a.out.clone().unwrap_or_else(|| Path::new("out").join(format!("{}-{}-sweep", study.net.name, model.name)));
    let title = format!("{} on {}: accuracy and energy per inference", study.net.name, model.name);
    write::write_atomic(&dir.join("sweep.csv"), neuromap_pipeline::crossbar::sweep_csv(&rows).as_bytes())?;
    write::write_atomic(&dir.join("sweep.svg"), neuromap_pipeline::crossbar::sweep_svg(&title, &rows).as_bytes())?;
    if !compare.is_empty() {
        write::write_atomic(&dir.join("comparison.txt"), compare.as_bytes())?;
    }
    println!("\nwrote sweep.csv, sweep.svg in {}", dir.display());
    Ok(())
}
