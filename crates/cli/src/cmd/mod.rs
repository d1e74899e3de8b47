//! One module per command; each prints its own report.

mod campaign;
mod check;
mod compile;
mod corpus;
mod diff;
pub(crate) mod dse;
mod generate;
mod hw;
mod import;
mod run;
mod sanafe;
mod simulate;
mod sweep;
mod table;

pub(crate) use campaign::*;
pub(crate) use check::*;
pub(crate) use compile::*;
pub(crate) use corpus::*;
pub(crate) use diff::*;
pub(crate) use generate::*;
pub(crate) use hw::*;
pub(crate) use import::*;
pub(crate) use run::*;
pub(crate) use sanafe::*;
pub(crate) use simulate::*;
pub(crate) use sweep::*;
pub(crate) use table::*;
