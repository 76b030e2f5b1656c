//! ITU-T G.711 μ-law and A-law companding (the segment/mantissa algorithm of the
//! reference implementation; decoded values are the ITU table's reconstruction levels).

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// Encodes one 16-bit linear sample to a μ-law byte.
pub fn ulaw_encode_sample(sample: i16) -> u8 {
    let mut s = i32::from(sample);
    let sign: u8 = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    s = s.min(ULAW_CLIP) + ULAW_BIAS;
    // Segment = position of the highest set bit above bit 7 (0..=7).
    let exponent = (31 - (s as u32).leading_zeros()).saturating_sub(7).min(7) as u8;
    let mantissa = ((s >> (exponent + 3)) & 0x0F) as u8;
    !(sign | (exponent << 4) | mantissa)
}

/// Decodes one μ-law byte to a 16-bit linear sample.
pub fn ulaw_decode_sample(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0F);
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    // magnitude <= 32124, always fits in i16.
    let v = if u & 0x80 != 0 { -magnitude } else { magnitude };
    v as i16
}

/// Encodes one 16-bit linear sample to an A-law byte.
pub fn alaw_encode_sample(sample: i16) -> u8 {
    let mut pcm = i32::from(sample) >> 3; // 13-bit magnitude domain
    let mask: u8 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    // Segment end points of the 13-bit input.
    let seg = if pcm <= 0x1F {
        0
    } else {
        (32 - (pcm as u32).leading_zeros()).saturating_sub(5).min(8)
    };
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let mut aval = (seg as u8) << 4;
    aval |= if seg < 2 {
        ((pcm >> 1) & 0x0F) as u8
    } else {
        ((pcm >> seg) & 0x0F) as u8
    };
    aval ^ mask
}

/// Decodes one A-law byte to a 16-bit linear sample.
pub fn alaw_decode_sample(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    // t <= 32256, always fits in i16.
    let v = if a & 0x80 != 0 { t } else { -t };
    v as i16
}

/// Encodes 16-bit linear PCM to μ-law bytes.
pub fn ulaw_encode(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| ulaw_encode_sample(s)).collect()
}

/// Decodes μ-law bytes to 16-bit linear PCM.
pub fn ulaw_decode(bytes: &[u8]) -> Vec<i16> {
    bytes.iter().map(|&b| ulaw_decode_sample(b)).collect()
}

/// Decodes μ-law bytes into a caller-provided buffer (no allocation); returns samples written.
pub fn ulaw_decode_into(bytes: &[u8], out: &mut [i16]) -> crate::Result<usize> {
    if out.len() < bytes.len() {
        return Err(crate::AudioError::OutputTooSmall {
            needed: bytes.len(),
            got: out.len(),
        });
    }
    for (o, &b) in out.iter_mut().zip(bytes) {
        *o = ulaw_decode_sample(b);
    }
    Ok(bytes.len())
}

/// Encodes 16-bit linear PCM to A-law bytes.
pub fn alaw_encode(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| alaw_encode_sample(s)).collect()
}

/// Decodes A-law bytes to 16-bit linear PCM.
pub fn alaw_decode(bytes: &[u8]) -> Vec<i16> {
    bytes.iter().map(|&b| alaw_decode_sample(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_vectors() {
        // ITU-T G.711 Table 2a end points and zero.
        assert_eq!(ulaw_decode_sample(0xFF), 0);
        assert_eq!(ulaw_decode_sample(0x7F), 0);
        assert_eq!(ulaw_decode_sample(0x00), -32124);
        assert_eq!(ulaw_decode_sample(0x80), 32124);
        // Segment 0 top, segment 1/2 bottoms (16-bit scale = 4 x the 14-bit table).
        assert_eq!(ulaw_decode_sample(0xF0), 120);
        assert_eq!(ulaw_decode_sample(0xEF), 132);
        assert_eq!(ulaw_decode_sample(0xDF), 396);
        assert_eq!(ulaw_decode_sample(0x70), -120);
        assert_eq!(ulaw_decode_sample(0xA0), 7932);
        assert_eq!(ulaw_encode_sample(0), 0xFF);
        assert_eq!(ulaw_encode_sample(-1), 0x7F);
        assert_eq!(ulaw_encode_sample(32767), 0x80);
        assert_eq!(ulaw_encode_sample(-32768), 0x00);
        assert_eq!(ulaw_encode_sample(120), 0xF0);
        assert_eq!(ulaw_encode_sample(-120), 0x70);
        assert_eq!(ulaw_encode_sample(8031), 0xA0);
    }

    #[test]
    fn alaw_known_vectors() {
        assert_eq!(alaw_decode_sample(0xD5), 8);
        assert_eq!(alaw_decode_sample(0x55), -8);
        assert_eq!(alaw_decode_sample(0xAA), 32256);
        assert_eq!(alaw_decode_sample(0x2A), -32256);
        assert_eq!(alaw_decode_sample(0xC5), 264);
        assert_eq!(alaw_encode_sample(0), 0xD5);
        assert_eq!(alaw_encode_sample(-1), 0x55);
        assert_eq!(alaw_encode_sample(32767), 0xAA);
        assert_eq!(alaw_encode_sample(-32768), 0x2A);
        assert_eq!(alaw_encode_sample(264), 0xC5);
    }

    #[test]
    fn every_code_is_a_fixed_point() {
        for b in 0..=255u8 {
            let back = ulaw_encode_sample(ulaw_decode_sample(b));
            // 0x7F (negative zero) re-encodes as 0xFF (positive zero).
            let expect = if b == 0x7F { 0xFF } else { b };
            assert_eq!(back, expect, "ulaw {b:#04x}");
            assert_eq!(
                alaw_encode_sample(alaw_decode_sample(b)),
                b,
                "alaw {b:#04x}"
            );
        }
    }

    /// Quantisation error is at most half a step of the sample's segment, i.e. about
    /// |x|/32; beyond the largest level the error is the clipping distance.
    #[test]
    fn round_trip_error_bounds() {
        let mut worst_u = 0i32;
        let mut worst_a = 0i32;
        for x in i16::MIN..=i16::MAX {
            let xi = i32::from(x);
            let eu = (i32::from(ulaw_decode_sample(ulaw_encode_sample(x))) - xi).abs();
            let ea = (i32::from(alaw_decode_sample(alaw_encode_sample(x))) - xi).abs();
            // Relative bound inside the companded range: |err| <= |x|/32 + 8 (μ) and |x|/32 + 16 (A);
            // outside it the error is the clip distance.
            if xi.abs() <= 32124 {
                assert!(eu <= xi.abs() / 32 + 8, "ulaw x={x} err={eu}");
            }
            if xi.abs() <= 32256 {
                assert!(ea <= xi.abs() / 32 + 16, "alaw x={x} err={ea}");
            }
            worst_u = worst_u.max(eu);
            worst_a = worst_a.max(ea);
        }
        assert_eq!(worst_u, 32768 - 32124);
        assert_eq!(worst_a, 32768 - 32256);
    }

    #[test]
    fn ulaw_decode_into_checks_capacity() {
        let mut out = [0i16; 2];
        assert!(ulaw_decode_into(&[0xFF, 0x00, 0x80], &mut out).is_err());
        assert_eq!(ulaw_decode_into(&[0x00, 0x80], &mut out), Ok(2));
        assert_eq!(out, [-32124, 32124]);
    }
}
