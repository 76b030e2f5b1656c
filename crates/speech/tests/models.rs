//! Model store tests. The real cache (`$SWITCHBOARD_MODELS` or the default) is fetched on first
//! use; corruption tests run on a scratch store that links to it.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use sb_speech::models::ModelStore;
use sb_speech::SpeechError;

fn real_store() -> &'static ModelStore {
    static S: OnceLock<ModelStore> = OnceLock::new();
    S.get_or_init(|| {
        let s = ModelStore::from_env();
        s.ensure(&|line| eprintln!("{line}"))
            .expect("models available");
        s
    })
}

fn scratch(name: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("sb-models-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p).unwrap();
    p
}

/// A store whose component dirs are symlinks into the real cache, except `piper/`, whose
/// small files are copies (so they can be corrupted safely).
fn linked_store(name: &str) -> ModelStore {
    let real = &real_store().root;
    let root = scratch(name);
    std::fs::copy(real.join("manifest.json"), root.join("manifest.json")).unwrap();
    for dir in ["whisper-tiny.en", "onnxruntime", "espeak-ng"] {
        std::os::unix::fs::symlink(real.join(dir), root.join(dir)).unwrap();
    }
    let piper = root.join("piper");
    std::fs::create_dir(&piper).unwrap();
    std::os::unix::fs::symlink(
        real.join("piper/en_US-joe-medium.onnx"),
        piper.join("en_US-joe-medium.onnx"),
    )
    .unwrap();
    for f in ["en_US-joe-medium.onnx.json", "MODEL_CARD"] {
        std::fs::copy(real.join("piper").join(f), piper.join(f)).unwrap();
    }
    ModelStore::at(root)
}

fn model_err(r: Result<impl std::fmt::Debug, SpeechError>) -> String {
    match r {
        Err(SpeechError::Model(m)) => m,
        other => panic!("expected SpeechError::Model, got {other:?}"),
    }
}

#[test]
fn real_store_verifies_and_lists_files() {
    let p = real_store().paths().unwrap();
    for f in [
        &p.piper_model,
        &p.piper_config,
        &p.onnxruntime_lib,
        &p.espeak_lib,
    ] {
        assert!(f.is_file(), "{}", f.display());
    }
    assert!(p.whisper_dir.join("model.bin").is_file());
    assert!(p.espeak_data.join("phontab").is_file());
}

#[test]
fn second_fetch_only_checks() {
    let store = real_store();
    let lines = std::sync::Mutex::new(Vec::<String>::new());
    let before = std::fs::read(store.root.join("manifest.json")).unwrap();
    let paths = store
        .fetch(&|l| lines.lock().unwrap().push(l.to_string()))
        .unwrap();
    let lines = lines.into_inner().unwrap();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines.iter().all(|l| l.ends_with("ok (cached)")),
        "{lines:?}"
    );
    assert_eq!(
        before,
        std::fs::read(store.root.join("manifest.json")).unwrap()
    );
    assert_eq!(paths, store.paths().unwrap());
}

#[test]
fn corrupt_file_is_named_in_the_error() {
    let store = linked_store("corrupt");
    store.verify().expect("pristine copy verifies");
    let cfg = store.root.join("piper/en_US-joe-medium.onnx.json");
    let mut bytes = std::fs::read(&cfg).unwrap();
    bytes[10] ^= 0x20; // same size, different content → caught by SHA-256
    std::fs::write(&cfg, &bytes).unwrap();
    let msg = model_err(store.paths());
    assert!(msg.contains(&cfg.display().to_string()), "{msg}");
    assert!(msg.contains("corrupt") && msg.contains("sha256"), "{msg}");
    assert!(msg.contains("switchboard models fetch"), "{msg}");

    bytes.push(b'\n'); // size change
    std::fs::write(&cfg, &bytes).unwrap();
    let msg = model_err(store.verify());
    assert!(msg.contains("size"), "{msg}");
    cleanup(&store.root);
}

#[test]
fn missing_file_is_named_in_the_error() {
    let store = linked_store("missing");
    let card = store.root.join("piper/MODEL_CARD");
    std::fs::remove_file(&card).unwrap();
    let msg = model_err(store.verify());
    assert!(
        msg.contains("missing") && msg.contains(&card.display().to_string()),
        "{msg}"
    );
    cleanup(&store.root);
}

#[test]
fn empty_store_says_how_to_fix() {
    let root = scratch("empty");
    let msg = model_err(ModelStore::at(&root).paths());
    assert!(msg.contains("run `switchboard models fetch`"), "{msg}");
    std::fs::write(root.join("manifest.json"), b"{not json").unwrap();
    let msg = model_err(ModelStore::at(&root).paths());
    assert!(msg.contains("manifest"), "{msg}");
    cleanup(&root);
}

#[test]
fn whisper_dir_override() {
    let real = real_store();
    let good = real.paths().unwrap().whisper_dir;
    let store = ModelStore::at(&real.root).with_whisper_dir(&good);
    assert_eq!(store.paths().unwrap().whisper_dir, good);
    let bad = scratch("no-whisper");
    let msg = model_err(ModelStore::at(&real.root).with_whisper_dir(&bad).paths());
    assert!(msg.contains(&bad.display().to_string()), "{msg}");
    cleanup(&bad);
}

fn cleanup(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
}
