//! Chip models: what a neuromorphic machine is made of.
//!
//! **Architecture invariant:** no file leaves this crate unvalidated: [`load_path`]
//! returns a [`HwModel`] whose every figure has a value within its unit's range and a
//! provenance, or diagnostics naming file, line and column. Families
//! ([`family::FAMILIES`]) declare their parameters once; the generic compiler layers
//! read them through typed views ([`arm_core::ArmCore`], [`binary::ThresholdLogic`],
//! [`binary::MacBnn`], [`crossbar::Crossbar`], [`neurocore::NeuroCore`]) and never
//! parse files.

pub mod arm_core;
pub mod binary;
pub mod crossbar;
pub mod family;
mod model;
pub mod neurocore;
pub mod topology;

pub use model::{Certainty, Faults, Figure, HwModel, Part, Provenance, load_path, load_str};
pub use topology::{Chip, ChipId, Machine, Topology};
