//! SANA-FE files: an architecture (YAML) becomes a `neurocore` chip model, and an SNN
//! description (groups, neurons, edges, mappings) a network with each neuron's core,
//! so SANA-FE's users can run their files unchanged (`neuromap sanafe ARCH NET`).
//!
//! Network semantics (SANA-FE's Loihi LIF soma): each step the potential decays by
//! `leak_decay` and adds its input and `bias`; a spike when it exceeds `threshold`,
//! then it is set to `reset`; a spike is delivered in the next step (a delay of one
//! step). A neuron with `spikes: [0/1 per step]` or `poisson: p` is an input (a source).
//! Problems name the file, the line where the YAML parser saw them when it did, and the
//! path of the entry in the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use neuromap_diag::{Diagnostic, Diagnostics, SourceFile};
use neuromap_hw::{Figure, HwModel, Machine, Provenance, Topology};
use neuromap_ir::connect::{Connector, Dist, ListEntry};
use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProjSpec, SourceSpec};
use neuromap_ir::{Lif, LifFlavour, NeuronModel, Param, Receptor, Reset};
use saphyr::{ScalarOwned, YamlLoader, YamlOwned};

use crate::Netlist;

/// A YAML node, as much of it as these files use.
#[derive(Clone, Debug, Default, PartialEq)]
enum Yaml {
    Real(f64),
    Integer(i64),
    String(String),
    Boolean(bool),
    Array(Vec<Yaml>),
    Hash(Vec<(Yaml, Yaml)>),
    #[default]
    BadValue,
}

static BAD: Yaml = Yaml::BadValue;

impl Yaml {
    fn from(y: &YamlOwned) -> Yaml {
        match y {
            YamlOwned::Value(ScalarOwned::FloatingPoint(f)) => Yaml::Real(f.into_inner()),
            YamlOwned::Value(ScalarOwned::Integer(i)) => Yaml::Integer(*i),
            YamlOwned::Value(ScalarOwned::String(s)) => Yaml::String(s.clone()),
            YamlOwned::Value(ScalarOwned::Boolean(b)) => Yaml::Boolean(*b),
            YamlOwned::Sequence(v) => Yaml::Array(v.iter().map(Yaml::from).collect()),
            YamlOwned::Mapping(m) => Yaml::Hash(m.iter().map(|(k, v)| (Yaml::from(k), Yaml::from(v))).collect()),
            YamlOwned::Representation(s, _, _) => Yaml::String(s.clone()),
            _ => Yaml::BadValue,
        }
    }

    fn is_badvalue(&self) -> bool {
        matches!(self, Yaml::BadValue)
    }

    fn as_vec(&self) -> Option<&Vec<Yaml>> {
        if let Yaml::Array(v) = self { Some(v) } else { None }
    }

    fn as_hash(&self) -> Option<&Vec<(Yaml, Yaml)>> {
        if let Yaml::Hash(h) = self { Some(h) } else { None }
    }
}

impl std::ops::Index<&str> for Yaml {
    type Output = Yaml;
    fn index(&self, key: &str) -> &Yaml {
        self.as_hash()
            .and_then(|h| h.iter().find(|(k, _)| text(k).as_deref() == Some(key)).map(|(_, v)| v))
            .unwrap_or(&BAD)
    }
}

impl std::ops::Index<usize> for Yaml {
    type Output = Yaml;
    fn index(&self, i: usize) -> &Yaml {
        self.as_vec().and_then(|v| v.get(i)).unwrap_or(&BAD)
    }
}

fn read(path: &Path, what: &str) -> Result<(Arc<SourceFile>, Yaml), Diagnostics> {
    let name = path.display().to_string();
    let text = neuromap_diag::read_input_text(path).map_err(|e| Diagnostics::unreadable(name.clone(), what, &e))?;
    parse(name, text, what)
}

/// Parses a SANA-FE file's text, its scalars kept as written.
fn parse(name: String, text: String, what: &str) -> Result<(Arc<SourceFile>, Yaml), Diagnostics> {
    let file = SourceFile::new(name, text.clone());
    // Scalars stay as written: `core: 0.10` is tile 0, core 10, not the number 0.1.
    let mut loader: YamlLoader<'_, YamlOwned> = YamlLoader::default();
    loader.early_parse(false);
    let mut parser = saphyr_parser::Parser::new_from_str(&text);
    let loaded = parser.load(&mut loader, true).map(|()| loader.into_documents());
    match loaded {
        Ok(docs) if !docs.is_empty() => Ok((file, Yaml::from(&docs[0]))),
        Ok(_) => Err(Diagnostics(vec![Diagnostic::error(&file, None, format!("{what} is empty"))])),
        Err(e) => {
            let m = e.marker();
            let offset = text.char_indices().nth(m.index()).map_or(text.len(), |(i, _)| i);
            let d = Diagnostic::error(&file, Some(offset..offset), format!("not valid YAML: {}", e.info()))
                .with_label("here");
            Err(Diagnostics(vec![d]))
        }
    }
}

struct Cx {
    file: Arc<SourceFile>,
    diags: Vec<Diagnostic>,
}

impl Cx {
    fn error(&mut self, at: &str, msg: impl std::fmt::Display) {
        self.diags.push(Diagnostic::error(&self.file, None, format!("{at}: {msg}")));
    }
}

fn num(y: &Yaml) -> Option<f64> {
    match y {
        Yaml::Real(r) => Some(*r),
        Yaml::Integer(i) => Some(*i as f64),
        Yaml::String(s) => s.parse().ok(),
        Yaml::Boolean(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

fn text(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.to_string()),
        _ => None,
    }
}

/// `name[a..b]` → (name, count).
fn range_name(s: &str) -> (String, u32) {
    if let (Some(open), true) = (s.find('['), s.ends_with(']')) {
        let inner = &s[open + 1..s.len() - 1];
        if let Some((a, b)) = inner.split_once("..")
            && let (Ok(a), Ok(b)) = (a.trim().parse::<u32>(), b.trim().parse::<u32>())
            && b >= a
        {
            return (s[..open].to_string(), b - a + 1);
        }
    }
    (s.to_string(), 1)
}

/// Attributes written as a map or as a list of one-key maps, flattened.
fn attrs(y: &Yaml) -> BTreeMap<String, Yaml> {
    let mut out = BTreeMap::new();
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                let Some(k) = text(k) else { continue };
                // Unit sections (`soma: {threshold: 2}`) hold the same attributes.
                if matches!(k.as_str(), "soma" | "dendrite" | "synapse" | "model_attributes") && v.as_hash().is_some() {
                    out.extend(attrs(v));
                } else {
                    out.insert(k, v.clone());
                }
            }
        }
        Yaml::Array(a) => {
            for e in a {
                out.extend(attrs(e));
            }
        }
        _ => {}
    }
    out
}

/// A SANA-FE architecture file as a `neurocore` chip model.
pub fn load_arch(path: &Path) -> Result<HwModel, Diagnostics> {
    arch_of(read(path, "the SANA-FE architecture")?)
}

/// [`load_arch`] from text (`name` names it in diagnostics).
pub fn load_arch_str(name: &str, text: &str) -> Result<HwModel, Diagnostics> {
    arch_of(parse(name.to_string(), text.to_string(), "the SANA-FE architecture")?)
}

fn arch_of((file, y): (Arc<SourceFile>, Yaml)) -> Result<HwModel, Diagnostics> {
    let mut cx = Cx { file, diags: Vec::new() };
    let a = &y["architecture"];
    if a.is_badvalue() {
        cx.error("(top)", "no `architecture` section: not a SANA-FE architecture file");
        return Err(Diagnostics(cx.diags));
    }
    let name = text(&a["name"]).unwrap_or_else(|| "sanafe-arch".into());
    let top = attrs(&a["attributes"]);
    // The mesh's sides, as a chip model's: whole numbers of tiles, 1 to 4,096 each.
    let mut side = |key: &str| -> u32 {
        let v = top.get(key).and_then(num).unwrap_or(1.0);
        if v.fract() != 0.0 || !(1.0..=4096.0).contains(&v) {
            cx.error(
                &format!("architecture.attributes.{key}"),
                format!("the mesh's {key} is {v}; it must be a whole number of tiles from 1 to 4,096"),
            );
            return 1;
        }
        v as u32
    };
    let (width, height) = (side("width"), side("height"));
    if !cx.diags.is_empty() {
        return Err(Diagnostics(cx.diags));
    }
    // `latency_sync`: one value, or a table by tiles in use ({tiles: latency} or a list
    // indexed from 0), SANA-FE taking the entry of the largest count at or below the
    // tiles in use (the first entry below them all).
    let mut sync_table: Vec<(f64, f64)> = match top.get("latency_sync") {
        Some(Yaml::Hash(h)) => h.iter().filter_map(|(k, v)| Some((num(k)?, num(v)?))).collect(),
        Some(Yaml::Array(a)) => a.iter().enumerate().filter_map(|(i, v)| Some((i as f64, num(v)?))).collect(),
        Some(v) => num(v).map(|x| vec![(0.0, x)]).unwrap_or_default(),
        None => vec![(0.0, 0.0)],
    };
    sync_table.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sync = sync_table.first().map(|x| x.1);
    let sync_steps: Vec<(u32, f64)> =
        sync_table.iter().skip(1).filter(|x| x.0 >= 1.0).map(|&(k, v)| (k as u32, v)).collect();
    let tile = &a["tile"][0];
    if tile.is_badvalue() {
        cx.error("architecture", "no `tile` entry");
        return Err(Diagnostics(cx.diags));
    }
    let (_, tiles) = range_name(&text(&tile["name"]).unwrap_or_default());
    let ta = attrs(&tile["attributes"]);
    let core = &tile["core"][0];
    let (_, cores_per_tile) = range_name(&text(&core["name"]).unwrap_or_default());
    let ca = attrs(&core["attributes"]);
    // The first unit of each kind that is not an input soma.
    let unit = |kind: &str| -> BTreeMap<String, Yaml> {
        core[kind]
            .as_vec()
            .and_then(|v| {
                v.iter()
                    .map(|u| attrs(&u["attributes"]))
                    .find(|a| a.get("model").and_then(text).as_deref() != Some("input"))
            })
            .unwrap_or_default()
    };
    let (axon_in, soma, synapse, axon_out) = (unit("axon_in"), unit("soma"), unit("synapse"), unit("axon_out"));
    let src = cx.file.name.clone();
    let mut figures = Vec::new();
    let mut fig =
        |section: &'static str, key: &'static str, unit: &'static str, value: Option<f64>, from: &str, cx: &mut Cx| {
            match value {
                Some(v) if v.is_finite() && v >= 0.0 => figures.push(Figure {
                    section,
                    key,
                    unit,
                    value: v,
                    provenance: Provenance::Source(format!("SANA-FE architecture {src}: {from}")),
                    steps: Vec::new(),
                }),
                _ => cx.error(&format!("architecture: {from}"), "missing or not a number ≥ 0"),
            }
        };
    let g = |m: &BTreeMap<String, Yaml>, k: &str| m.get(k).and_then(num);
    fig("core", "cores", "cores", Some(f64::from(tiles * cores_per_tile)), "tile and core name ranges", &mut cx);
    fig("core", "cores_per_tile", "cores", Some(f64::from(cores_per_tile)), "core name range", &mut cx);
    fig(
        "core",
        "neurons_per_core",
        "neurons",
        Some(g(&ca, "max_neurons_supported").unwrap_or(1024.0)),
        "core max_neurons_supported",
        &mut cx,
    );
    fig("core", "max_axons_in", "axons", Some(1e9), "SANA-FE does not limit a core's input axons", &mut cx);
    fig("core", "max_dest_cores", "cores", Some(1e9), "SANA-FE does not limit a neuron's destinations", &mut cx);
    fig("energy", "neuron_access_j", "J", g(&soma, "energy_access_neuron"), "soma energy_access_neuron", &mut cx);
    fig("energy", "neuron_update_j", "J", g(&soma, "energy_update_neuron"), "soma energy_update_neuron", &mut cx);
    fig("energy", "spike_out_j", "J", g(&soma, "energy_spike_out"), "soma energy_spike_out", &mut cx);
    fig("energy", "synapse_j", "J", g(&synapse, "energy_process_spike"), "synapse energy_process_spike", &mut cx);
    fig(
        "energy",
        "message_j",
        "J",
        g(&axon_out, "energy_message_out").map(|x| x + g(&axon_in, "energy_message_in").unwrap_or(0.0)),
        "axon_out energy_message_out + axon_in energy_message_in",
        &mut cx,
    );
    fig("energy", "hop_x_j", "J", g(&ta, "energy_east_hop"), "tile energy_east_hop", &mut cx);
    fig("energy", "hop_y_j", "J", g(&ta, "energy_north_hop"), "tile energy_north_hop", &mut cx);
    fig("timing", "neuron_access_s", "s", g(&soma, "latency_access_neuron"), "soma latency_access_neuron", &mut cx);
    fig("timing", "neuron_update_s", "s", g(&soma, "latency_update_neuron"), "soma latency_update_neuron", &mut cx);
    fig("timing", "spike_out_s", "s", g(&soma, "latency_spike_out"), "soma latency_spike_out", &mut cx);
    fig("timing", "synapse_s", "s", g(&synapse, "latency_process_spike"), "synapse latency_process_spike", &mut cx);
    fig("timing", "message_out_s", "s", g(&axon_out, "latency_message_out"), "axon_out latency_message_out", &mut cx);
    fig("timing", "message_in_s", "s", g(&axon_in, "latency_message_in"), "axon_in latency_message_in", &mut cx);
    fig("timing", "hop_x_s", "s", g(&ta, "latency_east_hop"), "tile latency_east_hop", &mut cx);
    fig("timing", "hop_y_s", "s", g(&ta, "latency_north_hop"), "tile latency_north_hop", &mut cx);
    fig("timing", "sync_s", "s", sync, "latency_sync (by tiles in use)", &mut cx);
    if let Some(b) = top.get("link_buffer_size").and_then(num) {
        fig("timing", "link_buffer", "messages", Some(b), "link_buffer_size", &mut cx);
    }
    if soma.get("model").and_then(text).as_deref() == Some("leaky_integrate_fire") {
        // SANA-FE's Loihi soma (LoihiLifModel::loihi_quantize) truncates the decayed
        // potential toward zero to a multiple of 1/64; its weights stay as given.
        fig(
            "neuron",
            "potential_frac_bits",
            "bits",
            Some(6.0),
            "soma model leaky_integrate_fire, whose potential SANA-FE keeps on a 1/64 grid",
            &mut cx,
        );
    }
    if let Some(f) = figures.iter_mut().find(|f| f.key == "sync_s") {
        f.steps = sync_steps;
    }
    if !cx.diags.is_empty() {
        return Err(Diagnostics(cx.diags));
    }
    if tiles > width.max(1) * height.max(1) {
        cx.error("architecture.attributes", format!("{tiles} tiles do not fit a {width} × {height} mesh"));
        return Err(Diagnostics(cx.diags));
    }
    Ok(HwModel {
        name,
        family: "neurocore",
        description: format!("SANA-FE architecture {src}"),
        machine: Machine::new(Topology::Mesh, width.max(1), height.max(1), false, None, |_, _| true),
        figures,
        parts: Vec::new(),
    })
}

/// The threshold `t'` with `v ≥ t'` exactly when `v > t` (f64 potentials): the next
/// double above `t`.
fn strictly_above(t: f64) -> f64 {
    t.next_up()
}

/// `x` near `x0` with `f(x) == target` to the last bit, `f` rising in `x`: `x0` nudged
/// by a few ulps where rounding moved `f(x0)` (the closest found otherwise).
fn solve_exact(x0: f64, target: f64, f: impl Fn(f64) -> f64) -> f64 {
    let (mut x, mut best) = (x0, x0);
    for _ in 0..64 {
        let y = f(x);
        if y == target {
            return x;
        }
        if (y - target).abs() < (f(best) - target).abs() {
            best = x;
        }
        x = if y < target { x.next_up() } else { x.next_down() };
    }
    best
}

/// The membrane time constant (steps) whose decay `exp(−1/τ)`, as the simulator
/// computes it, is `a` to the last bit (for leaks above 1/e; below, τ's own steps are
/// coarser than `a`'s and the nearest is taken).
pub fn tau_for_decay(a: f64) -> f64 {
    if a >= 1.0 { f64::INFINITY } else { solve_exact(-1.0 / a.ln(), a, |t| (-1.0 / t).exp()) }
}

/// The capacitance that makes the bias gain `τ/cm·(1 − a)` 1: exactly where a
/// capacitance gives it, else within one ulp (the two roundings can step over 1).
fn cm_for_unit_gain(tau: f64) -> f64 {
    if tau.is_infinite() {
        return 1.0;
    }
    let a = (-1.0 / tau).exp();
    // The gain falls as cm rises: solve for −gain.
    solve_exact(tau * (1.0 - a), -1.0, |cm| -(tau / cm * (1.0 - a)))
}

/// A SANA-FE network: the netlist and each neuron's core (when the file maps it).
#[derive(Debug)]
pub struct SanafeNet {
    pub netlist: Netlist,
    /// Per population (in the spec's order), each neuron's core index, when every
    /// neuron is mapped.
    pub placement: Option<Vec<Vec<u32>>>,
}

/// `g.n`, or `g.a..b`, or `g` (every neuron of the group).
fn neuron_ref(s: &str, sizes: &BTreeMap<String, u32>) -> Option<(String, std::ops::Range<u32>)> {
    let s = s.trim();
    if let Some(n) = sizes.get(s) {
        return Some((s.to_string(), 0..*n));
    }
    let (g, n) = s.rsplit_once('.')?;
    if let Some((a, b)) = n.split_once("..") {
        let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
        return Some((g.to_string(), a..b + 1));
    }
    let n: u32 = n.parse().ok()?;
    Some((g.to_string(), n..n + 1))
}

/// Reads a SANA-FE SNN file; `cores_per_tile` turns `core: T.C` into a core index.
pub fn load_net(path: &Path, cores_per_tile: u32) -> Result<SanafeNet, Diagnostics> {
    let name = path.display().to_string();
    let what = "the SANA-FE network";
    let text = neuromap_diag::read_input_text(path).map_err(|e| Diagnostics::unreadable(name.clone(), what, &e))?;
    load_net_string(name, text, cores_per_tile)
}

/// [`load_net`] from text (`name` names it in diagnostics).
pub fn load_net_str(name: &str, text: &str, cores_per_tile: u32) -> Result<SanafeNet, Diagnostics> {
    load_net_string(name.to_string(), text.to_string(), cores_per_tile)
}

fn load_net_string(name: String, text: String, cores_per_tile: u32) -> Result<SanafeNet, Diagnostics> {
    let what = "the SANA-FE network";
    // The edges, which are most of a large file, are read line by line when they are
    // written as SANA-FE writes them; the rest (groups, mappings) as YAML.
    match fast_edges(&text) {
        Some((rest, edges)) => {
            let (file, y) = parse(name, rest, what)?;
            net_of((file, y), Some(edges), cores_per_tile)
        }
        None => net_of(parse(name, text, what)?, None, cores_per_tile),
    }
}

/// One item of a network's `edges`: `PRE -> POST` and its weight (one, or one per
/// pair of a group-to-group edge).
#[derive(Debug, PartialEq)]
enum Weight {
    One(f64),
    Each(Vec<f64>),
    NotANumber,
    Missing,
}

#[derive(Debug, PartialEq)]
struct Edge {
    /// Its place in the list (for diagnostics).
    index: usize,
    key: String,
    weight: Weight,
}

/// The `edges` block of a network file written one item a line, as SANA-FE's
/// `Network.save` writes it (`    - PRE -> POST: {weight: W, …}` under `  edges:`):
/// the text without that block, and its edges. `None` when the file has no such block
/// or writes any item otherwise (then the whole file is read as YAML).
fn fast_edges(text: &str) -> Option<(String, Vec<Edge>)> {
    let start = text.find("\n  edges:\n")? + 1;
    let body = start + "  edges:\n".len();
    let mut edges = Vec::new();
    let mut at = body;
    while at < text.len() {
        let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
        let line = &text[at..end];
        let Some(item) = line.strip_prefix("    - ") else {
            // The block ends at the next key of the network or of the file; anything
            // else (a continuation, a comment, a blank line) is left to the YAML reader.
            let indent = line.len() - line.trim_start_matches(' ').len();
            if line.trim().is_empty() || indent > 2 || line.trim_start().starts_with('#') {
                return None;
            }
            break;
        };
        let (key, attrs) = item.split_once(": {")?;
        let attrs = attrs.strip_suffix('}')?;
        if key.contains(['#', '"', '\'', '{', '[']) {
            return None;
        }
        let mut weight = Weight::Missing;
        for kv in attrs.split(',') {
            let (k, v) = kv.split_once(':')?;
            let v = v.trim();
            if v.starts_with(['[', '{', '"', '\'', '&', '*', '!', '|', '>']) {
                return None;
            }
            if k.trim() == "weight" {
                weight = v.parse::<f64>().map_or(Weight::NotANumber, Weight::One);
            }
        }
        edges.push(Edge { index: edges.len(), key: key.to_string(), weight });
        at = end + 1;
    }
    let rest = format!("{}{}", &text[..start], &text[at.min(text.len())..]);
    Some((rest, edges))
}

/// The edges of a network read as YAML, each with what the YAML gives.
fn yaml_edges(n: &Yaml, cx: &mut Cx) -> Vec<Edge> {
    let mut out = Vec::new();
    for (index, e) in n["edges"].as_vec().map(|v| v.as_slice()).unwrap_or(&[]).iter().enumerate() {
        let Some(h) = e.as_hash() else {
            cx.error(&format!("network.edges[{index}]"), "expected `PRE -> POST: [attributes]`");
            continue;
        };
        for (k, v) in h {
            let weight = match attrs(v).get("weight") {
                Some(Yaml::Array(ws)) => Weight::Each(ws.iter().map(|w| num(w).unwrap_or(0.0)).collect()),
                Some(w) => num(w).map_or(Weight::NotANumber, Weight::One),
                None => Weight::Missing,
            };
            out.push(Edge { index, key: text(k).unwrap_or_default(), weight });
        }
    }
    out
}

fn net_of(
    (file, y): (Arc<SourceFile>, Yaml),
    edges: Option<Vec<Edge>>,
    cores_per_tile: u32,
) -> Result<SanafeNet, Diagnostics> {
    let mut cx = Cx { file, diags: Vec::new() };
    let n = &y["network"];
    if n.is_badvalue() {
        cx.error("(top)", "no `network` section: not a SANA-FE network file");
        return Err(Diagnostics(cx.diags));
    }
    let net_name = text(&n["name"]).unwrap_or_else(|| "sanafe-net".into());
    struct Group {
        name: String,
        attrs: BTreeMap<String, Yaml>,
        neurons: BTreeMap<u32, BTreeMap<String, Yaml>>,
    }
    let mut groups: Vec<Group> = Vec::new();
    for (gi, g) in n["groups"].as_vec().map(|v| v.as_slice()).unwrap_or(&[]).iter().enumerate() {
        let at = format!("network.groups[{gi}]");
        let Some(name) = text(&g["name"]) else {
            cx.error(&at, "a group needs a `name`");
            continue;
        };
        let mut neurons = BTreeMap::new();
        for (ni, e) in g["neurons"].as_vec().map(|v| v.as_slice()).unwrap_or(&[]).iter().enumerate() {
            let Some(h) = e.as_hash() else {
                cx.error(&format!("{at}.neurons[{ni}]"), "expected `ID: [attributes]` or `A..B: [attributes]`");
                continue;
            };
            for (k, v) in h {
                let key = text(k).unwrap_or_default();
                let range = match key.split_once("..") {
                    Some((a, b)) => {
                        a.trim().parse::<u32>().ok().zip(b.trim().parse::<u32>().ok()).map(|(a, b)| a..b + 1)
                    }
                    None => key.trim().parse::<u32>().ok().map(|a| a..a + 1),
                };
                match range {
                    Some(r) if r.end > r.start && r.end <= 10_000_000 => {
                        for i in r {
                            neurons.insert(i, attrs(v));
                        }
                    }
                    _ => cx.error(
                        &format!("{at}.neurons[{ni}]"),
                        format!("`{key}` is not a neuron number or a range A..B"),
                    ),
                }
            }
        }
        groups.push(Group { name, attrs: attrs(&g["attributes"]), neurons });
    }
    if groups.is_empty() {
        cx.error("network.groups", "no groups");
    }
    let sizes: BTreeMap<String, u32> =
        groups.iter().map(|g| (g.name.clone(), g.neurons.keys().next_back().map_or(0, |m| m + 1))).collect();
    let index: BTreeMap<String, usize> = groups.iter().enumerate().map(|(i, g)| (g.name.clone(), i)).collect();
    let mut pops = Vec::new();
    for g in &groups {
        let size = sizes[&g.name];
        let get = |i: u32, k: &str, d: f64| -> f64 {
            g.neurons.get(&i).and_then(|a| a.get(k)).or_else(|| g.attrs.get(k)).and_then(num).unwrap_or(d)
        };
        let has = |k: &str| g.attrs.contains_key(k) || g.neurons.values().any(|a| a.contains_key(k));
        let kind = if has("spikes") || has("poisson") {
            if has("spikes") {
                let steps = (0..size)
                    .map(|i| {
                        let a = g.neurons.get(&i).and_then(|a| a.get("spikes")).or_else(|| g.attrs.get("spikes"));
                        a.and_then(|v| v.as_vec())
                            .map(|v| {
                                v.iter()
                                    .enumerate()
                                    .filter(|(_, x)| num(x).unwrap_or(0.0) != 0.0)
                                    .map(|(t, _)| t as f64)
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect();
                PopSpecKind::Source(SourceSpec::Array { times_ms: steps })
            } else {
                PopSpecKind::Source(SourceSpec::Bernoulli {
                    p: Param::PerNeuron((0..size).map(|i| get(i, "poisson", 0.0).clamp(0.0, 1.0)).collect()),
                })
            }
        } else {
            let per = |k: &str, d: f64| -> Param {
                let v: Vec<f64> = (0..size).map(|i| get(i, k, d)).collect();
                if v.windows(2).all(|w| w[0] == w[1]) && !v.is_empty() {
                    Param::Shared(v[0])
                } else {
                    Param::PerNeuron(v)
                }
            };
            let leak: Vec<f64> = (0..size).map(|i| get(i, "leak_decay", 1.0)).collect();
            if let Some(bad) = leak.iter().find(|x| !(**x > 0.0 && **x <= 1.0)) {
                cx.error(&format!("group `{}`", g.name), format!("leak_decay {bad} is not in (0, 1]"));
            }
            // v ← a·v + k·bias with a = leak_decay and k = 1, both exact in f64:
            // tau ≈ −1/ln(a) steps, cm ≈ tau·(1 − a) (cm = 1 step without leak).
            let tau: Vec<f64> = leak.iter().map(|&a| tau_for_decay(a)).collect();
            let cm: Vec<f64> = tau.iter().map(|&t| cm_for_unit_gain(t)).collect();
            let shared = |v: Vec<f64>| {
                if v.windows(2).all(|w| w[0] == w[1]) && !v.is_empty() {
                    Param::Shared(v[0])
                } else {
                    Param::PerNeuron(v)
                }
            };
            PopSpecKind::Neurons {
                model: NeuronModel::Lif(Lif {
                    flavour: LifFlavour::Lif,
                    tau_m: shared(tau),
                    cm: shared(cm),
                    v_rest: Param::Shared(0.0),
                    v_reset: per("reset", 0.0),
                    // SANA-FE fires when the potential exceeds the threshold; the
                    // next double above it is the same test for f64 potentials.
                    v_thresh: match per("threshold", 0.0) {
                        Param::Shared(x) => Param::Shared(strictly_above(x)),
                        Param::PerNeuron(v) => Param::PerNeuron(v.into_iter().map(strictly_above).collect()),
                    },
                    t_ref: Param::Shared(0.0),
                    tau_syn_e: Param::Shared(0.0),
                    tau_syn_i: Param::Shared(0.0),
                    i_offset: per("bias", 0.0),
                    reset: Reset::ToValue,
                    v_init: Param::Shared(0.0),
                    conductance: None,
                    adaptation: None,
                    linear_leak: None,
                }),
                v_init_dist: None,
            }
        };
        pops.push(PopSpec { name: g.name.clone(), size: u64::from(size.max(1)), kind });
    }
    // Edges, grouped into one projection per (pre group, post group).
    let edges = match edges {
        Some(e) => e,
        None => yaml_edges(n, &mut cx),
    };
    let mut lists: BTreeMap<(usize, usize), Vec<ListEntry>> = BTreeMap::new();
    for Edge { index: item, key, weight } in edges {
        let at = format!("network.edges[{item}]");
        let Some((a, b)) = key.split_once("->") else {
            cx.error(&at, format!("`{key}` is not `PRE -> POST`"));
            continue;
        };
        let (Some((ga, ra)), Some((gb, rb))) = (neuron_ref(a, &sizes), neuron_ref(b, &sizes)) else {
            cx.error(&at, format!("`{key}`: expected groups or neurons of declared groups (GROUP.NEURON)"));
            continue;
        };
        let (Some(&pa), Some(&pb)) = (index.get(&ga), index.get(&gb)) else {
            cx.error(&at, format!("`{key}` names a group that is not declared"));
            continue;
        };
        if matches!(pops[pb].kind, PopSpecKind::Source(_)) {
            cx.error(&at, format!("`{key}` targets the input group `{gb}`"));
            continue;
        }
        let list = lists.entry((pa, pb)).or_default();
        match weight {
            Weight::Each(ws) => {
                let (na, nb) = (ra.len(), rb.len());
                if ws.len() != na * nb {
                    cx.error(&at, format!("{} weights for {na} × {nb} neurons", ws.len()));
                    continue;
                }
                for (i, pre) in ra.clone().enumerate() {
                    for (j, post) in rb.clone().enumerate() {
                        let w = ws[i * nb + j];
                        if w != 0.0 {
                            list.push(ListEntry { pre, post, weight: Some(w), delay: Some(1.0) });
                        }
                    }
                }
            }
            Weight::One(w) => {
                for pre in ra.clone() {
                    for post in rb.clone() {
                        list.push(ListEntry { pre, post, weight: Some(w), delay: Some(1.0) });
                    }
                }
            }
            Weight::NotANumber => cx.error(&at, "`weight` is not a number"),
            Weight::Missing => cx.error(&at, "an edge needs a `weight`"),
        }
    }
    let projections = lists
        .into_iter()
        .map(|((a, b), entries)| ProjSpec {
            name: format!("{}->{}", pops[a].name, pops[b].name),
            pre: a,
            post: b,
            receptor: Receptor::Excitatory,
            connector: Connector::List { entries },
            weight: None,
            delay: Dist::Const { value: 1.0 },
        })
        .collect();
    // Mappings: `core: TILE.CORE`.
    let mut placement: Vec<Vec<Option<u32>>> = pops.iter().map(|p| vec![None; p.size as usize]).collect();
    for (mi, e) in y["mappings"].as_vec().map(|v| v.as_slice()).unwrap_or(&[]).iter().enumerate() {
        let at = format!("mappings[{mi}]");
        let Some(h) = e.as_hash() else { continue };
        for (k, v) in h {
            let key = text(k).unwrap_or_default();
            let a = attrs(v);
            let core = a.get("core").and_then(text).and_then(|c| {
                let (t, c) = c.split_once('.')?;
                Some(t.trim().parse::<u32>().ok()? * cores_per_tile + c.trim().parse::<u32>().ok()?)
            });
            match (neuron_ref(&key, &sizes), core) {
                (Some((g, r)), Some(c)) if index.contains_key(&g) => {
                    for i in r {
                        if let Some(slot) = placement[index[&g]].get_mut(i as usize) {
                            *slot = Some(c);
                        }
                    }
                }
                _ => cx.error(&at, format!("`{key}`: expected a declared neuron or group and `core: TILE.CORE`")),
            }
        }
    }
    if !cx.diags.is_empty() {
        return Err(Diagnostics(cx.diags));
    }
    let placement = placement
        .iter()
        .all(|p| p.iter().all(Option::is_some))
        .then(|| placement.into_iter().map(|p| p.into_iter().map(|c| c.unwrap_or(0)).collect()).collect());
    let spec = NetworkSpec {
        name: net_name,
        dt: 1.0,
        seed: 1,
        scale: 1.0,
        populations: pops,
        projections,
        probes: Vec::new(),
        assign: Default::default(),
    };
    Ok(SanafeNet { netlist: Netlist { spec, steps: None, warnings: Diagnostics::default() }, placement })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strict_threshold_is_the_next_double() {
        for t in [1.0, 2.0, 0.3, -1.5, 1e-300] {
            let s = strictly_above(t);
            assert!(s > t && s.next_down() == t, "{t}");
        }
        assert_eq!(strictly_above(0.0), f64::from_bits(1));
        assert!(strictly_above(-0.0) > 0.0);
    }

    #[test]
    fn leak_is_exact_and_bias_gain_within_an_ulp() {
        // As the simulator computes them: a = exp(−1/τ), k = τ/cm·(1 − a).
        for i in 1..1000 {
            let leak = f64::from(i) / 1000.0;
            for a in [leak, f64::from(leak as f32)] {
                let tau = tau_for_decay(a);
                let d = (-1.0 / tau).exp();
                // Exact from a leak of 1/2 (τ ≥ 1.44 steps); near and below 1/e, τ's own steps
                // are coarser than the leak's: the nearest.
                if a >= 0.5 {
                    assert_eq!(d, a, "leak {a}");
                } else {
                    assert!((d - a).abs() <= 4.0 * f64::EPSILON * a, "leak {a}: {d}");
                }
                let cm = cm_for_unit_gain(tau);
                let k = tau / cm * (1.0 - (-1.0 / tau).exp());
                assert!((k - 1.0).abs() <= f64::EPSILON, "leak {a}: gain {k}");
            }
        }
        assert_eq!(tau_for_decay(1.0), f64::INFINITY);
    }
}
