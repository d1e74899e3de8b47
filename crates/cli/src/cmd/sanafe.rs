//! `neuromap sanafe`: SANA-FE's own files.

use crate::*;

pub(crate) fn sanafe_cmd(
    arch: &Path,
    netf: &Path,
    steps: u32,
    remap: bool,
    out: Option<&Path>,
    no_output: bool,
    color: bool,
) -> Result<(), Failure> {
    let fail = |d: Diagnostics, f: &Path| {
        report(&d, color);
        eprintln!("{}: {} error(s); nothing was run", f.display(), d.error_count());
        Failure::Input
    };
    let model = neuromap_import::sanafe::load_arch(arch).map_err(|d| fail(d, arch))?;
    let cpt = model.get("core", "cores_per_tile").unwrap_or(1.0) as u32;
    let sn = neuromap_import::sanafe::load_net(netf, cpt).map_err(|d| fail(d, netf))?;
    let net = sn.netlist.spec.build().map_err(|e| anyhow::anyhow!("{}: {e}", netf.display()))?;
    let placement = if remap { None } else { sn.placement };
    println!(
        "{} on {} ({}): {}",
        net.name,
        model.name,
        arch.display(),
        if placement.is_some() { "the file's mapping" } else { "neuromap's placement" }
    );
    let job = neuromap_pipeline::Job::new(Some(sn.netlist.spec), net, model, steps);
    let out_run =
        neuromap_pipeline::neurocore::run_neurocore_placed(job, placement).map_err(|e| anyhow::anyhow!("{e}"))?;
    print!("{}", out_run.run_summary(true).to_text());
    print!("{}", out_run.report_text());
    if no_output {
        return Ok(());
    }
    let (net, model) = (&out_run.job.net, &out_run.job.model);
    let dir = out_dir(out, &net.name, &model.name);
    let files = [
        ("report.json", write::pretty_json(&out_run.report_json(true))),
        ("summary.txt", out_run.summary()),
        ("spikes.csv", write::spikes_csv(net, &out_run.result)),
    ];
    write_files(&dir, &files)?;
    Ok(())
}
