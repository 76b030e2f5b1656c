//! The files of an export, read from a folder or a ZIP into memory (bounded), keyed by their path
//! relative to the directory that holds `agent.json`.

use super::MAX_FILE_BYTES;
use crate::NluError;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::Path;

const MAX_FILES: usize = 20_000;
const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;

pub struct Files {
    files: BTreeMap<String, Vec<u8>>,
}

impl Files {
    pub fn open(path: &Path) -> Result<Files, NluError> {
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        let all = if meta.is_dir() {
            read_dir(path)?
        } else {
            let file = std::fs::File::open(path).map_err(|e| io(path, e))?;
            read_zip(file, &path.display().to_string())?
        };
        Files::from_map(all, &path.display().to_string())
    }

    /// A ZIP export already in memory; `label` names it in errors.
    pub fn from_zip_bytes(bytes: &[u8], label: &str) -> Result<Files, NluError> {
        Files::from_map(read_zip(std::io::Cursor::new(bytes), label)?, label)
    }

    /// The files of an export by path (as [`Files::open`] reads them from a folder or a ZIP).
    pub fn from_map(all: BTreeMap<String, Vec<u8>>, label: &str) -> Result<Files, NluError> {
        // Find the folder that holds agent.json (exports are sometimes zipped inside a top folder).
        let root = all
            .keys()
            .filter(|k| k.rsplit('/').next() == Some("agent.json"))
            .min_by_key(|k| k.len())
            .map(|k| k.trim_end_matches("agent.json").to_string())
            .ok_or_else(|| {
                NluError::import(label, "no agent.json found: not a Dialogflow ES export")
            })?;
        let files = all
            .into_iter()
            .filter_map(|(k, v)| k.strip_prefix(&root).map(|rel| (rel.to_string(), v)))
            .collect();
        Ok(Files { files })
    }

    pub fn exists(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// JSON files directly under `dir` (e.g. `intents/`), sorted.
    pub fn list(&self, dir: &str) -> Vec<String> {
        self.files
            .keys()
            .filter(|k| {
                k.strip_prefix(dir)
                    .is_some_and(|rest| !rest.contains('/') && rest.ends_with(".json"))
            })
            .cloned()
            .collect()
    }

    /// Parses a file, naming the file and the JSON path of the offending field on error.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<T, NluError> {
        let bytes = self
            .files
            .get(name)
            .ok_or_else(|| NluError::import(name, "file is missing from the export"))?;
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if path.is_empty() || path == "." {
                NluError::import(name, format!("invalid JSON: {inner}"))
            } else {
                NluError::field(name, path, inner.to_string())
            }
        })
    }
}

fn io(path: &Path, e: std::io::Error) -> NluError {
    NluError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

fn read_dir(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, NluError> {
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        if depth > 4 {
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let p = entry.path();
            let ft = entry.file_type().map_err(|e| io(&p, e))?;
            if ft.is_dir() {
                stack.push((p, format!("{prefix}{name}/"), depth + 1));
            } else if ft.is_file() && name.ends_with(".json") {
                let len = entry.metadata().map_err(|e| io(&p, e))?.len();
                if len > MAX_FILE_BYTES as u64 {
                    return Err(NluError::import(
                        format!("{prefix}{name}"),
                        format!("file too large ({len} bytes)"),
                    ));
                }
                total += len;
                if total > MAX_TOTAL_BYTES || out.len() >= MAX_FILES {
                    return Err(NluError::import(
                        root.display().to_string(),
                        "export too large",
                    ));
                }
                out.insert(
                    format!("{prefix}{name}"),
                    std::fs::read(&p).map_err(|e| io(&p, e))?,
                );
            }
        }
    }
    Ok(out)
}

fn read_zip<R: Read + Seek>(reader: R, label: &str) -> Result<BTreeMap<String, Vec<u8>>, NluError> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| NluError::import(label, format!("not a folder or a readable ZIP: {e}")))?;
    if zip.len() > MAX_FILES {
        return Err(NluError::import(label, "ZIP has too many entries"));
    }
    let mut out = BTreeMap::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut f = zip
            .by_index(i)
            .map_err(|e| NluError::import(label, format!("ZIP entry {i}: {e}")))?;
        if !f.is_file() {
            continue;
        }
        let name = f.name().replace('\\', "/");
        if !name.ends_with(".json") || name.split('/').any(|c| c == "..") {
            continue;
        }
        let mut buf = Vec::new();
        let n = (&mut f)
            .take(MAX_FILE_BYTES as u64 + 1)
            .read_to_end(&mut buf)
            .map_err(|e| NluError::import(name.clone(), format!("cannot read from ZIP: {e}")))?;
        if n > MAX_FILE_BYTES {
            return Err(NluError::import(name, "file too large"));
        }
        total += n as u64;
        if total > MAX_TOTAL_BYTES {
            return Err(NluError::import(label, "export too large"));
        }
        out.insert(name, buf);
    }
    Ok(out)
}
