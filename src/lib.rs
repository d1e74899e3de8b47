//! neuromap: compile spiking and binary neural networks onto models of neuromorphic
//! chips, simulate them, and report energy, latency, resources and fidelity.
//!
//! This facade re-exports the layers; see `ARCHITECTURE.md` for the map.

pub use neuromap_bnn as bnn;
pub use neuromap_compile as compile;
pub use neuromap_cost as cost;
pub use neuromap_diag as diag;
pub use neuromap_hw as hw;
pub use neuromap_import as import;
pub use neuromap_ir as ir;
pub use neuromap_ncore as ncore;
pub use neuromap_pipeline as pipeline;
pub use neuromap_report as report;
pub use neuromap_sim as sim;
pub use neuromap_xbar as xbar;
pub mod fuzzing;
