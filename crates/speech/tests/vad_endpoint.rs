//! End-pointing on a real (synthesised) phone utterance: espeak-ng speech, 8 kHz μ-law,
//! white noise at 20 dB SNR (see tests/data/make_vad_fixture.py). The truth comes from the
//! clean recording's energy; the endpointer must find both utterances within ±150 ms.

use sb_audio::{read_wav, Resampler};
use sb_speech::vad::{EarshotVad, EndpointConfig, EndpointEvent, Endpointer, VadStream};

const CLEAN: &[u8] = include_bytes!("data/vad_clean_8k_ulaw.wav");
const NOISY: &[u8] = include_bytes!("data/vad_noisy_8k_ulaw.wav");
const TOLERANCE_MS: i64 = 150;

/// Utterances in the clean file: 10 ms frames above -40 dBFS RMS, gaps < 600 ms merged.
fn truth(samples: &[f32], rate: u32) -> Vec<(i64, i64)> {
    let hop = rate as usize / 100;
    let mut segs: Vec<(i64, i64)> = Vec::new();
    for (i, f) in samples.chunks(hop).enumerate() {
        let rms = (f.iter().map(|x| x * x).sum::<f32>() / f.len() as f32).sqrt();
        if rms > 0.01 {
            let (s, e) = (i as i64 * 10, i as i64 * 10 + 10);
            match segs.last_mut() {
                Some(last) if s - last.1 < 600 => last.1 = e,
                _ => segs.push((s, e)),
            }
        }
    }
    segs
}

/// The media path: 20 ms frames at 8 kHz → 16 kHz → earshot → endpointer.
fn endpoint(samples: &[f32], rate: u32) -> Vec<EndpointEvent> {
    assert_eq!(rate, 8000);
    let mut rs = Resampler::new(8000, 16000).unwrap();
    // The resampler delays its output by `delay` samples: shift VAD times back by that much.
    let delay_ms = (rs.delay() as u64 * 1000 / 16000) as i64;
    let mut vad = VadStream::new(EarshotVad::new());
    let mut ep = Endpointer::new(EndpointConfig::default(), vad.frame_ms()).unwrap();
    let mut events = Vec::new();
    let mut out = [0.0f32; 320];
    let mut pcm = [0i16; 320];
    for frame in samples.chunks_exact(160) {
        rs.process(frame, &mut out).unwrap();
        for (d, s) in pcm.iter_mut().zip(out) {
            *d = (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
        }
        vad.push(&pcm, |t, p| events.extend(ep.feed(t, p))).unwrap();
    }
    events.extend(ep.finish());
    events
        .into_iter()
        .map(|e| match e {
            EndpointEvent::SpeechStarted {
                at_ms,
                capture_from_ms,
            } => EndpointEvent::SpeechStarted {
                at_ms: (at_ms as i64 - delay_ms).max(0) as u64,
                capture_from_ms,
            },
            EndpointEvent::SpeechEnded { start_ms, end_ms } => EndpointEvent::SpeechEnded {
                start_ms: (start_ms as i64 - delay_ms).max(0) as u64,
                end_ms: (end_ms as i64 - delay_ms).max(0) as u64,
            },
            other => other,
        })
        .collect()
}

#[test]
fn endpointer_finds_both_utterances_in_noise() {
    let clean = read_wav(CLEAN).unwrap();
    let noisy = read_wav(NOISY).unwrap();
    assert_eq!(clean.rate, 8000);
    assert_eq!(clean.samples.len(), noisy.samples.len());
    let truth = truth(&clean.samples, clean.rate);
    assert_eq!(
        truth.len(),
        2,
        "fixture should hold two utterances: {truth:?}"
    );

    for (name, wav) in [("clean", &clean), ("noisy", &noisy)] {
        let events = endpoint(&wav.samples, wav.rate);
        let found: Vec<(i64, i64)> = events
            .iter()
            .filter_map(|e| match *e {
                EndpointEvent::SpeechEnded { start_ms, end_ms } => {
                    Some((start_ms as i64, end_ms as i64))
                }
                _ => None,
            })
            .collect();
        println!("{name}: truth {truth:?} found {found:?}");
        assert_eq!(found.len(), 2, "{name}: {events:?}");
        for (t, f) in truth.iter().zip(&found) {
            assert!(
                (t.0 - f.0).abs() <= TOLERANCE_MS,
                "{name} start: truth {t:?} found {f:?}"
            );
            assert!(
                (t.1 - f.1).abs() <= TOLERANCE_MS,
                "{name} end: truth {t:?} found {f:?}"
            );
        }
        let starts = events
            .iter()
            .filter(|e| matches!(e, EndpointEvent::SpeechStarted { .. }))
            .count();
        assert_eq!(starts, 2, "{name}");
    }
}
