//! STUB until the engine branch merges.
use crate::provider::Clip;
use std::path::{Path, PathBuf};
pub struct Cache {
    root: PathBuf,
}
#[derive(Debug, Clone)]
pub struct StoredClip {
    pub sha256: String,
    pub samples: u64,
    pub sample_rate: u32,
}
impl Cache {
    pub fn open(root: &Path) -> std::io::Result<Cache> {
        Ok(Cache {
            root: root.to_path_buf(),
        })
    }
    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn clip_path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
    pub fn put(&self, _key: &str, _clip: &Clip) -> std::io::Result<StoredClip> {
        todo!()
    }
    pub fn verify(&self, _key: &str, _sha: &str) -> std::io::Result<bool> {
        todo!()
    }
    pub fn load(&self, _key: &str) -> std::io::Result<Clip> {
        todo!()
    }
}
pub fn content_key(fingerprint: &str, text: &str) -> String {
    format!("{fingerprint}{text}")
}
