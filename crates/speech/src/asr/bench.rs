//! Latency measurement for any [`Asr`]: per-utterance median/p95 and RTF.

use std::time::Instant;

use super::{Asr, AsrOptions};
use crate::error::SpeechError;

/// Timings of one utterance over `reps` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct UtteranceTiming {
    pub name: String,
    pub audio_s: f64,
    pub median_ms: f64,
    pub p95_ms: f64,
    /// median time / audio duration.
    pub rtf: f64,
    pub text: String,
}

/// Result of [`bench_asr`].
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub utterances: Vec<UtteranceTiming>,
    /// Over every run of every utterance.
    pub median_ms: f64,
    pub p95_ms: f64,
    /// Sum of time / sum of audio over all runs.
    pub rtf: f64,
}

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples; 0 if empty.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

/// Transcribes each `(name, pcm_16k)` once to warm up, then `reps` times,
/// timing each call.
pub fn bench_asr(
    asr: &dyn Asr,
    utterances: &[(String, Vec<f32>)],
    opts: &AsrOptions,
    reps: usize,
) -> Result<BenchReport, SpeechError> {
    let reps = reps.max(1);
    let (mut all, mut total_ms, mut total_audio_s) = (Vec::new(), 0.0, 0.0);
    let mut out = Vec::with_capacity(utterances.len());
    for (name, pcm) in utterances {
        let text = asr.transcribe(pcm, opts)?.text;
        let audio_s = pcm.len() as f64 / 16_000.0;
        let mut ms = Vec::with_capacity(reps);
        for _ in 0..reps {
            let t = Instant::now();
            asr.transcribe(pcm, opts)?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        total_ms += ms.iter().sum::<f64>();
        total_audio_s += audio_s * reps as f64;
        let median_ms = percentile(&ms, 50.0);
        out.push(UtteranceTiming {
            name: name.clone(),
            audio_s,
            median_ms,
            p95_ms: percentile(&ms, 95.0),
            rtf: median_ms / 1000.0 / audio_s,
            text,
        });
        all.extend(ms);
    }
    Ok(BenchReport {
        utterances: out,
        median_ms: percentile(&all, 50.0),
        p95_ms: percentile(&all, 95.0),
        rtf: if total_audio_s > 0.0 {
            total_ms / 1000.0 / total_audio_s
        } else {
            0.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asr::Transcript;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 10.0);
        assert_eq!(percentile(&v, 95.0), 19.0);
        assert_eq!(percentile(&v, 100.0), 20.0);
        assert_eq!(percentile(&[3.0], 95.0), 3.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }

    struct Echo;
    impl Asr for Echo {
        fn transcribe(&self, pcm: &[f32], _: &AsrOptions) -> Result<Transcript, SpeechError> {
            crate::asr::validate_pcm(pcm)?;
            Ok(Transcript {
                text: format!("{} samples", pcm.len()),
                confidence: 1.0,
                words: Vec::new(),
            })
        }
    }

    #[test]
    fn reports_every_utterance_and_propagates_errors() {
        let utts = vec![
            ("a".to_string(), vec![0.0; 16_000]),
            ("b".into(), vec![0.0; 8_000]),
        ];
        let r = bench_asr(&Echo, &utts, &AsrOptions::default(), 3).unwrap();
        assert_eq!(r.utterances.len(), 2);
        assert_eq!(r.utterances[1].text, "8000 samples");
        assert_eq!(r.utterances[1].audio_s, 0.5);
        let bad = vec![("c".to_string(), vec![])];
        assert!(bench_asr(&Echo, &bad, &AsrOptions::default(), 1).is_err());
    }
}
