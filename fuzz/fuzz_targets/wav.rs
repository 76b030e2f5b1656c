//! WAV decoding (`sb_audio::read_wav`): uploaded or fetched audio clips, test recordings.
//!
//! Input: the file's bytes.
//!
//! Checks: no panic, bounded memory; decoded audio has a non-zero rate; 16-bit PCM written from
//! it reads back to the same samples, and so does μ-law (as μ-law decodes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_audio::{f32_to_i16, read_wav, ulaw_decode, ulaw_encode, write_ulaw_wav, write_wav_i16};

fuzz_target!(|data: &[u8]| {
    let Ok(wav) = read_wav(data) else {
        return;
    };
    assert!(wav.rate > 0);
    if wav.samples.len() > 100_000 {
        return;
    }
    let pcm = f32_to_i16(&wav.samples);
    let Ok(written) = write_wav_i16(&pcm, wav.rate) else {
        // Only a rate whose byte rate does not fit the header is refused.
        assert!(wav.rate > u32::MAX / 2, "rate {}", wav.rate);
        return;
    };
    let back = read_wav(&written).expect("read our own 16-bit WAV");
    assert_eq!(back.rate, wav.rate);
    assert_eq!(f32_to_i16(&back.samples), pcm);

    let mu = read_wav(&write_ulaw_wav(&pcm, wav.rate).expect("write μ-law"))
        .expect("read our own μ-law WAV");
    assert_eq!(mu.rate, wav.rate);
    assert_eq!(f32_to_i16(&mu.samples), ulaw_decode(&ulaw_encode(&pcm)));
});
