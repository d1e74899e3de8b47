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
    let opts = neuromap_compile::CompileOptions {
        seed: a.seed,
        assumed_rate_hz: a.assumed_rate,
        placement_budget: a.placement_budget,
        neurons_per_core: a.neurons_per_core.iter().cloned().collect(),
        parts: Default::default(),
    };
    let c = neuromap_pipeline::compile_network(&net, &model, &pinned, opts).map_err(|e| anyhow::anyhow!("{e}"))?;
    let summary = c.summary(&model);
    if a.json {
        print!("{}", write::pretty_json(&summary));
    } else {
        print!("{}", neuromap_report::mapping_text(&summary));
        if let Some(p) = &c.placed {
            print!("{p}");
        }
        println!("compiled and verified in {:.3} s", c.compile_s);
    }
    if let Some(out) = &a.output {
        let json = c.artifact_json(&model);
        write::write_atomic(out, json.as_bytes())?;
        if !a.json {
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}
