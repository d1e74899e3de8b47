//! `neuromap compile`: the mapping and its resource report.

use crate::*;

pub(crate) fn compile(a: &CompileArgs, color: bool) -> Result<(), Failure> {
    let n = load_with(&a.net, None, a.scale, color)?;
    let mut model = load_hw(&a.hw, color)?;
    if let Some(b) = a.boards {
        model.set_boards(b).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut faults = neuromap_hw::Faults::default();
    for f in &a.dead_chip {
        let [x, y] = parse_fault::<2>("dead-chip", f)?;
        faults.chips.push((num("dead-chip", &x)?, num("dead-chip", &y)?));
    }
    for f in &a.dead_core {
        let [x, y, c] = parse_fault::<3>("dead-core", f)?;
        faults.cores.push((num("dead-core", &x)?, num("dead-core", &y)?, num("dead-core", &c)?));
    }
    for f in &a.dead_link {
        let [x, y, d] = parse_fault::<3>("dead-link", f)?;
        faults.links.push((num("dead-link", &x)?, num("dead-link", &y)?, d));
    }
    model.apply_faults(&faults).map_err(|e| anyhow::anyhow!("{e}"))?;
    let net = build(&n.spec, a.mem, &a.net)?;
    // On a hybrid chip: which populations go to which part, and the weights they
    // compute with there.
    let mut pinned = if model.parts.is_empty() { Default::default() } else { n.spec.assign.clone() };
    pinned.extend(a.assign.iter().cloned());
    let hybrid = neuromap_pipeline::hybrid::plan(&net, &model, &pinned)
        .map_err(|e| anyhow::anyhow!("cannot map `{}` onto `{}`: {e}", net.name, model.name))?;
    let net = hybrid.as_ref().map_or(net.clone(), |h| h.functional.clone());
    let opts = neuromap_compile::CompileOptions {
        seed: a.seed,
        assumed_rate_hz: a.assumed_rate,
        placement_budget: a.placement_budget,
        neurons_per_core: a.neurons_per_core.iter().cloned().collect(),
        parts: hybrid.as_ref().map(|h| h.assignment.parts.clone()).unwrap_or_default(),
    };
    let t0 = Instant::now();
    let mapping = neuromap_compile::compile(&net, &model, &opts)
        .map_err(|e| anyhow::anyhow!("cannot map `{}` onto `{}`: {e}", net.name, model.name))?;
    let secs = t0.elapsed().as_secs_f64();
    let summary = neuromap_compile::artifact::summary(&net, &model, &mapping, &opts);
    if a.json {
        print!("{}", write::pretty_json(&summary));
    } else {
        print!("{}", neuromap_report::mapping_text(&summary));
        if let Some(h) = &hybrid {
            print!("{}", neuromap_pipeline::hybrid::placed_text(&h.assignment.placed));
        }
        println!("compiled and verified in {secs:.3} s");
    }
    if let Some(out) = &a.output {
        let json = neuromap_compile::artifact::to_json(&net, &model, &mapping, &opts);
        write::write_atomic(out, json.as_bytes())?;
        if !a.json {
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}
