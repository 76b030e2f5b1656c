//! Converted-model cache:
//! `cache_dir/whisper-<sha256 prefix>-<size>-<f16|q8_0>-c<N>.ggml`.
//!
//! The key is the SHA-256 and size of `model.bin`, the weight type and the
//! converter version,
//! so a changed model or converter produces a new file. Writes go to a unique
//! temporary file in the same directory, are fsynced, then renamed into place,
//! so readers never see a partial file and concurrent loaders are harmless.

use std::fs;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::ggml::{self, WeightType};
use crate::error::SpeechError;

/// Bump when the converter's output changes.
pub const CONVERTER_VERSION: u32 = 1;

/// Returns the path of the whisper.cpp model for the CTranslate2 model in
/// `model_dir`, converting it into `cache_dir` first if needed.
pub fn ensure_ggml(
    model_dir: &Path,
    cache_dir: &Path,
    wtype: WeightType,
) -> Result<PathBuf, SpeechError> {
    let bin_path = model_dir.join("model.bin");
    let model_bin = fs::read(&bin_path)
        .map_err(|e| SpeechError::Model(format!("cannot read {}: {e}", bin_path.display())))?;
    let digest = Sha256::digest(&model_bin);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    let name = format!(
        "whisper-{hex}-{}-{}-c{CONVERTER_VERSION}.ggml",
        model_bin.len(),
        wtype.tag()
    );
    let target = cache_dir.join(name);
    if is_valid(&target) {
        return Ok(target);
    }
    let vocab_path = model_dir.join("vocabulary.txt");
    let vocab = fs::read_to_string(&vocab_path)
        .map_err(|e| SpeechError::Model(format!("cannot read {}: {e}", vocab_path.display())))?;
    fs::create_dir_all(cache_dir)?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = cache_dir.join(format!(".whisper-{hex}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let n = ggml::convert(&model_bin, &vocab, wtype, &mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| SpeechError::Io(e.into_error()))?;
        file.sync_all()?;
        fs::rename(&tmp, &target)?;
        tracing::info!(path = %target.display(), tensors = n, "converted whisper model to ggml");
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|()| target)
}

/// A cached file is trusted if it starts with the ggml magic; it was renamed
/// into place only after a complete, synced write.
fn is_valid(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .map(|()| magic == 0x6767_6d6cu32.to_le_bytes())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_model_dir_is_a_model_error() {
        let dir = std::env::temp_dir().join("sb-asr-no-such-model-dir");
        let err = ensure_ggml(&dir, &std::env::temp_dir(), WeightType::F16).unwrap_err();
        assert!(matches!(err, SpeechError::Model(_)), "{err}");
    }

    #[test]
    fn written_file_needs_magic() {
        let p = std::env::temp_dir().join(format!("sb-asr-magic-{}", std::process::id()));
        fs::write(&p, b"nope").unwrap();
        assert!(!is_valid(&p));
        fs::write(&p, 0x6767_6d6cu32.to_le_bytes()).unwrap();
        assert!(is_valid(&p));
        let _ = fs::remove_file(&p);
    }
}
