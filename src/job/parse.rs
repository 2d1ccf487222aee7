//! From text to [`RawJob`]: the job file parsed as a TOML document, a
//! defaults file merged under it, and the document read into the raw structs
//! with every unknown key and wrong type collected, not only the first.
//!
//! serde stops at the first problem, so each one found is reported, its key
//! taken out of the document, and reading starts again: one run shows every
//! structural problem. The key names and their suggestions come from the
//! serde structs themselves (serde's "expected one of" list), so a key
//! another module adds to [`super::raw`] is covered without more work.
//! Syntax errors stop at once: after one, the rest of a file cannot be read
//! reliably.

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::JobError;
use super::diag::{self, Problems, Source};
use super::raw::RawJob;

/// Rounds of "report, remove, read again" before giving up: far more than a
/// hand-written file has problems.
const MAX_ROUNDS: usize = 100;

/// The raw job, with every structural problem added to `problems` and the
/// dotted keys those problems speak for added to `covered`; `None` when a
/// problem could not be taken out (it is in `problems`). `Err` only for
/// syntax errors, with the message for each file that has one.
pub(super) fn read(
    src: Source<'_>,
    padded_defaults: Option<&str>,
    problems: &mut Problems<'_>,
    covered: &mut Vec<String>,
) -> Result<Option<RawJob>, JobError> {
    let mut syntax = Vec::new();
    let job = DeTable::parse(src.text)
        .map_err(|e| syntax.push(diag::syntax_error(src, &e)))
        .ok();
    let defaults = padded_defaults.and_then(|text| {
        DeTable::parse(text)
            .map_err(|e| syntax.push(diag::syntax_error(src, &e)))
            .ok()
    });
    let (Some(mut doc), true) = (job, syntax.is_empty()) else {
        return Err(JobError(syntax.join("\n")));
    };
    if let Some(defaults) = defaults {
        merge_defaults(doc.get_mut(), defaults.into_inner());
    }
    for _ in 0..MAX_ROUNDS {
        let err = match RawJob::deserialize(toml::de::Deserializer::from(doc.clone())) {
            Ok(raw) => return Ok(Some(raw)),
            Err(err) => err,
        };
        let found = diag::structure_error(src, doc.get_ref(), &err);
        problems.push(found.offset, found.message);
        covered.extend(found.covers);
        match found.path {
            Some(path) if remove_path(doc.get_mut(), &path) => {}
            // Nothing to take out: reading again would find the same thing.
            _ => return Ok(None),
        }
    }
    Ok(None)
}

/// Merges a defaults document under a job's: what the job sets wins, tables
/// merge key by key. One exception: a job that names another provider than
/// the defaults' keeps its own `[voice]` whole, since voice names and the
/// provider's table mean nothing to another provider.
fn merge_defaults<'i>(job: &mut DeTable<'i>, mut defaults: DeTable<'i>) {
    let provider = |t: &DeTable| {
        table(t, "voice").and_then(|voice| match voice.get("provider").map(Spanned::get_ref) {
            Some(DeValue::String(name)) => Some(name.to_string()),
            _ => None,
        })
    };
    if let (Some(own), Some(theirs)) = (provider(job), provider(&defaults))
        && own != theirs
    {
        defaults.remove("voice");
    }
    merge(job, defaults);
}

fn merge<'i>(into: &mut DeTable<'i>, from: DeTable<'i>) {
    for (key, value) in from {
        let existing = into
            .iter_mut()
            .find(|(k, _)| k.get_ref() == key.get_ref())
            .map(|(_, v)| v);
        match existing {
            None => {
                into.insert(key, value);
            }
            Some(mine) => {
                if let (DeValue::Table(mine), DeValue::Table(theirs)) =
                    (mine.get_mut(), value.into_inner())
                {
                    merge(mine, theirs);
                }
            }
        }
    }
}

fn table<'t, 'i>(t: &'t DeTable<'i>, name: &str) -> Option<&'t DeTable<'i>> {
    match t.get(name).map(Spanned::get_ref) {
        Some(DeValue::Table(inner)) => Some(inner),
        _ => None,
    }
}

/// Removes the key at `path` (searching arrays of tables too); true when
/// something was removed.
fn remove_path(table: &mut DeTable<'_>, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return table.remove(first.as_str()).is_some();
    }
    let Some((_, value)) = table.iter_mut().find(|(k, _)| k.get_ref() == first) else {
        return false;
    };
    remove_in_value(value.get_mut(), rest)
}

fn remove_in_value(value: &mut DeValue<'_>, path: &[String]) -> bool {
    match value {
        DeValue::Table(inner) => remove_path(inner, path),
        DeValue::Array(items) => items
            .iter_mut()
            .any(|item| remove_in_value(item.get_mut(), path)),
        _ => false,
    }
}
