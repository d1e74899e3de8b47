//! A walker over a spanned TOML document that records every problem it meets.
//!
//! Readers of a file format ask a [`Table`] for the keys they know (`req`, `opt`); a
//! wrong type or a missing key becomes a diagnostic and the walk goes on, so one pass
//! reports all problems. [`Table::finish`] reports the keys nobody asked for.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};

use crate::{Diagnostic, Diagnostics, SourceFile};

pub type Span = Range<usize>;

/// A value together with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned { value: f(self.value), span: self.span }
    }
}

/// A parsed document and the diagnostics collected while reading it.
#[derive(Debug)]
pub struct Document<'a> {
    file: Arc<SourceFile>,
    root: toml::Spanned<DeTable<'a>>,
    diags: RefCell<Diagnostics>,
}

impl<'a> Document<'a> {
    /// Parses `file`; syntax errors are recorded and parsing recovers where it can.
    pub fn parse(file: &'a Arc<SourceFile>) -> Self {
        let (root, errors) = DeTable::parse_recoverable(&file.text);
        let mut diags = Diagnostics::default();
        for e in errors {
            let msg = e.message().trim().trim_end_matches('.').to_string();
            diags.push(Diagnostic::error(file, e.span(), format!("TOML syntax error: {msg}")).with_label("here"));
        }
        Self { file: file.clone(), root, diags: RefCell::new(diags) }
    }

    pub fn file(&self) -> &Arc<SourceFile> {
        &self.file
    }

    /// True when the document could not be parsed; a reader should stop after
    /// reporting, since the tree may be incomplete.
    pub fn has_errors(&self) -> bool {
        self.diags.borrow().has_errors()
    }

    pub fn root(&self) -> Table<'_, 'a> {
        Table::new(self, self.root.get_ref(), self.root.span(), "the top level".to_string())
    }

    /// A new error diagnostic on this file (not yet recorded; see [`Document::emit`]).
    pub fn error(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::error(&self.file, Some(span), message)
    }

    pub fn warning(&self, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic::warning(&self.file, Some(span), message)
    }

    pub fn emit(&self, d: Diagnostic) {
        self.diags.borrow_mut().push(d);
    }

    pub fn into_diagnostics(self) -> Diagnostics {
        self.diags.into_inner()
    }
}

/// A TOML value with its span.
#[derive(Clone, Copy, Debug)]
pub struct Value<'d, 'a> {
    doc: &'d Document<'a>,
    v: &'d DeValue<'a>,
    span: Span2,
}

/// `Range` is not `Copy`; keep the two ends.
#[derive(Clone, Copy, Debug)]
struct Span2(usize, usize);

impl From<Span> for Span2 {
    fn from(s: Span) -> Self {
        Span2(s.start, s.end)
    }
}

impl<'d, 'a> Value<'d, 'a> {
    pub fn span(&self) -> Span {
        self.span.0..self.span.1
    }

    pub fn doc(&self) -> &'d Document<'a> {
        self.doc
    }

    /// "a string", "an integer", ...: for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self.v {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a float",
            DeValue::Boolean(_) => "a boolean",
            DeValue::Datetime(_) => "a date-time",
            DeValue::Array(_) => "an array",
            DeValue::Table(_) => "a table",
        }
    }

    /// Records "expected X, found Y" at this value. A number is named by its text
    /// ("found -4"): its kind alone can be the kind expected ("expected a
    /// non-negative integer, found an integer").
    pub fn expected(&self, what: &str) {
        let found = match self.v {
            DeValue::Integer(_) | DeValue::Float(_) => self.doc.file.text[self.span()].to_string(),
            _ => self.kind().to_string(),
        };
        self.doc.emit(
            self.doc
                .error(self.span(), format!("expected {what}, found {found}"))
                .with_label(format!("expected {what}")),
        );
    }

    /// Converts to `T`, recording a diagnostic when the type is wrong.
    pub fn get<T: FromValue>(&self) -> Option<T> {
        let r = T::from_value(self);
        if r.is_none() {
            self.expected(T::EXPECTED);
        }
        r
    }

    /// Like [`Value::get`], but records nothing on failure.
    pub fn try_get<T: FromValue>(&self) -> Option<T> {
        T::from_value(self)
    }

    pub fn is_table(&self) -> bool {
        matches!(self.v, DeValue::Table(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self.v, DeValue::Array(_))
    }

    pub fn is_number(&self) -> bool {
        matches!(self.v, DeValue::Integer(_) | DeValue::Float(_))
    }

    pub fn is_str(&self) -> bool {
        matches!(self.v, DeValue::String(_))
    }

    /// This value as a table, or a diagnostic.
    pub fn table(&self, context: impl Into<String>) -> Option<Table<'d, 'a>> {
        match self.v {
            DeValue::Table(t) => Some(Table::new(self.doc, t, self.span(), context.into())),
            _ => {
                self.expected("a table");
                None
            }
        }
    }

    /// This value as an array of values, or a diagnostic.
    pub fn array(&self) -> Option<Vec<Value<'d, 'a>>> {
        match self.v {
            DeValue::Array(a) => {
                Some(a.iter().map(|e| Value { doc: self.doc, v: e.get_ref(), span: e.span().into() }).collect())
            }
            _ => {
                self.expected("an array");
                None
            }
        }
    }

    /// An array of `T` (every element converted; each bad element reported).
    pub fn array_of<T: FromValue>(&self) -> Option<Vec<T>> {
        let items = self.array()?;
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for it in &items {
            match it.get::<T>() {
                Some(x) => out.push(x),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

/// Conversion of a TOML value to a Rust value.
pub trait FromValue: Sized {
    /// What the value should have been, for messages ("a number").
    const EXPECTED: &'static str;
    fn from_value(v: &Value<'_, '_>) -> Option<Self>;
}

impl FromValue for f64 {
    const EXPECTED: &'static str = "a finite number";
    fn from_value(v: &Value<'_, '_>) -> Option<Self> {
        let x = match v.v {
            DeValue::Integer(i) => i.to_i64()? as f64,
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok()?,
            _ => return None,
        };
        x.is_finite().then_some(x)
    }
}

impl FromValue for u64 {
    const EXPECTED: &'static str = "a non-negative integer";
    fn from_value(v: &Value<'_, '_>) -> Option<Self> {
        match v.v {
            DeValue::Integer(i) => i.to_u64(),
            _ => None,
        }
    }
}

impl FromValue for i64 {
    const EXPECTED: &'static str = "an integer";
    fn from_value(v: &Value<'_, '_>) -> Option<Self> {
        match v.v {
            DeValue::Integer(i) => i.to_i64(),
            _ => None,
        }
    }
}

impl FromValue for bool {
    const EXPECTED: &'static str = "a boolean";
    fn from_value(v: &Value<'_, '_>) -> Option<Self> {
        match v.v {
            DeValue::Boolean(b) => Some(*b),
            _ => None,
        }
    }
}

impl FromValue for String {
    const EXPECTED: &'static str = "a string";
    fn from_value(v: &Value<'_, '_>) -> Option<Self> {
        match v.v {
            DeValue::String(s) => Some(s.to_string()),
            _ => None,
        }
    }
}

trait IntExt {
    fn to_i64(&self) -> Option<i64>;
    fn to_u64(&self) -> Option<u64>;
}

impl IntExt for toml::de::DeInteger<'_> {
    fn to_i64(&self) -> Option<i64> {
        i64::from_str_radix(&self.as_str().replace('_', ""), self.radix()).ok()
    }
    fn to_u64(&self) -> Option<u64> {
        u64::from_str_radix(&self.as_str().replace('_', ""), self.radix()).ok()
    }
}

/// A TOML table being read. Keys are looked up by name; every key looked up counts
/// as known, and [`Table::finish`] reports the others.
#[derive(Debug)]
pub struct Table<'d, 'a> {
    doc: &'d Document<'a>,
    t: &'d DeTable<'a>,
    span: Span,
    context: String,
    known: RefCell<Vec<&'static str>>,
}

impl<'d, 'a> Table<'d, 'a> {
    fn new(doc: &'d Document<'a>, t: &'d DeTable<'a>, span: Span, context: String) -> Self {
        Self { doc, t, span, context, known: RefCell::new(Vec::new()) }
    }

    pub fn span(&self) -> Span {
        self.span.clone()
    }

    /// The span of the table's header: the first key's span when the table has keys.
    pub fn head_span(&self) -> Span {
        let s = self.span.clone();
        if s.end > s.start { s.start..s.start.max(s.end.min(s.start + 1)) } else { s }
    }

    pub fn doc(&self) -> &'d Document<'a> {
        self.doc
    }

    /// How messages name this table ("population `exc`").
    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn set_context(&mut self, c: impl Into<String>) {
        self.context = c.into();
    }

    pub fn contains(&self, key: &'static str) -> bool {
        self.known.borrow_mut().push(key);
        self.t.get(key).is_some()
    }

    /// The raw value at `key`, if present.
    pub fn get(&self, key: &'static str) -> Option<Value<'d, 'a>> {
        self.known.borrow_mut().push(key);
        self.t.get_key_value(key).map(|(_, v)| Value { doc: self.doc, v: v.get_ref(), span: v.span().into() })
    }

    /// The span of a key (the key itself, not its value).
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.t.get_key_value(key).map(|(k, _)| k.span())
    }

    /// A required key: records "missing key" when absent.
    pub fn req<T: FromValue>(&self, key: &'static str) -> Option<Spanned<T>> {
        match self.get(key) {
            Some(v) => v.get::<T>().map(|x| Spanned::new(x, v.span())),
            None => {
                self.missing(key, T::EXPECTED);
                None
            }
        }
    }

    /// An optional key: absent is fine, a wrong type is recorded.
    pub fn opt<T: FromValue>(&self, key: &'static str) -> Option<Spanned<T>> {
        let v = self.get(key)?;
        v.get::<T>().map(|x| Spanned::new(x, v.span()))
    }

    /// A required raw value.
    pub fn req_value(&self, key: &'static str, expected: &str) -> Option<Value<'d, 'a>> {
        let v = self.get(key);
        if v.is_none() {
            self.missing(key, expected);
        }
        v
    }

    pub fn missing(&self, key: &str, expected: &str) {
        self.doc.emit(
            self.doc
                .error(self.head_span(), format!("missing key `{key}` in {}", self.context))
                .with_label(format!("this table needs `{key}` ({expected})")),
        );
    }

    /// Every (key, value) pair in source order, marking them all known.
    pub fn entries(&self) -> Vec<(Spanned<String>, Value<'d, 'a>)> {
        self.t
            .iter()
            .map(|(k, v)| {
                (
                    Spanned::new(k.get_ref().to_string(), k.span()),
                    Value { doc: self.doc, v: v.get_ref(), span: v.span().into() },
                )
            })
            .collect()
    }

    /// Reports keys that were never looked up, with a suggestion when one is close.
    pub fn finish(self) {
        let known = self.known.into_inner();
        for (k, _) in self.t.iter() {
            let name = k.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let mut d = self
                .doc
                .error(k.span(), format!("unknown key `{name}` in {}", self.context))
                .with_label("not a key of this table");
            let mut sorted: Vec<&str> = known.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if let Some(best) = closest(name, &sorted) {
                d = d.with_help(format!("did you mean `{best}`?"));
            } else if !sorted.is_empty() {
                d = d.with_help(format!("expected one of: {}", sorted.join(", ")));
            }
            self.doc.emit(d);
        }
    }
}

/// The candidate within edit distance 2 of `name`, if any.
pub fn closest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    // Lengths more than 2 apart are more than 2 edits apart: skipped before the
    // quadratic distance, so a huge string costs nothing.
    candidates
        .iter()
        .filter(|c| name.chars().count().abs_diff(c.chars().count()) <= 2)
        .map(|c| (edit_distance(name, c), name.len().abs_diff(c.len()), *c))
        .filter(|(d, _, _)| *d <= 2)
        .min()
        .map(|(_, _, c)| c)
}

/// Optimal-string-alignment distance (a swap of neighbours counts as one edit).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, x) in d[0].iter_mut().enumerate() {
        *x = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut x = (d[i - 1][j - 1] + cost).min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                x = x.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = x;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_every_problem_in_one_pass() {
        let f = SourceFile::new("t.toml", "a = \"x\"\nb = 3\nc = 1\n");
        let doc = Document::parse(&f);
        let root = doc.root();
        assert!(root.req::<f64>("a").is_none());
        assert_eq!(root.req::<u64>("b").map(|s| s.value), Some(3));
        assert!(root.req::<bool>("missing").is_none());
        root.finish();
        let d = doc.into_diagnostics();
        let lines: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            lines,
            [
                "t.toml:1:5: error: expected a finite number, found a string",
                "t.toml:1:1: error: missing key `missing` in the top level",
                "t.toml:3:1: error: unknown key `c` in the top level",
            ]
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let f = SourceFile::new("t.toml", "a = 1\nb = = 2\n");
        let doc = Document::parse(&f);
        assert!(doc.has_errors());
        let d = doc.into_diagnostics();
        assert!(d.iter().next().unwrap().to_string().starts_with("t.toml:2:"), "{d}");
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("tau_n", &["tau_m", "cm"]), Some("tau_m"));
        assert_eq!(closest("zzzzzz", &["tau_m", "cm"]), None);
        assert_eq!(closest("lfi", &["li", "lif", "if"]), Some("lif"));
    }
}
