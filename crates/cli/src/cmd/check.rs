//! `neuromap check`: every problem of a netlist, with file, line and column.

use crate::*;

pub(crate) fn check(files: &[PathBuf], build_limit: Option<MemoryLimit>, color: bool) -> Result<(), Failure> {
    let mut failed = 0;
    for f in files {
        let Ok(n) = load(f, color) else {
            failed += 1;
            continue;
        };
        let s = &n.spec;
        // What building would refuse in a population, said now (an importer may have
        // derived a parameter out of range).
        if let Err(e) = s.check_populations() {
            eprintln!("{}: error: {e}", f.display());
            failed += 1;
            continue;
        }
        let syn: f64 = s.expected_synapses().iter().sum();
        let neurons: u64 = (0..s.populations.len()).map(|i| s.scaled_size(i)).sum();
        let mut line = format!(
            "{}: ok — {} populations and sources ({} neurons and sources), {} projections, ~{} synapses expected",
            f.display(),
            s.populations.len(),
            neurons,
            s.projections.len(),
            neuromap_report::fmt_si(syn)
        );
        if let Some(mem) = build_limit {
            match build(s, mem, f) {
                Ok(net) => line.push_str(&format!("; built {} synapses", net.n_synapses())),
                Err(e) => {
                    if let Failure::Other(e) = e {
                        eprintln!("error: {e:#}");
                    }
                    failed += 1;
                    continue;
                }
            }
        }
        println!("{line}");
    }
    if failed > 0 { Err(Failure::Input) } else { Ok(()) }
}
