//! Chip model files (`hw-models/*.toml`): reading, validating, resolving.
//!
//! Every figure is written `{ value = …, KIND = "…" }` with exactly one KIND of
//! [`Certainty`]: `source` (published for this device: paper, table, datasheet, the
//! vendor's code), `derived` (computed from sources; the formula written down),
//! `borrowed` (another chip or technology node; the scaling applied written down) or
//! `assumption` (not published; the reason written down). A bare number is an error,
//! so no model can hold a figure nobody can trace.

use std::path::Path;

use neuromap_diag::toml::{Document, Span, Table, closest};
use neuromap_diag::{Diagnostics, SourceFile};
use serde::Serialize;

use crate::family::{self, FAMILIES, Kind, ParamDef};
use crate::topology::{Machine, Topology, board48_contains, triad_torus};

/// Where a figure comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// A citation of this device (paper, table, datasheet, code constant).
    Source(String),
    /// Computed from cited figures; the text gives the formula.
    Derived(String),
    /// Taken from another chip or technology node; the text gives the scaling.
    Borrowed(String),
    /// Not published: an assumption, with the reason.
    Assumption(String),
    /// Left out of the file: the family's default, with the default's citation.
    Default(String),
}

/// How sure a figure is, from most to least certain: the four kinds a model file
/// writes. Reports give the share of energy resting on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    Source,
    Derived,
    Borrowed,
    Assumption,
}

impl Certainty {
    pub const ALL: [Certainty; 4] = [Certainty::Source, Certainty::Derived, Certainty::Borrowed, Certainty::Assumption];
    /// The key a model file writes.
    pub fn key(self) -> &'static str {
        match self {
            Certainty::Source => "source",
            Certainty::Derived => "derived",
            Certainty::Borrowed => "borrowed",
            Certainty::Assumption => "assumption",
        }
    }
}

impl Provenance {
    /// How sure the figure is. A family default carries a citation in code, so it
    /// counts as a source.
    pub fn certainty(&self) -> Certainty {
        match self {
            Provenance::Source(_) | Provenance::Default(_) => Certainty::Source,
            Provenance::Derived(_) => Certainty::Derived,
            Provenance::Borrowed(_) => Certainty::Borrowed,
            Provenance::Assumption(_) => Certainty::Assumption,
        }
    }

    /// The citation, derivation, scaling or reason.
    pub fn text(&self) -> &str {
        match self {
            Provenance::Source(s)
            | Provenance::Derived(s)
            | Provenance::Borrowed(s)
            | Provenance::Assumption(s)
            | Provenance::Default(s) => s,
        }
    }

    /// `kind: text`, as `hw show` prints it.
    pub fn label(&self) -> String {
        match self {
            Provenance::Default(s) => format!("default: {s}"),
            p => format!("{}: {}", p.certainty().key(), p.text()),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    pub section: &'static str,
    pub key: &'static str,
    pub unit: &'static str,
    pub value: f64,
    pub provenance: Provenance,
    /// `(n, value)` in rising `n`: the figure from a count of `n` upward (see
    /// [`crate::family::ParamDef::by`]); empty for a single value.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<(u32, f64)>,
}

impl Figure {
    /// The value at a count of `n`: the last step at or below `n`, else `value`.
    pub fn at(&self, n: u32) -> f64 {
        self.steps.iter().rev().find(|s| s.0 <= n).map_or(self.value, |s| s.1)
    }
}

/// A validated chip model.
#[derive(Clone, Debug, Serialize)]
pub struct HwModel {
    pub name: String,
    pub family: &'static str,
    pub description: String,
    pub machine: Machine,
    /// Every parameter of the family that has a value, in the family's order.
    pub figures: Vec<Figure>,
    /// A hybrid chip's other parts: tiles of other families on the same chips and the
    /// same network-on-chip (`[[part]]`); empty for a chip of one family.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Part>,
}

/// Tiles of another family on every chip of a hybrid model: each tile is one more
/// endpoint of the chip's router, numbered after the chip's own cores, and reached by
/// the same packets and routing tables.
#[derive(Clone, Debug, Serialize)]
pub struct Part {
    /// The tile's own model (its family's figures; its machine is not used).
    pub model: HwModel,
    /// Tiles of this part on each chip.
    pub per_chip: Figure,
}

const PART_PER_CHIP: ParamDef = ParamDef {
    section: "part",
    key: "per_chip",
    unit: "tiles",
    kind: Kind::Count,
    doc: "tiles of this part beside each chip's cores",
    default: None,
    optional: false,
    by: None,
};

/// Parts nest no deeper than one level: a part is a plain model.
const MAX_PARTS: usize = 8;

impl HwModel {
    /// The value of `section.key`, if the model has one.
    pub fn get(&self, section: &str, key: &str) -> Option<f64> {
        self.figure(section, key).map(|f| f.value)
    }

    /// The figure `section.key` at a count of `n` (see [`Figure::at`]).
    pub fn get_at(&self, section: &str, key: &str, n: u32) -> Option<f64> {
        self.figure(section, key).map(|f| f.at(n))
    }

    /// The area of one unit of the part this model's family powers (a core, a chip, a
    /// tile, an array) and its least certain figure; `None` when the model gives none.
    /// The family's one area figure, but for a crossbar tile whose ADCs are a figure of
    /// their own ([`crate::crossbar::Crossbar::tile_area`]).
    pub fn unit_area(&self) -> Option<(f64, Certainty)> {
        if let Some(x) = crate::crossbar::Crossbar::from_model(self) {
            return x.tile_area;
        }
        let f = self.figures.iter().find(|f| f.section == "area")?;
        Some((f.value, f.provenance.certainty()))
    }

    /// The figure `section.key`, if the model has one.
    pub fn figure(&self, section: &str, key: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.section == section && f.key == key)
    }

    /// The name a choice figure (e.g. `arith.rounding`) holds; `None` for a number.
    pub fn choice_name(&self, f: &Figure) -> Option<&'static str> {
        let def = family::family(self.family)?.iter().find(|d| d.section == f.section && d.key == f.key)?;
        match def.kind {
            Kind::Choice(names) => names.get(f.value as usize).copied(),
            _ => None,
        }
    }

    /// A required parameter (the loader guarantees it exists).
    pub fn require(&self, section: &str, key: &str) -> f64 {
        self.get(section, key).unwrap_or(f64::NAN)
    }
}

impl HwModel {
    /// Sets the choice figure `section.key` (e.g. `arith.rounding`) to the name
    /// `value`, with `why` as its provenance (an assumption: the user's, not a
    /// citation). The message names the choices when `value` is not one.
    pub fn set_choice(&mut self, section: &str, key: &str, value: &str, why: &str) -> Result<(), String> {
        let def = family::family(self.family)
            .unwrap_or(&[])
            .iter()
            .find(|d| d.section == section && d.key == key)
            .ok_or_else(|| format!("`{}` (family {}) has no figure `{section}.{key}`", self.name, self.family))?;
        let Kind::Choice(names) = def.kind else {
            return Err(format!("`{section}.{key}` is a number, not a choice"));
        };
        let i = names
            .iter()
            .position(|n| *n == value)
            .ok_or_else(|| format!("`{section}.{key}` is one of {}; `{value}` is not", names.join(", ")))?;
        let figure = Figure {
            section: def.section,
            key: def.key,
            unit: def.unit,
            value: i as f64,
            provenance: Provenance::Assumption(why.to_string()),
            steps: Vec::new(),
        };
        match self.figures.iter_mut().find(|f| f.section == section && f.key == key) {
            Some(f) => *f = figure,
            None => self.figures.push(figure),
        }
        Ok(())
    }

    /// A copy with the figure `key` (`section.key`, e.g. `core.clock_hz`, or
    /// `PART/section.key` for a hybrid chip's part, e.g. `crossbar/adc.bits`) set to `value`
    /// (a number, or a choice's name), with `why` as its provenance (an assumption: the
    /// user's, not a citation). Any of the family's figures may be set, given in the file
    /// or not; a figure that stepped with a count (`from`) becomes one value. The message
    /// names the figures when `key` is not one, and says what a value must be.
    pub fn with_figure(&self, key: &str, value: &str, why: &str) -> Result<HwModel, String> {
        // `PART/section.key`: a figure of a hybrid chip's part (its model's name or
        // family).
        if let Some((part, rest)) = key.split_once('/') {
            let mut m = self.clone();
            let names: Vec<String> = self.parts.iter().map(|p| p.model.name.clone()).collect();
            let Some(p) = m.parts.iter_mut().find(|p| p.model.name == part || p.model.family == part) else {
                return Err(if names.is_empty() {
                    format!("`{key}`: `{}` has no parts; a figure of the chip itself is `section.key`", self.name)
                } else {
                    format!("`{key}`: `{}` has no part `{part}`; its parts are {}", self.name, names.join(", "))
                });
            };
            p.model = p.model.with_figure(rest, value, why)?;
            return Ok(m);
        }
        let defs = family::family(self.family).unwrap_or(&[]);
        let Some((section, k)) = key.split_once('.') else {
            return Err(format!(
                "`{key}`: a figure is named `section.key`, e.g. `{}`",
                defs.first().map_or_else(String::new, |d| d.path())
            ));
        };
        let Some(def) = defs.iter().find(|d| d.section == section && d.key == k) else {
            let names: Vec<String> = defs.iter().map(|d| d.path()).collect();
            let mut msg = format!("`{}` (family {}) has no figure `{key}`", self.name, self.family);
            let same_key = defs.iter().find(|d| d.key == k).map(|d| d.path());
            if let Some(c) =
                same_key.as_deref().or_else(|| closest(key, &names.iter().map(String::as_str).collect::<Vec<_>>()))
            {
                msg.push_str(&format!("; did you mean `{c}`?"));
            }
            return Err(msg);
        };
        let mut m = self.clone();
        if let Kind::Choice(_) = def.kind {
            m.set_choice(section, k, value.trim(), why)?;
            return Ok(m);
        }
        let v: f64 =
            value.trim().parse().map_err(|_| format!("`{key}` is a number ({}); `{value}` is not", def.unit))?;
        if !v.is_finite() || v < 0.0 {
            return Err(format!("`{key}` cannot be {v}: figures are finite and not negative"));
        }
        if def.kind == Kind::Count && v.fract() != 0.0 {
            return Err(format!("`{key}` counts {}; {v} is not a whole number", def.unit));
        }
        let figure = Figure {
            section: def.section,
            key: def.key,
            unit: def.unit,
            value: v,
            provenance: Provenance::Assumption(why.to_string()),
            steps: Vec::new(),
        };
        match m.figures.iter_mut().find(|f| f.section == section && f.key == k) {
            Some(f) => *f = figure,
            None => m.figures.push(figure),
        }
        Ok(m)
    }

    /// A copy with the figure `key` (as [`HwModel::with_figure`] names it) multiplied
    /// by `factor`, its steps too (a count stays whole and at least 1), with `why` as
    /// its provenance. The message says when the model gives no such figure.
    pub fn with_figure_scaled(&self, key: &str, factor: f64, why: &str) -> Result<HwModel, String> {
        if let Some((part, rest)) = key.split_once('/') {
            let mut m = self.clone();
            if let Some(p) = m.parts.iter_mut().find(|p| p.model.name == part || p.model.family == part) {
                p.model = p.model.with_figure_scaled(rest, factor, why)?;
                return Ok(m);
            }
            return self.with_figure(key, "0", why); // names the parts there are
        }
        let Some(f) = key.split_once('.').and_then(|(s, k)| self.figure(s, k)).cloned() else {
            return self.with_figure(key, "0", why).and(Err(format!("`{}` gives no `{key}` to scale", self.name)));
        };
        let count = family::family(self.family)
            .unwrap_or(&[])
            .iter()
            .any(|d| d.section == f.section && d.key == f.key && d.kind == Kind::Count);
        let s = |v: f64| if count { (v * factor).round().max(1.0) } else { v * factor };
        let mut m = self.with_figure(key, &format!("{:e}", s(f.value)), why)?;
        if let Some(g) = m.figures.iter_mut().find(|g| g.section == f.section && g.key == f.key) {
            g.steps = f.steps.iter().map(|&(n, v)| (n, s(v))).collect();
        }
        Ok(m)
    }

    /// Resizes a board-built machine (`shape = "spinn5"`) to `boards` boards. Faults
    /// declared in the file do not carry over; give them again with the command line.
    pub fn set_boards(&mut self, boards: u32) -> Result<(), String> {
        let m = &self.machine;
        if m.boards.is_none() {
            return Err(format!(
                "`{}` is not built of boards (shape \"spinn5\"), so --boards does not apply",
                self.name
            ));
        }
        if !(1..=20_000).contains(&boards) {
            return Err("--boards must be between 1 and 20,000".into());
        }
        self.machine = if boards == 1 {
            Machine::new(m.topology, 8, 8, false, Some(1), board48_contains)
        } else {
            let (w, h) = triad_torus(boards);
            Machine::new(m.topology, w, h, true, Some(w * h / 48), |_, _| true)
        };
        Ok(())
    }
}

/// Faults given outside the model file (e.g. on the command line): dead chips
/// `(x, y)`, cores `(x, y, core)` and links `(x, y, direction)`.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    pub chips: Vec<(u32, u32)>,
    pub cores: Vec<(u32, u32, u32)>,
    pub links: Vec<(u32, u32, String)>,
}

impl HwModel {
    /// Applies faults; the message names the first that does not exist.
    pub fn apply_faults(&mut self, f: &Faults) -> Result<(), String> {
        let cores = self.get("chip", "cores").unwrap_or(0.0) as u32;
        let m = &mut self.machine;
        for &(x, y) in &f.chips {
            let id = m.at(x, y).ok_or_else(|| format!("dead chip ({x}, {y}) is not in the machine"))?;
            m.kill_chip(id);
        }
        for &(x, y, c) in &f.cores {
            let id = m
                .at(x, y)
                .ok_or_else(|| format!("dead core ({x}, {y}, {c}): chip ({x}, {y}) is not in the machine"))?;
            if c >= cores {
                return Err(format!("dead core ({x}, {y}, {c}): chips have cores 0..{cores}"));
            }
            m.kill_core(id, c);
        }
        for (x, y, dir) in &f.links {
            let (id, d) = m.link_at(*x, *y, dir).map_err(|e| format!("dead link {e}"))?;
            m.kill_link(id, d);
        }
        Ok(())
    }
}

/// Bases may chain (a board model on a chip model), but not endlessly.
const MAX_BASE_DEPTH: usize = 4;

pub fn load_path(path: &Path) -> Result<HwModel, Diagnostics> {
    load_path_depth(path, 0)
}

fn load_path_depth(path: &Path, depth: usize) -> Result<HwModel, Diagnostics> {
    let name = path.display().to_string();
    match neuromap_diag::read_input_text(path) {
        Ok(text) => load(&name, &text, path.parent(), depth),
        Err(e) => Err(Diagnostics::unreadable(name, "the chip model", &e)),
    }
}

/// Loads a model from text; a `base` is looked up relative to the current folder.
pub fn load_str(name: &str, text: &str) -> Result<HwModel, Diagnostics> {
    load(name, text, None, 0)
}

fn load(name: &str, text: &str, dir: Option<&Path>, depth: usize) -> Result<HwModel, Diagnostics> {
    let file = SourceFile::new(name, text);
    let doc = Document::parse(&file);
    if doc.has_errors() {
        return Err(doc.into_diagnostics());
    }
    // A base model lends the figures this file leaves out.
    let mut base = None;
    if let Some(b) = doc.root().get("model").and_then(|v| v.table("[model]")).and_then(|t| t.opt::<String>("base")) {
        if depth >= MAX_BASE_DEPTH {
            let d = doc.error(b.span, format!("`base` models nest deeper than {MAX_BASE_DEPTH} (a cycle?)"));
            return Err(Diagnostics(vec![d.with_label("this base")]));
        }
        let path = dir.unwrap_or(Path::new(".")).join(&b.value);
        if !path.is_file() {
            let d = doc.error(b.span, format!("the base model `{}` does not exist", b.value));
            return Err(Diagnostics(vec![d.with_label(format!("looked for {}", path.display()))]));
        }
        match load_path_depth(&path, depth + 1) {
            Ok(m) => base = Some(m),
            Err(mut inner) => {
                inner.push(
                    doc.error(b.span, format!("the base model `{}` has errors", b.value))
                        .with_label("loaded from here"),
                );
                return Err(inner);
            }
        }
    }
    let model = read(&doc, base.as_ref(), dir, depth);
    let diags = doc.into_diagnostics().sorted();
    match model {
        Some(m) if !diags.has_errors() => Ok(m),
        _ => Err(diags),
    }
}

const SCHEMA: u64 = 1;

fn read(doc: &Document<'_>, base: Option<&HwModel>, dir: Option<&Path>, depth: usize) -> Option<HwModel> {
    let root = doc.root();
    let head = root.get("model").and_then(|v| v.table("[model]"));
    if head.is_none() && !root.contains("model") {
        root.missing("model", "a table with `name`, `schema` and `family`");
    }
    let (mut name, mut fam, mut description) = (None, None, String::new());
    if let Some(t) = &head {
        name = t.req::<String>("name").map(|s| s.value);
        let _ = t.get("base"); // read by `load`
        if let Some(s) = t.req::<u64>("schema")
            && s.value != SCHEMA
        {
            doc.emit(
                doc.error(s.span, format!("schema {} is not supported; this neuromap reads schema {SCHEMA}", s.value)),
            );
        }
        let family_value = match base {
            Some(b) => t
                .opt::<String>("family")
                .or_else(|| Some(neuromap_diag::toml::Spanned::new(b.family.to_string(), t.head_span()))),
            None => t.req::<String>("family"),
        };
        if let Some(f) = family_value {
            match family::family(&f.value) {
                Some(_) => fam = FAMILIES.iter().find(|x| x.0 == f.value).map(|x| x.0),
                None => {
                    let names: Vec<&str> = FAMILIES.iter().map(|x| x.0).collect();
                    let mut d =
                        doc.error(f.span, format!("unknown hardware family `{}`", f.value)).with_label("not a family");
                    d = match closest(&f.value, &names) {
                        Some(c) => d.with_help(format!("did you mean `{c}`?")),
                        None => d.with_help(format!("the families are: {}", names.join(", "))),
                    };
                    doc.emit(d);
                }
            }
        }
        description = t.opt::<String>("description").map(|s| s.value).unwrap_or_default();
    }
    if let Some(t) = head {
        t.finish();
    }
    let machine = root.get("machine").and_then(|v| v.table("[machine]")).and_then(|t| read_machine(doc, t));
    if !root.contains("machine") {
        root.missing("machine", "a table describing the chips and their links");
    }
    if let (Some(b), Some(f)) = (base, fam)
        && b.family != f
    {
        doc.emit(doc.error(root.head_span(), format!("the base model is of family `{}`, this one of `{f}`", b.family)));
    }
    let figures = fam.and_then(|f| read_figures(doc, &root, family::family(f).unwrap_or(&[]), base));
    let faults = match root.get("faults") {
        None => Some(None),
        Some(v) => v.table("[faults]").and_then(|t| read_faults(doc, t)).map(Some),
    };
    let parts = match root.get("part") {
        None => Some(base.map(|b| b.parts.clone()).unwrap_or_default()),
        Some(v) => read_parts(doc, v, dir, depth),
    };
    // Sections a family does not use are reported by `read_figures`; `faults` above.
    root.finish();
    let mut model =
        HwModel { name: name?, family: fam?, description, machine: machine?, figures: figures?, parts: parts? };
    if let Some((f, span)) = faults?
        && let Err(msg) = model.apply_faults(&f)
    {
        doc.emit(doc.error(span, msg).with_label("this fault"));
    }
    Some(model)
}

/// `[[part]]`: each a `model` file (relative to this one) and its tiles `per_chip`.
fn read_parts(
    doc: &Document<'_>,
    v: neuromap_diag::toml::Value<'_, '_>,
    dir: Option<&Path>,
    depth: usize,
) -> Option<Vec<Part>> {
    let Some(items) = v.array() else {
        v.expected("an array of tables `[[part]]`, each with `model` and `per_chip`");
        return None;
    };
    if items.len() > MAX_PARTS {
        doc.emit(doc.error(v.span(), format!("{} parts; a model holds at most {MAX_PARTS}", items.len())));
        return None;
    }
    let mut parts = Vec::new();
    let mut ok = true;
    for item in items {
        let Some(t) = item.table("[[part]]") else {
            ok = false;
            continue;
        };
        let file = t.req::<String>("model");
        let per_chip =
            t.req_value("per_chip", "a figure with its provenance").and_then(|v| read_figure(doc, v, &PART_PER_CHIP));
        t.finish();
        let (Some(file), Some(per_chip)) = (file, per_chip) else {
            ok = false;
            continue;
        };
        if depth >= MAX_BASE_DEPTH {
            doc.emit(doc.error(file.span, format!("models nest deeper than {MAX_BASE_DEPTH} (a cycle?)")));
            ok = false;
            continue;
        }
        let path = dir.unwrap_or(Path::new(".")).join(&file.value);
        if !path.is_file() {
            let d = doc.error(file.span, format!("the part model `{}` does not exist", file.value));
            doc.emit(d.with_label(format!("looked for {}", path.display())));
            ok = false;
            continue;
        }
        match load_path_depth(&path, depth + 1) {
            Ok(m) if !m.parts.is_empty() => {
                let d = doc.error(file.span, format!("the part model `{}` is itself a hybrid", file.value));
                doc.emit(d.with_label("a part must be a model of one family"));
                ok = false;
            }
            Ok(m) => parts.push(Part { model: m, per_chip }),
            Err(inner) => {
                let first = inner.0.first().map(|d| d.message.clone()).unwrap_or_default();
                let d = doc.error(file.span, format!("the part model `{}` has errors: {first}", file.value));
                doc.emit(d.with_label("loaded from here"));
                ok = false;
            }
        }
    }
    ok.then_some(parts)
}

fn read_machine(doc: &Document<'_>, t: Table<'_, '_>) -> Option<Machine> {
    let topology = match t.req::<String>("topology") {
        Some(s) => match s.value.as_str() {
            "hex" => Some(Topology::Hex),
            "mesh" => Some(Topology::Mesh),
            other => {
                doc.emit(
                    doc.error(s.span, format!("unknown topology `{other}`")).with_label("expected \"hex\" or \"mesh\""),
                );
                None
            }
        },
        None => None,
    };
    let shape = t.opt::<String>("shape");
    let width = t.opt::<u64>("width");
    let height = t.opt::<u64>("height");
    let wrap = t.opt::<bool>("wrap").is_some_and(|w| w.value);
    let boards = t.opt::<u64>("boards");
    let head = t.head_span();
    t.finish();
    let topology = topology?;
    let limit = 4096u64;
    let dim = |v: Option<neuromap_diag::toml::Spanned<u64>>, key: &str| -> Option<u32> {
        match v {
            Some(v) if (1..=limit).contains(&v.value) => Some(v.value as u32),
            Some(v) => {
                doc.emit(
                    doc.error(v.span, format!("`{key}` must be between 1 and {limit} chips"))
                        .with_label("out of range"),
                );
                None
            }
            None => {
                doc.emit(
                    doc.error(head.clone(), format!("missing key `{key}` in [machine]"))
                        .with_label(format!("needs `{key}` (chips)")),
                );
                None
            }
        }
    };
    let shape_span = shape.as_ref().map_or(head.clone(), |s| s.span.clone());
    match shape.as_ref().map(|s| s.value.as_str()) {
        None | Some("rectangle") => {
            if let Some(b) = boards {
                doc.emit(doc.error(b.span, "`boards` needs shape = \"spinn5\"").with_label("boards of what shape?"));
                return None;
            }
            let (w, h) = (dim(width, "width")?, dim(height, "height")?);
            Some(Machine::new(topology, w, h, wrap, None, |_, _| true))
        }
        Some("spinn5") => {
            match (boards, width, height) {
                (Some(b), None, None) => {
                    if !(1..=20_000).contains(&b.value) {
                        doc.emit(doc.error(b.span, "`boards` must be between 1 and 20,000").with_label("out of range"));
                        return None;
                    }
                    if b.value == 1 {
                        return Some(Machine::new(topology, 8, 8, false, Some(1), board48_contains));
                    }
                    let (w, h) = triad_torus(b.value as u32);
                    Some(Machine::new(topology, w, h, true, Some(w * h / 48), |_, _| true))
                }
                _ => {
                    doc.emit(
                    doc.error(shape_span, "shape \"spinn5\" is sized by `boards` alone")
                        .with_label("give `boards = N` and no width or height")
                        .with_help("one board is 48 chips; more boards form a torus of 3-board triads (12 × 12 chips each)"),
                );
                    None
                }
            }
        }
        Some(other) => {
            doc.emit(
                doc.error(shape_span.clone(), format!("unknown shape `{other}`"))
                    .with_label("expected \"rectangle\" or \"spinn5\""),
            );
            None
        }
    }
}

fn read_figures(
    doc: &Document<'_>,
    root: &Table<'_, '_>,
    defs: &'static [ParamDef],
    base: Option<&HwModel>,
) -> Option<Vec<Figure>> {
    let mut sections: Vec<&'static str> = defs.iter().map(|d| d.section).collect();
    sections.dedup();
    let tables: Vec<(&'static str, Option<Table<'_, '_>>)> =
        sections.iter().map(|&s| (s, root.get(s).and_then(|v| v.table(format!("[{s}]"))))).collect();
    let mut out = Vec::new();
    let mut ok = true;
    let mut missing_sections: Vec<&'static str> = Vec::new();
    for def in defs {
        let t = tables.iter().find(|(s, _)| *s == def.section).and_then(|(_, t)| t.as_ref());
        let v = t.and_then(|t| t.get(def.key));
        let inherited = base.and_then(|b| b.figures.iter().find(|f| f.section == def.section && f.key == def.key));
        match (v, t) {
            (Some(v), _) => match read_figure(doc, v, def) {
                Some(f) => out.push(f),
                None => ok = false,
            },
            (None, _) if inherited.is_some() => out.extend(inherited.cloned()),
            (None, _) if def.default.is_some() => {
                let (value, src) = def.default.unwrap_or((0.0, ""));
                out.push(Figure {
                    section: def.section,
                    key: def.key,
                    unit: def.unit,
                    value,
                    provenance: Provenance::Default(src.to_string()),
                    steps: Vec::new(),
                });
            }
            (None, _) if def.optional => {}
            (None, Some(t)) => {
                t.missing(def.key, &format!("{}, in {}", def.doc, def.unit));
                ok = false;
            }
            (None, None) => {
                if !missing_sections.contains(&def.section) {
                    missing_sections.push(def.section);
                    let keys: Vec<&str> = defs
                        .iter()
                        .filter(|d| d.section == def.section && d.default.is_none() && !d.optional)
                        .map(|d| d.key)
                        .collect();
                    root.missing(def.section, &format!("a table with {}", keys.join(", ")));
                }
                ok = false;
            }
        }
    }
    for (_, t) in tables.into_iter() {
        if let Some(t) = t {
            t.finish();
        }
    }
    ok.then_some(out)
}

fn read_figure(doc: &Document<'_>, v: neuromap_diag::toml::Value<'_, '_>, def: &ParamDef) -> Option<Figure> {
    let what = def.path();
    if !v.is_table() {
        doc.emit(
            doc.error(v.span(), format!("`{what}` has no provenance"))
                .with_label("a bare number")
                .with_help(format!(
                    "write {{ value = …, source = \"paper, table or datasheet\" }} (or `derived`, `borrowed`, `assumption` with the formula, scaling or reason) ({})",
                    def.unit
                )),
        );
        return None;
    }
    let t = v.table(format!("`{what}`"))?;
    let value = match def.kind {
        // A name, held as its index.
        Kind::Choice(names) => {
            t.req::<String>("value").and_then(|n| match names.iter().position(|x| *x == n.value.trim()) {
                Some(i) => Some(neuromap_diag::toml::Spanned { value: i as f64, span: n.span }),
                None => {
                    doc.emit(
                        doc.error(n.span, format!("`{what}` is one of {}; `{}` is not", names.join(", "), n.value))
                            .with_label("not a mode"),
                    );
                    None
                }
            })
        }
        _ => t.req::<f64>("value"),
    };
    let steps = match (t.get("from"), def.by) {
        (None, _) => Vec::new(),
        (Some(v), None) => {
            doc.emit(
                doc.error(v.span(), format!("`{what}` is one value; it cannot step with a count"))
                    .with_label("remove `from`"),
            );
            return None;
        }
        (Some(v), Some(by)) => read_steps(doc, v, &what, by)?,
    };
    let given: Vec<(Certainty, neuromap_diag::toml::Spanned<String>)> =
        Certainty::ALL.iter().filter_map(|&c| t.opt::<String>(c.key()).map(|v| (c, v))).collect();
    let span = t.span();
    t.finish();
    let value = value?;
    let provenance = match given.as_slice() {
        [(c, v)] if !v.value.trim().is_empty() => {
            let text = v.value.clone();
            match c {
                Certainty::Source => Provenance::Source(text),
                Certainty::Derived => Provenance::Derived(text),
                Certainty::Borrowed => Provenance::Borrowed(text),
                Certainty::Assumption => Provenance::Assumption(text),
            }
        }
        [_, _, ..] => {
            let keys: Vec<&str> = given.iter().map(|(c, _)| c.key()).collect();
            doc.emit(
                doc.error(span, format!("`{what}` gives more than one provenance ({})", keys.join(", ")))
                    .with_label("keep one"),
            );
            return None;
        }
        _ => {
            doc.emit(
                doc.error(span, format!("`{what}` has no provenance"))
                    .with_label("needs `source`, `derived`, `borrowed` or `assumption`")
                    .with_help(
                        "cite where the figure comes from (`source`), the formula from cited figures (`derived`), the chip or node it comes from and the scaling (`borrowed`), or say `assumption = \"…\"` and why",
                    ),
            );
            return None;
        }
    };
    if def.kind == Kind::Count && (value.value < 0.0 || value.value.fract() != 0.0) {
        doc.emit(
            doc.error(value.span, format!("`{what}` counts {}; {} is not a whole number ≥ 0", def.unit, value.value))
                .with_label("expected a count"),
        );
        return None;
    }
    if value.value < 0.0 {
        doc.emit(doc.error(value.span, format!("`{what}` cannot be negative")).with_label("negative"));
        return None;
    }
    Some(Figure { section: def.section, key: def.key, unit: def.unit, value: value.value, provenance, steps })
}

/// `from = { N = value, … }`: whole `N` ≥ 1, returned in rising order.
fn read_steps(
    doc: &Document<'_>,
    v: neuromap_diag::toml::Value<'_, '_>,
    what: &str,
    by: &str,
) -> Option<Vec<(u32, f64)>> {
    let t = v.table(format!("`{what}.from`"))?;
    let mut steps = Vec::new();
    for (k, x) in t.entries() {
        let Ok(n) = k.value.parse::<u32>() else {
            doc.emit(
                doc.error(k.span, format!("`{what}.from`: `{}` is not a count of {by}", k.value))
                    .with_label("expected a whole number ≥ 1"),
            );
            return None;
        };
        let (span, x) = (x.span(), x.get::<f64>()?);
        if !(x >= 0.0 && x.is_finite()) {
            doc.emit(doc.error(span, format!("`{what}.from`: {x} is not a number ≥ 0")).with_label("here"));
            return None;
        }
        if n == 0 {
            doc.emit(doc.error(k.span, format!("`{what}.from`: counts of {by} start at 1")).with_label("here"));
            return None;
        }
        steps.push((n, x));
    }
    steps.sort_by_key(|s| s.0);
    Some(steps)
}

fn read_faults(doc: &Document<'_>, t: Table<'_, '_>) -> Option<(Faults, Span)> {
    let span = t.span();
    let mut f = Faults::default();
    let mut ok = true;
    if let Some(v) = t.get("dead_chips") {
        for e in v.array().unwrap_or_default() {
            match e.array_of::<u64>().as_deref() {
                Some(&[x, y]) => f.chips.push((x as u32, y as u32)),
                _ => {
                    doc.emit(doc.error(e.span(), "a dead chip is [x, y]").with_label("expected two integers"));
                    ok = false;
                }
            }
        }
    }
    if let Some(v) = t.get("dead_cores") {
        for e in v.array().unwrap_or_default() {
            match e.array_of::<u64>().as_deref() {
                Some(&[x, y, c]) => f.cores.push((x as u32, y as u32, c as u32)),
                _ => {
                    doc.emit(doc.error(e.span(), "a dead core is [x, y, core]").with_label("expected three integers"));
                    ok = false;
                }
            }
        }
    }
    if let Some(v) = t.get("dead_links") {
        for e in v.array().unwrap_or_default() {
            let parts = e.array();
            let parsed = parts.as_deref().and_then(|p| match p {
                [x, y, d] => Some((x.try_get::<u64>()? as u32, y.try_get::<u64>()? as u32, d.try_get::<String>()?)),
                _ => None,
            });
            match parsed {
                Some(l) => f.links.push(l),
                None => {
                    doc.emit(
                        doc.error(e.span(), "a dead link is [x, y, \"direction\"]").with_label("e.g. [0, 0, \"east\"]"),
                    );
                    ok = false;
                }
            }
        }
    }
    t.finish();
    ok.then_some((f, span))
}
