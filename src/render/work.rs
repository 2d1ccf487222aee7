//! The job's pending work, read a page at a time in book order, so a render
//! of a large book never holds every segment in memory; each content key is
//! taken once a round (a repeated sentence is rendered once).

use std::collections::{HashSet, VecDeque};

use anyhow::Result;

use crate::plan::ChapterSet;
use crate::store::{Store, Work, WorkCursor};

/// Pending segments read from the database at a time.
const PAGE: usize = 256;

/// The job's pending segments, a page at a time, each key once a round.
pub(super) struct Fresh {
    store: Store,
    job_id: i64,
    pub page: VecDeque<Work>,
    cursor: Option<WorkCursor>,
    exhausted: bool,
    /// Keys already taken this round (first 128 bits of the hex key).
    seen: HashSet<u128>,
    /// Only segments of these chapters (`--chapters`); a text shared with
    /// another chapter is still rendered once, for all of them.
    chapters: Option<ChapterSet>,
}

impl Fresh {
    pub fn new(store: Store, job_id: i64, chapters: Option<ChapterSet>) -> Fresh {
        Fresh {
            store,
            job_id,
            page: VecDeque::new(),
            cursor: None,
            exhausted: false,
            seen: HashSet::new(),
            chapters,
        }
    }

    /// The next segment not yet taken, reading a page when needed.
    pub async fn peek(&mut self) -> Result<Option<&Work>> {
        while self.page.is_empty() && !self.exhausted {
            let rows = self
                .store
                .pending_page(self.job_id, self.cursor, PAGE)
                .await?;
            self.exhausted = rows.len() < PAGE;
            for (cursor, work) in rows {
                self.cursor = Some(cursor);
                let wanted = self
                    .chapters
                    .as_ref()
                    .is_none_or(|set| set.contains_index(work.chapter as usize));
                if wanted && self.seen.insert(key_bits(&work.content_key)) {
                    self.page.push_back(work);
                }
            }
        }
        Ok(self.page.front())
    }

    pub fn take(&mut self) -> Option<Work> {
        self.page.pop_front()
    }
}

fn key_bits(key: &str) -> u128 {
    key.get(..32)
        .and_then(|hex| u128::from_str_radix(hex, 16).ok())
        .unwrap_or_else(|| {
            use std::hash::{DefaultHasher, Hash, Hasher};
            let mut h = DefaultHasher::new();
            key.hash(&mut h);
            u128::from(h.finish())
        })
}
