//! `manifest.json`: the SHA-256 and size of every cached file, written atomically.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::SpeechError;

pub const MANIFEST_FILE: &str = "manifest.json";
const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentEntry {
    /// `package==version` the files came from.
    pub source: String,
    /// Files relative to the component directory (`/`-separated).
    pub files: BTreeMap<String, FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub components: BTreeMap<String, ComponentEntry>,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            format: FORMAT,
            components: BTreeMap::new(),
        }
    }
}

impl Manifest {
    /// Read `<root>/manifest.json`; `Ok(None)` if it does not exist.
    pub fn load(root: &Path) -> Result<Option<Manifest>, SpeechError> {
        let path = root.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
            SpeechError::Model(format!(
                "model manifest {} is unreadable ({e}); delete it and run `switchboard models fetch`",
                path.display()
            ))
        })?;
        if m.format != FORMAT {
            return Err(SpeechError::Model(format!(
                "model manifest {} has format {} (expected {FORMAT}); run `switchboard models fetch`",
                path.display(),
                m.format
            )));
        }
        Ok(Some(m))
    }

    /// Write atomically: temp file in the same directory, fsync, rename.
    pub fn save(&self, root: &Path) -> Result<(), SpeechError> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| SpeechError::Other(format!("serialise manifest: {e}")))?;
        let tmp = root.join(format!(".{MANIFEST_FILE}.{}.tmp", std::process::id()));
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, root.join(MANIFEST_FILE))?;
        Ok(())
    }
}

/// SHA-256 (lower-case hex) and size of a file.
pub fn hash_file(path: &Path) -> std::io::Result<FileEntry> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(FileEntry {
        sha256: hex(&hasher.finalize()),
        size,
    })
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// How thoroughly to check a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Existence and size only (fast).
    Size,
    /// Size and SHA-256.
    Full,
}

/// Check every file of a component under `dir`; the error names the first bad file and says
/// how to repair the cache.
pub fn verify_component(
    dir: &Path,
    entry: &ComponentEntry,
    check: Check,
) -> Result<(), SpeechError> {
    for (rel, want) in &entry.files {
        let path: PathBuf = dir.join(rel);
        let fix = || {
            format!(
                "delete {} and run `switchboard models fetch` again",
                dir.display()
            )
        };
        let meta = std::fs::metadata(&path).map_err(|_| {
            SpeechError::Model(format!(
                "model file {} is missing; {}",
                path.display(),
                fix()
            ))
        })?;
        if meta.len() != want.size {
            return Err(SpeechError::Model(format!(
                "model file {} is corrupt (size {} != {}); {}",
                path.display(),
                meta.len(),
                want.size,
                fix()
            )));
        }
        if check == Check::Full {
            let got = hash_file(&path)?;
            if got.sha256 != want.sha256 {
                return Err(SpeechError::Model(format!(
                    "model file {} is corrupt (sha256 {} != {}); {}",
                    path.display(),
                    got.sha256,
                    want.sha256,
                    fix()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_encodes() {
        assert_eq!(hex(&[0x00, 0xab, 0x10]), "00ab10");
    }

    #[test]
    fn sha256_of_known_text() {
        let dir = std::env::temp_dir().join(format!("sb-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("abc.txt");
        std::fs::write(&p, b"abc").unwrap();
        let e = hash_file(&p).unwrap();
        assert_eq!(
            e.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(e.size, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
