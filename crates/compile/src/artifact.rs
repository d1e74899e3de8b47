//! The mapping artifact (JSON, schema-versioned, deterministic) and its summary.
//!
//! Everything is ordered (slices by index, tables by chip, entries by key), keys are
//! hexadecimal strings, and floats go through serde_json's shortest round-trip
//! formatting, so the same inputs give the same bytes on any machine or thread count.

use neuromap_hw::HwModel;
use neuromap_ir::Network;
use serde::Serialize;

use crate::partition::SliceKind;
use crate::place::PlaceStats;
use crate::route::TableStats;
use crate::{CompileOptions, Mapping};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MinMeanMax {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

impl MinMeanMax {
    fn of(xs: impl Iterator<Item = f64>) -> Self {
        let (mut min, mut max, mut sum, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for x in xs {
            min = min.min(x);
            max = max.max(x);
            sum += x;
            n += 1;
        }
        if n == 0 { Self { min: 0.0, mean: 0.0, max: 0.0 } } else { Self { min, mean: sum / n as f64, max } }
    }
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LinkLoad {
    pub chip: [u32; 2],
    pub link: &'static str,
    pub packets_per_step: f64,
}

/// The resource report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Summary {
    pub network: String,
    pub hw_model: String,
    pub machine_chips: usize,
    pub machine_working_chips: usize,
    pub machine_usable_cores: usize,
    pub chips_used: usize,
    pub cores_used: usize,
    pub neuron_slices: usize,
    pub source_slices: usize,
    pub delay_extension_slices: usize,
    /// Over cores that hold neurons or sources.
    pub neurons_per_core: MinMeanMax,
    /// The most neurons the model lets one core hold (`core.max_neurons`).
    pub neurons_capacity: u32,
    pub local_memory_bytes_per_core: MinMeanMax,
    pub local_memory_capacity: u64,
    pub synapse_bytes_per_core: MinMeanMax,
    pub synapse_bytes_capacity: u64,
    pub routing: TableStats,
    pub placement: PlaceStats,
    pub assumed_neuron_rate_hz: f64,
    pub packets_per_step: f64,
    /// The five busiest links.
    pub hottest_links: Vec<LinkLoad>,
    /// A hybrid chip's parts: tiles used of those on the working chips.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tiles: Vec<TileUse>,
}

/// How many of a hybrid chip's tiles of one part the mapping uses.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TileUse {
    pub part: String,
    pub used: usize,
    pub capacity: usize,
    pub max_neurons: u32,
}

#[derive(Serialize)]
struct SliceOut<'a> {
    id: usize,
    population: &'a str,
    kind: SliceKind,
    /// A hybrid chip's part holding the slice (absent: a core).
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<&'a str>,
    lo: u32,
    hi: u32,
    chip: [u32; 2],
    core: u32,
    key: Option<String>,
    local_memory_bytes: u64,
    synapse_bytes: u64,
    expected_spikes_per_step: f64,
    targets: &'a [u32],
}

#[derive(Serialize)]
struct EntryOut {
    key: String,
    mask: String,
    links: Vec<&'static str>,
    cores: Vec<u32>,
}

#[derive(Serialize)]
struct TableOut {
    chip: [u32; 2],
    entries_routed: usize,
    entries_before_compression: usize,
    entries: Vec<EntryOut>,
}

#[derive(Serialize)]
struct Options<'a> {
    seed: u64,
    assumed_rate_hz: f64,
    placement_budget: Option<u64>,
    /// Only when set, so artifacts without caps keep their bytes.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    neurons_per_core: &'a std::collections::BTreeMap<String, u32>,
    #[serde(skip_serializing_if = "parts_empty")]
    parts: &'a crate::Parts,
}

fn parts_empty(p: &&crate::Parts) -> bool {
    p.kinds.is_empty()
}

#[derive(Serialize)]
struct Artifact<'a> {
    schema_version: u32,
    summary: &'a Summary,
    options: Options<'a>,
    mask: String,
    slices: Vec<SliceOut<'a>>,
    routing_tables: Vec<TableOut>,
    link_load: Vec<LinkLoad>,
}

pub fn summary(net: &Network, model: &HwModel, m: &Mapping, opts: &CompileOptions) -> Summary {
    let machine = &model.machine;
    let sl = &m.partition.slices;
    let count = |k: fn(&SliceKind) -> bool| sl.iter().filter(|s| s.part == 0 && k(&s.kind)).count();
    let mut chips: Vec<_> = m.placement.core_of.iter().map(|c| c.0).collect();
    chips.sort();
    chips.dedup();
    let usable: usize = machine
        .chip_ids()
        .filter(|&c| machine.chip(c).alive)
        .map(|c| crate::place::app_cores(machine, &m.hw, c).len())
        .sum();
    let on_cores = || sl.iter().filter(|s| s.part == 0);
    let real = || on_cores().filter(|s| !matches!(s.kind, SliceKind::DelayExtension { .. }));
    let mut loads: Vec<LinkLoad> = m
        .link_load
        .iter()
        .map(|(&(c, d), &v)| {
            let ch = machine.chip(c);
            LinkLoad { chip: [ch.x, ch.y], link: machine.topology.link_name(usize::from(d)), packets_per_step: v }
        })
        .collect();
    loads.sort_by(|a, b| {
        b.packets_per_step.total_cmp(&a.packets_per_step).then((a.chip, a.link).cmp(&(b.chip, b.link)))
    });
    Summary {
        network: net.name.clone(),
        hw_model: model.name.clone(),
        machine_chips: machine.chips().len(),
        machine_working_chips: machine.alive_chips(),
        machine_usable_cores: usable,
        chips_used: chips.len(),
        cores_used: on_cores().count(),
        neuron_slices: count(|k| matches!(k, SliceKind::Neurons)),
        source_slices: count(|k| matches!(k, SliceKind::Source)),
        delay_extension_slices: count(|k| matches!(k, SliceKind::DelayExtension { .. })),
        neurons_per_core: MinMeanMax::of(real().map(|s| f64::from(s.len()))),
        neurons_capacity: m.hw.max_neurons,
        local_memory_bytes_per_core: MinMeanMax::of(on_cores().map(|s| s.local_memory_bytes as f64)),
        local_memory_capacity: m.hw.local_memory_bytes,
        synapse_bytes_per_core: MinMeanMax::of(on_cores().map(|s| s.synapse_bytes as f64)),
        synapse_bytes_capacity: m.hw.sdram_per_core(),
        routing: m.table_stats.clone(),
        placement: m.placement.stats.clone(),
        assumed_neuron_rate_hz: opts.assumed_rate_hz,
        packets_per_step: m.link_load.values().sum::<f64>() + 0.0,
        hottest_links: loads.into_iter().take(5).collect(),
        tiles: m
            .parts
            .kinds
            .iter()
            .enumerate()
            .map(|(k, p)| TileUse {
                part: p.name.clone(),
                used: sl.iter().filter(|s| usize::from(s.part) == k + 1).count(),
                capacity: machine.alive_chips() * p.per_chip as usize,
                max_neurons: p.max_neurons,
            })
            .collect(),
    }
}

fn hex(x: u32) -> String {
    format!("{x:#010x}")
}

/// The full artifact as pretty JSON with a trailing newline.
pub fn to_json(net: &Network, model: &HwModel, m: &Mapping, opts: &CompileOptions) -> String {
    let machine = &model.machine;
    let summary = summary(net, model, m, opts);
    let xy = |c: neuromap_hw::ChipId| {
        let ch = machine.chip(c);
        [ch.x, ch.y]
    };
    let slices = m
        .partition
        .slices
        .iter()
        .enumerate()
        .map(|(i, s)| SliceOut {
            id: i,
            population: &net.pop(s.pop).name,
            kind: s.kind,
            part: (s.part > 0).then(|| m.parts.name(s.part)),
            lo: s.lo,
            hi: s.hi,
            chip: xy(m.placement.core_of[i].0),
            core: m.placement.core_of[i].1,
            key: m.key[i].map(hex),
            local_memory_bytes: s.local_memory_bytes,
            synapse_bytes: s.synapse_bytes,
            expected_spikes_per_step: m.traffic.spikes_per_step[i],
            targets: &m.traffic.targets[i],
        })
        .collect();
    let routing_tables = m
        .tables
        .iter()
        .map(|(&c, t)| TableOut {
            chip: xy(c),
            entries_routed: t.routed,
            entries_before_compression: t.uncompressed,
            entries: t
                .entries
                .iter()
                .map(|e| EntryOut {
                    key: hex(e.key),
                    mask: hex(e.mask),
                    links: (0..machine.topology.n_links())
                        .filter(|&d| e.route.links >> d & 1 == 1)
                        .map(|d| machine.topology.link_name(d))
                        .collect(),
                    cores: e.route.core_list(),
                })
                .collect(),
        })
        .collect();
    let link_load = m
        .link_load
        .iter()
        .map(|(&(c, d), &v)| LinkLoad {
            chip: xy(c),
            link: machine.topology.link_name(usize::from(d)),
            packets_per_step: v,
        })
        .collect();
    let doc = Artifact {
        schema_version: SCHEMA_VERSION,
        summary: &summary,
        options: Options {
            seed: opts.seed,
            assumed_rate_hz: opts.assumed_rate_hz,
            placement_budget: opts.placement_budget,
            neurons_per_core: &opts.neurons_per_core,
            parts: &m.parts,
        },
        mask: hex(if m.block_bits == 0 { u32::MAX } else { u32::MAX << m.block_bits }),
        slices,
        routing_tables,
        link_load,
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
