//! NIR graphs (`.nir`, HDF5) into a [`NetworkSpec`], read in pure Rust.
//!
//! # The mapping (one definition; `docs/nir.md` says the same in prose)
//!
//! Neuron nodes (`LIF`, `LI`, `IF`, `I`, `CubaLIF`, `CubaLI`, `Threshold`) become
//! populations; `Input` becomes a Bernoulli source (NIR files carry no input data);
//! every path of weight nodes (`Affine`, `Linear`, `Scale`, `Conv1d`, `Conv2d`,
//! `SumPool2d`, `AvgPool2d`, `Flatten`, `Delay`, and the `Input`/`Output` of nested
//! graphs) from a spiking node to a neuron node becomes one projection: the product of
//! the weight nodes' matrices, delays added. A bias is a constant input current
//! (`i_offset`, or `Threshold`'s `bias`). Shapes are inferred in the graph and checked.
//!
//! Continuous time is discretised with the run's step `dt` (seconds of NIR time per
//! step), the input of a step held constant over the step, solved exactly:
//!
//! - `LIF`/`LI`: `τ·dv/dt = (v_leak − v) + r·I` → `v ← a·v + (1 − a)·v_leak + r·(1 − a)·I`,
//!   `a = exp(−dt/τ)`: a synaptic weight `w` becomes a voltage jump `w·r·(1 − a)`.
//! - `IF`/`I`: `dv/dt = r·I` → `v ← v + r·dt·I`: weight `w·r·dt`.
//! - `CubaLIF`/`CubaLI`: the synaptic current jumps by `w·w_in` and decays with
//!   `tau_syn`; `τ_mem·dv/dt = (v_leak − v) + r·I` as for `LIF`.
//! - Spiking nodes reset to `v_reset` (0 when a file leaves it out, as NIR 0.x did).
//! - `Threshold`: fires in a step iff `Σ w·x + bias ≥ threshold` over that step's
//!   input spikes (0/1).
//!
//! Problems name the node (its path in nested graphs) and what was expected.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use hdf5_reader::{FilterRegistry, Hdf5File, OpenOptions};
use neuromap_diag::{Diagnostic, Diagnostics, SourceFile};
use neuromap_ir::connect::{Connector, Dist, ListEntry};
use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProbeSpec, ProjSpec, SourceSpec};
use neuromap_ir::{Encoding, Lif, LifFlavour, NeuronModel, Param, Receptor, Reset, Threshold, Variable};

use crate::Netlist;

mod maps;
use maps::{Carried, Elem, Lin, Local, Side, TooMany};

/// The most synapses one weight node may make on its own (biases are carried through
/// it by applying it, so this bounds the import's time too).
const NODE_SYNAPSES_MAX: u64 = 1 << 31;

/// How a NIR graph is turned into a network.
#[derive(Clone, Debug, PartialEq)]
pub struct NirOptions {
    /// Seconds of NIR time per step.
    pub dt_s: f64,
    /// Spike probability per step of every input neuron.
    pub input_p: f64,
    pub seed: u64,
    /// The most weights a composition of weight nodes may spell out explicitly (a
    /// convolution or pooling that stays one keeps only its kernel).
    pub max_weights: u64,
}

/// The default of [`NirOptions::max_weights`].
pub const MAX_WEIGHTS: u64 = 50_000_000;

impl Default for NirOptions {
    fn default() -> Self {
        NirOptions { dt_s: 1e-3, input_p: 0.1, seed: 1, max_weights: MAX_WEIGHTS }
    }
}

/// HDF5 filter id of LZF (h5py's `lzf` filter).
const FILTER_LZF: u16 = 32000;

/// Decodes one LZF-compressed chunk (liblzf's format: literal runs and back references).
pub fn lzf_decompress(input: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    let mut out: Vec<u8> = Vec::with_capacity(limit.min(1 << 24));
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            let lit = input.get(i..i + n).ok_or("literal run past the end of the chunk")?;
            out.extend_from_slice(lit);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i).ok_or("back reference past the end of the chunk")?);
                i += 1;
            }
            let lo = usize::from(*input.get(i).ok_or("back reference past the end of the chunk")?);
            i += 1;
            let back = ((ctrl & 0x1f) << 8) + lo + 1;
            if back > out.len() {
                return Err("back reference before the start of the chunk".into());
            }
            let start = out.len() - back;
            for k in 0..len + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > limit {
            return Err(format!("the chunk decodes to more than {limit} bytes"));
        }
    }
    Ok(out)
}

fn registry() -> FilterRegistry {
    let mut r = FilterRegistry::new();
    r.register(
        FILTER_LZF,
        Box::new(|desc, data, _elem| {
            // h5py stores the chunk's decoded size in client data 2.
            let limit = desc.client_data.get(2).map_or(1 << 28, |&n| n as usize);
            lzf_decompress(data, limit.max(1))
                .map_err(|e| hdf5_reader::error::Error::DecompressionError(format!("LZF: {e}")))
        }),
    );
    r
}

/// A dataset's values with its shape.
#[derive(Clone, Debug, PartialEq)]
struct Arr {
    shape: Vec<usize>,
    data: Vec<f64>,
}

/// A node as stored: its type, its numeric datasets, a nested graph.
#[derive(Debug)]
struct RawNode {
    path: String,
    kind: String,
    fields: BTreeMap<String, Arr>,
    /// String datasets (a convolution's `padding` may be "same" or "valid").
    texts: BTreeMap<String, String>,
    graph: Option<RawGraph>,
}

#[derive(Debug)]
struct RawGraph {
    nodes: Vec<RawNode>,
    edges: Vec<(String, String)>,
}

struct Ctx {
    file: Arc<SourceFile>,
    diags: Diagnostics,
    /// Nodes already reported as invalid (edges to them say nothing more).
    failed: Vec<String>,
}

impl Ctx {
    fn error(&mut self, node: &str, msg: impl std::fmt::Display) {
        let d = Diagnostic::error(&self.file, None, format!("node `{node}`: {msg}"));
        self.diags.push(d);
    }

    fn warn(&mut self, node: &str, msg: impl std::fmt::Display) {
        self.diags.push(Diagnostic::warning(&self.file, None, format!("node `{node}`: {msg}")));
    }
}

/// Reads a `.nir` file.
pub fn load_path(path: &Path, o: &NirOptions) -> Result<Netlist, Diagnostics> {
    let name = path.display().to_string();
    match neuromap_diag::read_input(path) {
        Ok(bytes) => load_bytes(&name, bytes, o),
        Err(e) => Err(Diagnostics::unreadable(name, "the NIR file", &e)),
    }
}

/// Reads a NIR graph from the bytes of a `.nir` file.
pub fn load_bytes(name: &str, bytes: Vec<u8>, o: &NirOptions) -> Result<Netlist, Diagnostics> {
    let mut cx = Ctx { file: SourceFile::new(name, ""), diags: Diagnostics::default(), failed: Vec::new() };
    let opts = OpenOptions { filter_registry: Some(registry()), max_read_bytes: 1 << 30, ..OpenOptions::default() };
    let file = match Hdf5File::from_vec_with_options(bytes, opts) {
        Ok(f) => f,
        Err(e) => {
            cx.diags.push(
                Diagnostic::error(&cx.file, None, format!("not a readable HDF5 file: {e}"))
                    .with_help("a .nir file is HDF5, as written by nir.write in Python"),
            );
            return Err(cx.diags);
        }
    };
    let root = match file.root_group() {
        Ok(r) => r,
        Err(e) => {
            cx.diags.push(Diagnostic::error(&cx.file, None, format!("cannot read the root group: {e}")));
            return Err(cx.diags);
        }
    };
    let graph = match root.group("node") {
        Ok(g) => read_graph(&mut cx, &g, ""),
        Err(_) => {
            cx.diags.push(
                Diagnostic::error(&cx.file, None, "no group `node`: this HDF5 file does not hold a NIR graph")
                    .with_help("NIR files keep their graph in /node (type NIRGraph, nodes, edges)"),
            );
            None
        }
    };
    let spec = graph.and_then(|g| convert(&mut cx, g, name, o));
    match spec {
        Some(spec) if !cx.diags.has_errors() => Ok(Netlist { spec, steps: None, warnings: cx.diags }),
        _ => Err(cx.diags.sorted()),
    }
}

fn read_arr(d: &hdf5_reader::Dataset) -> Result<Arr, String> {
    let shape: Vec<usize> = d.shape().iter().map(|&x| x as usize).collect();
    let data: Vec<f64> = if let Ok(a) = d.read_array::<f64>() {
        a.iter().copied().collect()
    } else if let Ok(a) = d.read_array::<f32>() {
        a.iter().map(|&x| f64::from(x)).collect()
    } else if let Ok(a) = d.read_array::<i64>() {
        a.iter().map(|&x| x as f64).collect()
    } else if let Ok(a) = d.read_array::<i32>() {
        a.iter().map(|&x| f64::from(x)).collect()
    } else {
        // Read once more for the reason (a filter we cannot decode, a type we do not take).
        return Err(match d.read_array::<f64>() {
            Err(e) => e.to_string(),
            Ok(_) => "unreadable".into(),
        });
    };
    Ok(Arr { shape, data })
}

fn read_graph(cx: &mut Ctx, g: &hdf5_reader::group::Group, prefix: &str) -> Option<RawGraph> {
    let here = if prefix.is_empty() { "(root graph)".to_string() } else { prefix.to_string() };
    let mut edges = Vec::new();
    match g.dataset("edges").and_then(|d| d.read_strings()) {
        Ok(s) if s.len() % 2 == 0 => {
            for pair in s.chunks(2) {
                edges.push((pair[0].clone(), pair[1].clone()));
            }
        }
        Ok(_) => cx.error(&here, "`edges` must be pairs of node names"),
        Err(e) => {
            // An empty graph stores no edges in some writers.
            if g.member_names().map(|(_, d)| d.iter().any(|n| n == "edges")).unwrap_or(false) {
                cx.error(&here, format!("cannot read `edges`: {e}"));
            }
        }
    }
    let nodes_group = match g.group("nodes") {
        Ok(n) => n,
        Err(_) => {
            cx.error(&here, "the graph has no `nodes` group");
            return None;
        }
    };
    let mut nodes = Vec::new();
    let groups = match nodes_group.groups() {
        Ok(v) => v,
        Err(e) => {
            cx.error(&here, format!("cannot list the nodes: {e}"));
            return None;
        }
    };
    for ng in groups {
        let name = ng.name().to_string();
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let kind = match ng.dataset("type").and_then(|d| d.read_string()) {
            Ok(k) => k,
            Err(_) => {
                cx.error(&path, "has no `type` string");
                continue;
            }
        };
        let mut fields = BTreeMap::new();
        let mut texts = BTreeMap::new();
        let mut graph = None;
        if kind == "NIRGraph" {
            graph = read_graph(cx, &ng, &path);
        } else {
            let (_, dsets) = ng.member_names().unwrap_or_default();
            for dn in dsets {
                if dn == "type" {
                    continue;
                }
                let Ok(d) = ng.dataset(&dn) else { continue };
                if let Ok(t) = d.read_string() {
                    texts.insert(dn, t); // string metadata, or a padding mode
                    continue;
                }
                match read_arr(&d) {
                    Ok(a) => {
                        fields.insert(dn, a);
                    }
                    Err(e) => cx.error(&path, format!("cannot read dataset `{dn}`: {e}")),
                }
            }
            // Flatten's input_type is a group of shapes in NIR 1.0; nothing to read.
        }
        nodes.push(RawNode { path, kind, fields, texts, graph });
    }
    Some(RawGraph { nodes, edges })
}

/// A weight node's map once its input shape is known, and its bias per output element.
#[derive(Clone, Debug)]
struct NodeMap {
    lin: Lin,
    bias: Option<Vec<f64>>,
}

/// What a flattened node does.
#[derive(Clone, Debug)]
enum Op {
    Input,
    Output,
    /// Passes its input on (nested graphs' Input and Output).
    Identity,
    /// A weight node with its map, known once the input shape is.
    Linear(Box<LinearKind>),
    Neuron(NeuronKind),
}

#[derive(Clone, Debug)]
enum LinearKind {
    Dense {
        weight: Arr,
        bias: Option<Vec<f64>>,
    },
    Scale(Vec<f64>),
    Conv {
        weight: Arr,
        bias: Option<Vec<f64>>,
        stride: Vec<usize>,
        padding: Vec<usize>,
        dilation: Vec<usize>,
        groups: usize,
        input_shape: Option<Vec<usize>>,
    },
    Pool {
        kernel: Vec<usize>,
        stride: Vec<usize>,
        padding: Vec<usize>,
        avg: bool,
    },
    Flatten,
    Delay(Vec<f64>),
}

#[derive(Clone, Debug)]
enum NeuronKind {
    Lif {
        tau: Vec<f64>,
        r: Vec<f64>,
        v_leak: Vec<f64>,
        v_threshold: Vec<f64>,
        v_reset: Vec<f64>,
        spiking: bool,
    },
    If {
        r: Vec<f64>,
        v_threshold: Vec<f64>,
        v_reset: Vec<f64>,
    },
    Cuba {
        tau_mem: Vec<f64>,
        tau_syn: Vec<f64>,
        r: Vec<f64>,
        v_leak: Vec<f64>,
        v_threshold: Vec<f64>,
        v_reset: Vec<f64>,
        w_in: Vec<f64>,
        spiking: bool,
    },
    Threshold {
        threshold: Vec<f64>,
    },
}

struct Node {
    path: String,
    kind: String,
    op: Op,
    /// The node's own shape where its parameters fix it.
    shape: Option<Vec<usize>>,
}

fn flatten_graph(cx: &mut Ctx, g: RawGraph, prefix: &str, out: &mut Vec<Node>, edges: &mut Vec<(String, String)>) {
    let name_of = |n: &str| if prefix.is_empty() { n.to_string() } else { format!("{prefix}.{n}") };
    // Edges into or out of a nested graph go to its Input / come from its Output.
    let mut entry: HashMap<String, String> = HashMap::new();
    let mut exit: HashMap<String, String> = HashMap::new();
    for n in g.nodes {
        if let Some(sub) = n.graph {
            let inner_in = sub.nodes.iter().find(|x| x.kind == "Input").map(|x| x.path.clone());
            let inner_out = sub.nodes.iter().find(|x| x.kind == "Output").map(|x| x.path.clone());
            match (inner_in, inner_out) {
                (Some(i), Some(o)) => {
                    entry.insert(n.path.clone(), i);
                    exit.insert(n.path.clone(), o);
                }
                _ => cx.error(&n.path, "a nested graph needs an Input and an Output node"),
            }
            flatten_graph(cx, sub, &n.path, out, edges);
            continue;
        }
        let nested = !prefix.is_empty();
        let path = n.path.clone();
        match make_node(cx, n, nested) {
            Some(node) => out.push(node),
            None => cx.failed.push(path),
        }
    }
    for (a, b) in g.edges {
        let (a, b) = (name_of(&a), name_of(&b));
        let a = exit.get(&a).cloned().unwrap_or(a);
        let b = entry.get(&b).cloned().unwrap_or(b);
        edges.push((a, b));
    }
}

/// The datasets each node type must have.
fn required(kind: &str) -> &'static [&'static str] {
    match kind {
        "Affine" | "Linear" | "Conv1d" | "Conv2d" => &["weight"],
        "Scale" => &["scale"],
        "SumPool2d" | "AvgPool2d" => &["kernel_size"],
        "Delay" => &["delay"],
        "LIF" => &["tau", "r", "v_leak", "v_threshold"],
        "LI" => &["tau", "r", "v_leak"],
        "IF" => &["r", "v_threshold"],
        "I" => &["r"],
        "CubaLIF" => &["tau_mem", "tau_syn", "r", "v_leak", "v_threshold"],
        "CubaLI" => &["tau_mem", "tau_syn", "r", "v_leak"],
        "Threshold" => &["threshold"],
        _ => &[],
    }
}

fn make_node(cx: &mut Ctx, n: RawNode, nested: bool) -> Option<Node> {
    let path = n.path.clone();
    let f = &n.fields;
    let missing: Vec<&str> = required(&n.kind).iter().copied().filter(|k| !f.contains_key(*k)).collect();
    if !missing.is_empty() {
        cx.error(&path, format!("{} node lacks `{}`", n.kind, missing.join("`, `")));
        return None;
    }
    let get = |k: &str| -> Option<Arr> { f.get(k).cloned() };
    let opt = |k: &str| f.get(k).cloned();
    let vec = |a: &Arr| a.data.clone();
    let ints = |a: &Arr| a.data.iter().map(|&x| x.max(0.0) as usize).collect::<Vec<_>>();
    let own_shape = |a: &Arr| a.shape.clone();
    // A convolution's or pooling's integer settings are whole numbers in range: a
    // negative padding or a stride of 0 is the file's mistake, not a value to clamp.
    if matches!(n.kind.as_str(), "Conv1d" | "Conv2d" | "SumPool2d" | "AvgPool2d") {
        for (k, least) in [("stride", 1.0), ("padding", 0.0), ("dilation", 1.0), ("groups", 1.0), ("kernel_size", 1.0)]
        {
            if let Some(a) = f.get(k)
                && let Some(bad) = a.data.iter().find(|x| !(x.fract() == 0.0 && **x >= least && **x <= 65536.0))
            {
                cx.error(&path, format!("`{k}` must hold whole numbers from {least} to 65536, found {bad}"));
                return None;
            }
        }
    }
    let (op, shape) = match n.kind.as_str() {
        "Input" | "Output" if nested => (Op::Identity, None),
        "Input" => {
            let s = f.get("shape").map(ints);
            (Op::Input, s)
        }
        "Output" => (Op::Output, f.get("shape").map(ints)),
        "Affine" | "Linear" => {
            let w = get("weight")?;
            if w.shape.len() != 2 {
                cx.error(&path, format!("`weight` must be a matrix [out, in], found shape {:?}", w.shape));
                return None;
            }
            let bias = if n.kind == "Affine" { opt("bias").map(|b| vec(&b)) } else { None };
            if let Some(b) = &bias
                && b.len() != w.shape[0]
            {
                cx.error(&path, format!("`bias` has {} values for {} outputs", b.len(), w.shape[0]));
                return None;
            }
            (Op::Linear(Box::new(LinearKind::Dense { weight: w, bias })), None)
        }
        "Scale" => (Op::Linear(Box::new(LinearKind::Scale(vec(&get("scale")?)))), None),
        "Conv1d" | "Conv2d" => {
            let dims = if n.kind == "Conv1d" { 1 } else { 2 };
            let w = get("weight")?;
            if w.shape.len() != dims + 2 {
                cx.error(
                    &path,
                    format!("`weight` must have {} dimensions [out, in, kernel…], found {:?}", dims + 2, w.shape),
                );
                return None;
            }
            for k in ["stride", "padding", "dilation"] {
                if let Some(a) = f.get(k)
                    && a.data.len() != dims
                    && a.data.len() != 1
                {
                    cx.error(&path, format!("`{k}` must be one number or {dims}, found {} values", a.data.len()));
                    return None;
                }
            }
            let per = |k: &str, d: usize| -> Vec<usize> {
                match f.get(k) {
                    Some(a) if a.data.len() == dims => ints(a),
                    Some(a) if a.data.len() == 1 => vec![a.data[0].max(0.0) as usize; dims],
                    _ => vec![d; dims],
                }
            };
            let groups = f.get("groups").and_then(|a| a.data.first().copied()).unwrap_or(1.0).max(1.0) as usize;
            let dilation = per("dilation", 1);
            // PyTorch's padding modes: "valid" is none, "same" keeps the size (at
            // stride 1, with an odd dilated kernel, as it is symmetric then).
            let padding = match n.texts.get("padding").map(|t| t.trim().to_ascii_lowercase()) {
                None => per("padding", 0),
                Some(t) if t == "valid" => vec![0; dims],
                Some(t) if t == "same" => {
                    let mut p = Vec::new();
                    for d in 0..dims {
                        let span = dilation[d].saturating_mul(w.shape[2 + d].saturating_sub(1));
                        if span % 2 == 1 {
                            cx.error(
                                &path,
                                format!("padding \"same\" with kernel {:?} and dilation {dilation:?} pads one side more than the other, which neuromap's symmetric padding cannot express; pad the input explicitly", &w.shape[2..]),
                            );
                            return None;
                        }
                        p.push(span / 2);
                    }
                    p
                }
                Some(t) => {
                    cx.error(
                        &path,
                        format!("padding \"{t}\" is not a padding mode; NIR takes numbers, \"same\" or \"valid\""),
                    );
                    return None;
                }
            };
            (
                Op::Linear(Box::new(LinearKind::Conv {
                    bias: opt("bias").map(|b| vec(&b)),
                    stride: per("stride", 1),
                    padding,
                    dilation,
                    groups,
                    input_shape: f.get("input_shape").map(ints),
                    weight: w,
                })),
                None,
            )
        }
        "SumPool2d" | "AvgPool2d" => {
            let k = ints(&get("kernel_size")?);
            let pair = |v: Vec<usize>| if v.len() == 1 { vec![v[0]; 2] } else { v };
            let (kernel, stride, padding) = (
                pair(k.clone()),
                pair(f.get("stride").map(ints).unwrap_or(k)),
                pair(f.get("padding").map(ints).unwrap_or(vec![0, 0])),
            );
            for (name, v) in [("kernel_size", &kernel), ("stride", &stride), ("padding", &padding)] {
                if v.len() != 2 {
                    cx.error(
                        &path,
                        format!("`{name}` must be one number or two (height, width), found {} values", v.len()),
                    );
                    return None;
                }
            }
            (Op::Linear(Box::new(LinearKind::Pool { kernel, stride, padding, avg: n.kind == "AvgPool2d" })), None)
        }
        "Flatten" => (Op::Linear(Box::new(LinearKind::Flatten)), None),
        "Delay" => {
            let d = get("delay")?;
            (Op::Linear(Box::new(LinearKind::Delay(vec(&d)))), Some(own_shape(&d)))
        }
        "LIF" | "LI" => {
            let spiking = n.kind == "LIF";
            let tau = get("tau")?;
            let (r, v_leak) = (get("r")?, get("v_leak")?);
            let v_threshold = if spiking { vec(&get("v_threshold")?) } else { vec![f64::INFINITY; tau.data.len()] };
            let v_reset = opt("v_reset").map(|a| vec(&a)).unwrap_or_else(|| vec![0.0; tau.data.len()]);
            let s = own_shape(&tau);
            (
                Op::Neuron(NeuronKind::Lif {
                    tau: vec(&tau),
                    r: vec(&r),
                    v_leak: vec(&v_leak),
                    v_threshold,
                    v_reset,
                    spiking,
                }),
                Some(s),
            )
        }
        "IF" | "I" => {
            let spiking = n.kind == "IF";
            let r = get("r")?;
            let v_threshold = if spiking { vec(&get("v_threshold")?) } else { vec![f64::INFINITY; r.data.len()] };
            let v_reset = opt("v_reset").map(|a| vec(&a)).unwrap_or_else(|| vec![0.0; r.data.len()]);
            let s = own_shape(&r);
            (Op::Neuron(NeuronKind::If { r: vec(&r), v_threshold, v_reset }), Some(s))
        }
        "CubaLIF" | "CubaLI" => {
            let spiking = n.kind == "CubaLIF";
            let tau_mem = get("tau_mem")?;
            let m = tau_mem.data.len();
            let (tau_syn, r, v_leak) = (get("tau_syn")?, get("r")?, get("v_leak")?);
            let v_threshold = if spiking { vec(&get("v_threshold")?) } else { vec![f64::INFINITY; m] };
            let v_reset = opt("v_reset").map(|a| vec(&a)).unwrap_or_else(|| vec![0.0; m]);
            let w_in = opt("w_in").map(|a| vec(&a)).unwrap_or_else(|| vec![1.0; m]);
            let s = own_shape(&tau_mem);
            (
                Op::Neuron(NeuronKind::Cuba {
                    tau_mem: vec(&tau_mem),
                    tau_syn: vec(&tau_syn),
                    r: vec(&r),
                    v_leak: vec(&v_leak),
                    v_threshold,
                    v_reset,
                    w_in,
                    spiking,
                }),
                Some(s),
            )
        }
        "Threshold" => {
            let t = get("threshold")?;
            let s = own_shape(&t);
            (Op::Neuron(NeuronKind::Threshold { threshold: vec(&t) }), Some(s))
        }
        other => {
            cx.error(
                &path,
                format!(
                    "unknown node type `{other}`; NIR 1.0 has Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, LI, LIF, CubaLI, CubaLIF, I, IF, Delay, Flatten, SumPool2d, AvgPool2d, Threshold and nested NIRGraph"
                ),
            );
            return None;
        }
    };
    // Every per-neuron parameter of a neuron node has one value per neuron.
    if let Op::Neuron(k) = &op {
        let size: usize = shape.as_ref().map_or(0, |s| s.iter().product::<usize>().max(1));
        let lens: Vec<(&str, usize)> = match k {
            NeuronKind::Lif { tau, r, v_leak, v_threshold, v_reset, .. } => vec![
                ("tau", tau.len()),
                ("r", r.len()),
                ("v_leak", v_leak.len()),
                ("v_threshold", v_threshold.len()),
                ("v_reset", v_reset.len()),
            ],
            NeuronKind::If { r, v_threshold, v_reset } => {
                vec![("r", r.len()), ("v_threshold", v_threshold.len()), ("v_reset", v_reset.len())]
            }
            NeuronKind::Cuba { tau_mem, tau_syn, r, v_leak, v_threshold, v_reset, w_in, .. } => vec![
                ("tau_mem", tau_mem.len()),
                ("tau_syn", tau_syn.len()),
                ("r", r.len()),
                ("v_leak", v_leak.len()),
                ("v_threshold", v_threshold.len()),
                ("v_reset", v_reset.len()),
                ("w_in", w_in.len()),
            ],
            NeuronKind::Threshold { threshold } => vec![("threshold", threshold.len())],
        };
        for (k, l) in lens {
            if l != size && l != 1 {
                cx.error(&path, format!("`{k}` has {l} values for {size} neurons"));
                return None;
            }
        }
    }
    Some(Node { path, kind: n.kind, op, shape })
}

/// Elements of a shape (saturating: a hostile shape cannot wrap round to a small one).
fn size_of(s: &[usize]) -> usize {
    s.iter().fold(1usize, |a, &x| a.saturating_mul(x))
}

/// The map of a weight node given its input shape, and its output shape. `max_kernel`
/// bounds a kernel spelled out with its dilation and groups.
fn node_map(k: &LinearKind, input: &[usize], max_kernel: u64) -> Result<(NodeMap, Vec<usize>), String> {
    let n_in = size_of(input);
    let elem = |gain: Vec<f64>, delay: Vec<f64>| Lin::Elem(Elem { n: n_in, gain, delay });
    match k {
        LinearKind::Dense { weight, bias } => {
            let (o, i) = (weight.shape[0], weight.shape[1]);
            if i != n_in {
                return Err(format!("`weight` takes {i} inputs, but its input has {n_in} elements (shape {input:?})"));
            }
            let lin = Lin::Dense { n_in: i, n_out: o, w: weight.data.clone() };
            Ok((NodeMap { lin, bias: bias.clone() }, vec![o]))
        }
        LinearKind::Scale(s) => {
            if s.len() != n_in && s.len() != 1 {
                return Err(format!("`scale` has {} values for {n_in} inputs", s.len()));
            }
            Ok((NodeMap { lin: elem(s.clone(), vec![0.0]), bias: None }, input.to_vec()))
        }
        LinearKind::Flatten => Ok((NodeMap { lin: elem(vec![1.0], vec![0.0]), bias: None }, vec![n_in])),
        LinearKind::Delay(d) => {
            if d.len() != n_in && d.len() != 1 {
                return Err(format!("`delay` has {} values for {n_in} inputs", d.len()));
            }
            if let Some(bad) = d.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                return Err(format!("delay {bad} s is not a time ≥ 0"));
            }
            Ok((NodeMap { lin: elem(vec![1.0], d.clone()), bias: None }, input.to_vec()))
        }
        LinearKind::Conv { weight, bias, stride, padding, dilation, groups, input_shape } => {
            let dims = weight.shape.len() - 2;
            let (oc, icg) = (weight.shape[0], weight.shape[1]);
            let ic = icg.saturating_mul(*groups);
            let spatial: Vec<usize> = match input.len() {
                l if l == dims + 1 => input[1..].to_vec(),
                _ => match input_shape {
                    Some(s) if s.len() == dims && ic.saturating_mul(size_of(s)) == n_in => s.clone(),
                    _ => {
                        return Err(format!(
                            "cannot tell the {dims}-d input's shape: {n_in} elements arrive (shape {input:?}), the kernel takes {ic} channels"
                        ));
                    }
                },
            };
            if ic.saturating_mul(size_of(&spatial)) != n_in {
                return Err(format!("the kernel takes {ic} channels of {spatial:?}, but {n_in} elements arrive"));
            }
            if oc % groups != 0 {
                return Err(format!("{oc} output channels do not split into {groups} groups"));
            }
            // One axis of a 1-d convolution is a height of 1.
            let pad2 = |v: &[usize], one: usize| if dims == 2 { [v[0], v[1]] } else { [one, v[0]] };
            let ks = pad2(&weight.shape[2..], 1);
            let (st, pd, dl) = (pad2(stride, 1), pad2(padding, 0), pad2(dilation, 1));
            let sp = pad2(&spatial, 1);
            let mut span = [0usize; 2];
            let mut out_sp = [0usize; 2];
            for d in 0..2 {
                let s = dl[d].checked_mul(ks[d].saturating_sub(1)).and_then(|x| x.checked_add(1));
                match s.and_then(|s| maps::out_len(sp[d], s, st[d], pd[d]).map(|o| (s, o))) {
                    Some((s, o)) => (span[d], out_sp[d]) = (s, o),
                    None => {
                        return Err(format!(
                            "kernel {:?} with stride {stride:?}, padding {padding:?} and dilation {dilation:?} does not fit the input {spatial:?}",
                            &weight.shape[2..]
                        ));
                    }
                }
            }
            let cells = (oc as u64).saturating_mul(ic as u64).saturating_mul(span[0] as u64 * span[1] as u64);
            if cells > max_kernel {
                return Err(format!(
                    "its kernel, spelled out with its dilation and groups, has {cells} weights, more than the limit of {max_kernel} (--nir-max-weights raises it)"
                ));
            }
            // The kernel over every input channel, dilation spelled out as zeros.
            let ocg = oc / groups;
            let mut weights = vec![0.0; cells as usize];
            for o in 0..oc {
                let g = o / ocg;
                for c in 0..icg {
                    for ky in 0..ks[0] {
                        for kx in 0..ks[1] {
                            let w = weight.data[((o * icg + c) * ks[0] + ky) * ks[1] + kx];
                            let at = ((o * ic + g * icg + c) * span[0] + ky * dl[0]) * span[1] + kx * dl[1];
                            weights[at] = w;
                        }
                    }
                }
            }
            let local = Local {
                in_shape: [ic, sp[0], sp[1]],
                out_shape: [oc, out_sp[0], out_sp[1]],
                kernel: span,
                stride: st,
                padding: pd,
                weights,
                diagonal: false,
                delay: 0.0,
            };
            let per = out_sp[0] * out_sp[1];
            let bias = bias.as_ref().map(|b| (0..oc * per).map(|i| b.get(i / per).copied().unwrap_or(0.0)).collect());
            let shape = if dims == 2 { vec![oc, out_sp[0], out_sp[1]] } else { vec![oc, out_sp[1]] };
            Ok((NodeMap { lin: Lin::Local(local), bias }, shape))
        }
        LinearKind::Pool { kernel, stride, padding, avg } => {
            if input.len() != 3 {
                return Err(format!("pooling needs a [channels, height, width] input, found shape {input:?}"));
            }
            let (c, h, w) = (input[0], input[1], input[2]);
            let (Some(oh), Some(ow)) = (
                maps::out_len(h, kernel[0], stride[0], padding[0]),
                maps::out_len(w, kernel[1], stride[1], padding[1]),
            ) else {
                return Err(format!("kernel {kernel:?} with stride {stride:?} does not fit the input {input:?}"));
            };
            let taps = (kernel[0] as u64).saturating_mul(kernel[1] as u64);
            if (c as u64).saturating_mul(taps) > max_kernel {
                return Err(format!("its window of {taps} inputs per channel is more than the limit allows"));
            }
            let wv = if *avg { 1.0 / taps as f64 } else { 1.0 };
            let local = Local {
                in_shape: [c, h, w],
                out_shape: [c, oh, ow],
                kernel: [kernel[0], kernel[1]],
                stride: [stride[0], stride[1]],
                padding: [padding[0], padding[1]],
                weights: vec![wv; c * taps as usize],
                diagonal: true,
                delay: 0.0,
            };
            Ok((NodeMap { lin: Lin::Local(local), bias: None }, vec![c, oh, ow]))
        }
    }
}

/// Loops made of weight nodes alone (a spike would go round them forever within one
/// step): each as the node paths around it, found exactly with petgraph's strongly
/// connected components.
fn weight_loops(nodes: &[Node], succ: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let passes = |i: usize| matches!(nodes[i].op, Op::Linear(_) | Op::Identity);
    let mut g = petgraph::graph::DiGraph::<usize, ()>::new();
    let ids: Vec<_> = (0..nodes.len()).map(|i| g.add_node(i)).collect();
    for (a, out) in succ.iter().enumerate() {
        for &b in out {
            if passes(a) && passes(b) {
                g.add_edge(ids[a], ids[b], ());
            }
        }
    }
    let mut loops: Vec<Vec<usize>> = petgraph::algo::tarjan_scc(&g)
        .into_iter()
        .map(|c| c.into_iter().map(|n| g[n]).collect::<Vec<usize>>())
        .filter(|c| c.len() > 1 || succ[c[0]].contains(&c[0]))
        .map(|mut c| {
            c.sort_unstable();
            c
        })
        .collect();
    loops.sort();
    loops
}

/// Carries `start` from node `from` through the weight nodes after it: `through` takes
/// it across a weight node, `at_neuron` receives it at every neuron node it reaches. An
/// error stops the walk and names the node where it happened.
fn walk<T: Clone, E>(
    nodes: &[Node],
    succ: &[Vec<usize>],
    maps: &[Option<NodeMap>],
    from: usize,
    start: T,
    through: &dyn Fn(&Lin, T) -> Result<T, E>,
    at_neuron: &mut dyn FnMut(usize, T) -> Result<(), E>,
) -> Result<(), (usize, E)> {
    // `weight_loops` has refused loops of weight nodes, so every walk ends.
    let mut stack: Vec<(usize, T)> = succ[from].iter().map(|&s| (s, start.clone())).collect();
    while let Some((at, x)) = stack.pop() {
        let next = match (&nodes[at].op, &maps[at]) {
            (Op::Neuron(_), _) => {
                at_neuron(at, x).map_err(|e| (at, e))?;
                continue;
            }
            (Op::Linear(_), Some(map)) => through(&map.lin, x).map_err(|e| (at, e))?,
            (Op::Identity, _) => x,
            _ => continue,
        };
        // The last successor takes the value itself: a large composition is not copied.
        if let Some((&last, rest)) = succ[at].split_last() {
            for &s in rest {
                stack.push((s, next.clone()));
            }
            stack.push((last, next));
        }
    }
    Ok(())
}

fn convert(cx: &mut Ctx, g: RawGraph, name: &str, o: &NirOptions) -> Option<NetworkSpec> {
    if !(o.dt_s.is_finite() && o.dt_s > 0.0) {
        cx.diags.push(Diagnostic::error(&cx.file, None, format!("dt must be a positive time, got {} s", o.dt_s)));
        return None;
    }
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    flatten_graph(cx, g, "", &mut nodes, &mut edges);
    if cx.diags.has_errors() {
        return None;
    }
    let index: HashMap<String, usize> = nodes.iter().enumerate().map(|(i, n)| (n.path.clone(), i)).collect();
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (a, b) in &edges {
        if cx.failed.contains(a) || cx.failed.contains(b) {
            continue;
        }
        match (index.get(a), index.get(b)) {
            (Some(&x), Some(&y)) => {
                succ[x].push(y);
                pred[y].push(x);
            }
            (None, _) => cx.error(a, format!("is named by an edge ({a} → {b}) but is not a node of the graph")),
            (_, None) => cx.error(b, format!("is named by an edge ({a} → {b}) but is not a node of the graph")),
        }
    }
    if cx.diags.has_errors() {
        return None;
    }
    // Shapes: neurons and inputs know theirs; weight nodes derive theirs from their input.
    let mut shape: Vec<Option<Vec<usize>>> = nodes.iter().map(|n| n.shape.clone()).collect();
    let mut maps: Vec<Option<NodeMap>> = vec![None; nodes.len()];
    for _ in 0..=nodes.len() {
        let mut changed = false;
        for i in 0..nodes.len() {
            let input = pred[i].iter().find_map(|&p| shape[p].clone());
            match &nodes[i].op {
                Op::Linear(k) if maps[i].is_none() => {
                    let Some(inp) = input else { continue };
                    match node_map(k, &inp, o.max_weights) {
                        Ok((m, s)) => {
                            let made = m.lin.count();
                            if made > NODE_SYNAPSES_MAX {
                                cx.error(
                                    &nodes[i].path,
                                    format!(
                                        "makes {made} synapses on its own, more than the {NODE_SYNAPSES_MAX} one node may make"
                                    ),
                                );
                                return None;
                            }
                            if let Some(own) = &shape[i]
                                && size_of(own) != size_of(&s)
                            {
                                cx.error(
                                    &nodes[i].path,
                                    format!("its parameters have shape {own:?}, its input gives {s:?}"),
                                );
                                return None;
                            }
                            maps[i] = Some(m);
                            shape[i] = Some(s);
                            changed = true;
                        }
                        Err(e) => {
                            cx.error(&nodes[i].path, format!("{} node: {e}", nodes[i].kind));
                            return None;
                        }
                    }
                }
                Op::Identity | Op::Output if shape[i].is_none() => {
                    if let Some(inp) = input {
                        shape[i] = Some(inp);
                        changed = true;
                    }
                }
                _ => {}
            }
        }
        if !changed {
            break;
        }
    }
    // Check every edge's sizes, and the Output shapes.
    for (i, n) in nodes.iter().enumerate() {
        if matches!(n.op, Op::Input) && shape[i].is_none() {
            cx.error(&n.path, "an Input node needs its `shape`");
        }
        for &p in &pred[i] {
            if matches!(n.op, Op::Output) {
                break; // checked below, with the declared shape
            }
            let (Some(a), Some(b)) = (&shape[p], &shape[i]) else { continue };
            let into = match &n.op {
                Op::Linear(_) => maps[i].as_ref().map(|m| m.lin.n_in()),
                _ => Some(size_of(b)),
            };
            if let Some(k) = into
                && k != size_of(a)
            {
                cx.error(
                    &n.path,
                    format!("takes {k} elements but `{}` gives {} (shape {a:?})", nodes[p].path, size_of(a)),
                );
            }
        }
        if let (Op::Output, Some(own)) = (&n.op, &n.shape) {
            let given = pred[i].iter().find_map(|&p| shape[p].clone());
            if let Some(g) = given {
                if size_of(own) == size_of(&g) && *own != g {
                    cx.warn(
                        &n.path,
                        format!(
                            "declares output shape {own:?} but receives {g:?}; the same {} elements, taken as is",
                            size_of(&g)
                        ),
                    );
                } else if size_of(own) != size_of(&g) {
                    cx.error(
                        &n.path,
                        format!(
                            "declares output shape {own:?} ({} elements) but receives {g:?} ({} elements)",
                            size_of(own),
                            size_of(&g)
                        ),
                    );
                }
            }
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        if matches!(n.op, Op::Linear(_) | Op::Identity) && shape[i].is_none() {
            cx.error(&n.path, "no input reaches it, so its shape is unknown");
        }
    }
    if cx.diags.has_errors() {
        return None;
    }
    // Populations: inputs and neuron nodes.
    let dt_ms = o.dt_s * 1000.0;
    let mut pops: Vec<PopSpec> = Vec::new();
    let mut pop_of: HashMap<usize, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let size = shape[i].as_ref().map_or(1, |s| size_of(s)) as u64;
        let kind = match &n.op {
            Op::Input => PopSpecKind::Source(SourceSpec::Bernoulli { p: Param::Shared(o.input_p) }),
            Op::Neuron(k) => PopSpecKind::Neurons { model: neuron_model(k, size as usize), v_init_dist: None },
            _ => continue,
        };
        if size == 0 {
            cx.error(&n.path, "has no neurons");
            continue;
        }
        pop_of.insert(i, pops.len());
        pops.push(PopSpec { name: n.path.clone(), size, kind });
    }
    // Ranks by distance from the inputs: an edge that reaches a node of the same or an
    // earlier rank closes a loop, and carries the previous step's spikes.
    let mut rank = vec![usize::MAX; nodes.len()];
    let mut queue: std::collections::VecDeque<usize> =
        (0..nodes.len()).filter(|&i| matches!(nodes[i].op, Op::Input)).collect();
    for &i in &queue {
        rank[i] = 0;
    }
    while let Some(i) = queue.pop_front() {
        for &s in &succ[i] {
            if rank[s] == usize::MAX {
                rank[s] = rank[i] + 1;
                queue.push_back(s);
            }
        }
    }
    for l in weight_loops(&nodes, &succ) {
        let path: Vec<&str> = l.iter().map(|&i| nodes[i].path.as_str()).collect();
        cx.error(&nodes[l[0]].path, format!("weight nodes form a loop without a neuron in it: {}", path.join(", ")));
    }
    if cx.diags.has_errors() {
        return None;
    }
    // Projections: from each spiking node through weight nodes to neuron nodes.
    let mut projections: Vec<ProjSpec> = Vec::new();
    let mut biases: Vec<Option<Vec<f64>>> = vec![None; pops.len()];
    for (&src, &pi) in pop_of.iter().collect::<BTreeMap<_, _>>() {
        let n = size_of(shape[src].as_ref().map_or(&[][..], |v| v));
        let start = Carried::Elem(Elem::identity(n));
        let compose = |lin: &Lin, m: Carried| m.then(lin, o.max_weights);
        let walked = walk(&nodes, &succ, &maps, src, start, &compose, &mut |at, m| {
            let Op::Neuron(k) = &nodes[at].op else { return Ok(()) };
            let recurrent = rank[at] <= rank[src];
            if recurrent && m.min_delay().is_some_and(|d| d < o.dt_s / 2.0) {
                cx.warn(
                    &nodes[at].path,
                    format!(
                        "the loop from `{}` has no delay; its spikes arrive one step later (a step is the least delay a loop can have)",
                        nodes[src].path
                    ),
                );
            }
            let to = Target { pops: &pops, pre: pi, post: pop_of[&at], kind: k, dt_s: o.dt_s, recurrent };
            add_projection(&mut projections, &to, m, o.max_weights)
        });
        if let Err((at, t)) = walked {
            cx.error(
                &nodes[at].path,
                format!(
                    "the weights from `{}` composed through this node make {} synapses, more than the limit of {} (--nir-max-weights raises it; composing holds about 32 bytes per synapse). Convolutions and poolings compose without this limit where the composite is itself a convolution.",
                    nodes[src].path, t.count, t.limit
                ),
            );
            return None;
        }
    }
    // Biases: every weight node's bias, carried to the neuron nodes it reaches.
    for i in 0..nodes.len() {
        let Some(b) = maps[i].as_ref().and_then(|m| m.bias.clone()) else { continue };
        let apply = |lin: &Lin, v: Vec<f64>| Ok::<_, std::convert::Infallible>(lin.apply(&v));
        // Infallible: carrying a vector cannot fail.
        let _ = walk(&nodes, &succ, &maps, i, b, &apply, &mut |at, v| {
            let Op::Neuron(k) = &nodes[at].op else { return Ok(()) };
            let post = pop_of[&at];
            let size = pops[post].size as usize;
            let acc = biases[post].get_or_insert_with(|| vec![0.0; size]);
            for (j, x) in v.iter().enumerate() {
                acc[j] += x * input_gain(k, j, o.dt_s).1;
            }
            Ok(())
        });
    }
    for (p, b) in pops.iter_mut().zip(biases) {
        let Some(b) = b else { continue };
        if let PopSpecKind::Neurons { model, .. } = &mut p.kind {
            match model {
                NeuronModel::Lif(l) => l.i_offset = shared_or_each(b),
                NeuronModel::Threshold(t) => t.bias = shared_or_each(b),
                NeuronModel::Izhikevich(z) => z.i_offset = shared_or_each(b),
            }
        }
    }
    // What the network cannot carry as spikes, said at the node: a readout of weights
    // with no neuron after it, and a non-spiking neuron whose output feeds other nodes.
    let mut probes = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if matches!(n.op, Op::Output) {
            for &p in &pred[i] {
                if matches!(nodes[p].op, Op::Linear(_) | Op::Identity) {
                    cx.warn(
                        &nodes[p].path,
                        format!(
                            "feeds the output `{}` with weights that reach no neuron: a readout of weights is dropped (its input's spikes are the network's output; an LI node after it would keep the readout as a potential)",
                            n.path
                        ),
                    );
                }
            }
        }
        let Op::Neuron(k) = &n.op else { continue };
        if !never_fires(k) {
            continue;
        }
        // A non-spiking neuron's output is its potential: probed, so a run records it.
        if let Some(&pi) = pop_of.get(&i) {
            probes.push(ProbeSpec { population: pi, variable: Variable::V, neurons: None });
        }
        let into: Vec<&str> =
            succ[i].iter().filter(|&&s| !matches!(nodes[s].op, Op::Output)).map(|&s| nodes[s].path.as_str()).collect();
        if !into.is_empty() {
            cx.warn(
                &n.path,
                format!(
                    "never spikes (no threshold), but feeds {}: those projections carry no spikes; its output is its potential, which the run records as a probe",
                    into.join(", ")
                ),
            );
        }
    }
    let stem = Path::new(name).file_stem().map_or("nir".to_string(), |s| s.to_string_lossy().to_string());
    let spec = NetworkSpec {
        name: stem,
        dt: dt_ms,
        seed: o.seed,
        scale: 1.0,
        populations: pops,
        projections,
        probes,
        assign: Default::default(),
    };
    // A parameter derived out of range (a negative `r` gives a negative capacitance)
    // is the node's mistake, said at import, not at the run.
    if let Err(e) = spec.check_populations() {
        match &e {
            neuromap_ir::IrError::Population { pop, msg } => {
                cx.error(pop, format!("{msg} (as derived from the node's parameters, docs/nir.md)"))
            }
            _ => cx.diags.push(Diagnostic::error(&cx.file, None, e.to_string())),
        }
        return None;
    }
    Some(spec)
}

/// Whether a neuron node can never spike (LI, I, CubaLI: no threshold).
fn never_fires(k: &NeuronKind) -> bool {
    let t = match k {
        NeuronKind::Lif { v_threshold, .. }
        | NeuronKind::If { v_threshold, .. }
        | NeuronKind::Cuba { v_threshold, .. } => v_threshold,
        NeuronKind::Threshold { .. } => return false,
    };
    t.iter().all(|x| x.is_infinite())
}

fn shared_or_each(v: Vec<f64>) -> Param {
    if v.windows(2).all(|w| w[0] == w[1]) && !v.is_empty() { Param::Shared(v[0]) } else { Param::PerNeuron(v) }
}

fn at(v: &[f64], j: usize) -> f64 {
    v[j.min(v.len().saturating_sub(1))]
}

/// What a unit of input to neuron `j` becomes: (weight factor, bias-current factor).
/// The weight factor turns a NIR weight into the IR's synaptic weight; the bias factor
/// turns a NIR bias into `i_offset` (given the IR's `cm`, see [`neuron_model`]).
fn input_gain(k: &NeuronKind, j: usize, dt_s: f64) -> (f64, f64) {
    match k {
        NeuronKind::Lif { tau, r, .. } => {
            let a = (-dt_s / at(tau, j)).exp();
            (at(r, j) * (1.0 - a), 1.0)
        }
        NeuronKind::If { r, .. } => (at(r, j) * dt_s, 1.0),
        NeuronKind::Cuba { w_in, tau_syn, tau_mem, r, .. } => {
            let ts = at(tau_syn, j);
            if ts > 0.0 {
                // τs·dI/dt = −I + w_in·x with x held over the step: I jumps by w_in·x·(1 − e).
                (at(w_in, j) * (1.0 - (-dt_s / ts).exp()), at(w_in, j))
            } else {
                let a = (-dt_s / at(tau_mem, j)).exp();
                (at(w_in, j) * at(r, j) * (1.0 - a), at(w_in, j))
            }
        }
        NeuronKind::Threshold { .. } => (1.0, 1.0),
    }
}

/// Where a composed map lands: the populations, and the neuron node that receives it.
struct Target<'a> {
    pops: &'a [PopSpec],
    pre: usize,
    post: usize,
    kind: &'a NeuronKind,
    dt_s: f64,
    recurrent: bool,
}

/// The projection a composed map becomes, in the shortest exact form: a convolution or
/// pooling when the map is local, one-to-one when it is a uniform elementwise map, a
/// dense matrix when at least a fifth of it is filled with one delay, else a list.
fn add_projection(out: &mut Vec<ProjSpec>, to: &Target, m: Carried, limit: u64) -> Result<(), TooMany> {
    if m.count() == 0 {
        return Ok(());
    }
    let (n_pre, n_post) = (to.pops[to.pre].size as usize, to.pops[to.post].size as usize);
    let gains: Vec<f64> = (0..n_post).map(|j| input_gain(to.kind, j, to.dt_s).0).collect();
    let dt_ms = to.dt_s * 1000.0;
    let least = if to.recurrent { 1.0 } else { 0.0 };
    let steps = |d: f64| (d / to.dt_s).round().max(least) * dt_ms;
    let whole = |weight: Option<f64>, delay: f64, connector| {
        (connector, weight.map(|v| Dist::Const { value: v }), steps(delay))
    };
    let made = match m {
        Carried::Local(l) => {
            // The neurons' input gains, folded into the kernel per output channel.
            let gain = Elem { n: n_post, gain: gains.clone(), delay: vec![0.0] };
            match l.fold(Side::Output, &gain) {
                Some(l) => local_connector(&l).map(|(c, w)| whole(w, l.delay, c)).ok_or(Carried::Local(l)),
                None => Err(Carried::Local(l)),
            }
        }
        Carried::Elem(e) if e.n == n_post => {
            let w: Vec<f64> = (0..n_post).map(|j| maps::at(&e.gain, j) * gains[j]).collect();
            match (maps::uniform(&w), maps::uniform(&e.delay)) {
                (Some(w), Some(d)) => Ok(whole(Some(w), d, Connector::OneToOne)),
                _ => Err(Carried::Elem(e)),
            }
        }
        other => Err(other),
    };
    let (connector, weight, delay) = match made {
        Ok(x) => x,
        Err(m) => {
            let entries = m.into_entries(limit)?;
            let one_delay = maps::uniform(&entries.iter().map(|e| e.3).collect::<Vec<_>>());
            let cells = n_pre as u64 * n_post as u64;
            match one_delay {
                Some(d) if entries.len() as u64 * 5 >= cells && cells <= limit => {
                    let mut weights = vec![0.0; cells as usize];
                    for &(i, j, w, _) in &entries {
                        weights[i as usize * n_post + j as usize] = w * gains[j as usize];
                    }
                    (Connector::Dense { weights }, None, steps(d))
                }
                _ => {
                    let entries = entries
                        .iter()
                        .map(|&(i, j, w, d)| ListEntry {
                            pre: i,
                            post: j,
                            weight: Some(w * gains[j as usize]),
                            delay: Some(steps(d)),
                        })
                        .collect();
                    (Connector::List { entries }, None, 0.0)
                }
            }
        }
    };
    let n = out.iter().filter(|p| p.pre == to.pre && p.post == to.post).count();
    let base = format!("{}->{}", to.pops[to.pre].name, to.pops[to.post].name);
    out.push(ProjSpec {
        name: if n == 0 { base } else { format!("{base}#{}", n + 1) },
        pre: to.pre,
        post: to.post,
        receptor: Receptor::Excitatory,
        connector,
        weight,
        delay: Dist::Const { value: delay },
    });
    Ok(())
}

/// A local map as the IR's `pool2d` (one weight for every tap of a channel's window)
/// or `conv2d` connector, with the projection weight `pool2d` takes; `None` when a
/// size does not fit the connector's 32-bit fields.
fn local_connector(l: &Local) -> Option<(Connector, Option<f64>)> {
    let u = |x: usize| u32::try_from(x).ok();
    let pair = |v: [usize; 2]| Some([u(v[0])?, u(v[1])?]);
    let in_shape = [u(l.in_shape[0])?, u(l.in_shape[1])?, u(l.in_shape[2])?];
    let (kernel, stride, padding) = (pair(l.kernel)?, pair(l.stride)?, pair(l.padding)?);
    if l.diagonal
        && let Some(w) = maps::uniform(&l.weights)
    {
        return Some((Connector::Pool2d { in_shape, kernel, stride, padding }, Some(w)));
    }
    let out_channels = u(l.out_shape[0])?;
    Some((Connector::Conv2d { in_shape, out_channels, kernel, stride, padding, weights: l.full_weights() }, None))
}

/// One value per neuron (`f(j)`), shared when all are equal.
fn each(size: usize, f: impl Fn(usize) -> f64) -> Param {
    shared_or_each((0..size).map(f).collect())
}

/// A NIR parameter given per neuron or once (`v[j]`, or `v[0]` for all).
fn of(v: &[f64], size: usize) -> Param {
    each(size, |j| at(v, j))
}

/// The leaky membrane `τ·dv/dt = (v_leak − v) + r·I` with delta synapses; `cm` makes
/// `k = (τm/cm)(1 − a) = r(1 − a)`, so a bias current b adds `r(1 − a)·b` per step.
fn leaky(
    flavour: LifFlavour,
    tau: &[f64],
    r: &[f64],
    v_leak: &[f64],
    v_threshold: &[f64],
    v_reset: &[f64],
    size: usize,
) -> Lif {
    let c = |x: f64| Param::Shared(x);
    Lif {
        flavour,
        tau_m: each(size, |j| at(tau, j) * 1000.0),
        cm: each(size, |j| at(tau, j) * 1000.0 / at(r, j)),
        v_rest: of(v_leak, size),
        v_reset: of(v_reset, size),
        v_thresh: of(v_threshold, size),
        t_ref: c(0.0),
        tau_syn_e: c(0.0),
        tau_syn_i: c(0.0),
        i_offset: c(0.0),
        reset: Reset::ToValue,
        v_init: of(v_leak, size),
        conductance: None,
        adaptation: None,
        linear_leak: None,
    }
}

/// The IR model of a NIR neuron node (units: ms; see the module docs). Non-spiking
/// nodes carry infinite thresholds already.
fn neuron_model(k: &NeuronKind, size: usize) -> NeuronModel {
    match k {
        NeuronKind::Lif { tau, r, v_leak, v_threshold, v_reset, spiking } => {
            let flavour = if *spiking { LifFlavour::Lif } else { LifFlavour::Li };
            NeuronModel::Lif(leaky(flavour, tau, r, v_leak, v_threshold, v_reset, size))
        }
        // No leak: k = dt/cm = r·dt_s with dt in ms, so cm = 1000/r; a bias current b
        // adds r·dt_s·b per step.
        NeuronKind::If { r, v_threshold, v_reset, .. } => NeuronModel::Lif(Lif {
            cm: each(size, |j| 1000.0 / at(r, j)),
            ..leaky(LifFlavour::If, &[f64::INFINITY], r, &[0.0], v_threshold, v_reset, size)
        }),
        NeuronKind::Cuba { tau_mem, tau_syn, r, v_leak, v_threshold, v_reset, spiking, .. } => {
            let flavour = if *spiking { LifFlavour::CubaLif } else { LifFlavour::Li };
            let syn = each(size, |j| at(tau_syn, j) * 1000.0);
            NeuronModel::Lif(Lif {
                tau_syn_e: syn.clone(),
                tau_syn_i: syn,
                ..leaky(flavour, tau_mem, r, v_leak, v_threshold, v_reset, size)
            })
        }
        NeuronKind::Threshold { threshold } => NeuronModel::Threshold(Threshold {
            theta: of(threshold, size),
            bias: Param::Shared(0.0),
            encoding: Encoding::Binary,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lzf_decodes_literals_and_back_references() {
        // "abcabcabc": literal run of 3, then a back reference of 6 bytes, 3 back.
        let enc = [2u8, b'a', b'b', b'c', (4 << 5) as u8, 2];
        assert_eq!(lzf_decompress(&enc, 100).unwrap(), b"abcabcabc");
        assert!(lzf_decompress(&[0x20, 5], 100).is_err());
        assert!(lzf_decompress(&[5, 1], 100).is_err());
    }
}
