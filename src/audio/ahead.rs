//! Reading a stream a few blocks ahead on a second thread, so that decoding
//! a chapter's clips and what is done with the samples (measuring,
//! mastering, encoding) run on two cores at once. It matters most at the
//! end of a cloud render: the last chapter is measured and encoded after
//! the service's last answer, and that time is the run's tail.
//!
//! The samples, their order and their errors are exactly the stream's:
//! only the thread that decodes changes.

use std::sync::mpsc;

use super::AudioError;

/// Samples per block handed across: 64 KiB of audio. Small enough that the
/// blocks in flight (at most [`AHEAD`] + 2) never matter for memory, large
/// enough that the hand-over costs nothing beside decoding.
const AHEAD_BLOCK: usize = 32 * 1024;
/// Blocks decoded ahead of the reader.
const AHEAD: usize = 2;

/// Runs `consume` with a reader of what `read` yields, `read` running on a
/// scoped thread. A reader fills what it is given and returns how many
/// samples it wrote (0 at the end), as [`super::ChapterStream::read`] does.
/// If `consume` stops early (a sink failed), the decoding thread stops at
/// its next block.
pub fn read_ahead<R, T>(
    read: R,
    consume: impl FnOnce(&mut dyn FnMut(&mut [i16]) -> Result<usize, AudioError>) -> T,
) -> T
where
    R: FnMut(&mut [i16]) -> Result<usize, AudioError> + Send,
{
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Vec<i16>, AudioError>>(AHEAD);
        let (empty_tx, empty_rx) = mpsc::channel::<Vec<i16>>();
        scope.spawn(move || decode_blocks(read, &full_tx, &empty_rx));
        let mut current: Vec<i16> = Vec::new();
        let mut pos = 0;
        let mut ended = false;
        let mut reader = |out: &mut [i16]| -> Result<usize, AudioError> {
            let mut filled = 0;
            while filled < out.len() {
                if pos == current.len() {
                    if ended {
                        break;
                    }
                    match full_rx.recv() {
                        Ok(Ok(block)) => {
                            let used = std::mem::replace(&mut current, block);
                            // The decoder may be gone already; then the
                            // buffer is simply dropped.
                            let _ = empty_tx.send(used);
                            pos = 0;
                        }
                        Ok(Err(e)) => return Err(e),
                        // The decoder hung up: the stream ended.
                        Err(mpsc::RecvError) => {
                            ended = true;
                            break;
                        }
                    }
                }
                let n = (out.len() - filled).min(current.len() - pos);
                out[filled..filled + n].copy_from_slice(&current[pos..pos + n]);
                filled += n;
                pos += n;
            }
            Ok(filled)
        };
        // The reader, and with it the receiving end, is dropped when this
        // closure returns, before the scope waits for the decoder: a
        // decoder blocked on a full channel then sees the hang-up.
        consume(&mut reader)
    })
}

/// The decoding side: blocks in order until the stream ends, fails, or the
/// reader is gone.
fn decode_blocks<R>(
    mut read: R,
    full: &mpsc::SyncSender<Result<Vec<i16>, AudioError>>,
    empty: &mpsc::Receiver<Vec<i16>>,
) where
    R: FnMut(&mut [i16]) -> Result<usize, AudioError>,
{
    loop {
        let mut block = empty.try_recv().unwrap_or_default();
        block.resize(AHEAD_BLOCK, 0);
        match read(&mut block) {
            Ok(0) => return,
            Ok(n) => {
                block.truncate(n);
                if full.send(Ok(block)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream of `n` samples counting up, read in uneven pieces.
    fn counting(
        n: usize,
        fail_at: Option<usize>,
    ) -> impl FnMut(&mut [i16]) -> Result<usize, AudioError> + Send {
        let mut next = 0usize;
        move |out: &mut [i16]| {
            if fail_at.is_some_and(|at| next >= at) {
                return Err(AudioError::Record(format!("failed at {next}")));
            }
            // Never more than 1000 at a time, as a clip boundary would cut.
            let k = out.len().min(n - next).min(1000);
            for (i, s) in out[..k].iter_mut().enumerate() {
                *s = ((next + i) % 30_000) as i16;
            }
            next += k;
            Ok(k)
        }
    }

    #[test]
    fn every_sample_arrives_in_order_whatever_the_reader_asks_for() {
        let n = 3 * AHEAD_BLOCK + 12_345;
        let got = read_ahead(counting(n, None), |read| {
            let mut all = Vec::new();
            let mut buf = vec![0i16; 7_777];
            loop {
                let k = read(&mut buf).unwrap();
                if k == 0 {
                    break;
                }
                // Only the last read may come back short.
                all.extend_from_slice(&buf[..k]);
                if k < buf.len() {
                    assert_eq!(read(&mut buf).unwrap(), 0);
                    break;
                }
            }
            all
        });
        assert_eq!(got.len(), n);
        assert!(
            got.iter()
                .enumerate()
                .all(|(i, &s)| s == (i % 30_000) as i16)
        );
    }

    #[test]
    fn an_error_arrives_after_the_samples_before_it() {
        let fail_at = AHEAD_BLOCK + 500;
        let (samples, error) = read_ahead(counting(10 * AHEAD_BLOCK, Some(fail_at)), |read| {
            let mut buf = vec![0i16; 4096];
            let mut samples = 0;
            loop {
                match read(&mut buf) {
                    Ok(0) => return (samples, None),
                    Ok(k) => samples += k,
                    Err(e) => return (samples, Some(e.to_string())),
                }
            }
        });
        // The source fails on its first piece (of 1000) at or past
        // `fail_at`; what came before arrives, less the read of 4096 that
        // met the error (a failed read returns no samples, as the stream's
        // own reads do).
        assert!(
            samples + 4096 + 1000 > fail_at && samples <= fail_at + 1000,
            "{samples}"
        );
        assert!(error.is_some_and(|e| e.contains("failed at")));
    }

    #[test]
    fn a_reader_that_stops_early_does_not_hang_the_decoder() {
        let first = read_ahead(counting(100 * AHEAD_BLOCK, None), |read| {
            let mut buf = [0i16; 10];
            read(&mut buf).unwrap();
            buf[9]
        });
        assert_eq!(first, 9);
    }
}
