//! Text rendering of [`AsrEvalReport`].

use std::fmt;

use super::{AsrEvalReport, ConfigResult, Noise, WerCounts, CATEGORIES};

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

impl ConfigResult {
    /// Utterances whose normalised transcript differs from the reference.
    pub fn errors(&self) -> impl Iterator<Item = &super::ItemResult> {
        self.items.iter().filter(|i| i.counts.errors > 0)
    }
}

impl fmt::Display for AsrEvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "speech benchmark: {} telephone-band utterances ({:.0} s of audio), load average {} \
             -> {}, {:.0} s",
            self.utterances,
            self.corpus_audio_s,
            self.load_before,
            self.load_after,
            self.elapsed.as_secs_f64()
        )?;
        for (name, p) in &self.prompts {
            writeln!(f, "prompt-{name} ({} bytes): {p:?}", p.len())?;
        }
        writeln!(
            f,
            "\nASR (targets: WER <= 8 %, p95 <= 250 ms for a 3 s utterance = 2-4 s bucket)"
        )?;
        write!(f, "{:<36} {:>4} {:>6} |", "config", "n", "WER%")?;
        for c in CATEGORIES {
            write!(f, " {:>7}", c)?;
        }
        writeln!(
            f,
            " | {:>13} {:>13} {:>13} {:>13} | {:>5}",
            "<2s med/p95", "2-4s med/p95", "4-6s med/p95", ">6s med/p95", "RTF"
        )?;
        for c in &self.configs {
            write!(
                f,
                "{:<36} {:>4} {:>6} |",
                c.label,
                c.items.len(),
                pct(c.total.wer())
            )?;
            for (_, w) in &c.per_category {
                if w.ref_words == 0 {
                    write!(f, " {:>7}", "-")?;
                } else {
                    write!(f, " {:>7}", pct(w.wer()))?;
                }
            }
            write!(f, " |")?;
            for b in &c.buckets {
                if b.n == 0 {
                    write!(f, " {:>13}", "-")?;
                } else {
                    write!(f, " {:>13}", format!("{:.0}/{:.0}", b.median_ms, b.p95_ms))?;
                }
            }
            writeln!(f, " | {:>5.3}", c.rtf)?;
        }
        if let Some(best) = self
            .configs
            .iter()
            .filter(|c| !c.label.contains("<2s-only"))
            .min_by(|a, b| a.total.wer().total_cmp(&b.total.wer()))
        {
            writeln!(f, "\nWER by caller condition, {}:", best.label)?;
            let noise = |n: Noise| match n {
                Noise::None => "clean".to_string(),
                Noise::White(db) => format!("white {db:.0} dB"),
                Noise::Babble(db) => format!("babble {db:.0} dB"),
            };
            let mut keys: Vec<String> = Vec::new();
            for i in &best.items {
                let (v, sp, n) = i.condition;
                keys.extend([format!("voice {v}"), format!("speed x{sp}"), noise(n)]);
            }
            keys.sort();
            keys.dedup();
            for k in keys {
                let mut w = WerCounts::default();
                best.items
                    .iter()
                    .filter(|i| {
                        let (v, sp, n) = i.condition;
                        k == format!("voice {v}") || k == format!("speed x{sp}") || k == noise(n)
                    })
                    .for_each(|i| w.add(i.counts));
                writeln!(f, "  {k:<28} {:>5}% of {} words", pct(w.wer()), w.ref_words)?;
            }
            writeln!(f, "\nerrors of the most accurate config, {}:", best.label)?;
            for i in best.errors() {
                writeln!(
                    f,
                    "  {:<28} {:.1}s  ref {:?}  hyp {:?}",
                    i.id, i.audio_s, i.reference, i.hypothesis
                )?;
            }
        }
        if !self.tts.is_empty() {
            writeln!(f, "\nPiper TTS (median of runs):")?;
            for t in &self.tts {
                writeln!(
                    f,
                    "  first audio {:>5.0} ms  RTF {:.3}  {:?}",
                    t.first_audio.as_secs_f64() * 1000.0,
                    t.rtf,
                    t.text
                )?;
            }
        }
        if let Some(m) = &self.media {
            writeln!(
                f,
                "\nmedia pipeline per 20 ms frame: {:.1} µs (decode {:.2}, resample {:.2}, \
                 vad+endpoint {:.2}) = {:.3} % of a core",
                m.total.as_secs_f64() * 1e6,
                m.decode.as_secs_f64() * 1e6,
                m.resample.as_secs_f64() * 1e6,
                m.vad.as_secs_f64() * 1e6,
                m.total.as_secs_f64() / 0.02 * 100.0
            )?;
        }
        Ok(())
    }
}
