//! Routing keys: one block of keys per sending slice, allocated by where the slice
//! runs.
//!
//! A key is `x | y | endpoint | block`, the layout of SpiNNaker's own early software
//! (`x << 24 | y << 16 | p << 11 | neuron`), with each field only as wide as the
//! machine needs. Where a router sends a packet depends on where the packet came
//! from, so senders close together on the machine tend to share a route at a distant
//! router: with their keys close together too, one entry (or, under ordered covering,
//! one entry and a few exceptions before it) serves a whole region. Keys numbered by
//! slice instead interleave the regions as soon as placement refinement moves a
//! slice (docs/scale.md gives one experiment's table sizes). The price: moving a
//! slice changes its key, and `neuromap diff` reports both.
//!
//! When the fields do not fit 32 bits, keys are dense: block `k` for the `k`-th
//! sender in slice order.

use neuromap_hw::{ChipId, Machine};
use serde::Serialize;

use crate::CompileError;
use crate::bits_for;

/// How keys were allocated, for the report and the artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "scheme")]
pub enum KeyScheme {
    /// `x | y | endpoint | block`, with these field widths in bits (the block's low
    /// bits index the neuron and the delay stage).
    Location { x_bits: u32, y_bits: u32, endpoint_bits: u32, block_bits: u32 },
    /// Block `k` for the `k`-th sender.
    Dense { block_bits: u32 },
}

/// Per slice its key (senders only, in slice order), and the scheme used. `at` gives
/// each slice's chip and endpoint; `endpoints` is the number of endpoints per chip
/// (cores and a hybrid chip's tiles).
pub fn allocate(
    m: &Machine,
    at: &[(ChipId, u32)],
    senders: &[u32],
    endpoints: u32,
    block_bits: u32,
) -> Result<(Vec<Option<u32>>, KeyScheme), CompileError> {
    let mut key = vec![None; at.len()];
    let (x_bits, y_bits) = (bits_for(m.width.into()), bits_for(m.height.into()));
    let endpoint_bits = bits_for(endpoints.into());
    if x_bits + y_bits + endpoint_bits + block_bits <= 32 {
        for &s in senders {
            let (chip, e) = at[s as usize];
            let c = m.chip(chip);
            let place = (u64::from(c.x) << y_bits | u64::from(c.y)) << endpoint_bits | u64::from(e);
            key[s as usize] = Some((place << block_bits) as u32);
        }
        return Ok((key, KeyScheme::Location { x_bits, y_bits, endpoint_bits, block_bits }));
    }
    if block_bits >= 32 || (senders.len() as u64) > (1u64 << (32 - block_bits)) {
        return Err(CompileError::DoesNotFit {
            resource: "32-bit routing keys".into(),
            demand: format!("{} sending slices × 2^{block_bits} keys each", senders.len()),
            capacity: "2^32 keys".into(),
            help: "use fewer, larger slices".into(),
        });
    }
    for (k, &s) in senders.iter().enumerate() {
        key[s as usize] = Some((k as u32) << block_bits);
    }
    Ok((key, KeyScheme::Dense { block_bits }))
}
