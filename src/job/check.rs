//! The checker every section of a job file is validated with: it collects
//! each problem (with the span it points at) instead of stopping at the
//! first, and gives each section the value checks they share (a required
//! table or key, a non-empty string, one of named options, a number in a
//! range), each with the house message: what is wrong, what to set.
//! The sections themselves are checked in the files named after them.

use std::ops::RangeInclusive;

use toml::Spanned;

use super::diag::{self, Problems};
use super::paths::Base;
use super::raw;

/// Validation of one parsed job file. Each section is checked in full even
/// after an error (with defaults standing in), so every problem is reported.
pub(super) struct Check<'a> {
    pub(super) problems: Problems<'a>,
    pub(super) base: Base<'a>,
    /// `[manuscript] files` entries as written, to check against the output.
    pub(super) entries: Vec<Spanned<String>>,
    /// Dotted keys a structural problem already speaks for (a wrong type, or
    /// a misspelling whose suggestion names the key): not "missing" too.
    pub(super) covered: Vec<String>,
    /// `[master] profile` was written in the job (not the default).
    pub(super) profile_given: bool,
    pub(super) warnings: Vec<String>,
}

impl<'a> Check<'a> {
    pub(super) fn new(problems: Problems<'a>, base: Base<'a>, covered: Vec<String>) -> Check<'a> {
        Check {
            problems,
            base,
            entries: Vec::new(),
            covered,
            profile_given: false,
            warnings: Vec::new(),
        }
    }

    /// A required table, or a problem at the top of the file saying what to add.
    pub(super) fn required_table<T>(
        &mut self,
        table: Option<Spanned<T>>,
        name: &str,
        key: &str,
    ) -> Option<Spanned<T>> {
        if table.is_none() && !self.covers(name) {
            let example = raw::example(name, key).unwrap_or_default();
            self.problems.at(
                0..0,
                format!("missing table [{name}]; add [{name}] with {example}"),
            );
        }
        table
    }

    /// A structural problem already speaks for this dotted key.
    pub(super) fn covers(&self, dotted: &str) -> bool {
        self.covered.iter().any(|c| c == dotted)
    }

    /// A missing key, reported at its table's header unless a structural
    /// problem already speaks for it.
    pub(super) fn missing_key(
        &mut self,
        table_span: std::ops::Range<usize>,
        table: &str,
        key: &str,
    ) {
        if self.covers(&format!("{table}.{key}")) {
            return;
        }
        let example = raw::example(table, key).unwrap_or_default();
        self.problems.at(
            table_span,
            format!("missing key `{key}` in [{table}]; add {example} under [{table}]"),
        );
    }

    pub(super) fn non_empty(
        &mut self,
        value: Spanned<String>,
        table: &str,
        key: &str,
        what: &str,
    ) -> String {
        let trimmed = value.get_ref().trim();
        if trimmed.is_empty() {
            self.problems.at(
                value.span(),
                format!("{key} is empty; set [{table}] {key} to {what}"),
            );
        }
        trimmed.to_owned()
    }

    /// The named option `value` picks; `None` when absent or reported as
    /// invalid, so the caller picks the default.
    pub(super) fn choice<T: Copy>(
        &mut self,
        value: Option<Spanned<String>>,
        table: &str,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let value = value?;
        if let Some((_, picked)) = options.iter().find(|(name, _)| name == value.get_ref()) {
            return Some(*picked);
        }
        let names: Vec<String> = options
            .iter()
            .map(|(name, _)| format!("{name:?}"))
            .collect();
        let meant = diag::did_you_mean(value.get_ref(), options.iter().map(|(name, _)| *name))
            .map(|name| format!("did you mean {name:?}? "))
            .unwrap_or_default();
        self.problems.at(
            value.span(),
            format!(
                "{key} must be one of {}, got {:?}; {meant}set [{table}] {key} to one of these",
                names.join(", "),
                value.get_ref()
            ),
        );
        None
    }

    pub(super) fn int<T: TryFrom<i64>>(
        &mut self,
        value: Option<Spanned<i64>>,
        table: &str,
        key: &str,
        range: RangeInclusive<i64>,
        default: T,
    ) -> T {
        let Some(value) = value else { return default };
        let number = *value.get_ref();
        if range.contains(&number)
            && let Ok(number) = T::try_from(number)
        {
            return number;
        }
        let (lo, hi) = (range.start(), range.end());
        self.problems.at(
            value.span(),
            format!(
                "{key} must be between {lo} and {hi}, got {number}; set [{table}] {key} to a \
                 value in {lo}..={hi}"
            ),
        );
        default
    }

    /// A number in `range`; `None` when absent or reported as out of range.
    pub(super) fn float(
        &mut self,
        value: Option<Spanned<f64>>,
        table: &str,
        key: &str,
        range: RangeInclusive<f64>,
    ) -> Option<f32> {
        let value = value?;
        let number = *value.get_ref();
        // NaN is in no range, so it lands in the message below.
        if range.contains(&number) {
            return Some(number as f32);
        }
        let (lo, hi) = (range.start(), range.end());
        self.problems.at(
            value.span(),
            format!(
                "{key} must be between {lo:?} and {hi:?}, got {number}; set [{table}] {key} to a \
                 value in {lo:?}..={hi:?}"
            ),
        );
        None
    }
}
