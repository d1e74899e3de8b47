//! The mapper: a [`neuromap_ir::Network`] onto a chip model.
//!
//! Passes: [`partition`] → [`traffic`] → [`place`] → [`keys`] → [`route::trees`] →
//! [`route::tables`] → [`route::compress`] → [`verify`]. The verifier always runs: a
//! [`Mapping`] that is returned routes every sender's packets to exactly the cores of
//! its targets and fits every resource.
//!
//! **Architecture invariant:** the passes see the hardware through the family's typed
//! view ([`neuromap_hw::arm_core::ArmCore`]) and the [`neuromap_hw::Machine`]; they
//! never read files and never print.

pub mod artifact;
pub mod graph;
pub mod keys;
pub mod partition;
pub mod place;
pub mod route;
pub mod traffic;

use std::collections::BTreeMap;

use neuromap_hw::arm_core::ArmCore;
use neuromap_hw::{ChipId, HwModel};
use neuromap_ir::Network;

use crate::partition::{Partition, SliceKind};
use crate::place::Placement;
use crate::route::{Table, TableStats, Tree};
use crate::traffic::Traffic;

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CompileError {
    #[error("not enough {resource}: the network needs {demand}; the machine has {capacity}. {help}")]
    DoesNotFit { resource: String, demand: String, capacity: String, help: String },
    #[error("{0}")]
    NoRoute(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("the mapping failed verification: {0}")]
    Verify(String),
}

#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Seeds placement refinement.
    pub seed: u64,
    /// Firing rate assumed for neurons when estimating traffic (sources use their own).
    pub assumed_rate_hz: f64,
    /// Placement refinement moves (`None`: 200 per slice, at most 2×10⁶).
    pub placement_budget: Option<u64>,
    /// At most this many neurons per core for the named populations (below the
    /// model's `max_neurons`), as sPyNNaker's `set_number_of_neurons_per_core`.
    pub neurons_per_core: std::collections::BTreeMap<String, u32>,
    /// A hybrid chip's tiles of other families, and which populations they hold
    /// (empty: every population on the chip's cores).
    pub parts: Parts,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            assumed_rate_hz: 10.0,
            placement_budget: None,
            neurons_per_core: Default::default(),
            parts: Parts::default(),
        }
    }
}

/// The endpoints of a hybrid chip beside its cores, as the generic passes see them:
/// per part, how many tiles each chip has and how many neurons a tile holds. Which
/// family a part is, and what it computes, is the pipeline's business.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Parts {
    pub kinds: Vec<PartKind>,
    /// Per population: 0 for the chip's cores, `k` for part `k − 1`.
    pub of_pop: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PartKind {
    /// What reports call it (the part's model).
    pub name: String,
    pub per_chip: u32,
    /// Neurons one tile holds.
    pub max_neurons: u32,
}

impl Parts {
    /// The part (0 = cores) of population `pop`.
    pub fn of(&self, pop: neuromap_ir::PopId) -> u8 {
        self.of_pop.get(pop.index()).copied().unwrap_or(0)
    }

    /// Endpoints per chip beyond the cores.
    pub fn per_chip(&self) -> u32 {
        self.kinds.iter().map(|k| k.per_chip).sum()
    }

    /// The part (0 = cores) of endpoint `core` of a chip with `cores` cores.
    pub fn of_core(&self, cores: u32, core: u32) -> u8 {
        let mut at = cores;
        if core < at {
            return 0;
        }
        for (k, p) in self.kinds.iter().enumerate() {
            at += p.per_chip;
            if core < at {
                return k as u8 + 1;
            }
        }
        u8::MAX
    }

    /// The endpoint numbers of part `k` (≥ 1) on a chip with `cores` cores.
    pub fn endpoints(&self, cores: u32, k: u8) -> std::ops::Range<u32> {
        let first = cores + self.kinds[..usize::from(k) - 1].iter().map(|p| p.per_chip).sum::<u32>();
        first..first + self.kinds[usize::from(k) - 1].per_chip
    }

    /// What part `k` is called (`k = 0`: the cores).
    pub fn name(&self, k: u8) -> &str {
        if k == 0 { "cores" } else { &self.kinds[usize::from(k) - 1].name }
    }
}

/// A compiled network: where every slice runs and how its spikes travel.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub hw: ArmCore,
    pub partition: Partition,
    pub traffic: Traffic,
    pub placement: Placement,
    /// Per slice: its routing key, if it sends.
    pub key: Vec<Option<u32>>,
    /// Low key bits that index the neuron (and delay stage) within a slice.
    pub block_bits: u32,
    pub trees: Vec<(u32, Tree)>,
    pub tables: BTreeMap<ChipId, Table>,
    pub table_stats: TableStats,
    /// Expected packets per timestep per (chip, outgoing link).
    pub link_load: BTreeMap<(ChipId, u8), f64>,
    /// A hybrid chip's parts (empty for a chip of one family).
    pub parts: Parts,
}

/// 123469792 → "123,469,792".
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// "1 chip", "2 chips".
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Bits that number `n` things (0 for one).
pub(crate) fn bits_for(n: u64) -> u32 {
    if n <= 1 { 0 } else { 64 - (n - 1).leading_zeros() }
}

/// Refuses a population whose neuron model the chip model does not price: on the
/// `arm-core` family, a model of [`neuromap_hw::arm_core::MODEL_FIGURES`] whose
/// `[models]` figures the chip model lacks; on the other families (whose neuron costs
/// are a LIF update's), every such model.
pub fn check_models(net: &Network, model: &HwModel) -> Result<(), String> {
    let arm = ArmCore::from_model(model);
    for p in net.populations().iter().filter(|p| !p.is_source()) {
        let name = p.model_name();
        let why = match &arm {
            Some(hw) => hw.refuses(name).map(|figure| {
                format!(
                    "the chip model gives no figure `{figure}` (the state or the update cycles of one {name} neuron)"
                )
            }),
            None => (neuromap_hw::arm_core::cost_kind(name) > 0)
                .then(|| format!("the {} family prices a LIF update, not a {name} one", model.family)),
        };
        if let Some(why) = why {
            return Err(format!(
                "population `{}` is of the {name} model, which `{}` (family {}) does not map: {why}; `neuromap simulate` runs it in the f64 reference and the quantised s16.15 model",
                p.name, model.name, model.family
            ));
        }
    }
    Ok(())
}

pub fn compile(net: &Network, model: &HwModel, opts: &CompileOptions) -> Result<Mapping, CompileError> {
    let hw = ArmCore::from_model(model).ok_or_else(|| {
        CompileError::Unsupported(format!("the compiler maps onto the arm-core family, not `{}`", model.family))
    })?;
    check_models(net, model).map_err(CompileError::Unsupported)?;
    if hw.format != 0 && hw.rounding != 0 {
        return Err(CompileError::Unsupported(format!(
            "`{}` computes in {}, which rounds every product to nearest even; arith.rounding `{}` applies to s16.15 only",
            model.name,
            neuromap_hw::family::FORMATS.get(hw.format).unwrap_or(&"?"),
            neuromap_hw::family::ROUNDING_MODES.get(hw.rounding).unwrap_or(&"?")
        )));
    }
    // Endpoints per chip: the cores, and a hybrid chip's tiles.
    let endpoints = hw.cores + opts.parts.per_chip();
    if endpoints > route::MAX_CORES {
        return Err(CompileError::Unsupported(format!(
            "{} cores and {} tiles per chip; routes name at most {} endpoints",
            hw.cores,
            opts.parts.per_chip(),
            route::MAX_CORES
        )));
    }
    let machine = &model.machine;
    let partition = partition::partition(net, &hw, &opts.neurons_per_core, &opts.parts)?;
    let traffic = traffic::traffic(net, &partition, &hw, opts.assumed_rate_hz);
    let placement = place::place(machine, &hw, &traffic, &partition, &opts.parts, opts.seed, opts.placement_budget)?;

    // Keys: one block per sending slice; the low bits index neuron and delay stage.
    let longest = partition.slices.iter().map(|s| u64::from(s.len())).max().unwrap_or(1);
    let has_de = partition.slices.iter().any(|s| matches!(s.kind, SliceKind::DelayExtension { .. }));
    let stage_bits = if has_de { bits_for(u64::from(hw.delay_extension_stages) + 1) } else { 0 };
    let block_bits = bits_for(longest) + stage_bits;
    let senders: Vec<u32> =
        (0..partition.slices.len() as u32).filter(|&s| !traffic.targets[s as usize].is_empty()).collect();
    let mask = if block_bits == 0 { u32::MAX } else { u32::MAX << block_bits };
    let (key, key_scheme) = keys::allocate(machine, &placement.core_of, &senders, endpoints, block_bits)?;
    let targets_of = |s: u32| -> Vec<(ChipId, u32)> {
        let mut v: Vec<(ChipId, u32)> =
            traffic.targets[s as usize].iter().map(|&t| placement.core_of[t as usize]).collect();
        v.sort();
        v.dedup();
        v
    };
    let routed: Vec<route::Sender> =
        senders.iter().map(|&s| (s, placement.core_of[s as usize].0, targets_of(s))).collect();
    let trees = route::trees(machine, &routed)?;
    let keys: Vec<u32> = senders.iter().map(|&s| key[s as usize].unwrap_or(0)).collect();
    let mut tables = route::tables(&keys, mask, &trees);
    let capacity = hw.router_entries as usize;
    let max_routed = tables.values().map(|t| t.routed).max().unwrap_or(0);
    let max_uncompressed = tables.values().map(|t| t.uncompressed).max().unwrap_or(0);
    // Each chip's table compressed on its own, the chips in parallel; the first chip
    // in order whose table still overflows is named.
    let covered: Vec<bool> = {
        use rayon::prelude::*;
        tables.par_iter_mut().map(|(_, t)| route::compress(t, capacity, block_bits)).collect()
    };
    let ordered_covered = covered.iter().filter(|&&c| c).count();
    for (chip, t) in &tables {
        if t.entries.len() > capacity {
            let c = machine.chip(*chip);
            return Err(CompileError::DoesNotFit {
                resource: "router table entries".into(),
                demand: format!(
                    "{} entries at chip ({}, {}) after compression ({} before)",
                    t.entries.len(),
                    c.x,
                    c.y,
                    t.uncompressed
                ),
                capacity: format!("{capacity} entries per chip"),
                help: "spread the network over more chips, or use larger slices".into(),
            });
        }
    }
    let table_stats = TableStats {
        chips_with_tables: tables.len(),
        max_routed,
        max_uncompressed,
        max_compressed: tables.values().map(|t| t.entries.len()).max().unwrap_or(0),
        total_compressed: tables.values().map(|t| t.entries.len()).sum(),
        capacity,
        ordered_covered,
        keys: key_scheme,
    };
    let mut link_load: BTreeMap<(ChipId, u8), f64> = BTreeMap::new();
    for (&s, tree) in senders.iter().zip(&trees) {
        for (&chip, (route, _)) in &tree.chips {
            for d in 0..8u8 {
                if route.links >> d & 1 == 1 {
                    *link_load.entry((chip, d)).or_default() += traffic.spikes_per_step[s as usize];
                }
            }
        }
    }
    let trees = senders.iter().copied().zip(trees).collect();
    let mapping = Mapping {
        hw,
        partition,
        traffic,
        placement,
        key,
        block_bits,
        trees,
        tables,
        table_stats,
        link_load,
        parts: opts.parts.clone(),
    };
    verify(net, model, &mapping)?;
    Ok(mapping)
}

/// Checks a mapping against the network and the machine: every neuron in exactly one
/// slice, every slice on its own working core, every resource within capacity, and
/// every sender's packets reaching exactly its targets' cores through the (compressed)
/// tables, for the first and the last key of its block.
pub fn verify(net: &Network, model: &HwModel, m: &Mapping) -> Result<(), CompileError> {
    let err = |s: String| Err(CompileError::Verify(s));
    let machine = &model.machine;
    // Partition: contiguous, complete, in range.
    for id in net.pop_ids() {
        let mut next = 0;
        for s in
            m.partition.slices.iter().filter(|s| s.pop == id && !matches!(s.kind, SliceKind::DelayExtension { .. }))
        {
            if s.lo != next || s.hi <= s.lo {
                return err(format!("population `{}` is not cut into contiguous slices", net.pop(id).name));
            }
            next = s.hi;
        }
        if next != net.pop(id).size {
            return err(format!(
                "population `{}`: slices cover {next} of {} neurons",
                net.pop(id).name,
                net.pop(id).size
            ));
        }
    }
    // Placement: distinct working cores, resources within capacity.
    let mut used = std::collections::BTreeSet::new();
    for (s, &(chip, core)) in m.placement.core_of.iter().enumerate() {
        let c = machine.chip(chip);
        let sl = &m.partition.slices[s];
        let part = m.parts.of_core(m.hw.cores, core);
        let wrong_kind = part != sl.part;
        if !c.alive || core < m.hw.reserved_cores || wrong_kind || c.dead_cores.contains(&core) {
            return err(format!(
                "slice {s} (for the {}) is on endpoint {core} of chip ({}, {}), which cannot run it",
                m.parts.name(sl.part),
                c.x,
                c.y
            ));
        }
        if !used.insert((chip, core)) {
            return err(format!("core {core} of chip ({}, {}) holds two slices", c.x, c.y));
        }
        if sl.local_memory_bytes > m.hw.local_memory_bytes || sl.synapse_bytes > m.hw.sdram_per_core() {
            return err(format!("slice {s} exceeds a core's memory"));
        }
    }
    if let Some((chip, t)) = m.tables.iter().find(|(_, t)| t.entries.len() > m.hw.router_entries as usize) {
        let c = machine.chip(*chip);
        return err(format!("chip ({}, {}) has {} routing entries", c.x, c.y, t.entries.len()));
    }
    // Routing: follow the tables, the senders in parallel; the first sender in order
    // that fails is named.
    use rayon::prelude::*;
    let last = if m.block_bits == 0 { 0 } else { (1u32 << m.block_bits) - 1 };
    let wrong = m.trees.par_iter().find_map_first(|(s, _)| {
        let s = *s as usize;
        let key = m.key[s].unwrap_or(0);
        let mut want: Vec<(ChipId, u32)> =
            m.traffic.targets[s].iter().map(|&t| m.placement.core_of[t as usize]).collect();
        want.sort();
        want.dedup();
        [key, key | last].into_iter().find_map(|k| {
            match route::follow(machine, &m.tables, m.placement.core_of[s].0, k) {
                Err(e) => Some(e),
                Ok(got) if got != want => Some(format!(
                    "key {k:#010x} of slice {s} reaches {} cores, its targets are on {}",
                    got.len(),
                    want.len()
                )),
                Ok(_) => None,
            }
        })
    });
    wrong.map_or(Ok(()), err)
}
