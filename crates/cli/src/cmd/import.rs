//! `neuromap import`: a NIR graph as a netlist.

use crate::*;

pub(crate) fn import(
    file: &Path,
    output: &Path,
    nir: neuromap_import::nir::NirOptions,
    steps: u32,
    color: bool,
) -> Result<(), Failure> {
    if !file.extension().is_some_and(|e| e.eq_ignore_ascii_case("nir")) {
        return Err(anyhow::anyhow!("`import` reads NIR graphs (.nir); {} is not one", file.display()).into());
    }
    let n = load_nir(file, &nir, color)?;
    let header = format!(
        "Imported from {} by `neuromap import` (dt {} s of NIR time per step, input spike probability {} per step).\nThe mapping from NIR is described in docs/nir.md.",
        file.file_name().map_or_else(|| file.display().to_string(), |f| f.to_string_lossy().to_string()),
        nir.dt_s,
        nir.input_p
    );
    let text = neuromap_import::write::to_toml(&n.spec, Some(steps), &header).map_err(|e| anyhow::anyhow!("{e}"))?;
    write::write_atomic(output, text.as_bytes())?;
    let neurons: u64 = n.spec.populations.iter().map(|p| p.size).sum();
    println!(
        "wrote {}: {} populations and sources ({neurons} neurons and sources), {} projections",
        output.display(),
        n.spec.populations.len(),
        n.spec.projections.len()
    );
    Ok(())
}
