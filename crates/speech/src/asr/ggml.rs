//! Converter: CTranslate2 Whisper (`WhisperSpec`) → whisper.cpp ggml model file.
//!
//! whisper.cpp file layout (little endian, as its `convert-pt-to-ggml.py` writes):
//! `u32 magic "ggml"`, 11 × `i32` hparams (n_vocab, n_audio_ctx, n_audio_state,
//! n_audio_head, n_audio_layer, n_text_ctx, n_text_state, n_text_head,
//! n_text_layer, n_mels, ftype), mel filters (`i32 n_mel, i32 n_freq`, f32 ×
//! n_mel·n_freq), vocabulary (`i32 n`, then `i32 len` + raw token bytes), then
//! tensors: `i32 n_dims, i32 name_len, i32 type (0 f32, 1 f16)`, dims innermost
//! first, name, data. 2-D+ weights are f16 except positional embeddings;
//! biases, norms and conv biases (shape `[n, 1]`) are f32.
//!
//! CTranslate2 fuses attention projections: self-attention `linear_0` is
//! `[q; k; v]`, cross-attention `linear_1` is `[k; v]`. whisper.cpp has no key
//! bias; CTranslate2 fills it with zeros (and a key bias would only add a
//! per-query constant to the attention logits, which softmax ignores).

use std::io::Write;

use super::ct2::Ct2Model;
use super::mel::mel_filterbank;
use crate::error::SpeechError;

const GGML_MAGIC: u32 = 0x6767_6d6c;

/// Shapes read from the CTranslate2 variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hparams {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

fn model_err(msg: impl Into<String>) -> SpeechError {
    SpeechError::Model(msg.into())
}

fn count_layers(m: &Ct2Model, prefix: &str) -> usize {
    (0..)
        .take_while(|i| m.has(&format!("{prefix}/layer_{i}/ffn/linear_0/weight")))
        .count()
}

fn dims2(m: &Ct2Model, name: &str) -> Result<(usize, usize), SpeechError> {
    match m.var(name)?.shape.as_slice() {
        &[a, b] => Ok((a, b)),
        s => Err(model_err(format!("{name}: expected 2-D, got {s:?}"))),
    }
}

impl Hparams {
    pub fn from_ct2(m: &Ct2Model) -> Result<Self, SpeechError> {
        if m.spec_name != "WhisperSpec" {
            return Err(model_err(format!(
                "expected a Whisper model, found spec {:?}",
                m.spec_name
            )));
        }
        let (n_vocab, emb_dim) = dims2(m, "decoder/embeddings/weight")?;
        let (n_audio_ctx, n_audio_state) = dims2(m, "encoder/position_encodings/encodings")?;
        let (n_text_ctx, n_text_state) = dims2(m, "decoder/position_encodings/encodings")?;
        let conv1 = &m.var("encoder/conv1/weight")?.shape;
        let n_mels = match conv1.as_slice() {
            &[out, mels, 3] if out == n_audio_state => mels,
            s => return Err(model_err(format!("encoder/conv1/weight: bad shape {s:?}"))),
        };
        let heads = |name: &str, state: usize| -> Result<usize, SpeechError> {
            let h = if m.has(name) {
                m.scalar_int(name)?
            } else {
                (state / 64) as i64
            };
            if h <= 0 || !state.is_multiple_of(h as usize) {
                return Err(model_err(format!("{name}: bad head count {h}")));
            }
            Ok(h as usize)
        };
        let hp = Self {
            n_vocab,
            n_audio_ctx,
            n_audio_state,
            n_audio_head: heads("encoder/num_heads", n_audio_state)?,
            n_audio_layer: count_layers(m, "encoder"),
            n_text_ctx,
            n_text_state,
            n_text_head: heads("decoder/num_heads", n_text_state)?,
            n_text_layer: count_layers(m, "decoder"),
            n_mels,
        };
        if emb_dim != n_text_state || n_audio_state != n_text_state {
            return Err(model_err("encoder/decoder widths differ"));
        }
        if hp.n_audio_layer == 0 || hp.n_text_layer == 0 {
            return Err(model_err("model has no layers"));
        }
        for flag in ["decoder/scale_embeddings", "decoder/alibi"] {
            if m.has(flag) && m.scalar_int(flag)? != 0 {
                return Err(model_err(format!("unsupported {flag} = true")));
            }
        }
        Ok(hp)
    }
}

/// GPT-2 byte-level BPE: the printable character that stands for each byte.
fn byte_decoder() -> std::collections::HashMap<char, u8> {
    let mut printable: Vec<u8> = (b'!'..=b'~')
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut chars: Vec<u32> = printable.iter().map(|&b| b as u32).collect();
    let mut n = 0;
    for b in 0..=255u8 {
        if !printable.contains(&b) {
            printable.push(b);
            chars.push(256 + n);
            n += 1;
        }
    }
    chars
        .into_iter()
        .zip(printable)
        .filter_map(|(c, b)| char::from_u32(c).map(|c| (c, b)))
        .collect()
}

/// Decodes `vocabulary.txt` (one byte-level token per line) into raw token
/// bytes, keeping the text tokens up to and including `<|endoftext|>`;
/// whisper.cpp numbers the special tokens after it by itself.
pub fn decode_vocabulary(text: &str) -> Result<Vec<Vec<u8>>, SpeechError> {
    let dec = byte_decoder();
    let mut out = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == "<|endoftext|>" {
            out.push(line.as_bytes().to_vec());
            return Ok(out);
        }
        let mut bytes = Vec::with_capacity(line.len());
        for ch in line.chars() {
            match dec.get(&ch) {
                Some(&b) => bytes.push(b),
                None => {
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        out.push(bytes);
    }
    Err(model_err("vocabulary has no <|endoftext|> token"))
}

/// Storage of the large matrices (attention, MLP, token embedding).
///
/// The default is `Q8_0`: on the generated telephone-band caller set (`sb_speech::eval`,
/// 79 utterances) it is as accurate as `F16` (greedy WER 36.8 % vs 37.2 % with the agent
/// prompt, 50.8 % vs 50.8 % without; differences within the ±2-point run-to-run spread) and
/// about 1.7× faster per utterance on one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightType {
    /// Half precision: the model's own precision.
    F16,
    /// ggml `Q8_0`: blocks of 32 int8 with an f16 scale (≈ 8.5 bits/weight).
    #[default]
    Q8_0,
}

impl WeightType {
    /// whisper.cpp `ftype` header value (`GGML_FTYPE_MOSTLY_*`).
    fn ftype(self) -> usize {
        match self {
            Self::F16 => 1,
            Self::Q8_0 => 7,
        }
    }

    /// Short tag used in cache file names.
    pub fn tag(self) -> &'static str {
        match self {
            Self::F16 => "f16",
            Self::Q8_0 => "q8_0",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Out {
    F32,
    F16,
    /// A large matrix, stored as [`WeightType`].
    Weight,
}

const QK8_0: usize = 32;

/// ggml `quantize_row_q8_0` layout: per 32 values, f16 `d = amax / 127`, then
/// 32 × `round(x / d)` as i8.
fn push_q8_0(buf: &mut Vec<u8>, data: &[f32]) {
    for block in data.chunks(QK8_0) {
        let amax = block.iter().fold(0f32, |m, x| m.max(x.abs()));
        let d = amax / 127.0;
        let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
        buf.extend_from_slice(&half::f16::from_f32(d).to_le_bytes());
        for &x in block {
            buf.push((x * inv).round().clamp(-127.0, 127.0) as i8 as u8);
        }
    }
}

struct Writer<'w, W: Write> {
    w: &'w mut W,
    n_tensors: usize,
    wtype: WeightType,
}

impl<W: Write> Writer<'_, W> {
    fn i32(&mut self, v: usize) -> Result<(), SpeechError> {
        let v = i32::try_from(v).map_err(|_| model_err("value exceeds i32"))?;
        Ok(self.w.write_all(&v.to_le_bytes())?)
    }

    /// Writes one tensor; `shape` is in row-major (numpy) order.
    fn tensor(
        &mut self,
        name: &str,
        shape: &[usize],
        data: &[f32],
        out: Out,
    ) -> Result<(), SpeechError> {
        if shape.iter().product::<usize>() != data.len() {
            return Err(model_err(format!("{name}: shape/data mismatch")));
        }
        let row = shape.last().copied().unwrap_or(0);
        let q8 = out == Out::Weight && self.wtype == WeightType::Q8_0 && row % QK8_0 == 0;
        let out = if out == Out::Weight { Out::F16 } else { out };
        self.i32(shape.len())?;
        self.i32(name.len())?;
        // ggml_type: 0 = F32, 1 = F16, 8 = Q8_0.
        self.i32(match (q8, out) {
            (true, _) => 8,
            (false, Out::F32) => 0,
            _ => 1,
        })?;
        for &d in shape.iter().rev() {
            self.i32(d)?;
        }
        self.w.write_all(name.as_bytes())?;
        let mut buf = Vec::with_capacity(data.len() * 4);
        if q8 {
            push_q8_0(&mut buf, data);
        } else {
            for &x in data {
                match out {
                    Out::F32 => buf.extend_from_slice(&x.to_le_bytes()),
                    _ => buf.extend_from_slice(&half::f16::from_f32(x).to_le_bytes()),
                }
            }
        }
        self.w.write_all(&buf)?;
        self.n_tensors += 1;
        Ok(())
    }
}

/// Row range `[start, end)` of a row-major 2-D (or 1-D) variable.
fn rows(m: &Ct2Model, name: &str, start: usize, end: usize) -> Result<Vec<f32>, SpeechError> {
    let v = m.var(name)?;
    let n_rows = v.shape.first().copied().unwrap_or(1);
    if end > n_rows || start >= end {
        return Err(model_err(format!(
            "{name}: rows {start}..{end} of {n_rows}"
        )));
    }
    let cols = v.numel() / n_rows;
    Ok(m.f32_values(name)?[start * cols..end * cols].to_vec())
}

struct Conv<'a, 'w, W: Write> {
    m: &'a Ct2Model<'a>,
    w: Writer<'w, W>,
    d: usize,
}

impl<W: Write> Conv<'_, '_, W> {
    /// Copies a whole variable.
    fn copy(&mut self, dst: &str, src: &str, out: Out) -> Result<(), SpeechError> {
        let shape = self.m.var(src)?.shape.clone();
        let data = self.m.f32_values(src)?;
        self.w.tensor(dst, &shape, &data, out)
    }

    /// Copies rows `[k·d, (k+1)·d)` of a fused projection (weight or bias).
    fn part(&mut self, dst: &str, src: &str, k: usize) -> Result<(), SpeechError> {
        let d = self.d;
        let data = rows(self.m, src, k * d, (k + 1) * d)?;
        let is_bias = self.m.var(src)?.shape.len() == 1;
        if is_bias {
            self.w.tensor(dst, &[d], &data, Out::F32)
        } else {
            self.w.tensor(dst, &[d, data.len() / d], &data, Out::Weight)
        }
    }

    fn linear(&mut self, dst: &str, src: &str) -> Result<(), SpeechError> {
        self.copy(
            &format!("{dst}.weight"),
            &format!("{src}/weight"),
            Out::Weight,
        )?;
        self.copy(&format!("{dst}.bias"), &format!("{src}/bias"), Out::F32)
    }

    fn norm(&mut self, dst: &str, src: &str) -> Result<(), SpeechError> {
        self.copy(&format!("{dst}.weight"), &format!("{src}/gamma"), Out::F32)?;
        self.copy(&format!("{dst}.bias"), &format!("{src}/beta"), Out::F32)
    }

    fn self_attention(&mut self, dst: &str, src: &str) -> Result<(), SpeechError> {
        let (w, b) = (
            format!("{src}/linear_0/weight"),
            format!("{src}/linear_0/bias"),
        );
        self.part(&format!("{dst}.query.weight"), &w, 0)?;
        self.part(&format!("{dst}.query.bias"), &b, 0)?;
        self.part(&format!("{dst}.key.weight"), &w, 1)?;
        self.part(&format!("{dst}.value.weight"), &w, 2)?;
        self.part(&format!("{dst}.value.bias"), &b, 2)?;
        self.linear(&format!("{dst}.out"), &format!("{src}/linear_1"))
    }

    fn cross_attention(&mut self, dst: &str, src: &str) -> Result<(), SpeechError> {
        self.linear(&format!("{dst}.query"), &format!("{src}/linear_0"))?;
        let (w, b) = (
            format!("{src}/linear_1/weight"),
            format!("{src}/linear_1/bias"),
        );
        self.part(&format!("{dst}.key.weight"), &w, 0)?;
        self.part(&format!("{dst}.value.weight"), &w, 1)?;
        self.part(&format!("{dst}.value.bias"), &b, 1)?;
        self.linear(&format!("{dst}.out"), &format!("{src}/linear_2"))
    }

    fn ffn(&mut self, dst: &str, src: &str) -> Result<(), SpeechError> {
        self.norm(&format!("{dst}.mlp_ln"), &format!("{src}/ffn/layer_norm"))?;
        self.linear(&format!("{dst}.mlp.0"), &format!("{src}/ffn/linear_0"))?;
        self.linear(&format!("{dst}.mlp.2"), &format!("{src}/ffn/linear_1"))
    }

    fn conv(&mut self, n: usize) -> Result<(), SpeechError> {
        let src = format!("encoder/conv{n}");
        self.copy(
            &format!("encoder.conv{n}.weight"),
            &format!("{src}/weight"),
            Out::F16,
        )?;
        let bias = self.m.f32_values(&format!("{src}/bias"))?;
        self.w.tensor(
            &format!("encoder.conv{n}.bias"),
            &[bias.len(), 1],
            &bias,
            Out::F32,
        )
    }
}

/// Writes a whisper.cpp model converted from a CTranslate2 Whisper model.
/// Returns the number of tensors written.
pub fn convert(
    model_bin: &[u8],
    vocabulary_txt: &str,
    wtype: WeightType,
    out: &mut impl Write,
) -> Result<usize, SpeechError> {
    let m = Ct2Model::parse(model_bin)?;
    let hp = Hparams::from_ct2(&m)?;
    let vocab = decode_vocabulary(vocabulary_txt)?;
    if vocab.len() > hp.n_vocab {
        return Err(model_err("vocabulary larger than the embedding table"));
    }
    let mut w = Writer {
        w: out,
        n_tensors: 0,
        wtype,
    };
    w.w.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        wtype.ftype(),
    ] {
        w.i32(v)?;
    }
    const N_FFT: usize = 400;
    let filters = mel_filterbank(16_000, N_FFT, hp.n_mels);
    w.i32(hp.n_mels)?;
    w.i32(N_FFT / 2 + 1)?;
    for x in filters {
        w.w.write_all(&x.to_le_bytes())?;
    }
    w.i32(vocab.len())?;
    for tok in &vocab {
        w.i32(tok.len())?;
        w.w.write_all(tok)?;
    }

    let mut c = Conv {
        m: &m,
        w,
        d: hp.n_text_state,
    };
    let pe = "position_encodings/encodings";
    c.copy(
        "encoder.positional_embedding",
        &format!("encoder/{pe}"),
        Out::F32,
    )?;
    c.conv(1)?;
    c.conv(2)?;
    for i in 0..hp.n_audio_layer {
        let (dst, src) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        c.norm(
            &format!("{dst}.attn_ln"),
            &format!("{src}/self_attention/layer_norm"),
        )?;
        c.self_attention(&format!("{dst}.attn"), &format!("{src}/self_attention"))?;
        c.ffn(&dst, &src)?;
    }
    c.norm("encoder.ln_post", "encoder/layer_norm")?;

    c.copy(
        "decoder.positional_embedding",
        &format!("decoder/{pe}"),
        Out::F32,
    )?;
    c.copy(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
        Out::Weight,
    )?;
    for i in 0..hp.n_text_layer {
        let (dst, src) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        c.norm(
            &format!("{dst}.attn_ln"),
            &format!("{src}/self_attention/layer_norm"),
        )?;
        c.self_attention(&format!("{dst}.attn"), &format!("{src}/self_attention"))?;
        c.norm(
            &format!("{dst}.cross_attn_ln"),
            &format!("{src}/attention/layer_norm"),
        )?;
        c.cross_attention(&format!("{dst}.cross_attn"), &format!("{src}/attention"))?;
        c.ffn(&dst, &src)?;
    }
    c.norm("decoder.ln", "decoder/layer_norm")?;
    c.w.w.flush()?;
    Ok(c.w.n_tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_tokens_decode_to_raw_bytes() {
        let vocab = "!\nĠthe\nĊ\nÃ©\n<|endoftext|>\n<|startoftranscript|>\n";
        let toks = decode_vocabulary(vocab).unwrap();
        assert_eq!(
            toks,
            vec![
                b"!".to_vec(),
                b" the".to_vec(),
                b"\n".to_vec(),
                "é".as_bytes().to_vec(),
                b"<|endoftext|>".to_vec(),
            ]
        );
    }

    #[test]
    fn q8_0_blocks_match_ggml_reference_layout() {
        let data: Vec<f32> = (0..64).map(|i| (i as f32 - 20.0) / 10.0).collect();
        let mut buf = Vec::new();
        push_q8_0(&mut buf, &data);
        assert_eq!(buf.len(), 2 * 34);
        // Block 0: amax = 2.0 (i = 0), d = 2/127; x = -2.0 -> -127, x = 1.1 -> 70.
        let d0 = half::f16::from_le_bytes([buf[0], buf[1]]).to_f32();
        assert!((d0 - 2.0 / 127.0).abs() < 1e-5);
        assert_eq!(buf[2] as i8, -127);
        assert_eq!(buf[2 + 31] as i8, 70);
        // Dequantised values are within half a step.
        for (i, &x) in data[32..].iter().enumerate() {
            let d = half::f16::from_le_bytes([buf[34], buf[35]]).to_f32();
            let q = buf[36 + i] as i8 as f32;
            assert!((q * d - x).abs() <= d * 0.51, "{i}");
        }
        let mut zeros = Vec::new();
        push_q8_0(&mut zeros, &[0.0; 32]);
        assert!(zeros.iter().all(|&b| b == 0));
    }

    #[test]
    fn vocabulary_without_eot_is_an_error() {
        assert!(decode_vocabulary("a\nb\n").is_err());
    }

    #[test]
    fn non_whisper_model_is_rejected() {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"TransformerSpec\0");
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        let mut out = Vec::new();
        let err = convert(&b, "<|endoftext|>", WeightType::F16, &mut out).unwrap_err();
        assert!(err.to_string().contains("Whisper"), "{err}");
    }
}
