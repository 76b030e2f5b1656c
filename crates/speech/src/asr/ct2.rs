//! Reader for CTranslate2 `model.bin` files (binary versions 1–6).
//!
//! Layout (little endian), as written by CTranslate2's `ModelSpec._serialize`:
//! `u32 version`, then for version ≥ 2 `string spec_name`, `u32 revision`;
//! `u32 n_variables`, each `string name, u8 rank, u32 dims[rank]`, then
//! (version ≥ 4) `u8 dtype, u32 n_bytes` or (older) `u8 item_size, u32 n_items`,
//! then the raw bytes; for version ≥ 3 `u32 n_aliases`, each `string alias,
//! string target`. A `string` is `u16 len` (including a NUL) + bytes + NUL.

use std::collections::HashMap;

use crate::error::SpeechError;

/// Element type of a CTranslate2 variable (`ctranslate2::DataType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Dtype {
    fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    /// Pre-version-4 files only record the item size.
    fn from_item_size(size: u8) -> Option<Self> {
        Some(match size {
            4 => Self::F32,
            2 => Self::I16,
            1 => Self::I8,
            _ => return None,
        })
    }

    pub fn size(self) -> usize {
        match self {
            Self::F32 | Self::I32 => 4,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::I8 => 1,
        }
    }
}

/// One variable: its shape, type and the byte range of its data in the file.
#[derive(Debug, Clone)]
pub struct Ct2Var {
    pub shape: Vec<usize>,
    pub dtype: Ct2Dtype,
    range: std::ops::Range<usize>,
}

impl Ct2Var {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A parsed `model.bin` that borrows the file bytes.
#[derive(Debug)]
pub struct Ct2Model<'a> {
    pub version: u32,
    pub spec_name: String,
    pub revision: u32,
    bytes: &'a [u8],
    vars: HashMap<String, Ct2Var>,
    aliases: HashMap<String, String>,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SpeechError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| bad(format!("truncated at byte {}", self.pos)))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, SpeechError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SpeechError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, SpeechError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String, SpeechError> {
        let len = self.u16()? as usize;
        let raw = self.take(len)?;
        let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
        String::from_utf8(raw.to_vec()).map_err(|_| bad("non-UTF-8 name".into()))
    }
}

fn bad(msg: String) -> SpeechError {
    SpeechError::Model(format!("CTranslate2 model.bin: {msg}"))
}

impl<'a> Ct2Model<'a> {
    /// Parses the header and variable table of a `model.bin` image.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SpeechError> {
        let mut c = Cursor { buf: bytes, pos: 0 };
        let version = c.u32()?;
        if !(1..=6).contains(&version) {
            return Err(bad(format!("unsupported binary version {version}")));
        }
        let (spec_name, revision) = if version >= 2 {
            (c.string()?, c.u32()?)
        } else {
            (String::new(), 1)
        };
        let n_vars = c.u32()? as usize;
        let mut vars = HashMap::with_capacity(n_vars.min(4096));
        for _ in 0..n_vars {
            let name = c.string()?;
            let rank = c.u8()? as usize;
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(c.u32()? as usize);
            }
            let (dtype, n_bytes) = if version >= 4 {
                let id = c.u8()?;
                let dtype = Ct2Dtype::from_id(id)
                    .ok_or_else(|| bad(format!("{name}: unknown dtype id {id}")))?;
                (dtype, c.u32()? as usize)
            } else {
                let size = c.u8()?;
                let dtype = Ct2Dtype::from_item_size(size)
                    .ok_or_else(|| bad(format!("{name}: unknown item size {size}")))?;
                (dtype, (c.u32()? as usize).saturating_mul(size as usize))
            };
            let numel = shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .ok_or_else(|| bad(format!("{name}: shape overflow")))?;
            if numel.checked_mul(dtype.size()) != Some(n_bytes) {
                return Err(bad(format!(
                    "{name}: {n_bytes} bytes do not match shape {shape:?} of {dtype:?}"
                )));
            }
            let start = c.pos;
            c.take(n_bytes)?;
            vars.insert(
                name,
                Ct2Var {
                    shape,
                    dtype,
                    range: start..start + n_bytes,
                },
            );
        }
        let mut aliases = HashMap::new();
        if version >= 3 {
            let n = c.u32()? as usize;
            for _ in 0..n {
                let alias = c.string()?;
                let target = c.string()?;
                aliases.insert(alias, target);
            }
        }
        Ok(Self {
            version,
            spec_name,
            revision,
            bytes,
            vars,
            aliases,
        })
    }

    /// Looks a variable up by name, following aliases.
    pub fn var(&self, name: &str) -> Result<&Ct2Var, SpeechError> {
        let target = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        self.vars
            .get(target)
            .ok_or_else(|| bad(format!("missing variable {name}")))
    }

    pub fn has(&self, name: &str) -> bool {
        self.var(name).is_ok()
    }

    pub fn raw(&self, var: &Ct2Var) -> &'a [u8] {
        &self.bytes[var.range.clone()]
    }

    /// Reads a scalar integer variable (e.g. `encoder/num_heads`).
    pub fn scalar_int(&self, name: &str) -> Result<i64, SpeechError> {
        let v = self.var(name)?;
        let b = self.raw(v);
        if v.numel() != 1 {
            return Err(bad(format!("{name}: expected a scalar")));
        }
        Ok(match v.dtype {
            Ct2Dtype::I8 => b[0] as i8 as i64,
            Ct2Dtype::I16 => i16::from_le_bytes([b[0], b[1]]) as i64,
            Ct2Dtype::I32 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            other => return Err(bad(format!("{name}: {other:?} is not an integer"))),
        })
    }

    /// Returns a variable's values as f32, dequantizing int8/int16 weights with
    /// their sibling `weight_scale` (CTranslate2 stores `q = w * scale` per row).
    pub fn f32_values(&self, name: &str) -> Result<Vec<f32>, SpeechError> {
        let v = self.var(name)?;
        let b = self.raw(v);
        let out: Vec<f32> = match v.dtype {
            Ct2Dtype::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Ct2Dtype::F16 => b
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Ct2Dtype::Bf16 => b
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Ct2Dtype::I8 | Ct2Dtype::I16 => {
                let q: Vec<f32> = if v.dtype == Ct2Dtype::I8 {
                    b.iter().map(|&x| x as i8 as f32).collect()
                } else {
                    b.chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
                        .collect()
                };
                let scale_name = name
                    .strip_suffix("weight")
                    .map(|p| format!("{p}weight_scale"))
                    .ok_or_else(|| bad(format!("{name}: quantized non-weight")))?;
                let scale = self.f32_values(&scale_name)?;
                let rows = v.shape.first().copied().unwrap_or(1);
                if rows == 0 || !q.len().is_multiple_of(rows) {
                    return Err(bad(format!("{name}: bad quantized shape")));
                }
                let cols = q.len() / rows;
                let row_scale = |r: usize| match scale.len() {
                    1 => scale[0],
                    n if n == rows => scale[r],
                    _ => f32::NAN,
                };
                let deq: Vec<f32> = q
                    .iter()
                    .enumerate()
                    .map(|(i, &x)| x / row_scale(i / cols))
                    .collect();
                if deq.iter().any(|x| !x.is_finite()) {
                    return Err(bad(format!("{name}: bad weight_scale")));
                }
                deq
            }
            Ct2Dtype::I32 => b
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                .collect(),
        };
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        string(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        string(&mut b, "enc/w");
        b.push(2);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        b.push(4);
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&half::f16::from_f32(1.5).to_le_bytes());
        b.extend_from_slice(&half::f16::from_f32(-2.0).to_le_bytes());
        string(&mut b, "enc/num_heads");
        b.push(0);
        b.push(2);
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&6i16.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        string(&mut b, "dec/proj");
        string(&mut b, "enc/w");
        b
    }

    #[test]
    fn parses_variables_and_aliases() {
        let bytes = sample();
        let m = Ct2Model::parse(&bytes).unwrap();
        assert_eq!(m.spec_name, "WhisperSpec");
        assert_eq!(m.revision, 3);
        assert_eq!(m.scalar_int("enc/num_heads").unwrap(), 6);
        assert_eq!(m.f32_values("dec/proj").unwrap(), vec![1.5, -2.0]);
        assert_eq!(m.var("enc/w").unwrap().shape, vec![2, 1]);
    }

    #[test]
    fn truncated_file_is_an_error() {
        let bytes = sample();
        for cut in [0, 3, 10, 30, bytes.len() - 1] {
            assert!(Ct2Model::parse(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }
}
