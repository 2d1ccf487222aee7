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

/// The job file as the user named it, and its text.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub shown: &'a Path,
    pub text: &'a str,
}

impl Source<'_> {
    /// `path:line:col: message` for a byte offset into the text.
    pub fn at(&self, offset: usize, message: impl Display) -> String {
        let (line, col) = line_col(self.text, offset);
        format!("{}:{line}:{col}: {message}", self.shown.display())
    }
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

/// Every problem found in one job file, in the order found.
pub(super) struct Problems<'a> {
    pub src: Source<'a>,
    messages: Vec<String>,
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
        self.messages.push(line);
    }

    /// A problem that carries its own position (a file the job names).
    pub fn plain(&mut self, message: String) {
        self.messages.push(message);
    }

    /// One message per line, each complete on its own.
    pub fn finish(self) -> Result<(), JobError> {
        if self.messages.is_empty() {
            Ok(())
        } else {
            Err(JobError(self.messages.join("\n")))
        }
    }
}

/// A toml syntax or type error in the house format. toml knows the position
/// but does not expose which key it was reading, so the key is found again
/// by walking the parsed document for the one whose key or value covers the
/// error's position.
pub(super) fn toml_error(src: Source, err: &toml::de::Error) -> String {
    let offset = err.span().map_or(0, |span| span.start);
    let message = err.message().trim();
    let key = DeTable::parse(src.text)
        .ok()
        .and_then(|doc| key_at(doc.get_ref(), offset));
    let text = match key {
        Some(key) => reword(message, &key),
        None => syntax(message),
    };
    src.at(offset, text)
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

fn reword(message: &str, key: &KeyAt) -> String {
    if message.starts_with("unknown field") {
        unknown_key(message, key)
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        wrong_type(rest, key)
    } else {
        let (table, name) = (key.table(), key.name());
        let place = place(&table);
        format!("`{name}` {place}: {message}; check the value of {name}")
    }
}

/// Names the key only, never its value: a stray `api_key = "..."` must not
/// end up in a cron mail.
fn unknown_key(message: &str, key: &KeyAt) -> String {
    // serde: "unknown field `x`, expected one of `a`, `b`" / "expected `a` or `b`".
    let expected: Vec<&str> = message.split('`').skip(3).step_by(2).collect();
    let (table, name) = (key.table(), key.name());
    if table.is_empty() && key.is_table {
        let tables: Vec<String> = expected.iter().map(|t| format!("[{t}]")).collect();
        return format!(
            "unknown table [{name}]; expected one of: {}",
            tables.join(", ")
        );
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
    }
    text
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
