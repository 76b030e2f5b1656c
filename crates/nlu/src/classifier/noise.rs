//! Built-in out-of-domain material for the classifier's implicit "none" class: generic sentences,
//! word salad from common words and letter gibberish, generated with a fixed seed.

const SENTENCES: &str = include_str!("../../data/ml/none_sentences.txt");
const WORDS: &str = include_str!("../../data/ml/noise_words.txt");

/// SplitMix64: tiny deterministic generator (no need for a crate for a few hundred draws).
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

fn lines(src: &str) -> impl Iterator<Item = &str> {
    src.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// `n` out-of-domain texts: all built-in sentences first, then alternating word salad and
/// letter gibberish.
pub(crate) fn none_texts(n: usize, seed: u64) -> Vec<String> {
    let mut out: Vec<String> = lines(SENTENCES).take(n).map(str::to_string).collect();
    let vocab: Vec<&str> = lines(WORDS).flat_map(str::split_whitespace).collect();
    let mut rng = SplitMix::new(seed);
    let mut i = 0usize;
    while out.len() < n {
        let len = 2 + rng.below(6);
        let mut words = Vec::with_capacity(len);
        for _ in 0..len {
            if i % 3 == 2 {
                let wl = 2 + rng.below(7);
                let w: String = (0..wl)
                    .map(|_| (b'a' + rng.below(26) as u8) as char)
                    .collect();
                words.push(w);
            } else if let Some(w) = vocab.get(rng.below(vocab.len())) {
                words.push((*w).to_string());
            }
        }
        out.push(words.join(" "));
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_sized() {
        let a = none_texts(300, 7);
        assert_eq!(a.len(), 300);
        assert_eq!(a, none_texts(300, 7));
        assert_eq!(a[0], "how far is the moon from the earth");
    }
}
