//! Importers: file formats in, [`neuromap_ir::spec::NetworkSpec`] out.
//!
//! **Architecture invariant:** every problem in an input file becomes a
//! [`neuromap_diag::Diagnostic`] naming file, line and column; importers never panic on
//! input and never stop at the first problem when they can go on.

pub mod netlist;
pub mod nir;
#[cfg(feature = "sanafe")]
pub mod sanafe;
pub mod write;

pub use netlist::{Netlist, load_path, load_str};

/// Loads a network file by its extension: `.nir` (NIR graph, with `nir` options) or a
/// TOML netlist.
pub fn load_any(path: &std::path::Path, nir: &nir::NirOptions) -> Result<Netlist, neuromap_diag::Diagnostics> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("nir")) {
        nir::load_path(path, nir)
    } else {
        netlist::load_path(path)
    }
}
