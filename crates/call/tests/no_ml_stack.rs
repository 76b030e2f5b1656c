//! The call core is built and tested without the ML stack: its dependency tree has no
//! recogniser, synthesiser or neural VAD crate.

use std::process::Command;

#[test]
fn the_call_core_does_not_depend_on_the_speech_engines() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            "sb-call",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"sb-contracts"), "{tree}");
    for ml in [
        "sb-speech",
        "whisper-rs",
        "whisper-rs-sys",
        "ort",
        "ort-sys",
        "earshot",
    ] {
        assert!(!crates.contains(&ml), "sb-call depends on {ml}:\n{tree}");
    }
}
