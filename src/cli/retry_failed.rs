//! `audiobook retry-failed`: puts a job's permanently failed segments (and
//! those the service answered with silence) back to pending, under the run lock, so the next render tries them again.

use super::args::{OverrideArgs, RetryArgs};
use super::common::{load_job_files, open_existing_store, take_lock};
use super::{CliError, Exit};

pub(super) async fn run(args: &RetryArgs) -> Result<Exit, CliError> {
    let jobs = load_job_files(&args.jobs, &OverrideArgs::default())?;
    if !args.state.db.is_file() {
        // Says so, without leaving a lock file behind.
        open_existing_store(&args.state.db, &args.state.cache).await?;
    }
    // The lock before opening: opening migrates an older database, which
    // must not race a render doing the same.
    let _lock = take_lock(&args.state.db)?;
    let store = open_existing_store(&args.state.db, &args.state.cache).await?;
    let known = store.jobs().await.map_err(anyhow::Error::from)?;
    for job in jobs {
        let path = job.path.display().to_string();
        let Some(row) = known.iter().find(|r| r.path == path) else {
            return Err(CliError::bad_input(format!(
                "{path}: this job has never been rendered"
            )));
        };
        let n = store
            .retry_failed(row.id)
            .await
            .map_err(anyhow::Error::from)?;
        println!(
            "{}: {n} failed or silent segment(s) will be tried again on the next render",
            job.name
        );
    }
    Ok(Exit::Ok)
}
