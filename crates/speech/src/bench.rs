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

/// Average wall time per 20 ms frame of each media-path stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MediaPipelineTimes {
    /// μ-law 8 kHz → i16.
    pub decode: Duration,
    /// 8 kHz → 16 kHz (streaming FFT resampler).
    pub resample: Duration,
    /// earshot VAD (1.25 VAD frames per 20 ms) + endpointer.
    pub vad: Duration,
    /// Sum of the stages.
    pub total: Duration,
}

/// Runs `frames` 20 ms frames of 8 kHz μ-law through decode → resample to 16 kHz → earshot VAD →
/// endpointer (the per-call work of the media path) and returns the average wall time per frame.
/// `frames == 0` returns zero. Input synthesis is not timed.
pub fn media_pipeline(frames: usize) -> Duration {
    media_pipeline_breakdown(frames).total
}

/// Like [`media_pipeline`], timing each stage separately.
pub fn media_pipeline_breakdown(frames: usize) -> MediaPipelineTimes {
    if frames == 0 {
        return MediaPipelineTimes::default();
    }
    let input = synth_ulaw(frames);
    let Ok(mut resampler) = Resampler::new(8000, 16000) else {
        return MediaPipelineTimes::default();
    };
    let mut vad = VadStream::new(EarshotVad::new());
    let Ok(mut ep) = Endpointer::new(EndpointConfig::default(), vad.frame_ms()) else {
        return MediaPipelineTimes::default();
    };
    let mut pcm8 = vec![0i16; frames * FRAME_8K];
    let mut pcm16 = vec![0i16; frames * 2 * FRAME_8K];
    let mut events = 0usize;

    let t0 = Instant::now();
    for (frame, out) in input
        .chunks_exact(FRAME_8K)
        .zip(pcm8.chunks_exact_mut(FRAME_8K))
    {
        let _ = ulaw_decode_into(frame, out);
    }
    let t1 = Instant::now();
    for (frame, out) in pcm8
        .chunks_exact(FRAME_8K)
        .zip(pcm16.chunks_exact_mut(2 * FRAME_8K))
    {
        let _ = resampler.process_i16(frame, out);
    }
    let t2 = Instant::now();
    for frame in pcm16.chunks_exact(2 * FRAME_8K) {
        let _ = vad.push(frame, |t, p| {
            if ep.feed(t, p).is_some() {
                events += 1;
            }
        });
    }
    let t3 = Instant::now();
    std::hint::black_box(events);
    let n = u32::try_from(frames).unwrap_or(u32::MAX);
    let (decode, resample, vad) = ((t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n);
    MediaPipelineTimes {
        decode,
        resample,
        vad,
        total: decode + resample + vad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_pipeline_reports_per_frame_cost() {
        assert_eq!(media_pipeline(0), Duration::ZERO);
        // 10 s of audio.
        let per_frame = media_pipeline(500);
        let b = media_pipeline_breakdown(500);
        println!(
            "media pipeline: {:.1} µs per 20 ms frame = {:.3} % of a core \
             (decode {:.2} µs, resample {:.2} µs, vad+endpoint {:.2} µs)",
            b.total.as_secs_f64() * 1e6,
            b.total.as_secs_f64() / 0.020 * 100.0,
            b.decode.as_secs_f64() * 1e6,
            b.resample.as_secs_f64() * 1e6,
            b.vad.as_secs_f64() * 1e6,
        );
        assert_eq!(b.total, b.decode + b.resample + b.vad);
        assert!(per_frame > Duration::ZERO);
        // Generous bound so debug builds pass; release target is ≤ 40 µs.
        assert!(per_frame < Duration::from_millis(5), "{per_frame:?}");
    }
}
