//! SSML reading (`sb_contracts::ssml::read`): webhook and agent replies are spoken through it,
//! including the `say-as` readings (numbers, dates, times, telephone). The TTS normaliser's
//! regex passes (`normalize_for_speech`) are left out: they cost four times the reader.
//!
//! Input: the reply text (lossy UTF-8).
//!
//! Checks: no panic (the reader promises never to fail); spoken words never contain `<` or `>`
//! and are trimmed and non-empty; silences are within 0 < ms ≤ MAX_BREAK_MS; rates stay in
//! [0.25, 4]; neighbouring pieces are merged; writing the pieces back as SSML reads back to the
//! same pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;

use sb_contracts::ssml::{is_ssml, pieces_of, read, to_ssml, Piece, Reading, MAX_BREAK_MS};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let reading = read(&text);
    check(&reading);
    let plain = pieces_of(&text);
    check(&plain);
    if !is_ssml(&text) {
        assert!(plain.warning.is_none());
    }

    if reading.warning.is_none() {
        let again = read(&to_ssml(&reading.pieces));
        assert_eq!(again.warning, None, "{:?}", to_ssml(&reading.pieces));
        assert_eq!(
            again.pieces.len(),
            reading.pieces.len(),
            "{:?}",
            to_ssml(&reading.pieces)
        );
        for (a, b) in again.pieces.iter().zip(&reading.pieces) {
            match (a, b) {
                (Piece::Speech { text: t1, rate: r1 }, Piece::Speech { text: t2, rate: r2 }) => {
                    assert_eq!(t1, t2);
                    assert!((r1 - r2).abs() <= 1e-3 * r2, "rate {r1} vs {r2}");
                }
                (a, b) => assert_eq!(a, b),
            }
        }
    }
});

fn check(r: &Reading) {
    let mut prev: Option<&Piece> = None;
    for p in &r.pieces {
        match p {
            Piece::Speech { text, rate } => {
                assert!(!text.contains(['<', '>']), "markup in words: {text:?}");
                assert!(!text.is_empty() && text.trim() == text);
                assert!((0.25..=4.0).contains(rate), "rate {rate}");
                if let Some(Piece::Speech { rate: r0, .. }) = prev {
                    assert_ne!(r0, rate, "unmerged speech");
                }
            }
            Piece::Silence { ms } => {
                assert!(*ms > 0 && *ms <= MAX_BREAK_MS);
                assert!(
                    !matches!(prev, Some(Piece::Silence { .. })),
                    "unmerged silence"
                );
            }
            Piece::Audio { fallback, .. } => {
                assert!(!fallback.contains(['<', '>']));
            }
        }
        prev = Some(p);
    }
}
