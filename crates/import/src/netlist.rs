//! The TOML netlist format (documented in `docs/netlist.md`).
//!
//! Reading goes in two passes over a spanned document: the first reads every table into
//! spec values, recording type errors, missing and unknown keys; the second checks what
//! needs the whole file (names, sizes, zero-delay cycles). Every problem becomes a
//! diagnostic; a file with errors yields no network.

use std::collections::HashMap;
use std::path::Path;

use neuromap_diag::toml::{Document, Span, Spanned, Table, Value, closest};
use neuromap_diag::{Diagnostic, Diagnostics, SourceFile};
use neuromap_ir::connect::{Connector, Dist, ListEntry};
use neuromap_ir::spec::{NetworkSpec, PopSpec, PopSpecKind, ProbeSpec, ProjSpec, SourceSpec};
use neuromap_ir::{Encoding, Lif, LifFlavour, NeuronModel, Param, Receptor, Reset, Threshold, Variable};

/// A loaded netlist: the network and the run settings it carries.
#[derive(Debug)]
pub struct Netlist {
    pub spec: NetworkSpec,
    /// `[network] steps`, the default run length.
    pub steps: Option<u32>,
    /// Warnings (the file is usable).
    pub warnings: Diagnostics,
}

/// The timesteps neuromap simulates (ms): 0.1 µs to 1 s.
pub const MIN_DT_MS: f64 = 1e-4;
pub const MAX_DT_MS: f64 = 1000.0;
/// The highest Poisson rate a source may ask for (Hz): a thousand spikes a millisecond.
pub const MAX_RATE_HZ: f64 = 1e6;

/// A number as a reader wants it: `1e300`, not three hundred digits.
fn short(x: f64) -> String {
    if x != 0.0 && !(1e-3..1e6).contains(&x.abs()) { format!("{x:e}") } else { format!("{x}") }
}

/// Reads and loads a netlist file.
pub fn load_path(path: &Path) -> Result<Netlist, Diagnostics> {
    let name = path.display().to_string();
    match neuromap_diag::read_input(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => load_str(&name, &text),
            Err(e) => {
                // The text before the first bad byte is unchanged by a lossy decoding.
                let at = e.utf8_error().valid_up_to();
                let file = SourceFile::new(name, String::from_utf8_lossy(e.as_bytes()).into_owned());
                let end = file.text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                Err(Diagnostics(vec![
                    Diagnostic::error(&file, Some(at..end), "the file is not UTF-8 text")
                        .with_label(format!("invalid byte 0x{:02x}", e.as_bytes()[at]))
                        .with_help("save the netlist as UTF-8"),
                ]))
            }
        },
        Err(e) => Err(Diagnostics::unreadable(name, "the file", &e)),
    }
}

/// Loads a netlist from text; `name` is the file name used in diagnostics.
pub fn load_str(name: &str, text: &str) -> Result<Netlist, Diagnostics> {
    let file = SourceFile::new(name, text);
    let doc = Document::parse(&file);
    if doc.has_errors() {
        return Err(doc.into_diagnostics());
    }
    let out = Reader::new(&doc).read();
    let diags = doc.into_diagnostics().sorted();
    match out {
        Some((spec, steps)) if !diags.has_errors() => Ok(Netlist { spec, steps, warnings: diags }),
        _ => Err(diags),
    }
}

/// The neuron models a population may name.
pub const MODELS: [&str; 8] = ["lif", "if", "li", "cuba_lif", "cond_lif", "adaptive_lif", "threshold", "izhikevich"];
/// The kinds of spike source.
pub const SOURCE_KINDS: [&str; 3] = ["poisson", "bernoulli", "array"];
/// The connector kinds.
pub const CONNECTORS: [&str; 11] = [
    "all_to_all",
    "one_to_one",
    "fixed_probability",
    "fixed_number_pre",
    "fixed_number_post",
    "fixed_total_number",
    "list",
    "file",
    "dense",
    "conv2d",
    "pool2d",
];

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Constraint {
    Any,
    Positive,
    NonNegative,
}

/// A model parameter: key, default, constraint.
pub type Def = (&'static str, f64, Constraint);

use Constraint::{Any, NonNegative, Positive};

/// `a` then `b`; `K` must be `N + M` (checked when the constant is evaluated).
const fn cat<const N: usize, const M: usize, const K: usize>(a: [Def; N], b: [Def; M]) -> [Def; K] {
    assert!(N + M == K && N > 0, "K must be N + M");
    let mut out = [a[0]; K];
    let mut i = 0;
    while i < K {
        out[i] = if i < N { a[i] } else { b[i - N] };
        i += 1;
    }
    out
}

/// The membrane of PyNN's `IF_curr_exp` and `IF_cond_exp` (their defaults).
const MEMBRANE: [Def; 6] = [
    ("tau_m", 20.0, Positive),
    ("cm", 1.0, Positive),
    ("v_rest", -65.0, Any),
    ("v_reset", -65.0, Any),
    ("v_thresh", -50.0, Any),
    ("t_ref", 0.1, NonNegative),
];
const LIF_DEFS: [Def; 9] =
    cat(MEMBRANE, [("tau_syn_e", 5.0, NonNegative), ("tau_syn_i", 5.0, NonNegative), ("i_offset", 0.0, Any)]);
const LIF: &[Def] = &LIF_DEFS;
/// PyNN's `IF_cond_exp` defaults: its conductances must decay.
const COND_LIF: &[Def] = &cat::<6, 5, 11>(
    MEMBRANE,
    [
        ("tau_syn_e", 5.0, Positive),
        ("tau_syn_i", 5.0, Positive),
        ("i_offset", 0.0, Any),
        ("e_rev_e", 0.0, Any),
        ("e_rev_i", -70.0, Any),
    ],
);
/// PyNN's `IF_curr_exp` defaults, and the adaptation of sPyNNaker's
/// `IF_curr_exp_ca2_adaptive` (`tau_ca2` 50 ms, `i_alpha` 0.1 nA, `i_ca2` 0).
const ADAPTIVE_LIF: &[Def] =
    &cat::<9, 3, 12>(LIF_DEFS, [("tau_w", 50.0, Positive), ("b", 0.1, Any), ("w_init", 0.0, Any)]);
const IF: &[Def] = &[
    ("cm", 1.0, Positive),
    ("v_reset", 0.0, Any),
    ("v_thresh", 1.0, Any),
    ("t_ref", 0.0, NonNegative),
    ("tau_syn_e", 0.0, NonNegative),
    ("tau_syn_i", 0.0, NonNegative),
    ("i_offset", 0.0, Any),
    ("leak", 0.0, NonNegative),
];
const LI: &[Def] = &[
    ("tau_m", 20.0, Positive),
    ("cm", 1.0, Positive),
    ("v_rest", 0.0, Any),
    ("tau_syn_e", 0.0, NonNegative),
    ("tau_syn_i", 0.0, NonNegative),
    ("i_offset", 0.0, Any),
];
const CUBA_LIF: &[Def] = &[
    ("tau_mem", 20.0, Positive),
    ("tau_syn", 5.0, NonNegative),
    ("r", 1.0, Positive),
    ("v_leak", 0.0, Any),
    ("v_threshold", 1.0, Any),
    ("v_reset", 0.0, Any),
    ("t_ref", 0.0, NonNegative),
    ("i_offset", 0.0, Any),
];
const THRESHOLD: &[Def] = &[("theta", 0.0, Any), ("bias", 0.0, Any)];
/// PyNN's `Izhikevich` defaults (regular spiking; v_init −70 mV, u_init −14).
const IZHIKEVICH: &[Def] = &[
    ("a", 0.02, Any),
    ("b", 0.2, Any),
    ("c", -65.0, Any),
    ("d", 2.0, Any),
    ("tau_syn_e", 0.0, NonNegative),
    ("tau_syn_i", 0.0, NonNegative),
    ("i_offset", 0.0, Any),
    ("u_init", -14.0, Any),
];

/// Parameters of a model, in declaration order, with their defaults (for docs and
/// `neuromap` help).
pub fn model_params(model: &str) -> Option<&'static [Def]> {
    Some(match model {
        "lif" => LIF,
        "if" => IF,
        "li" => LI,
        "cuba_lif" => CUBA_LIF,
        "cond_lif" => COND_LIF,
        "adaptive_lif" => ADAPTIVE_LIF,
        "threshold" => THRESHOLD,
        "izhikevich" => IZHIKEVICH,
        _ => return None,
    })
}

struct PopInfo {
    name_span: Span,
    size: u64,
    is_source: bool,
    is_threshold: bool,
    /// Conductance-based synapses (`cond_lif`): weights are conductances.
    is_conductance: bool,
}

struct ProjInfo {
    head: Span,
    delay_span: Span,
    /// Smallest delay in ms the projection can have.
    min_delay_ms: f64,
}

struct Reader<'d, 'a> {
    doc: &'d Document<'a>,
    dt: f64,
    pops: Vec<PopSpec>,
    info: Vec<PopInfo>,
    by_name: HashMap<String, usize>,
    /// Populations pinned to a hybrid chip's part (`assign = "…"`).
    assign: std::collections::BTreeMap<String, String>,
}

impl<'d, 'a> Reader<'d, 'a> {
    fn new(doc: &'d Document<'a>) -> Self {
        Self { doc, dt: 1.0, pops: Vec::new(), info: Vec::new(), by_name: HashMap::new(), assign: Default::default() }
    }

    fn error(&self, span: Span, msg: impl Into<String>) -> Diagnostic {
        self.doc.error(span, msg)
    }

    fn emit(&self, d: Diagnostic) {
        self.doc.emit(d);
    }

    /// A `file` connector's synapse list: one synapse a line, `pre post [weight
    /// [delay]]` separated by commas or white space (as `list` entries), blank lines and
    /// `#` comments skipped; the path relative to the netlist's folder. Mistakes are
    /// named by the list file's line and column.
    fn list_file(&self, path: &str, at: Span) -> Option<Vec<ListEntry>> {
        /// Larger files are refused rather than read (a path may name a device).
        const MAX_BYTES: u64 = 1 << 32;
        let base = Path::new(&self.doc.file().name).parent().unwrap_or(Path::new(""));
        let full = base.join(path);
        let shown = full.display().to_string();
        let fail = |msg: String| {
            self.emit(self.error(at, msg).with_label("this file"));
            None
        };
        let size = match std::fs::metadata(&full) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return fail(format!("`{shown}` is not a file")),
            Err(e) => return fail(format!("cannot read the synapse list `{shown}`: {e}")),
        };
        if size > MAX_BYTES {
            return fail(format!("the synapse list `{shown}` has {size} bytes, more than the {MAX_BYTES} read"));
        }
        let text = match neuromap_diag::read_input(&full).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => return fail(format!("the synapse list `{shown}` is not UTF-8 text")),
            Err(e) => return fail(format!("cannot read the synapse list `{shown}`: {e}")),
        };
        let file = SourceFile::new(shown, text);
        let mut entries = Vec::new();
        let mut offset = 0;
        let mut ok = true;
        for line in file.text.split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let body = line.split('#').next().unwrap_or("");
            let mut fields: Vec<(usize, &str)> = Vec::with_capacity(4);
            let mut from = None;
            for (i, c) in body.char_indices().chain(std::iter::once((body.len(), ' '))) {
                match (c == ',' || c.is_whitespace(), from) {
                    (true, Some(f)) => {
                        fields.push((start + f, &body[f..i]));
                        from = None;
                    }
                    (false, None) => from = Some(i),
                    _ => {}
                }
            }
            if fields.is_empty() {
                continue;
            }
            let bad = |i: usize, what: &str| {
                let (s, f): (usize, &str) = fields.get(i).copied().unwrap_or((start, ""));
                Diagnostic::error(
                    &file,
                    Some(s..s + f.len()),
                    format!("a synapse line is `pre post [weight [delay]]`: {what}"),
                )
            };
            if fields.len() < 2 || fields.len() > 4 {
                let d = bad(0, &format!("this line has {} of the 2 to 4 fields", fields.len())).with_label("this line");
                self.emit(d);
                ok = false;
                continue;
            }
            let index = |i: usize| fields[i].1.parse::<u32>().ok();
            let real = |i: usize| fields.get(i).map(|f| f.1.parse::<f64>().ok().filter(|x| x.is_finite()));
            let (Some(pre), Some(post)) = (index(0), index(1)) else {
                let i = if index(0).is_none() { 0 } else { 1 };
                self.emit(bad(i, "pre and post are neuron indices").with_label("expected a whole number ≥ 0"));
                ok = false;
                continue;
            };
            let (weight, delay) = (real(2), real(3));
            if let Some(None) = weight {
                self.emit(bad(2, "the weight is a number").with_label("expected a finite number"));
                ok = false;
                continue;
            }
            if let Some(None) = delay {
                self.emit(bad(3, "the delay is a number (ms)").with_label("expected a finite number"));
                ok = false;
                continue;
            }
            entries.push(ListEntry { pre, post, weight: weight.flatten(), delay: delay.flatten() });
        }
        ok.then_some(entries)
    }

    fn line(&self, span: &Span) -> usize {
        self.doc.file().line_col(span.start).0
    }

    fn read(mut self) -> Option<(NetworkSpec, Option<u32>)> {
        let root = self.doc.root();
        let default_name = Path::new(&self.doc.file().name)
            .file_stem()
            .map_or_else(|| "network".to_string(), |s| s.to_string_lossy().into_owned());
        let mut name = default_name;
        let mut seed = 0;
        let mut scale = 1.0;
        let mut steps = None;
        let mut dt_ok = false;
        match root.get("network").and_then(|v| v.table("[network]")) {
            Some(net) => {
                if let Some(n) = net.opt::<String>("name") {
                    name = n.value;
                }
                if let Some(dt) = net.req::<f64>("dt") {
                    // the timestep in ms
                    if (MIN_DT_MS..=MAX_DT_MS).contains(&dt.value) {
                        self.dt = dt.value;
                        dt_ok = true;
                    } else {
                        self.emit(
                            self.error(
                                dt.span,
                                format!(
                                    "`dt` = {} ms is outside the timesteps neuromap simulates, {MIN_DT_MS} to {MAX_DT_MS} ms",
                                    short(dt.value)
                                ),
                            )
                            .with_label("expected a timestep in milliseconds"),
                        );
                    }
                }
                if let Some(s) = net.opt::<u64>("seed") {
                    seed = s.value;
                }
                if let Some(s) = net.opt::<f64>("scale") {
                    if s.value > 0.0 {
                        scale = s.value;
                    } else {
                        self.emit(self.error(s.span, "`scale` must be positive").with_label("not positive"));
                    }
                }
                if let Some(s) = net.opt::<u64>("steps") {
                    match u32::try_from(s.value) {
                        Ok(v) => steps = Some(v),
                        Err(_) => self.emit(self.error(s.span, format!("`steps` must be at most {}", u32::MAX))),
                    }
                }
                net.finish();
            }
            None if !root.contains("network") => {
                root.missing("network", "a table with at least `dt`, the timestep in ms");
            }
            None => {}
        }
        let pop_tables = self.tables(&root, "population");
        let src_tables = self.tables(&root, "source");
        let declared = pop_tables.len() + src_tables.len();
        for t in pop_tables {
            self.population(t);
        }
        for t in src_tables {
            self.source(t);
        }
        if declared == 0 && !root.contains("population") && !root.contains("source") {
            self.emit(
                self.error(root.head_span(), "the netlist declares no population")
                    .with_help("add a `[[population]]` table with `name`, `size` and `model`"),
            );
        }
        let mut projections = Vec::new();
        let mut proj_info = Vec::new();
        let mut proj_names: HashMap<String, Span> = HashMap::new();
        for t in self.tables(&root, "projection") {
            if let Some((p, info)) = self.projection(t, &mut proj_names) {
                projections.push(p);
                proj_info.push(info);
            }
        }
        let probes: Vec<ProbeSpec> = self.tables(&root, "probe").into_iter().filter_map(|t| self.probe(t)).collect();
        root.finish();
        if dt_ok {
            self.zero_delay_cycles(&projections, &proj_info);
        }
        let assign = std::mem::take(&mut self.assign);
        let spec = NetworkSpec { name, dt: self.dt, seed, scale, populations: self.pops, projections, probes, assign };
        Some((spec, steps))
    }

    /// The tables of an array of tables `[[key]]`.
    fn tables(&self, root: &Table<'d, 'a>, key: &'static str) -> Vec<Table<'d, 'a>> {
        let Some(v) = root.get(key) else {
            return Vec::new();
        };
        if v.is_table() {
            self.emit(
                self.error(v.span(), format!("`{key}` must be an array of tables"))
                    .with_label("a single table")
                    .with_help(format!("write `[[{key}]]` (double brackets), one per entry")),
            );
            return Vec::new();
        }
        let Some(items) = v.array() else {
            return Vec::new();
        };
        items.iter().enumerate().filter_map(|(i, it)| it.table(format!("[[{key}]] #{}", i + 1))).collect()
    }

    fn name_of(&self, t: &mut Table<'d, 'a>, what: &str) -> Option<Spanned<String>> {
        let n = t.req::<String>("name")?;
        t.set_context(format!("{what} `{}`", n.value));
        let valid = !n.value.is_empty() && n.value.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !valid {
            self.emit(
                self.error(n.span.clone(), format!("invalid name `{}`", n.value))
                    .with_label("use letters, digits, `_`, `-` or `.`"),
            );
            return None;
        }
        Some(n)
    }

    fn size_of(&self, t: &Table<'d, 'a>) -> Option<u64> {
        let s = t.req::<u64>("size")?;
        if s.value == 0 {
            self.emit(self.error(s.span, "`size` must be at least 1").with_label("empty population"));
            return None;
        }
        if s.value > u64::from(u32::MAX) {
            self.emit(
                self.error(s.span, format!("`size` {} is more than a population can hold ({})", s.value, u32::MAX))
                    .with_label("too large"),
            );
            return None;
        }
        Some(s.value)
    }

    fn declare(&mut self, name: Spanned<String>, size: Option<u64>, kind: Option<PopSpecKind>) {
        if let Some(&first) = self.by_name.get(&name.value) {
            // A first declaration with errors of its own has no entry in `info`.
            let at = match self.info.get(first) {
                Some(i) => format!("first declared on line {}", self.line(&i.name_span)),
                None => "declared earlier".to_string(),
            };
            self.emit(
                self.error(name.span, format!("duplicate population name `{}`", name.value))
                    .with_label("declared again here")
                    .with_help(format!("{at}; names must be unique across populations and sources")),
            );
            return;
        }
        let (Some(size), Some(kind)) = (size, kind) else {
            // Remember the name so that projections to it do not add follow-on errors.
            self.by_name.insert(name.value.clone(), usize::MAX);
            return;
        };
        let is_source = matches!(kind, PopSpecKind::Source(_));
        let is_threshold = matches!(kind, PopSpecKind::Neurons { model: NeuronModel::Threshold(_), .. });
        let is_conductance =
            matches!(&kind, PopSpecKind::Neurons { model: NeuronModel::Lif(l), .. } if l.conductance.is_some());
        self.by_name.insert(name.value.clone(), self.pops.len());
        self.info.push(PopInfo { name_span: name.span, size, is_source, is_threshold, is_conductance });
        self.pops.push(PopSpec { name: name.value, size, kind });
    }

    fn population(&mut self, mut t: Table<'d, 'a>) {
        let name = self.name_of(&mut t, "population");
        let size = self.size_of(&t);
        let model = t.req::<String>("model");
        let known_model = model.as_ref().is_some_and(|m| model_params(&m.value).is_some());
        let kind = model.and_then(|m| self.model(&t, m, size));
        let assign = t.opt::<String>("assign");
        if let Some(a) = &assign
            && a.value.trim().is_empty()
        {
            self.emit(
                self.error(a.span.clone(), "`assign` is empty")
                    .with_label("expected a part")
                    .with_help("`cores`, or the family or model name of a hybrid chip's part, e.g. \"crossbar\""),
            );
        }
        // With an unknown model, which keys are valid is unknown too: say nothing more.
        if known_model {
            t.finish();
        }
        if let Some(name) = name {
            if let Some(a) = assign.filter(|a| !a.value.trim().is_empty()) {
                self.assign.insert(name.value.clone(), a.value.trim().to_string());
            }
            self.declare(name, size, kind);
        }
    }

    fn model(&self, t: &Table<'d, 'a>, model: Spanned<String>, size: Option<u64>) -> Option<PopSpecKind> {
        let Some(defs) = model_params(&model.value) else {
            let mut d = self
                .error(model.span, format!("unknown neuron model `{}`", model.value))
                .with_label("not a neuron model");
            d = match closest(&model.value, &MODELS) {
                Some(c) => d.with_help(format!("did you mean `{c}`?")),
                None => d.with_help(format!("the models are: {}", MODELS.join(", "))),
            };
            self.emit(d);
            return None;
        };
        let p: Vec<Option<Param>> = defs.iter().map(|d| self.param(t, *d, size)).collect();
        if model.value == "threshold" {
            let encoding = match t.opt::<String>("encoding") {
                None => Some(Encoding::Binary),
                Some(e) => match e.value.as_str() {
                    "binary" => Some(Encoding::Binary),
                    "bipolar" => Some(Encoding::Bipolar),
                    _ => {
                        self.emit(
                            self.error(e.span, format!("unknown encoding `{}`", e.value))
                                .with_label("expected \"binary\" or \"bipolar\""),
                        );
                        None
                    }
                },
            };
            let [Some(theta), Some(bias)] = [p[0].clone(), p[1].clone()] else {
                return None;
            };
            return Some(PopSpecKind::Neurons {
                model: NeuronModel::Threshold(Threshold { theta, bias, encoding: encoding? }),
                v_init_dist: None,
            });
        }
        if model.value == "izhikevich" {
            let v_init = match t.get("v_init") {
                None => Some(Param::Shared(-70.0)),
                Some(v) if v.is_table() => {
                    self.emit(
                        self.error(v.span(), "an izhikevich population takes `v_init` as a number or a list")
                            .with_label("a distribution"),
                    );
                    None
                }
                Some(v) => self.param_value("v_init", v, size, Any),
            };
            let p: Option<Vec<Param>> = p.into_iter().collect();
            let (p, v_init) = (p?, v_init?);
            let [a, b, c, d, tau_syn_e, tau_syn_i, i_offset, u_init] = <[Param; 8]>::try_from(p).ok()?;
            return Some(PopSpecKind::Neurons {
                model: NeuronModel::Izhikevich(neuromap_ir::Izhikevich {
                    a,
                    b,
                    c,
                    d,
                    tau_syn_e,
                    tau_syn_i,
                    i_offset,
                    v_init,
                    u_init,
                }),
                v_init_dist: None,
            });
        }
        let reset = if model.value == "li" {
            Some(Reset::ToValue)
        } else {
            match t.opt::<String>("reset") {
                None => Some(Reset::ToValue),
                Some(r) => match r.value.as_str() {
                    "value" => Some(Reset::ToValue),
                    "subtract" => Some(Reset::Subtract),
                    _ => {
                        self.emit(
                            self.error(r.span, format!("unknown reset `{}`", r.value))
                                .with_label("expected \"value\" or \"subtract\""),
                        );
                        None
                    }
                },
            }
        };
        let (v_init, v_init_dist) = match t.get("v_init") {
            None => (None, None),
            Some(v) if v.is_table() => (None, Some(self.dist(v)?)),
            Some(v) => (Some(self.param_value("v_init", v, size, Any)?), None),
        };
        if p.iter().any(Option::is_none) {
            return None;
        }
        let p: Vec<Param> = p.into_iter().flatten().collect();
        let get = |k: &str| p[defs.iter().position(|d| d.0 == k).expect("key is in the model's table")].clone();
        let inf = Param::Shared(f64::INFINITY);
        let zero = Param::Shared(0.0);
        let lif = match model.value.as_str() {
            "lif" | "cond_lif" | "adaptive_lif" => Lif {
                flavour: match model.value.as_str() {
                    "cond_lif" => LifFlavour::CondLif,
                    "adaptive_lif" => LifFlavour::AdaptiveLif,
                    _ => LifFlavour::Lif,
                },
                tau_m: get("tau_m"),
                cm: get("cm"),
                v_rest: get("v_rest"),
                v_reset: get("v_reset"),
                v_thresh: get("v_thresh"),
                t_ref: get("t_ref"),
                tau_syn_e: get("tau_syn_e"),
                tau_syn_i: get("tau_syn_i"),
                i_offset: get("i_offset"),
                reset: reset?,
                v_init: v_init.unwrap_or_else(|| get("v_rest")),
                conductance: (model.value == "cond_lif")
                    .then(|| neuromap_ir::Conductance { e_rev_e: get("e_rev_e"), e_rev_i: get("e_rev_i") }),
                adaptation: (model.value == "adaptive_lif").then(|| neuromap_ir::Adaptation {
                    tau_w: get("tau_w"),
                    b: get("b"),
                    w_init: get("w_init"),
                }),
                linear_leak: None,
            },
            "if" => Lif {
                flavour: LifFlavour::If,
                tau_m: inf,
                cm: get("cm"),
                v_rest: zero.clone(),
                v_reset: get("v_reset"),
                v_thresh: get("v_thresh"),
                t_ref: get("t_ref"),
                tau_syn_e: get("tau_syn_e"),
                tau_syn_i: get("tau_syn_i"),
                i_offset: get("i_offset"),
                reset: reset?,
                v_init: v_init.unwrap_or(zero),
                conductance: None,
                adaptation: None,
                linear_leak: Some(get("leak")).filter(|l| *l != Param::Shared(0.0)),
            },
            "li" => Lif {
                flavour: LifFlavour::Li,
                tau_m: get("tau_m"),
                cm: get("cm"),
                v_rest: get("v_rest"),
                v_reset: zero.clone(),
                v_thresh: inf,
                t_ref: zero,
                tau_syn_e: get("tau_syn_e"),
                tau_syn_i: get("tau_syn_i"),
                i_offset: get("i_offset"),
                reset: Reset::ToValue,
                v_init: v_init.unwrap_or_else(|| get("v_rest")),
                conductance: None,
                adaptation: None,
                linear_leak: None,
            },
            _ => {
                // cuba_lif, in NIR's names: tau_mem·dv/dt = (v_leak − v) + r·I.
                let (tau, r) = (get("tau_mem"), get("r"));
                let cm = match (&tau, &r) {
                    (Param::Shared(a), Param::Shared(b)) => Param::Shared(a / b),
                    _ => {
                        let n = size.unwrap_or(0) as usize;
                        Param::PerNeuron((0..n).map(|i| tau.get(i) / r.get(i)).collect())
                    }
                };
                Lif {
                    flavour: LifFlavour::CubaLif,
                    tau_m: tau,
                    cm,
                    v_rest: get("v_leak"),
                    v_reset: get("v_reset"),
                    v_thresh: get("v_threshold"),
                    t_ref: get("t_ref"),
                    tau_syn_e: get("tau_syn"),
                    tau_syn_i: get("tau_syn"),
                    i_offset: get("i_offset"),
                    reset: reset?,
                    v_init: v_init.unwrap_or_else(|| get("v_leak")),
                    conductance: None,
                    adaptation: None,
                    linear_leak: None,
                }
            }
        };
        Some(PopSpecKind::Neurons { model: NeuronModel::Lif(lif), v_init_dist })
    }

    /// A model parameter: absent → default; a number; or one number per neuron.
    fn param(&self, t: &Table<'d, 'a>, (key, default, c): Def, size: Option<u64>) -> Option<Param> {
        match t.get(key) {
            None => Some(Param::Shared(default)),
            Some(v) => self.param_value(key, v, size, c),
        }
    }

    fn param_value(&self, key: &str, v: Value<'d, 'a>, size: Option<u64>, c: Constraint) -> Option<Param> {
        let check = |x: f64, span: Span| -> bool {
            let bad = match c {
                Any => None,
                Positive if x <= 0.0 => Some("must be positive"),
                NonNegative if x < 0.0 => Some("must not be negative"),
                _ => None,
            };
            if let Some(why) = bad {
                self.emit(self.error(span, format!("`{key}` = {x} {why}")).with_label(why));
            }
            bad.is_none()
        };
        if v.is_array() {
            let items = v.array()?;
            if let Some(n) = size
                && items.len() as u64 != n
            {
                self.emit(
                    self.error(v.span(), format!("{} values given for a population of {n}", items.len()))
                        .with_label(format!("expected one number, or {n} numbers (one per neuron)")),
                );
                return None;
            }
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for it in items {
                match it.get::<f64>() {
                    Some(x) => ok &= check(x, it.span()),
                    None => ok = false,
                }
                out.push(it.try_get::<f64>().unwrap_or(0.0));
            }
            return ok.then_some(Param::PerNeuron(out));
        }
        let x = v.get::<f64>()?;
        check(x, v.span()).then_some(Param::Shared(x))
    }

    /// A distribution: a number, `{ uniform = [lo, hi] }` or `{ normal = [mean, sd] }`
    /// with optional `min` and `max`, or `{ choice = [a, b, ...] }`.
    fn dist(&self, v: Value<'d, 'a>) -> Option<Dist> {
        if v.is_number() {
            return v.get::<f64>().map(Dist::constant);
        }
        if !v.is_table() {
            v.expected(
                "a number or a distribution ({ uniform = [a, b] }, { normal = [mean, sd] }, { choice = [...] })",
            );
            return None;
        }
        let t = v.table("a distribution")?;
        let pair = |key: &'static str| -> Option<(f64, f64)> {
            let p = t.get(key)?;
            match p.array_of::<f64>() {
                Some(x) if x.len() == 2 => Some((x[0], x[1])),
                Some(_) => {
                    p.doc()
                        .emit(self.error(p.span(), format!("`{key}` takes two numbers")).with_label("expected [a, b]"));
                    None
                }
                None => None,
            }
        };
        let has_u = t.contains("uniform");
        let has_n = t.contains("normal");
        if let Some(c) = t.get("choice") {
            let values = c.array_of::<f64>()?;
            if values.is_empty() || has_u || has_n || t.contains("min") || t.contains("max") {
                self.emit(
                    self.error(t.span(), "`choice` takes a non-empty list of values and nothing else")
                        .with_label("expected { choice = [a, b, ...] }"),
                );
                return None;
            }
            t.finish();
            return Some(Dist::Choice { values });
        }
        let min = t.opt::<f64>("min").map(|s| s.value);
        let max = t.opt::<f64>("max").map(|s| s.value);
        let d = match (has_u, has_n) {
            (true, false) => {
                let (lo, hi) = pair("uniform")?;
                if lo > hi {
                    self.emit(
                        self.error(t.span(), format!("uniform range [{lo}, {hi}] is empty"))
                            .with_label("low bound above high bound"),
                    );
                    return None;
                }
                Dist::Uniform { lo: lo.max(min.unwrap_or(lo)), hi: hi.min(max.unwrap_or(hi)) }
            }
            (false, true) => {
                let (mean, sd) = pair("normal")?;
                if sd < 0.0 {
                    self.emit(self.error(t.span(), format!("normal standard deviation {sd} is negative")));
                    return None;
                }
                Dist::Normal { mean, sd, min, max }
            }
            _ => {
                self.emit(
                    self.error(t.span(), "a distribution needs exactly one of `uniform`, `normal` or `choice`")
                        .with_label("expected { uniform = [lo, hi] }, { normal = [mean, sd] } or { choice = [a, b] }"),
                );
                return None;
            }
        };
        if let (Some(lo), Some(hi)) = (min, max)
            && lo > hi
        {
            self.emit(self.error(t.span(), format!("`min` {lo} is above `max` {hi}")));
            return None;
        }
        t.finish();
        Some(d)
    }

    fn source(&mut self, mut t: Table<'d, 'a>) {
        let name = self.name_of(&mut t, "source");
        let size = self.size_of(&t);
        let kind_name = t.req::<String>("kind");
        let known_kind = kind_name.as_ref().is_some_and(|k| SOURCE_KINDS.contains(&k.value.as_str()));
        let kind = kind_name.and_then(|k| match k.value.as_str() {
            "poisson" => {
                let rate = t.req_value("rate", "a rate in Hz").and_then(|v| {
                    let r = self.param_value("rate", v, size, NonNegative)?;
                    if r.max() > MAX_RATE_HZ {
                        self.emit(
                            self.error(
                                v.span(),
                                format!("a rate of {} Hz is above {} Hz", short(r.max()), short(MAX_RATE_HZ)),
                            )
                            .with_label("expected a firing rate in Hz"),
                        );
                        return None;
                    }
                    Some(r)
                });
                let start = t.opt::<f64>("start").map_or(0.0, |s| s.value);
                let stop = t.opt::<f64>("stop").map(|s| s.value);
                rate.map(|rate_hz| SourceSpec::Poisson { rate_hz, start_ms: start, stop_ms: stop })
            }
            "bernoulli" => {
                let p = t.req_value("p", "a probability per step").and_then(|v| {
                    let p = self.param_value("p", v, size, NonNegative)?;
                    if p.max() > 1.0 {
                        self.emit(
                            self.error(v.span(), format!("probability {} is above 1", p.max()))
                                .with_label("expected a probability in [0, 1]"),
                        );
                        return None;
                    }
                    Some(p)
                });
                p.map(|p| SourceSpec::Bernoulli { p })
            }
            "array" => self.spike_array(&t, size),
            other => {
                let mut d =
                    self.error(k.span, format!("unknown source kind `{other}`")).with_label("not a source kind");
                d = match closest(other, &SOURCE_KINDS) {
                    Some(c) => d.with_help(format!("did you mean `{c}`?")),
                    None => d.with_help(format!("the kinds are: {}", SOURCE_KINDS.join(", "))),
                };
                self.emit(d);
                None
            }
        });
        if known_kind {
            t.finish();
        }
        if let Some(name) = name {
            self.declare(name, size, kind.map(PopSpecKind::Source));
        }
    }

    fn spike_array(&self, t: &Table<'d, 'a>, size: Option<u64>) -> Option<SourceSpec> {
        let v = t.req_value("spikes", "one array of spike times (ms) per neuron")?;
        let rows = v.array()?;
        if let Some(n) = size
            && rows.len() as u64 != n
        {
            self.emit(
                self.error(v.span(), format!("spike times for {} neurons, but the source has {n}", rows.len()))
                    .with_label(format!("expected {n} arrays of times")),
            );
            return None;
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let times = r.array_of::<f64>()?;
            if let Some(bad) = times.iter().find(|x| **x < 0.0) {
                self.emit(self.error(r.span(), format!("spike time {bad} ms is negative")));
                return None;
            }
            out.push(times);
        }
        Some(SourceSpec::Array { times_ms: out })
    }

    fn pop_ref(&self, t: &Table<'d, 'a>, key: &'static str) -> Option<(usize, Span)> {
        let n = t.req::<String>(key)?;
        match self.by_name.get(&n.value) {
            Some(&usize::MAX) => None,
            Some(&i) => Some((i, n.span)),
            None => {
                let names: Vec<&str> = self.pops.iter().map(|p| p.name.as_str()).collect();
                let mut d = self
                    .error(n.span, format!("no population or source is named `{}`", n.value))
                    .with_label("unknown name");
                d = match closest(&n.value, &names) {
                    Some(c) => d.with_help(format!("did you mean `{c}`?")),
                    None if names.is_empty() => d,
                    None => d.with_help(format!("declared names: {}", names.join(", "))),
                };
                self.emit(d);
                None
            }
        }
    }

    fn projection(&self, mut t: Table<'d, 'a>, names: &mut HashMap<String, Span>) -> Option<(ProjSpec, ProjInfo)> {
        let head = t.head_span();
        let pre = self.pop_ref(&t, "pre");
        let post = self.pop_ref(&t, "post");
        let name = match t.opt::<String>("name") {
            Some(n) => Some(n),
            None => match (&pre, &post) {
                (Some((a, _)), Some((b, _))) => {
                    Some(Spanned::new(format!("{}->{}", self.pops[*a].name, self.pops[*b].name), head.clone()))
                }
                _ => None,
            },
        };
        if let Some(n) = &name {
            t.set_context(format!("projection `{}`", n.value));
            if let Some(first) = names.get(&n.value) {
                self.emit(
                    self.error(n.span.clone(), format!("duplicate projection name `{}`", n.value))
                        .with_label("declared again here")
                        .with_help(format!(
                            "first declared on line {}; give each projection a distinct `name`",
                            self.line(first)
                        )),
                );
            } else {
                names.insert(n.value.clone(), n.span.clone());
            }
        }
        let receptor = match t.opt::<String>("receptor") {
            None => Some(Receptor::Excitatory),
            Some(r) => match r.value.as_str() {
                "excitatory" | "exc" => Some(Receptor::Excitatory),
                "inhibitory" | "inh" => Some(Receptor::Inhibitory),
                _ => {
                    self.emit(
                        self.error(r.span, format!("unknown receptor `{}`", r.value))
                            .with_label("expected \"excitatory\" or \"inhibitory\""),
                    );
                    None
                }
            },
        };
        let conn_v = t.req_value("connector", "a connector name or table");
        let connector = conn_v.and_then(|v| self.connector(v));
        let weight_v = t.get("weight");
        let weight = match weight_v {
            Some(v) => Some(self.dist(v)?),
            None => None,
        };
        let delay_v = t.get("delay");
        let delay = match delay_v {
            Some(v) => self.dist(v)?,
            None => Dist::constant(self.dt),
        };
        let delay_span = delay_v.map_or(head.clone(), |v| v.span());
        t.finish();
        let (connector, (pre, _), (post, post_span), receptor) = (connector?, pre?, post?, receptor?);
        if let (Some(w), Some(v)) = (&weight, weight_v)
            && let Some(info) = self.info.get(post)
        {
            if info.is_conductance && w.lower_bound() < 0.0 {
                // A conductance cannot be negative: inhibition comes from e_rev_i.
                self.emit(
                    self.error(v.span(), "a weight onto a `cond_lif` population is a conductance (µS) and must not be negative")
                        .with_label(if w.upper_bound() < 0.0 { "negative" } else { "may be negative" })
                        .with_help("write inhibitory conductances positive with receptor = \"inhibitory\"; the reversal potential e_rev_i makes them inhibit"),
                );
                return None;
            }
            // Weights keep their sign whatever the receptor: an inhibitory projection
            // with a positive weight excites (sPyNNaker users write it positive).
            if !info.is_conductance && receptor == Receptor::Inhibitory && w.lower_bound() > 0.0 {
                self.emit(
                    self.doc
                        .warning(
                            v.span(),
                            "an inhibitory projection with a positive weight excites: weights keep their sign",
                        )
                        .with_label("a positive weight")
                        .with_help(
                            "write inhibitory weights negative (sPyNNaker writes them positive and negates them)",
                        ),
                );
            }
        }
        let name = name?.value;
        let conn_span = conn_v.map_or(head.clone(), |v| v.span());
        let mut ok = true;
        if self.info[post].is_source {
            self.emit(
                self.error(
                    post_span,
                    format!("`{}` is a spike source; a projection cannot target it", self.pops[post].name),
                )
                .with_label("a source has no inputs"),
            );
            ok = false;
        }
        if let Err(msg) = connector.check(self.info[pre].size, self.info[post].size, pre == post) {
            self.emit(self.error(conn_span.clone(), msg).with_label(format!("this `{}` connector", connector.kind())));
            ok = false;
        }
        match (&weight, connector.carries_weights(), weight_v) {
            (None, false, _) => {
                let list_has_all =
                    matches!(&connector, Connector::List { entries } if entries.iter().all(|e| e.weight.is_some()));
                if !list_has_all {
                    self.emit(
                        self.error(head.clone(), format!("missing key `weight` in projection `{name}`"))
                            .with_label("this projection needs `weight` (a number or a distribution)"),
                    );
                    ok = false;
                }
            }
            (Some(_), true, Some(v)) => {
                self.emit(
                    self.error(v.span(), format!("a `{}` connector carries its own weights", connector.kind()))
                        .with_label("remove this `weight`"),
                );
                ok = false;
            }
            _ => {}
        }
        let mut min_delay_ms = delay.lower_bound();
        if let Connector::List { entries } = &connector
            && let Some(m) = entries.iter().filter_map(|e| e.delay).reduce(f64::min)
        {
            // Entries without a delay of their own take the projection's.
            let all_own = entries.iter().all(|e| e.delay.is_some());
            min_delay_ms = if all_own { m } else { m.min(min_delay_ms) };
        }
        if matches!(delay, Dist::Normal { min: None, .. }) {
            self.emit(
                self.error(delay_span.clone(), "a normal delay needs a `min`: delays cannot be negative")
                    .with_label("unbounded below")
                    .with_help("add `min = 0.1` (or the smallest delay you want) to the distribution"),
            );
            ok = false;
        } else if min_delay_ms < 0.0 {
            self.emit(
                self.error(delay_span.clone(), format!("delay {min_delay_ms} ms is negative"))
                    .with_label("delays must be ≥ 0 ms"),
            );
            ok = false;
        } else if delay.upper_bound().is_finite() && delay.upper_bound() / self.dt > f64::from(u16::MAX) {
            self.emit(
                self.error(
                    delay_span.clone(),
                    format!("delay {} ms is more than {} steps", delay.upper_bound(), u16::MAX),
                )
                .with_label("too long"),
            );
            ok = false;
        }
        let info = ProjInfo { head, delay_span, min_delay_ms };
        ok.then_some((ProjSpec { name, pre, post, receptor, connector, weight, delay }, info))
    }

    fn connector(&self, v: Value<'d, 'a>) -> Option<Connector> {
        let unknown = |kind: &str, span: Span| {
            let mut d = self.error(span, format!("unknown connector `{kind}`")).with_label("not a connector");
            d = match closest(kind, &CONNECTORS) {
                Some(c) => d.with_help(format!("did you mean `{c}`?")),
                None => d.with_help(format!("the connectors are: {}", CONNECTORS.join(", "))),
            };
            self.emit(d);
        };
        if v.is_str() {
            let kind = v.get::<String>()?;
            return match kind.as_str() {
                "all_to_all" => Some(Connector::AllToAll { allow_self: true }),
                "one_to_one" => Some(Connector::OneToOne),
                k if CONNECTORS.contains(&k) => {
                    self.emit(
                        self.error(v.span(), format!("connector `{k}` needs parameters"))
                            .with_label("write it as a table")
                            .with_help(format!(
                                "for example: connector = {{ kind = \"{k}\", ... }} (see docs/netlist.md)"
                            )),
                    );
                    None
                }
                k => {
                    unknown(k, v.span());
                    None
                }
            };
        }
        if !v.is_table() {
            v.expected("a connector name or a table (\"one_to_one\", or { kind = \"fixed_probability\", p = 0.1 })");
            return None;
        }
        let t = v.table("the connector")?;
        let kind = t.req::<String>("kind")?;
        let allow_self = || t.opt::<bool>("allow_self").is_none_or(|b| b.value);
        let c = match kind.value.as_str() {
            "all_to_all" => Connector::AllToAll { allow_self: allow_self() },
            "one_to_one" => Connector::OneToOne,
            "fixed_probability" => {
                let p = t.req::<f64>("p")?;
                if !(0.0..=1.0).contains(&p.value) {
                    self.emit(
                        self.error(p.span, format!("probability {} is outside [0, 1]", p.value))
                            .with_label("expected a probability"),
                    );
                    return None;
                }
                Connector::FixedProbability { p: p.value, allow_self: allow_self() }
            }
            k @ ("fixed_number_pre" | "fixed_number_post" | "fixed_total_number") => {
                let n = t.req::<u64>("n")?.value;
                let a = allow_self();
                let replace = t.opt::<bool>("replace").is_some_and(|b| b.value);
                match k {
                    "fixed_number_pre" => Connector::FixedNumberPre { n, allow_self: a, replace },
                    "fixed_number_post" => Connector::FixedNumberPost { n, allow_self: a, replace },
                    _ => Connector::FixedTotalNumber { n, allow_self: a },
                }
            }
            "list" => {
                let entries_v = t.req_value("entries", "an array of [pre, post] or [pre, post, weight, delay]")?;
                let mut entries = Vec::new();
                for e in entries_v.array()? {
                    let Some(xs) = e.array_of::<f64>() else {
                        continue;
                    };
                    let idx = |x: f64| (x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX)).then_some(x as u32);
                    match (xs.len(), xs.first().copied().and_then(idx), xs.get(1).copied().and_then(idx)) {
                        (2..=4, Some(pre), Some(post)) => {
                            entries.push(ListEntry { pre, post, weight: xs.get(2).copied(), delay: xs.get(3).copied() })
                        }
                        _ => self.emit(
                            self.error(
                                e.span(),
                                "a list entry is [pre, post], [pre, post, weight] or [pre, post, weight, delay]",
                            )
                            .with_label("pre and post must be neuron indices"),
                        ),
                    }
                }
                Connector::List { entries }
            }
            "file" => {
                let path = t.req::<String>("path")?;
                let entries = self.list_file(&path.value, path.span)?;
                Connector::List { entries }
            }
            "dense" => {
                let w = t.req_value("weights", "rows of weights, one row per presynaptic neuron")?;
                let rows = w.array()?;
                let mut weights = Vec::new();
                let mut width = None;
                for r in &rows {
                    let xs = r.array_of::<f64>()?;
                    match width {
                        None => width = Some(xs.len()),
                        Some(n) if n != xs.len() => {
                            self.emit(
                                self.error(
                                    r.span(),
                                    format!("this row has {} weights, the first row has {n}", xs.len()),
                                )
                                .with_label("rows of a dense matrix must have equal length"),
                            );
                            return None;
                        }
                        _ => {}
                    }
                    weights.extend(xs);
                }
                Connector::Dense { weights }
            }
            "conv2d" | "pool2d" => {
                let in_shape = self.triple(&t, "in_shape")?;
                let kernel = self.pair(&t, "kernel", None)?;
                let conv = kind.value == "conv2d";
                let stride = self.pair(&t, "stride", Some(if conv { [1, 1] } else { kernel }))?;
                let padding = self.pair(&t, "padding", Some([0, 0]))?;
                if conv {
                    let out_channels = t.req::<u64>("out_channels")?;
                    let out_channels = u32::try_from(out_channels.value).ok()?;
                    let w = t.req_value("weights", "weights [out][in][kh][kw], nested or flat")?;
                    let mut weights = Vec::new();
                    flatten(w, &mut weights)?;
                    Connector::Conv2d { in_shape, out_channels, kernel, stride, padding, weights }
                } else {
                    Connector::Pool2d { in_shape, kernel, stride, padding }
                }
            }
            other => {
                unknown(other, kind.span);
                return None;
            }
        };
        t.finish();
        Some(c)
    }

    fn triple(&self, t: &Table<'d, 'a>, key: &'static str) -> Option<[u32; 3]> {
        let v = t.req_value(key, "[channels, height, width]")?;
        let xs = v.array_of::<u64>()?;
        match xs.as_slice() {
            &[c, h, w] if [c, h, w].iter().all(|&x| x > 0 && x <= u64::from(u32::MAX)) => {
                Some([c as u32, h as u32, w as u32])
            }
            _ => {
                self.emit(
                    self.error(v.span(), format!("`{key}` must be three positive integers"))
                        .with_label("expected [channels, height, width]"),
                );
                None
            }
        }
    }

    fn pair(&self, t: &Table<'d, 'a>, key: &'static str, default: Option<[u32; 2]>) -> Option<[u32; 2]> {
        let Some(v) = t.get(key) else {
            if default.is_none() {
                t.missing(key, "an integer or [height, width]");
            }
            return default;
        };
        let xs = match v.try_get::<u64>() {
            Some(x) => vec![x, x],
            None => v.array_of::<u64>()?,
        };
        match xs.as_slice() {
            &[a, b] if a <= u64::from(u32::MAX) && b <= u64::from(u32::MAX) => Some([a as u32, b as u32]),
            _ => {
                self.emit(
                    self.error(v.span(), format!("`{key}` must be an integer or two integers"))
                        .with_label("expected n or [h, w]"),
                );
                None
            }
        }
    }

    fn probe(&self, t: Table<'d, 'a>) -> Option<ProbeSpec> {
        let pop = self.pop_ref(&t, "population");
        let var = t.req::<String>("variable");
        let neurons = t.get("neurons").map(|v| (v.array_of::<u64>(), v.span()));
        t.finish();
        let (pop, span) = pop?;
        if self.info[pop].is_source || self.info[pop].is_threshold {
            self.emit(
                self.error(span, format!("`{}` has no membrane state to probe", self.pops[pop].name))
                    .with_label("probes record LIF-family populations"),
            );
            return None;
        }
        let var = var?;
        let variable = match var.value.as_str() {
            "v" => Variable::V,
            "i_syn_e" => Variable::ISynE,
            "i_syn_i" => Variable::ISynI,
            other => {
                self.emit(
                    self.error(var.span, format!("unknown variable `{other}`"))
                        .with_label("expected \"v\", \"i_syn_e\" or \"i_syn_i\""),
                );
                return None;
            }
        };
        let neurons = match neurons {
            None => None,
            Some((list, span)) => {
                let list = list?;
                let size = self.info[pop].size;
                if let Some(bad) = list.iter().find(|&&n| n >= size) {
                    self.emit(
                        self.error(span, format!("neuron {bad} does not exist: `{}` has {size}", self.pops[pop].name))
                            .with_label(format!("indices run from 0 to {}", size - 1)),
                    );
                    return None;
                }
                Some(list.into_iter().map(|n| n as u32).collect())
            }
        };
        Some(ProbeSpec { population: pop, variable, neurons })
    }

    /// Reports a cycle of projections that can all have zero delay.
    fn zero_delay_cycles(&self, projs: &[ProjSpec], info: &[ProjInfo]) {
        let zero: Vec<usize> = (0..projs.len()).filter(|&k| (info[k].min_delay_ms / self.dt).round() == 0.0).collect();
        let n = self.pops.len();
        // Iterative DFS colouring over populations, following zero-delay projections.
        let mut colour = vec![0u8; n];
        let mut parent_edge = vec![usize::MAX; n];
        for start in 0..n {
            if colour[start] != 0 {
                continue;
            }
            let mut stack = vec![(start, 0usize)];
            colour[start] = 1;
            while let Some(&mut (u, ref mut next)) = stack.last_mut() {
                let out: Vec<usize> = zero.iter().copied().filter(|&k| projs[k].pre == u).collect();
                if *next < out.len() {
                    let k = out[*next];
                    *next += 1;
                    let w = projs[k].post;
                    if colour[w] == 0 {
                        colour[w] = 1;
                        parent_edge[w] = k;
                        stack.push((w, 0));
                    } else if colour[w] == 1 {
                        // Found a cycle: walk back from u to w.
                        let mut cyc = vec![k];
                        let mut x = u;
                        while x != w {
                            let e = parent_edge[x];
                            cyc.push(e);
                            x = projs[e].pre;
                        }
                        cyc.reverse();
                        let path: Vec<String> = cyc.iter().map(|&e| format!("`{}`", projs[e].name)).collect();
                        let first = cyc[0];
                        let mut d = self
                            .error(
                                info[first].delay_span.clone(),
                                format!("zero-delay projections form a cycle: {}", path.join(" → ")),
                            )
                            .with_label("this delay can round to 0 steps");
                        d = d.with_help(format!(
                            "a spike cannot arrive in the step it was sent around a loop; give one of them a delay of at least dt ({} ms) (projection on line {})",
                            self.dt,
                            self.line(&info[first].head)
                        ));
                        self.emit(d);
                        return;
                    }
                } else {
                    colour[u] = 2;
                    stack.pop();
                }
            }
        }
    }
}

/// Flattens nested arrays of numbers (row-major).
fn flatten(v: Value<'_, '_>, out: &mut Vec<f64>) -> Option<()> {
    if v.is_array() {
        for it in v.array()? {
            flatten(it, out)?;
        }
        Some(())
    } else {
        out.push(v.get::<f64>()?);
        Some(())
    }
}
