//! Helpers shared by the benchmarks.

/// Peak resident memory of this process in GiB (Linux `VmHWM`; 0 elsewhere).
pub fn peak_rss_gib() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|x| x.parse().ok())
        .unwrap_or(0.0);
    kb / (1u64 << 20) as f64
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "meets target" } else { "MISSES target" }
}

/// The microcircuit netlist built into its IR (scale 0.1 with `NEUROMAP_BENCH_QUICK`),
/// and the seconds that took.
pub fn microcircuit() -> (neuromap::import::Netlist, neuromap::ir::Network, f64) {
    let t0 = std::time::Instant::now();
    let mut mc =
        neuromap::import::load_path(std::path::Path::new("netlists/microcircuit.toml")).expect("microcircuit loads");
    if std::env::var_os("NEUROMAP_BENCH_QUICK").is_some() {
        mc.spec.scale = 0.1;
    }
    if let Some(s) = std::env::var("NEUROMAP_BENCH_SCALE").ok().and_then(|s| s.parse().ok()) {
        mc.spec.scale = s;
    }
    let net = mc.spec.build().expect("microcircuit builds");
    (mc, net, t0.elapsed().as_secs_f64())
}
