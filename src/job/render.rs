//! Validation of `[render]`: the concurrency ceiling, attempts per segment,
//! the per-run character budget, and the price and currency `plan`'s cost
//! estimate uses.

use std::ops::RangeInclusive;

use toml::Spanned;

use super::raw::RawRender;
use super::{Check, Render};

const CONCURRENCY: RangeInclusive<i64> = 1..=64;
const MAX_CHARACTERS: RangeInclusive<i64> = 1..=1_000_000_000_000;
const MAX_ATTEMPTS: RangeInclusive<i64> = 1..=20;

impl Check<'_> {
    pub(super) fn render(&mut self, raw: Option<RawRender>) -> Render {
        let raw = raw.unwrap_or_default();
        let max_characters_per_run = raw.max_characters_per_run.map(|v| {
            self.int::<u64>(
                Some(v),
                "render",
                "max_characters_per_run",
                MAX_CHARACTERS,
                0,
            )
        });
        Render {
            concurrency: self.int(raw.concurrency, "render", "concurrency", CONCURRENCY, 4),
            max_attempts: self.int(raw.max_attempts, "render", "max_attempts", MAX_ATTEMPTS, 4),
            max_characters_per_run,
            price_per_million_characters: self
                .float(
                    raw.price_per_million_characters,
                    "render",
                    "price_per_million_characters",
                    0.0..=1_000_000.0,
                )
                .map(f64::from),
            currency: self.currency(raw.currency),
        }
    }

    /// A short currency name such as CNY or USD; default CNY, in which both
    /// cloud providers bill.
    fn currency(&mut self, raw: Option<Spanned<String>>) -> String {
        let Some(raw) = raw else {
            return "CNY".to_string();
        };
        let name = raw.get_ref().trim();
        if (1..=8).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return name.to_string();
        }
        self.problems.at(
            raw.span(),
            "currency must be a short name such as CNY or USD; set [render] currency".to_string(),
        );
        "CNY".to_string()
    }
}
