//! `neuromap campaign`: fault settings against the fault-free run.

use crate::*;

pub(crate) fn campaign(a: &CampaignArgs, processes: &ranks::Processes, color: bool) -> Result<(), Failure> {
    use neuromap_pipeline::campaign as fc;
    let (n, steps) = a.network.load(color)?;
    let model = load_hw(&a.hw, color)?;
    let net = build(&n.spec, a.mem, &a.network.net)?;
    let settings = fc::sweep(&a.dead_chips, &a.dead_cores, &a.dead_links, &a.drop_rates, &a.fail_links);
    if let Some(p) = a.drop_rates.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(anyhow::anyhow!("--drop-rates: {p} is not a probability").into());
    }
    let c = fc::Campaign {
        spec: &n.spec,
        net: &net,
        model: &model,
        steps,
        seeds: a.seeds,
        threads: a.threads,
        settings: settings.clone(),
        peers: processes.peers.clone(),
    };
    let total = settings.len() as u64 * a.seeds.max(1);
    let shown = if processes.leads() { total } else { 0 };
    let bar = progress(u32::try_from(shown).unwrap_or(u32::MAX), "campaign");
    let (base, rows) = fc::run(&c, &mut |what| {
        bar.set_message(what.to_string());
        bar.inc(1);
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    if !processes.leads() {
        return Ok(());
    }
    let sums = fc::summarise(&settings, &rows);
    println!(
        "fault campaign: {} on {}, {steps} steps, {} setting(s) × {} seed(s); compared with the fault-free run ({} spikes)\n",
        net.name,
        model.name,
        settings.len(),
        a.seeds.max(1),
        base.chip.result.neuron_spikes(&net)
    );
    print!("{}", fc::summary_text(&sums));
    // Link faults touch only packets that cross links: say so when none does.
    if base.chip.counts.links_crossed() == 0
        && settings.iter().any(|s| s.drop_rate > 0.0 || s.dead_links > 0 || s.fail_links > 0)
    {
        println!(
            "\nno packet of the fault-free run crossed a link between chips (its {} chip(s) sent none to each other), so dead links, failing links and drop rates per link crossing cannot touch it",
            base.mapping_summary().chips_used
        );
    }
    let dir = a.out.clone().unwrap_or_else(|| Path::new("out").join(format!("{}-{}-campaign", net.name, model.name)));
    let labels: Vec<String> = sums.iter().map(|s| s.setting.clone()).collect();
    let col = |f: &dyn Fn(&fc::Summary) -> (f64, f64), k: f64| -> (Vec<f64>, Vec<f64>) {
        sums.iter().map(|s| (f(s).0 * k, f(s).1 * k)).unzip()
    };
    let (m1, s1) = col(&|s| s.count_error, 100.0);
    let (m2, s2) = col(&|s| s.lost_deliveries, 1.0);
    let (m3, s3) = col(&|s| s.energy_j, 1.0);
    let plot = neuromap_report::plot::bars;
    let files = [
        ("campaign.csv", fc::rows_csv(&rows)),
        ("summary.json", write::pretty_json(&sums)),
        ("fidelity.svg", plot("spike count error against the fault-free run", "%", &labels, &m1, &s1)),
        ("losses.svg", plot("deliveries to cores lost", "deliveries", &labels, &m2, &s2)),
        ("energy.svg", plot("energy", "J", &labels, &m3, &s3)),
    ];
    write_files(&dir, &files)?;
    Ok(())
}
