//! G.711 and L16: the byte formats phone audio arrives in (Twilio μ-law payloads, Vonage L16
//! frames, G.711 WAV data).
//!
//! Input: raw bytes, read both as codec bytes and as 16-bit samples.
//!
//! Checks: no panic; every μ-law and A-law byte survives decode → encode (μ-law's two zeros
//! become one); a sample comes back within the segment's step (at most 1024), on a stable
//! level, in order; L16 packing round-trips both ways; framing covers the input exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sb_audio::g711::{
    alaw_decode_sample, alaw_encode_sample, ulaw_decode_into, ulaw_decode_sample,
    ulaw_encode_sample,
};
use sb_audio::pcm::frames_20ms_padded;
use sb_audio::{
    alaw_decode, alaw_encode, frames, l16be_from_i16, l16be_to_i16, l16le_from_i16, l16le_to_i16,
    ulaw_decode, ulaw_encode,
};

fuzz_target!(|data: &[u8]| {
    // Bytes → samples → bytes.
    let mu = ulaw_decode(data);
    let mu_back = ulaw_encode(&mu);
    for (&b, &e) in data.iter().zip(&mu_back) {
        // 0x7F is μ-law's negative zero: it decodes to 0, which encodes as 0xFF.
        assert_eq!(e, if b == 0x7F { 0xFF } else { b }, "μ-law byte {b:#04x}");
    }
    assert_eq!(ulaw_decode(&mu_back), mu);
    let a = alaw_decode(data);
    assert_eq!(alaw_encode(&a), data, "A-law bytes");
    let mut out = vec![0i16; data.len()];
    assert_eq!(ulaw_decode_into(data, &mut out), Ok(data.len()));
    assert_eq!(out, mu);
    assert!(ulaw_decode_into(data, &mut [0i16; 0]).is_err() || data.is_empty());

    // Samples → bytes → samples.
    let even = &data[..data.len() & !1];
    let le = l16le_to_i16(even).expect("even length");
    assert_eq!(l16le_from_i16(&le), even);
    let be = l16be_to_i16(even).expect("even length");
    assert_eq!(l16be_from_i16(&be), even);
    if data.len() % 2 == 1 {
        assert!(l16le_to_i16(data).is_err() && l16be_to_i16(data).is_err());
    }
    for &s in &le {
        let u = ulaw_decode_sample(ulaw_encode_sample(s));
        assert!(
            (i32::from(s) - i32::from(u)).abs() <= 1024,
            "μ-law {s} → {u}"
        );
        assert_eq!(
            ulaw_decode_sample(ulaw_encode_sample(u)),
            u,
            "μ-law level is stable"
        );
        let al = alaw_decode_sample(alaw_encode_sample(s));
        assert!(
            (i32::from(s) - i32::from(al)).abs() <= 1024,
            "A-law {s} → {al}"
        );
        assert_eq!(
            alaw_decode_sample(alaw_encode_sample(al)),
            al,
            "A-law level is stable"
        );
    }
    // Companding is monotonic.
    for w in le.windows(2) {
        let (lo, hi) = if w[0] <= w[1] {
            (w[0], w[1])
        } else {
            (w[1], w[0])
        };
        assert!(
            ulaw_decode_sample(ulaw_encode_sample(lo))
                <= ulaw_decode_sample(ulaw_encode_sample(hi))
        );
        assert!(
            alaw_decode_sample(alaw_encode_sample(lo))
                <= alaw_decode_sample(alaw_encode_sample(hi))
        );
    }

    // Framing at the phone rates.
    for rate in [8000, 16000, 24000] {
        let (whole, rest) = frames(&le, rate, 20).expect("20 ms frames");
        let n = rate as usize / 50;
        assert!(whole.iter().all(|f| f.len() == n) && rest.len() < n);
        assert_eq!(whole.len() * n + rest.len(), le.len());
        match frames_20ms_padded(&le, rate) {
            Ok(f) => {
                assert_eq!(f.len(), le.len().div_ceil(n));
                assert_eq!(f.concat()[..le.len()], le[..]);
            }
            Err(_) => assert!(le.is_empty()),
        }
    }
});
