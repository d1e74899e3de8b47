//! `neuromap snapshot` and `neuromap verify`: golden corpora.

use crate::*;

pub(crate) fn corpus(dir: &Path, threads: usize, record: bool, color: bool) -> Result<(), Failure> {
    let c = neuromap_pipeline::corpus::load(dir).map_err(|d| {
        report(&d, color);
        Failure::Input
    })?;
    if record {
        let written = neuromap_pipeline::corpus::snapshot(&c, threads).map_err(|e| anyhow::anyhow!("{e}"))?;
        for w in &written {
            println!("recorded {}", w.display());
        }
        println!("{} golden record(s) in {}", written.len(), dir.join("golden").display());
        return Ok(());
    }
    let verdicts = neuromap_pipeline::corpus::verify(&c, threads).map_err(|e| anyhow::anyhow!("{e}"))?;
    let failed = verdicts.iter().filter(|v| !v.ok).count();
    for v in &verdicts {
        println!("{:<4} {}", if v.ok { "ok" } else { "FAIL" }, v.id);
        if !v.report.is_empty() {
            for line in v.report.lines() {
                println!("     {line}");
            }
        }
    }
    if failed == 0 {
        println!("{} case(s) verified against {}", verdicts.len(), dir.join("golden").display());
        Ok(())
    } else {
        eprintln!(
            "{failed} of {} case(s) failed verification against {}",
            verdicts.len(),
            dir.join("golden").display()
        );
        Err(Failure::Budget)
    }
}
