//! Recording a plan: a stop at any of its statements leaves the earlier
//! plan and what runs learned about it exactly as they were, and the next
//! run records the new plan.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::manuscript::Manuscript;
use crate::provider::{ErrorClass, ProviderError};
use crate::store::SegmentState;

fn job_for(dir: &Path, text: &str) -> (Job, Manuscript) {
    std::fs::write(dir.join("b.md"), text).unwrap();
    let path = dir.join("j.toml");
    std::fs::write(
        &path,
        "[book]\ntitle = \"T\"\nlanguage = \"en\"\n[manuscript]\nfiles = \"b.md\"\n\
         [output]\ndir = \"out\"\n",
    )
    .unwrap();
    let job = crate::job::load(&path).unwrap();
    let manuscript = crate::manuscript::load(&job).unwrap();
    (job, manuscript)
}

/// Three chapters of 600 sentences: each takes several statements.
fn book(ending: &str) -> String {
    let mut text = String::new();
    for c in 1..=3 {
        text.push_str(&format!("# Chapter {c}\n\n"));
        for s in 1..=600 {
            text.push_str(&format!("Sentence {s} of chapter {c}. "));
            if s % 10 == 0 {
                text.push_str("\n\n");
            }
        }
    }
    text.push_str(ending);
    text
}

/// Everything the database says about the job's plan.
async fn snapshot(store: &Store, job_id: i64) -> (String, Vec<String>, Vec<String>) {
    let (hash, planned): (String, String) =
        sqlx::query_as("SELECT plan_hash, planned_at FROM jobs WHERE id = ?")
            .bind(job_id)
            .fetch_one(&store.pool)
            .await
            .unwrap();
    let chapters = store
        .chapters(job_id)
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{} {}", c.idx, c.title))
        .collect();
    let segments = store
        .segments(job_id)
        .await
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {:?} {}",
                s.chapter_idx, s.idx, s.text, s.content_key, s.state, s.attempts
            )
        })
        .collect();
    (format!("{hash} {planned}"), chapters, segments)
}

#[tokio::test]
async fn a_stop_at_any_statement_leaves_the_earlier_plan_and_the_next_run_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let (job, manuscript) = job_for(dir.path(), &book(""));
    let written = store
        .write_plan(&Plan::new(&job, &manuscript), &|| false)
        .await
        .unwrap();
    let PlanWritten::Recorded(job_id) = written else {
        panic!("nothing asked to stop: {written:?}");
    };
    // A segment that failed for good keeps its state under a new plan
    // that leaves its text unchanged.
    let first = store.segments(job_id).await.unwrap();
    let failed = first[5].content_key.to_string();
    let refused = ProviderError::new(ErrorClass::Permanent, "refused");
    store
        .mark_failed(job_id, &failed, &refused, 3)
        .await
        .unwrap();
    // And one rendered: done before, done after.
    let done = first[9].content_key.to_string();
    let clip = crate::cache::StoredClip {
        sha256: "0".repeat(64),
        samples: 100,
        sample_rate: 24_000,
        words: Vec::new(),
        stamp: None,
    };
    store.mark_done(&done, &clip, 1).await.unwrap();
    let before = snapshot(&store, job_id).await;
    assert!(
        before.2.iter().any(|s| s.contains(" Done ")),
        "{:?}",
        &before.2[..12]
    );

    let (job, manuscript) = job_for(dir.path(), &book("\n\nA new last line.\n"));
    let plan = Plan::new(&job, &manuscript);
    // Stopped at its first check, then its second, and so on until none
    // is left: every stop leaves the database as it was.
    let mut checks = 0;
    let recorded = loop {
        let asked = AtomicUsize::new(0);
        let stop = || asked.fetch_add(1, Ordering::SeqCst) >= checks;
        match store.write_plan(&plan, &stop).await.unwrap() {
            PlanWritten::Stopped => {
                assert_eq!(
                    snapshot(&store, job_id).await,
                    before,
                    "stopped at check {checks}"
                );
                checks += 1;
            }
            PlanWritten::Recorded(id) => break id,
        }
    };
    // The hash pass (every 500 segments), the deletion (a statement at a
    // time) and each statement of 500 rows.
    assert!(checks >= 8, "only {checks} checks");
    assert_eq!(recorded, job_id);
    let after = store.segments(job_id).await.unwrap();
    assert_eq!(after.len(), first.len() + 1);
    assert_eq!(after.last().unwrap().text, "A new last line.");
    let state_of = |state| -> Vec<String> {
        after
            .iter()
            .filter(|s| s.state == state)
            .map(|s| s.content_key.to_string())
            .collect()
    };
    assert_eq!(state_of(SegmentState::Failed), [failed]);
    assert_eq!(state_of(SegmentState::Done), [done]);

    // The same plan again writes nothing; a stop while it is compared
    // changes nothing either.
    let now = snapshot(&store, job_id).await;
    assert_eq!(
        store.write_plan(&plan, &|| true).await.unwrap(),
        PlanWritten::Stopped
    );
    assert_eq!(
        store.write_plan(&plan, &|| false).await.unwrap(),
        PlanWritten::Recorded(job_id)
    );
    assert_eq!(snapshot(&store, job_id).await, now);
}

#[tokio::test]
async fn the_same_inputs_skip_making_the_plan_and_a_changed_limit_plans_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let (job, manuscript) = job_for(dir.path(), &book(""));
    let plan = Plan::new(&job, &manuscript);
    let PlanWritten::Recorded(job_id) = store.write_plan(&plan, &|| false).await.unwrap() else {
        panic!("nothing asked to stop");
    };
    let recorded = snapshot(&store, job_id).await;
    // Unchanged inputs: the stop request is asked once, before anything,
    // and the plan is not made (making it asks every 500 segments).
    let asked = AtomicUsize::new(0);
    let stop = || {
        asked.fetch_add(1, Ordering::SeqCst);
        false
    };
    assert_eq!(
        store.write_plan(&plan, &stop).await.unwrap(),
        PlanWritten::Recorded(job_id)
    );
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    assert_eq!(snapshot(&store, job_id).await, recorded);

    // A database from before the digest: the plan is made and compared
    // once (equal: nothing written), and the digest recorded.
    sqlx::query("UPDATE jobs SET plan_inputs = NULL")
        .execute(&store.pool)
        .await
        .unwrap();
    let asked = AtomicUsize::new(0);
    let stop = || {
        asked.fetch_add(1, Ordering::SeqCst);
        false
    };
    store.write_plan(&plan, &stop).await.unwrap();
    assert!(asked.load(Ordering::SeqCst) > 1);
    assert_eq!(snapshot(&store, job_id).await, recorded);
    let digest: Option<String> = sqlx::query_scalar("SELECT plan_inputs FROM jobs")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(digest, plan.inputs_digest());

    // A job key that changes how the text is split plans again, though the
    // manuscript is the same.
    let (mut job, manuscript) = job_for(dir.path(), &book(""));
    job.manuscript.limits.max_chars = 12;
    let before = store.segments(job_id).await.unwrap().len();
    store
        .write_plan(&Plan::new(&job, &manuscript), &|| false)
        .await
        .unwrap();
    let after = store.segments(job_id).await.unwrap();
    assert!(
        after.len() > before,
        "{} segments, {before} before",
        after.len()
    );
    assert!(after.iter().all(|s| s.text.chars().count() <= 12));
}
