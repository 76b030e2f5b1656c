//! The process-wide onnxruntime environment (ort allows exactly one per process).

use std::path::Path;
use std::sync::Mutex;

use ort::environment::Environment;

use crate::error::SpeechError;

/// The environment once created; failures are not cached, so a retry after a fetch works.
static ENV: Mutex<Option<Environment>> = Mutex::new(None);

/// Load onnxruntime from `lib` (the `ORT_DYLIB_PATH` equivalent) and create the environment, once
/// per process. Later calls return the same environment whatever path they pass. Every
/// onnxruntime user in the process must obtain its environment here.
pub fn ort_environment(lib: &Path) -> Result<Environment, SpeechError> {
    let mut slot = ENV.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(env) = slot.as_ref() {
        return Ok(env.clone());
    }
    if !lib.is_file() {
        return Err(SpeechError::Model(format!(
            "onnxruntime library {} is missing; run `switchboard models fetch`",
            lib.display()
        )));
    }
    let env = ort::init_from(lib)
        .map_err(|e| {
            SpeechError::Model(format!(
                "cannot load onnxruntime from {}: {e}",
                lib.display()
            ))
        })?
        .with_name("switchboard")
        .with_telemetry(false)
        .build()
        .map_err(|e| SpeechError::Model(format!("cannot create onnxruntime environment: {e}")))?;
    *slot = Some(env.clone());
    Ok(env)
}
