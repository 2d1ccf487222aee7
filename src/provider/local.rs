//! STUB until the engine branch merges.
use super::{Clip, ProviderError, SynthRequest, Synthesizer};
use std::path::Path;
pub struct LocalEngine;
impl LocalEngine {
    pub fn new(
        _cache_root: &Path,
        _voice: &crate::job::Voice,
        _sample_rate: u32,
    ) -> Result<Self, ProviderError> {
        todo!()
    }
}
impl Synthesizer for LocalEngine {
    fn fingerprint(&self) -> String {
        String::new()
    }
    async fn synthesize(&self, _r: &SynthRequest) -> Result<Clip, ProviderError> {
        todo!()
    }
}
