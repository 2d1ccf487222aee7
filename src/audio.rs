//! STUB until the engine branch merges.
use std::path::{Path, PathBuf};
pub enum StitchSource {
    Clip(PathBuf),
    Silence { ms: u32 },
}
pub struct StitchItem {
    pub source: StitchSource,
    pub ends_paragraph: bool,
}
pub struct Placed {
    pub start: u64,
    pub end: u64,
}
pub struct ChapterAudio {
    pub samples: u64,
    pub placed: Vec<Placed>,
}
#[derive(Debug, thiserror::Error)]
#[error("audio")]
pub enum AudioError {
    X,
}
pub fn write_chapter(
    _out: &Path,
    _audio: &crate::job::Audio,
    _items: &[StitchItem],
) -> Result<ChapterAudio, AudioError> {
    todo!()
}
pub fn write_book(
    _out: &Path,
    _sample_rate: u32,
    _chapters: &[PathBuf],
) -> Result<u64, AudioError> {
    todo!()
}
pub fn silence_samples(ms: u32, sample_rate: u32) -> u64 {
    (u64::from(ms) * u64::from(sample_rate) + 500) / 1000
}
pub fn layout(_audio: &crate::job::Audio, _items: &[(u64, bool)]) -> ChapterAudio {
    todo!()
}
