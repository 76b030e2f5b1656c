//! WAV I/O: read any PCM/float (via hound) or G.711 (format 6/7, parsed here) file to mono
//! f32; write 16-bit PCM (hound) or μ-law (format 7, header written here).

use std::io::Cursor;

use crate::g711::{alaw_decode_sample, ulaw_decode_sample, ulaw_encode};
use crate::pcm::{sample_f32_to_i16, sample_i16_to_f32};
use crate::{check_len, AudioError, Result, MAX_SAMPLES};

const FORMAT_ALAW: u16 = 6;
const FORMAT_ULAW: u16 = 7;
const MAX_CHANNELS: u16 = 16;

/// Decoded WAV audio: mono samples in [-1, 1] and the sample rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Wav {
    pub samples: Vec<f32>,
    pub rate: u32,
}

fn wav_err(e: impl std::fmt::Display) -> AudioError {
    AudioError::Wav(e.to_string())
}

/// Reads a WAV file image (PCM 8/16/24/32-bit, float 32, μ-law, A-law; any channel count)
/// and downmixes to mono f32 by averaging channels.
pub fn read_wav(bytes: &[u8]) -> Result<Wav> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    if let Some(w) = read_g711_wav(bytes)? {
        return Ok(w);
    }
    let reader = hound::WavReader::new(Cursor::new(bytes)).map_err(wav_err)?;
    let spec = reader.spec();
    let channels = spec.channels;
    if channels == 0 || channels > MAX_CHANNELS {
        return Err(AudioError::Wav(format!("{channels} channels")));
    }
    if spec.sample_rate == 0 {
        return Err(AudioError::UnsupportedRate(0));
    }
    check_len(reader.len() as usize)?;
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .into_samples::<f32>()
            .collect::<std::result::Result<_, _>>()
            .map_err(wav_err)?,
        hound::SampleFormat::Int => {
            let bits = spec.bits_per_sample;
            if bits == 0 || bits > 32 {
                return Err(AudioError::Wav(format!("{bits} bits per sample")));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<std::result::Result<_, _>>()
                .map_err(wav_err)?
        }
    };
    Ok(Wav {
        samples: downmix(&interleaved, usize::from(channels)),
        rate: spec.sample_rate,
    })
}

fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|c| c.iter().sum::<f32>() / channels as f32)
        .collect()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Parses a RIFF/WAVE image whose format tag is G.711; `Ok(None)` for other formats.
fn read_g711_wav(bytes: &[u8]) -> Result<Option<Wav>> {
    if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
        return Err(AudioError::Wav("not a RIFF/WAVE file".into()));
    }
    let mut pos = 12usize;
    let mut fmt: Option<(u16, u16, u32, u16)> = None;
    while let (Some(id), Some(size)) = (bytes.get(pos..pos + 4), u32_at(bytes, pos + 4)) {
        let body = pos + 8;
        let size = size as usize;
        match id {
            b"fmt " => {
                let tag = u16_at(bytes, body).ok_or_else(|| wav_err("short fmt chunk"))?;
                if tag != FORMAT_ULAW && tag != FORMAT_ALAW {
                    return Ok(None);
                }
                let channels = u16_at(bytes, body + 2).ok_or_else(|| wav_err("short fmt"))?;
                let rate = u32_at(bytes, body + 4).ok_or_else(|| wav_err("short fmt"))?;
                let bits = u16_at(bytes, body + 14).ok_or_else(|| wav_err("short fmt"))?;
                fmt = Some((tag, channels, rate, bits));
            }
            b"data" => {
                let Some((tag, channels, rate, bits)) = fmt else {
                    return Err(wav_err("data chunk before fmt chunk"));
                };
                if bits != 8 {
                    return Err(AudioError::Wav(format!("G.711 with {bits} bits")));
                }
                if channels == 0 || channels > MAX_CHANNELS {
                    return Err(AudioError::Wav(format!("{channels} channels")));
                }
                if rate == 0 {
                    return Err(AudioError::UnsupportedRate(0));
                }
                // Tolerate a data size larger than the file (streamed WAVs): use what is there.
                let end = body.saturating_add(size).min(bytes.len());
                let data = bytes.get(body..end).unwrap_or(&[]);
                check_len(data.len())?;
                let decode = if tag == FORMAT_ULAW {
                    ulaw_decode_sample
                } else {
                    alaw_decode_sample
                };
                let interleaved: Vec<f32> =
                    data.iter().map(|&b| sample_i16_to_f32(decode(b))).collect();
                return Ok(Some(Wav {
                    samples: downmix(&interleaved, usize::from(channels)),
                    rate,
                }));
            }
            _ => {}
        }
        pos = body.saturating_add(size).saturating_add(size & 1);
    }
    if fmt.is_some() {
        Err(wav_err("no data chunk"))
    } else {
        // No fmt chunk found by the scan: let hound produce its own diagnosis.
        Ok(None)
    }
}

/// Writes mono 16-bit PCM WAV. The rate must be non-zero and its byte rate (2 × rate) fit the
/// header's 32 bits.
pub fn write_wav_i16(samples: &[i16], rate: u32) -> Result<Vec<u8>> {
    check_len(samples.len())?;
    if rate == 0 || rate > u32::MAX / 2 {
        return Err(AudioError::UnsupportedRate(rate));
    }
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    {
        let mut w = hound::WavWriter::new(&mut cursor, spec).map_err(wav_err)?;
        let mut w16 = w.get_i16_writer(samples.len() as u32);
        for &s in samples {
            w16.write_sample(s);
        }
        w16.flush().map_err(wav_err)?;
        w.finalize().map_err(wav_err)?;
    }
    Ok(cursor.into_inner())
}

/// Writes mono f32 samples as 16-bit PCM WAV (rounded, saturated).
pub fn write_wav_f32(samples: &[f32], rate: u32) -> Result<Vec<u8>> {
    let pcm: Vec<i16> = samples.iter().map(|&s| sample_f32_to_i16(s)).collect();
    write_wav_i16(&pcm, rate)
}

/// Writes mono μ-law WAV (WAVE_FORMAT_MULAW = 7, 8 bits, with `fact` chunk).
pub fn write_ulaw_wav(samples: &[i16], rate: u32) -> Result<Vec<u8>> {
    if rate == 0 {
        return Err(AudioError::UnsupportedRate(0));
    }
    if samples.len() > MAX_SAMPLES {
        return Err(AudioError::TooLarge {
            len: samples.len(),
            max: MAX_SAMPLES,
        });
    }
    let data = ulaw_encode(samples);
    let n = data.len() as u32; // bounded by MAX_SAMPLES < u32::MAX
    let pad = n & 1;
    let mut out = Vec::with_capacity(58 + data.len() + 1);
    out.extend_from_slice(b"RIFF");
    // "WAVE" + fmt(8+18) + fact(8+4) + data(8+n+pad)
    out.extend_from_slice(&(4 + 26 + 12 + 8 + n + pad).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&18u32.to_le_bytes());
    out.extend_from_slice(&FORMAT_ULAW.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // channels
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes()); // byte rate = rate * 1 byte
    out.extend_from_slice(&1u16.to_le_bytes()); // block align
    out.extend_from_slice(&8u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(&0u16.to_le_bytes()); // cbSize
    out.extend_from_slice(b"fact");
    out.extend_from_slice(&4u32.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&data);
    if pad == 1 {
        out.push(0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pcm16_round_trip() {
        let s = [0i16, 1, -1, 32767, -32768, 1234];
        let bytes = write_wav_i16(&s, 16000).unwrap();
        assert_eq!(bytes.len(), 44 + 12);
        assert_eq!(&bytes[0..4], b"RIFF");
        let w = read_wav(&bytes).unwrap();
        assert_eq!(w.rate, 16000);
        let back: Vec<i16> = w.samples.iter().map(|&x| sample_f32_to_i16(x)).collect();
        assert_eq!(back, s);
    }

    #[test]
    fn stereo_24bit_and_float_downmix() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 22050,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut c = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
        for s in [4_194_304i32, 0, -8_388_608, -8_388_608] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let wav = read_wav(c.get_ref()).unwrap();
        assert_eq!(
            wav,
            Wav {
                samples: vec![0.25, -1.0],
                rate: 22050
            }
        );

        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut c = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut c, spec).unwrap();
        w.write_sample(0.5f32).unwrap();
        w.finalize().unwrap();
        assert_eq!(read_wav(c.get_ref()).unwrap().samples, vec![0.5]);
    }

    #[test]
    fn ulaw_wav_layout_and_round_trip() {
        let s = [0i16, 120, -120, 32767, -32768];
        let bytes = write_ulaw_wav(&s, 8000).unwrap();
        // 12 RIFF header + 26 fmt + 12 fact + 8 data header + 5 data + 1 pad
        assert_eq!(bytes.len(), 64);
        assert_eq!(u32_at(&bytes, 4), Some(56));
        assert_eq!(u16_at(&bytes, 20), Some(7));
        assert_eq!(u32_at(&bytes, 46), Some(5)); // fact: sample count
        assert_eq!(&bytes[50..54], b"data");
        assert_eq!(&bytes[58..63], &[0xFF, 0xF0, 0x70, 0x80, 0x00]);
        let w = read_wav(&bytes).unwrap();
        assert_eq!(w.rate, 8000);
        let back: Vec<i16> = w.samples.iter().map(|&x| sample_f32_to_i16(x)).collect();
        assert_eq!(back, vec![0, 120, -120, 32124, -32124]);
    }

    #[test]
    fn alaw_wav_is_read() {
        let mut bytes = write_ulaw_wav(&[0, 0], 8000).unwrap();
        bytes[20] = 6; // switch format tag to A-law; data 0xFF,0xFF = A-law -> ±? value
        let w = read_wav(&bytes).unwrap();
        // A-law 0xFF: ^0x55 = 0xAA -> sign set, seg 2, mantissa 10 -> (0xA0+0x108)<<1 = 848.
        assert_eq!(w.samples, vec![848.0 / 32768.0; 2]);
    }

    #[test]
    fn bad_wavs_are_errors() {
        assert_eq!(read_wav(&[]), Err(AudioError::Empty));
        assert!(matches!(read_wav(b"RIFX0000WAVE"), Err(AudioError::Wav(_))));
        assert!(matches!(
            read_wav(b"RIFF\0\0\0\0WAVE"),
            Err(AudioError::Wav(_))
        ));
        let good = write_wav_i16(&[1, 2, 3], 8000).unwrap();
        assert!(read_wav(&good[..30]).is_err());
        let mut ulaw = write_ulaw_wav(&[1, 2, 3], 8000).unwrap();
        ulaw[34] = 16; // bits per sample
        assert!(matches!(read_wav(&ulaw), Err(AudioError::Wav(_))));
        assert_eq!(write_wav_i16(&[0], 0), Err(AudioError::UnsupportedRate(0)));
        // A rate read from a file can be any u32; its byte rate must still fit the header
        // (hound multiplied it unchecked: a panic with overflow checks, a wrong header without).
        assert_eq!(
            write_wav_i16(&[0], u32::MAX),
            Err(AudioError::UnsupportedRate(u32::MAX))
        );
        let top = u32::MAX / 2;
        let wav = write_wav_i16(&[7], top).unwrap();
        assert_eq!(u32_at(&wav, 28), Some(top * 2), "byte rate");
        assert_eq!(read_wav(&wav).unwrap().rate, top);
        // Truncated μ-law data is read as far as present.
        let ulaw = write_ulaw_wav(&[0; 10], 8000).unwrap();
        assert_eq!(read_wav(&ulaw[..60]).unwrap().samples.len(), 2);
    }

    /// Deterministic mutation fuzzing: corrupted headers and sizes must give errors, not panics.
    #[test]
    fn mutated_inputs_never_panic() {
        let seeds = [
            write_wav_i16(&[1, -2, 3, -4, 5], 8000).unwrap(),
            write_ulaw_wav(&[1, -2, 3, -4, 5], 8000).unwrap(),
        ];
        let mut x: u32 = 12345;
        let mut next = || {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 8) as usize
        };
        let mut ok = 0;
        for i in 0..4000 {
            let mut b = seeds[i % 2].clone();
            for _ in 0..1 + next() % 4 {
                let pos = next() % b.len();
                b[pos] = next() as u8;
            }
            b.truncate(1 + next() % b.len());
            if read_wav(&b).is_ok() {
                ok += 1;
            }
        }
        // Some mutations only touch sample data or padding and still parse.
        assert!(ok > 0);
    }
}
