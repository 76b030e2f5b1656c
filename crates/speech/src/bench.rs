//! Micro-benchmark of the per-call media path, used by `switchboard bench`.

use std::time::{Duration, Instant};

use sb_audio::g711::{ulaw_decode_into, ulaw_encode_sample};
use sb_audio::Resampler;

use crate::vad::{EarshotVad, EndpointConfig, Endpointer, VadStream};

/// μ-law bytes in one 20 ms frame at 8 kHz.
const FRAME_8K: usize = 160;

/// Deterministic test signal: a 200 Hz harmonic "voiced" buzz that switches on and off every
/// second, over low-level pseudo-random noise, μ-law encoded at 8 kHz.
fn synth_ulaw(n_frames: usize) -> Vec<u8> {
    let mut seed: u32 = 0x1234_5678;
    (0..n_frames * FRAME_8K)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = ((seed >> 16) as f32 / 65536.0 - 0.5) * 600.0;
            let t = i as f32 / 8000.0;
            let voiced = (i / 8000) % 2 == 1;
            let buzz = if voiced {
                (1..=8)
                    .map(|h| (2.0 * std::f32::consts::PI * 200.0 * h as f32 * t).sin() / h as f32)
                    .sum::<f32>()
                    * 6000.0
            } else {
                0.0
            };
            ulaw_encode_sample((buzz + noise) as i16)
        })
        .collect()
}

/// Runs `frames` 20 ms frames of 8 kHz μ-law through decode → resample to 16 kHz → earshot VAD →
/// endpointer (the per-call work of the media path) and returns the average wall time per frame.
/// `frames == 0` returns zero. Input synthesis is not timed.
pub fn media_pipeline(frames: usize) -> Duration {
    if frames == 0 {
        return Duration::ZERO;
    }
    let input = synth_ulaw(frames);
    let Ok(mut resampler) = Resampler::new(8000, 16000) else {
        return Duration::ZERO;
    };
    let mut vad = VadStream::new(EarshotVad::new());
    let Ok(mut ep) = Endpointer::new(EndpointConfig::default(), vad.frame_ms()) else {
        return Duration::ZERO;
    };
    let mut pcm8 = [0i16; FRAME_8K];
    let mut pcm16 = [0i16; 2 * FRAME_8K];
    let mut events = 0usize;
    let started = Instant::now();
    for frame in input.chunks_exact(FRAME_8K) {
        if ulaw_decode_into(frame, &mut pcm8).is_err() {
            continue;
        }
        if resampler.process_i16(&pcm8, &mut pcm16).is_err() {
            continue;
        }
        let _ = vad.push(&pcm16, |t, p| {
            if ep.feed(t, p).is_some() {
                events += 1;
            }
        });
    }
    let elapsed = started.elapsed();
    std::hint::black_box(events);
    elapsed / u32::try_from(frames).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_pipeline_reports_per_frame_cost() {
        assert_eq!(media_pipeline(0), Duration::ZERO);
        // 10 s of audio.
        let per_frame = media_pipeline(500);
        println!(
            "media pipeline: {:.1} µs per 20 ms frame = {:.3} % of a core",
            per_frame.as_secs_f64() * 1e6,
            per_frame.as_secs_f64() / 0.020 * 100.0
        );
        assert!(per_frame > Duration::ZERO);
        // Generous bound so debug builds pass; release target is ≤ 40 µs.
        assert!(per_frame < Duration::from_millis(5), "{per_frame:?}");
    }
}
