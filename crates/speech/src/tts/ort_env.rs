//! The process-wide onnxruntime environment (ort allows exactly one per process).

use std::path::Path;
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::SpeechError;

static ENV: OnceLock<Result<Environment, String>> = OnceLock::new();

/// Load onnxruntime from `lib` (the `ORT_DYLIB_PATH` equivalent) and create the environment, once
/// per process. Later calls return the same environment whatever path they pass. Every
/// onnxruntime user in the process must obtain its environment here.
pub fn ort_environment(lib: &Path) -> Result<Environment, SpeechError> {
    let res = ENV.get_or_init(|| {
        if !lib.is_file() {
            return Err(format!(
                "onnxruntime library {} is missing; run `switchboard models fetch`",
                lib.display()
            ));
        }
        let builder = ort::init_from(lib).map_err(|e| {
            format!("cannot load onnxruntime from {}: {e}", lib.display())
        })?;
        builder
            .with_name("switchboard")
            .with_telemetry(false)
            .build()
            .map_err(|e| format!("cannot create onnxruntime environment: {e}"))
    });
    res.clone().map_err(SpeechError::Model)
}
