//! Importers: file formats in, [`neuromap_ir::spec::NetworkSpec`] out.
//!
//! **Architecture invariant:** every problem in an input file becomes a
//! [`neuromap_diag::Diagnostic`] naming file, line and column; importers never panic on
//! input and never stop at the first problem when they can go on.

pub mod netlist;

pub use netlist::{Netlist, load_path, load_str};
