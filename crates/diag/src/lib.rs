//! Diagnostics that point into a source file, and a reader for TOML documents that
//! keeps every value's span so that each problem can name file, line and column.
//!
//! **Architecture invariant:** this crate knows nothing about networks or chips. File
//! formats (netlists, chip models) use [`toml::Reader`] to walk a document and collect
//! *all* problems into one [`Diagnostics`]; the CLI renders them once.

pub mod toml;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A source file held in memory, so that diagnostics can quote it.
#[derive(Debug)]
pub struct SourceFile {
    /// The name shown to users (usually the path as given on the command line).
    pub name: String,
    /// The full text.
    pub text: String,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Self> {
        Arc::new(Self { name: name.into(), text: text.into() })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, col)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in an input file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: Arc<SourceFile>,
    /// Byte range in `file.text`; `None` when the problem concerns the whole file.
    pub span: Option<Range<usize>>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// A short text shown under the span (usually what was expected).
    pub label: Option<String>,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
}

/// The most characters of a diagnostic's message, label or help: text quoted from an
/// input (a 24 MB string where a connector name belongs) is cut, so rendering and
/// wrapping stay small.
pub const MAX_TEXT: usize = 1000;

/// `text` cut to [`MAX_TEXT`] characters, saying how many were left out.
fn clip(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        None => text,
        Some((cut, _)) => {
            let rest = text[cut..].chars().count();
            format!("{}… ({rest} more characters)", &text[..cut])
        }
    }
}

impl Diagnostic {
    pub fn error(file: &Arc<SourceFile>, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        let message = clip(message.into());
        Self { severity: Severity::Error, file: file.clone(), span, message, label: None, help: None }
    }

    pub fn warning(file: &Arc<SourceFile>, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Self { severity: Severity::Warning, ..Self::error(file, span, message) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(clip(label.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(clip(help.into()));
        self
    }

    /// `file:line:col` of the start of the span (or just `file`).
    pub fn location(&self) -> String {
        match &self.span {
            Some(s) => {
                let (l, c) = self.file.line_col(s.start);
                format!("{}:{l}:{c}", self.file.name)
            }
            None => self.file.name.clone(),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `file:line:col: error: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {sev}: {}", self.location(), self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.as_ref().map(|_| self as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        // Within the window a long line is shown through (see `read_span`).
        let span = match window(&self.file.text, &span) {
            Some(w) => span.start..span.end.min(w.end).max(span.start),
            None => span,
        };
        let label = miette::LabeledSpan::new_with_span(self.label.clone(), span);
        Some(Box::new(std::iter::once(label)))
    }
}

/// Lines longer than this are shown through a window around the span.
const LONG_LINE: usize = 400;

/// The largest char boundary of `text` at or below `i` (clamped to its length).
fn floor_boundary(text: &str, i: usize) -> usize {
    floor_char_boundary(text, i.min(text.len()))
}

/// When the line holding `span.start` is longer than [`LONG_LINE`], the part of it to
/// show: up to 80 bytes before the span and a little past its start. A renderer would
/// otherwise lay out (and miette's panics on) lines of any length.
fn window(text: &str, span: &Range<usize>) -> Option<Range<usize>> {
    let start = floor_boundary(text, span.start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    if line_end - line_start <= LONG_LINE {
        return None;
    }
    let ws = floor_boundary(text, start.saturating_sub(80).max(line_start));
    let we = floor_boundary(text, (start + LONG_LINE - 80).min(line_end)).max(ws);
    Some(ws..we)
}

impl miette::SourceCode for Diagnostic {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let text = self.file.text.as_str();
        let range = span.offset()..span.offset() + span.len();
        if let Some(w) = window(text, &range) {
            // One line, shown through its window, at its own line and column.
            let (line, col) = self.file.line_col(w.start);
            return Ok(Box::new(miette::MietteSpanContents::new_named(
                self.file.name.clone(),
                &text.as_bytes()[w.clone()],
                miette::SourceSpan::new(w.start.into(), w.end - w.start),
                line.saturating_sub(1),
                col.saturating_sub(1),
                1,
            )));
        }
        let inner = self.file.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.file.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// The most bytes an input file may hold (4 GiB): a larger one, or a device that never
/// ends, is refused before it fills memory.
pub const MAX_INPUT_BYTES: u64 = 4 << 30;

/// Reads an input file whole, refusing what is not a regular file (a folder, a device
/// such as `/dev/zero`, a FIFO) and files over [`MAX_INPUT_BYTES`], with an error that
/// says so.
pub fn read_input(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a folder, device or FIFO); give a file",
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} bytes, more than the {} an input may hold", meta.len(), MAX_INPUT_BYTES),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "grew past the size an input may hold"));
    }
    Ok(bytes)
}

/// [`read_input`] as UTF-8 text.
pub fn read_input_text(path: &std::path::Path) -> std::io::Result<String> {
    String::from_utf8(read_input(path)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not UTF-8 text: {e}")))
}

/// Every problem found in one or more files. An `Err(Diagnostics)` always holds at
/// least one error; warnings alone travel beside a successful result.
#[derive(Clone, Debug, Default, thiserror::Error)]
#[error("{}", self.summary())]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The one diagnostic for a file that cannot be read at all.
    pub fn unreadable(name: String, what: &str, e: &std::io::Error) -> Self {
        let file = SourceFile::new(name, "");
        Diagnostics(vec![Diagnostic::error(&file, None, format!("cannot read {what}: {e}"))])
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.severity == Severity::Error).count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Diagnostics ordered by file and position, so that output reads top to bottom.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            (a.file.name.as_str(), a.span.as_ref().map(|s| s.start))
                .cmp(&(b.file.name.as_str(), b.span.as_ref().map(|s| s.start)))
        });
        self
    }

    fn summary(&self) -> String {
        let n = self.error_count();
        match self.0.first() {
            Some(first) if n == 1 => first.to_string(),
            Some(first) => format!("{first} (and {} more)", self.0.len() - 1),
            None => "no diagnostics".to_string(),
        }
    }
}
