//! Messages that point into the job file: byte offsets turned into
//! `path:line:col`, toml's parse and type errors reworded into the house
//! format (`<where>: <what is wrong>; <what to do>`), and the collector that
//! gathers every semantic problem of one file so the user fixes them in one go.

use std::fmt::Display;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};

use super::JobError;
use super::raw;

/// The job file as the user named it, and its text; with a defaults file
/// merged under it, that file too. Offsets at or past `defaults.base` are in
/// the defaults file (its text was parsed after `base` bytes of padding), so
/// every message names the file the value came from.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub shown: &'a Path,
    pub text: &'a str,
    pub defaults: Option<DefaultsSource<'a>>,
}

/// A defaults file merged under a job file.
#[derive(Clone, Copy)]
pub(super) struct DefaultsSource<'a> {
    pub shown: &'a Path,
    pub text: &'a str,
    /// Where its offsets start in the merged document.
    pub base: usize,
}

impl<'a> Source<'a> {
    /// A job file with its defaults file (if any) merged under it, and the
    /// defaults' text padded to start past the job file's, for
    /// `parse::read`: offsets then tell which file a value came from.
    pub fn merged(
        shown: &'a Path,
        text: &'a str,
        defaults: Option<(&'a Path, &'a str)>,
    ) -> (Source<'a>, Option<String>) {
        let base = text.len() + 1;
        let padded = defaults.map(|(_, d)| format!("{}{d}", " ".repeat(base)));
        let src = Source {
            shown,
            text,
            defaults: defaults.map(|(shown, text)| DefaultsSource { shown, text, base }),
        };
        (src, padded)
    }

    /// `path:line:col: message` for a byte offset into the merged document.
    pub fn at(&self, offset: usize, message: impl Display) -> String {
        let (shown, text, offset) = match self.defaults {
            Some(d) if offset >= d.base => (d.shown, d.text, offset - d.base),
            _ => (self.shown, self.text, offset),
        };
        let (line, col) = line_col(text, offset);
        format!("{}:{line}:{col}: {message}", shown.display())
    }
}

/// The candidate closest to `word`, when it is close enough to be what was
/// meant (a typo, a missing letter, a swapped pair).
pub(super) fn did_you_mean<'c>(
    word: &str,
    candidates: impl IntoIterator<Item = &'c str>,
) -> Option<&'c str> {
    let word = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&word, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.82)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// 1-based line and column (in characters) of a byte offset. Offsets past the
/// end or inside a character are clamped, never a panic.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// Every problem found in one job file, reported in file order.
pub(super) struct Problems<'a> {
    pub src: Source<'a>,
    messages: Vec<(usize, String)>,
}

impl<'a> Problems<'a> {
    pub fn new(src: Source<'a>) -> Self {
        Problems {
            src,
            messages: Vec::new(),
        }
    }

    /// A problem with the value (or key, or header) at `span`.
    pub fn at(&mut self, span: Range<usize>, message: impl Display) {
        let line = self.src.at(span.start, message);
        self.messages.push((span.start, line));
    }

    /// A message already in the house format, found at `offset`.
    pub fn push(&mut self, offset: usize, message: String) {
        self.messages.push((offset, message));
    }

    /// A problem that carries its own position (a file the job names):
    /// after those in the job file.
    pub fn plain(&mut self, message: String) {
        self.messages.push((usize::MAX, message));
    }

    /// One message per line, each complete on its own, in the order of the
    /// file (the job file's, then the defaults file's, then other files').
    pub fn finish(mut self) -> Result<(), JobError> {
        if self.messages.is_empty() {
            return Ok(());
        }
        self.messages.sort_by_key(|(offset, _)| *offset);
        let lines: Vec<String> = self.messages.into_iter().map(|(_, m)| m).collect();
        Err(JobError(lines.join("\n")))
    }
}

/// A toml syntax error in the house format; there is no document to
/// recover a key from, so it is the only message.
pub(super) fn syntax_error(src: Source, err: &toml::de::Error) -> String {
    let offset = err.span().map_or(0, |span| span.start);
    src.at(offset, syntax(err.message().trim()))
}

/// A type or unknown-key error found while reading the parsed document
/// into the job's structs, in the house format. toml knows the position but
/// not the key, so the key is found again by walking the document for the
/// one whose key or value covers it.
pub(super) struct Structural {
    pub offset: usize,
    /// The key it is about; `None` when no key covers the position.
    pub path: Option<Vec<String>>,
    /// Dotted keys this message already speaks for: the key itself, and the
    /// key a "did you mean" named (so "missing key" is not said as well).
    pub covers: Vec<String>,
    pub message: String,
}

pub(super) fn structure_error(src: Source, doc: &DeTable, err: &toml::de::Error) -> Structural {
    let offset = err.span().map_or(0, |span| span.start);
    let message = err.message().trim();
    match key_at(doc, offset) {
        Some(key) => {
            let (text, meant) = reword(message, &key);
            let mut covers = vec![key.path.join(".")];
            covers.extend(meant);
            Structural {
                offset,
                message: src.at(offset, text),
                path: Some(key.path),
                covers,
            }
        }
        None => Structural {
            offset,
            path: None,
            covers: Vec::new(),
            message: src.at(offset, syntax(message)),
        },
    }
}

fn syntax(message: &str) -> String {
    let hint = if message == "duplicate key" {
        "each key and each table may appear only once; remove or merge the repeat"
    } else {
        "fix the syntax here (see https://toml.io)"
    };
    format!("invalid TOML: {message}; {hint}")
}

/// The key an error is about: its dotted path and whether its value is a table.
struct KeyAt {
    path: Vec<String>,
    is_table: bool,
}

impl KeyAt {
    fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    fn table(&self) -> String {
        self.path[..self.path.len().saturating_sub(1)].join(".")
    }
}

/// The innermost key whose key or value span contains `offset`. Children are
/// searched first: a `[book]` header's span does not cover the keys below it.
fn key_at(table: &DeTable, offset: usize) -> Option<KeyAt> {
    for (key, value) in table.iter() {
        if let Some(mut inner) = key_in_value(value.get_ref(), offset) {
            inner.path.insert(0, key.get_ref().to_string());
            return Some(inner);
        }
        if key.span().contains(&offset) || value.span().contains(&offset) {
            return Some(KeyAt {
                path: vec![key.get_ref().to_string()],
                is_table: matches!(value.get_ref(), DeValue::Table(_)),
            });
        }
    }
    None
}

fn key_in_value(value: &DeValue, offset: usize) -> Option<KeyAt> {
    match value {
        DeValue::Table(table) => key_at(table, offset),
        DeValue::Array(items) => items
            .iter()
            .find_map(|item| key_in_value(item.get_ref(), offset)),
        _ => None,
    }
}

/// The message, and the dotted key a suggestion named (if any).
fn reword(message: &str, key: &KeyAt) -> (String, Option<String>) {
    if message.starts_with("unknown field") {
        unknown_key(message, key)
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        (wrong_type(rest, key), None)
    } else {
        let (table, name) = (key.table(), key.name());
        let place = place(&table);
        (
            format!("`{name}` {place}: {message}; check the value of {name}"),
            None,
        )
    }
}

/// Names the key only, never its value: a stray `api_key = "..."` must not
/// end up in a cron mail. The suggestion comes from serde's list of the
/// struct's fields, so it covers every key the raw structs know. Also
/// returns the key suggested, whose "missing" message would say the same.
fn unknown_key(message: &str, key: &KeyAt) -> (String, Option<String>) {
    // serde: "unknown field `x`, expected one of `a`, `b`" / "expected `a` or `b`".
    let expected: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
    let (table, name) = (key.table(), key.name());
    let meant = did_you_mean(name, expected.iter().copied()).map(str::to_owned);
    if table.is_empty() && key.is_table {
        let tables: Vec<String> = expected.iter().map(|t| format!("[{t}]")).collect();
        let hint = meant
            .as_ref()
            .map(|t| format!(" (did you mean [{t}]?)"))
            .unwrap_or_default();
        let text = format!(
            "unknown table [{name}]; expected one of: {}{hint}",
            tables.join(", ")
        );
        return (text, meant);
    }
    let what = if key.is_table { "table" } else { "key" };
    let shown = if key.is_table {
        format!("[{}]", key.path.join("."))
    } else {
        format!("`{name}`")
    };
    let expected = if table.is_empty() {
        let tables: Vec<String> = expected.iter().map(|t| format!("[{t}]")).collect();
        format!("expected only the tables {}", tables.join(", "))
    } else {
        format!("expected one of: {}", expected.join(", "))
    };
    let mut text = format!("unknown {what} {shown} {}; {expected}", place(&table));
    if let Some(home) = raw::home_of(name).filter(|home| *home != table) {
        text.push_str(&format!(" (`{name}` belongs in [{home}])"));
        return (text, None);
    }
    if let Some(meant) = &meant {
        text.push_str(&format!(" (did you mean `{meant}`?)"));
    }
    let meant = meant.map(|m| match table.is_empty() {
        true => m,
        false => format!("{table}.{m}"),
    });
    (text, meant)
}

fn wrong_type(rest: &str, key: &KeyAt) -> String {
    let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "?"));
    let (table, name) = (key.table(), key.name());
    let expected = plain_type(expected);
    let hint = match raw::example(&table, name) {
        Some(example) => format!("write it like {example}"),
        None => format!("make `{name}` {expected}"),
    };
    if found.ends_with(" as i128") {
        return format!("`{name}` {} is too large; {hint}", place(&table));
    }
    if table.is_empty() && raw::SCHEMA.iter().any(|(t, _, _)| *t == name) {
        return format!(
            "`{name}` must be a table, found {found}; write a [{name}] header (single brackets, \
             once) with its keys below it"
        );
    }
    format!(
        "wrong type for `{name}` {}: expected {expected}, found {found}; {hint}",
        place(&table)
    )
}

/// serde's Rust type names in words a publisher knows.
fn plain_type(expected: &str) -> &str {
    match expected {
        "i64" => "an integer",
        "f64" => "a number",
        e if e.starts_with("struct ") => "a table",
        e => e,
    }
}

/// "in [book]", or "at the top level" for keys above the first header.
fn place(table: &str) -> String {
    if table.is_empty() {
        "at the top level".to_owned()
    } else {
        format!("in [{table}]")
    }
}
