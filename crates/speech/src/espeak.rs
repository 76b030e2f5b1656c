//! Minimal run-time binding to libespeak-ng (loaded with `libloading` from the model store).
//!
//! libespeak-ng keeps global state and is not thread-safe, so the process has exactly one
//! [`Espeak`] engine (a `'static` singleton) and every call goes through its mutex. Phonemisation
//! is fast (sub-millisecond per clause); neural synthesis never runs under this lock.

use std::ffi::{c_char, c_int, c_short, c_uint, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::SpeechError;

const AUDIO_OUTPUT_SYNCHRONOUS: c_int = 2;
const ESPEAK_INITIALIZE_DONT_EXIT: c_int = 0x8000;
const ESPEAK_CHARS_UTF8: c_int = 1;
const ESPEAK_PHONEMES_IPA: c_int = 0x02;
const POS_CHARACTER: c_int = 1;
const EE_OK: c_int = 0;

type InitializeFn = unsafe extern "C" fn(c_int, c_int, *const c_char, c_int) -> c_int;
type SetVoiceByNameFn = unsafe extern "C" fn(*const c_char) -> c_int;
type TextToPhonemesFn = unsafe extern "C" fn(*mut *const c_void, c_int, c_int) -> *const c_char;
type SynthCallback = unsafe extern "C" fn(*mut c_short, c_int, *mut c_void) -> c_int;
type SetSynthCallbackFn = unsafe extern "C" fn(SynthCallback);
type SynthFn = unsafe extern "C" fn(
    *const c_void,
    usize,
    c_uint,
    c_int,
    c_uint,
    c_uint,
    *mut c_uint,
    *mut c_void,
) -> c_int;

/// One clause as espeak-ng split it, with the punctuation that ended it recovered from the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// IPA phonemes of the clause (words separated by spaces), without terminator.
    pub phonemes: String,
    /// The source text espeak consumed for this clause (trimmed).
    pub text: String,
    /// Clause punctuation: one of `, . ? ! ; :` if the clause ended with it.
    pub terminator: Option<char>,
    /// True if the clause ends a sentence (`.`, `?`, `!`, or end of input).
    pub end_of_sentence: bool,
}

struct Inner {
    _lib: libloading::Library,
    set_voice: SetVoiceByNameFn,
    text_to_phonemes: TextToPhonemesFn,
    synth: SynthFn,
    voice: Option<String>,
}

// SAFETY: the raw function pointers are only called while the mutex is held.
unsafe impl Send for Inner {}

/// The process-wide libespeak-ng engine.
pub struct Espeak {
    inner: Mutex<Inner>,
    sample_rate: u32,
    lib_path: PathBuf,
}

/// The loaded engine; failures are not cached, so a later call can succeed after a fetch.
static ENGINE: Mutex<Option<&'static Espeak>> = Mutex::new(None);

/// Raw pointer to the sink of the `espeak_Synth` call running on this thread.
type SinkPtr = *mut (dyn FnMut(&[i16]) -> bool + 'static);

thread_local! {
    static SYNTH_SINK: std::cell::Cell<Option<SinkPtr>> = const { std::cell::Cell::new(None) };
}

unsafe extern "C" fn synth_callback(wav: *mut c_short, n: c_int, _events: *mut c_void) -> c_int {
    let Some(sink) = SYNTH_SINK.with(|s| s.get()) else {
        return 1;
    };
    if wav.is_null() || n <= 0 {
        return 0;
    }
    // SAFETY: espeak hands us `n` valid samples; the sink pointer is set by `synth` for the
    // duration of the synchronous espeak_Synth call on this same thread.
    let samples = unsafe { std::slice::from_raw_parts(wav as *const i16, n as usize) };
    let keep_going = unsafe { (*sink)(samples) };
    if keep_going {
        0
    } else {
        1
    }
}

impl Espeak {
    /// Load (once per process) libespeak-ng from `lib` with voice data in `data_dir`
    /// (the `espeak-ng-data` directory). Later calls return the same engine.
    pub fn load(lib: &Path, data_dir: &Path) -> Result<&'static Espeak, SpeechError> {
        let mut slot = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(engine) = *slot {
            if engine.lib_path != lib {
                tracing::warn!(
                    loaded = %engine.lib_path.display(),
                    requested = %lib.display(),
                    "libespeak-ng already loaded from another path; reusing it"
                );
            }
            return Ok(engine);
        }
        // Leaked on purpose: libespeak-ng's global state lives for the whole process.
        let engine: &'static Espeak = Box::leak(Box::new(Self::open(lib, data_dir)?));
        *slot = Some(engine);
        Ok(engine)
    }

    fn open(lib_path: &Path, data_dir: &Path) -> Result<Espeak, SpeechError> {
        if !data_dir.join("phontab").is_file() {
            return Err(SpeechError::Model(format!(
                "espeak-ng data not found at {} (run `switchboard models fetch`)",
                data_dir.display()
            )));
        }
        // SAFETY: loading a shared library runs its initialisers; libespeak-ng's are benign.
        let lib = unsafe { libloading::Library::new(lib_path) }.map_err(|e| {
            SpeechError::Model(format!(
                "cannot load libespeak-ng from {}: {e} (run `switchboard models fetch`)",
                lib_path.display()
            ))
        })?;
        let sym_err = |name: &str, e: libloading::Error| {
            SpeechError::Model(format!(
                "libespeak-ng at {} lacks {name}: {e}",
                lib_path.display()
            ))
        };
        // SAFETY: the signatures match espeak-ng's speak_lib.h (API stable since 1.48).
        let (init, set_voice, text_to_phonemes, set_cb, synth) = unsafe {
            let init: InitializeFn = *lib
                .get::<InitializeFn>(b"espeak_Initialize\0")
                .map_err(|e| sym_err("espeak_Initialize", e))?;
            let set_voice: SetVoiceByNameFn = *lib
                .get::<SetVoiceByNameFn>(b"espeak_SetVoiceByName\0")
                .map_err(|e| sym_err("espeak_SetVoiceByName", e))?;
            let ttp: TextToPhonemesFn = *lib
                .get::<TextToPhonemesFn>(b"espeak_TextToPhonemes\0")
                .map_err(|e| sym_err("espeak_TextToPhonemes", e))?;
            let set_cb: SetSynthCallbackFn = *lib
                .get::<SetSynthCallbackFn>(b"espeak_SetSynthCallback\0")
                .map_err(|e| sym_err("espeak_SetSynthCallback", e))?;
            let synth: SynthFn = *lib
                .get::<SynthFn>(b"espeak_Synth\0")
                .map_err(|e| sym_err("espeak_Synth", e))?;
            (init, set_voice, ttp, set_cb, synth)
        };
        let data = path_cstring(data_dir)?;
        // SAFETY: valid NUL-terminated path; DONT_EXIT makes failures return an error code.
        let rate = unsafe {
            init(
                AUDIO_OUTPUT_SYNCHRONOUS,
                0,
                data.as_ptr(),
                ESPEAK_INITIALIZE_DONT_EXIT,
            )
        };
        if rate <= 0 {
            return Err(SpeechError::Model(format!(
                "espeak_Initialize failed ({rate}) with data {}; delete {} and run `switchboard models fetch`",
                data_dir.display(),
                data_dir.display()
            )));
        }
        // SAFETY: registering a plain extern "C" callback.
        unsafe { set_cb(synth_callback) };
        Ok(Espeak {
            inner: Mutex::new(Inner {
                _lib: lib,
                set_voice,
                text_to_phonemes,
                synth,
                voice: None,
            }),
            sample_rate: rate as u32,
            lib_path: lib_path.to_path_buf(),
        })
    }

    /// Output sample rate of [`Espeak::synth`] (22050 Hz for stock builds).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave espeak half-updated in a way we rely on.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Split `text` into clauses and phonemise each (IPA), as espeak-ng does for Piper.
    pub fn clauses(&self, voice: &str, text: &str) -> Result<Vec<Clause>, SpeechError> {
        let clean: String = text.chars().filter(|c| *c != '\0').collect();
        let c_text = CString::new(clean.as_bytes())
            .map_err(|e| SpeechError::Other(format!("text contains NUL: {e}")))?;
        let mut inner = self.lock();
        inner.select_voice(voice)?;
        let base = c_text.as_ptr() as *const u8;
        let len = clean.len();
        let mut ptr: *const c_void = base as *const c_void;
        let mut out = Vec::new();
        let mut start = 0usize;
        while !ptr.is_null() && start < len {
            // SAFETY: ptr points into c_text (NUL-terminated); espeak advances it or sets NULL.
            let ph = unsafe {
                (inner.text_to_phonemes)(&mut ptr, ESPEAK_CHARS_UTF8, ESPEAK_PHONEMES_IPA)
            };
            let end = if ptr.is_null() {
                len
            } else {
                let off = (ptr as usize).saturating_sub(base as usize).min(len);
                clause_boundary(&clean, start, floor_char_boundary(&clean, off))
            };
            if end <= start && !ptr.is_null() {
                // No progress: bail out rather than loop forever.
                break;
            }
            let phonemes = if ph.is_null() {
                String::new()
            } else {
                // SAFETY: espeak returns a NUL-terminated static buffer valid until next call.
                unsafe { CStr::from_ptr(ph) }.to_string_lossy().into_owned()
            };
            let segment = &clean[start..end.max(start)];
            let terminator = clause_terminator(segment);
            let paragraph = segment.trim_start().ends_with("\n\n")
                || segment.trim_end_matches([' ', '\t']).ends_with("\n\n");
            out.push(Clause {
                phonemes: strip_language_flags(phonemes.trim()),
                text: segment.trim().to_string(),
                terminator,
                end_of_sentence: matches!(terminator, Some('.' | '?' | '!'))
                    || paragraph
                    || ptr.is_null(),
            });
            start = end;
        }
        Ok(out)
    }

    /// Synthesise `text` with espeak's own formant voice, feeding 16-bit mono samples at
    /// [`Espeak::sample_rate`] to `sink` (return false to stop). Returns false if cancelled.
    /// Holds the engine lock for the duration: use for the fallback voice only.
    pub fn synth(
        &self,
        voice: &str,
        text: &str,
        sink: &mut dyn FnMut(&[i16]) -> bool,
    ) -> Result<bool, SpeechError> {
        let clean: String = text.chars().filter(|c| *c != '\0').collect();
        let c_text = CString::new(clean.as_bytes())
            .map_err(|e| SpeechError::Other(format!("text contains NUL: {e}")))?;
        let mut inner = self.lock();
        inner.select_voice(voice)?;
        let mut cancelled = false;
        let mut wrapped = |s: &[i16]| {
            let go = sink(s);
            if !go {
                cancelled = true;
            }
            go
        };
        let dyn_ref: &mut dyn FnMut(&[i16]) -> bool = &mut wrapped;
        // SAFETY: the pointer is only dereferenced by `synth_callback` on this thread while
        // espeak_Synth runs (synchronous mode), and cleared before `wrapped` goes out of scope.
        let raw: SinkPtr =
            unsafe { std::mem::transmute(dyn_ref as *mut (dyn FnMut(&[i16]) -> bool + '_)) };
        SYNTH_SINK.with(|s| s.set(Some(raw)));
        let rc = unsafe {
            (inner.synth)(
                c_text.as_ptr() as *const c_void,
                clean.len() + 1,
                0,
                POS_CHARACTER,
                0,
                ESPEAK_CHARS_UTF8 as c_uint,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        SYNTH_SINK.with(|s| s.set(None));
        // espeak returns EE_INTERRUPTED-like codes when the callback aborts; that is a cancel.
        if rc != EE_OK && !cancelled {
            return Err(SpeechError::Other(format!("espeak_Synth failed ({rc})")));
        }
        Ok(!cancelled)
    }
}

impl Inner {
    fn select_voice(&mut self, voice: &str) -> Result<(), SpeechError> {
        if self.voice.as_deref() == Some(voice) {
            return Ok(());
        }
        let name = CString::new(voice)
            .map_err(|_| SpeechError::Other(format!("bad espeak voice name {voice:?}")))?;
        // SAFETY: valid C string; called under the engine mutex.
        let rc = unsafe { (self.set_voice)(name.as_ptr()) };
        if rc != EE_OK {
            self.voice = None;
            return Err(SpeechError::Model(format!(
                "espeak-ng voice {voice:?} not available ({rc})"
            )));
        }
        self.voice = Some(voice.to_string());
        Ok(())
    }
}

fn path_cstring(p: &Path) -> Result<CString, SpeechError> {
    let s = p
        .to_str()
        .ok_or_else(|| SpeechError::Model(format!("non-UTF-8 path {}", p.display())))?;
    CString::new(s).map_err(|_| SpeechError::Model(format!("path contains NUL: {s:?}")))
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»')
}

/// Where the clause espeak just read really ends. espeak's text pointer runs ahead of the
/// clause by a look-ahead character or two, so the clause ends right after the last
/// clause punctuation (plus closing quotes) in `text[start..off]` that is followed by
/// whitespace. Without such punctuation (long-clause or paragraph split) a single look-ahead
/// character after the last whitespace is handed back to the next clause.
pub fn clause_boundary(text: &str, start: usize, off: usize) -> usize {
    let segment = &text[start..off];
    let chars: Vec<(usize, char)> = segment.char_indices().collect();
    for k in (0..chars.len()).rev() {
        let (_, c) = chars[k];
        if !matches!(c, ',' | '.' | '?' | '!' | ';' | ':' | '…') {
            continue;
        }
        let mut j = k + 1;
        while j < chars.len() && is_closing(chars[j].1) {
            j += 1;
        }
        let end = start + chars.get(j).map_or(segment.len(), |(i, _)| *i);
        match text[end..].chars().next() {
            None => return end,
            Some(n) if n.is_whitespace() => return end,
            _ => {}
        }
    }
    match chars.iter().rposition(|(_, c)| c.is_whitespace()) {
        Some(w) if w + 2 == chars.len() => start + chars[w + 1].0,
        _ => off,
    }
}

/// The clause punctuation that ends `segment`, ignoring trailing spaces and closing quotes.
pub fn clause_terminator(segment: &str) -> Option<char> {
    let trimmed = segment.trim_end_matches(|c: char| c.is_whitespace() || is_closing(c));
    match trimmed.chars().last()? {
        c @ (',' | '.' | '?' | '!' | ';' | ':') => Some(c),
        '…' => Some('.'),
        _ => None,
    }
}

/// Remove espeak's language-switch flags such as `(fr)` … `(en)` from a phoneme string.
pub fn strip_language_flags(phonemes: &str) -> String {
    let mut out = String::with_capacity(phonemes.len());
    let mut depth = 0usize;
    for c in phonemes.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminator_recovery() {
        assert_eq!(clause_terminator("this, "), Some(','));
        assert_eq!(clause_terminator("He said \"hi.\" "), Some('.'));
        assert_eq!(clause_terminator("what?"), Some('?'));
        assert_eq!(clause_terminator("no punctuation"), None);
        assert_eq!(clause_terminator(""), None);
    }

    #[test]
    fn boundary_undoes_espeak_look_ahead() {
        let t = "this, is: a; test.";
        assert_eq!(&t[..clause_boundary(t, 0, 7)], "this,");
        let t = "Test 1. Test 2.";
        assert_eq!(&t[..clause_boundary(t, 0, 9)], "Test 1.");
        let t = "He said \"hi.\" Then";
        assert_eq!(&t[..clause_boundary(t, 0, 15)], "He said \"hi.\"");
        // "1.5" is not a boundary; with no punctuation boundary drop one look-ahead char.
        let t = "pi is 3.14 and so on";
        assert_eq!(&t[..clause_boundary(t, 0, 15)], "pi is 3.14 and ");
        assert_eq!(clause_boundary(t, 0, t.len()), t.len());
    }

    #[test]
    fn flags_are_stripped() {
        assert_eq!(strip_language_flags("(fr)bɔ̃ʒˈuʁ(en) wˈʌn"), "bɔ̃ʒˈuʁ wˈʌn");
        assert_eq!(strip_language_flags("tˈɛst"), "tˈɛst");
    }
}
