//! Seeded samples and stratified held-out splits, and the `text,category` CSV reader
//! (Banking77's `train.csv`).

use std::collections::BTreeMap;
use std::path::Path;

use super::dataset::Query;
use crate::classifier::noise::SplitMix;
use crate::NluError;

/// Intents (sorted by name) with their queries.
pub type Labelled = Vec<(String, Vec<Query>)>;

/// A seeded permutation of `0..n` (Fisher–Yates).
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        v.swap(i, rng.below(i + 1));
    }
    v
}

/// Seeded random sample of at most `n` queries of every intent (`usize::MAX` keeps all).
pub fn sample(data: &Labelled, n: usize, seed: u64) -> Labelled {
    data.iter()
        .enumerate()
        .map(|(i, (name, qs))| {
            let perm = permutation(qs.len(), seed.wrapping_add(i as u64 * 0x1_0001));
            let picked = perm.into_iter().take(n).map(|j| qs[j].clone()).collect();
            (name.clone(), picked)
        })
        .collect()
}

/// Stratified split: a seeded `test_fraction` of every intent's queries is held out
/// (at least one query stays in training). Returns (train, test).
pub fn stratified(data: &Labelled, test_fraction: f64, seed: u64) -> (Labelled, Labelled) {
    let mut train = Vec::new();
    let mut test = Vec::new();
    for (i, (name, qs)) in data.iter().enumerate() {
        let perm = permutation(qs.len(), seed.wrapping_add(i as u64 * 0x1_0001));
        let n_test =
            ((qs.len() as f64 * test_fraction).round() as usize).min(qs.len().saturating_sub(1));
        let (te, tr) = perm.split_at(n_test);
        test.push((name.clone(), te.iter().map(|&j| qs[j].clone()).collect()));
        train.push((name.clone(), tr.iter().map(|&j| qs[j].clone()).collect()));
    }
    (train, test)
}

/// CSV records (RFC 4180: quoted fields may hold commas, `""` and line breaks).
fn csv_records(body: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = body.trim_start_matches('\u{feff}').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => rec.push(std::mem::take(&mut cur)),
            '\r' if !quoted => {}
            '\n' if !quoted => {
                rec.push(std::mem::take(&mut cur));
                out.push(std::mem::take(&mut rec));
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() || !rec.is_empty() {
        rec.push(cur);
        out.push(rec);
    }
    out
}

/// Reads a `text,category` CSV (header line first) into intents sorted by name.
pub fn parse_csv(body: &str, file: &str) -> Result<Labelled, NluError> {
    let mut records = csv_records(body).into_iter();
    let header = records.next().unwrap_or_default();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| NluError::field(file, "header", format!("no `{name}` column")))
    };
    let (ti, ci) = (col("text")?, col("category")?);
    let mut by: BTreeMap<String, Vec<Query>> = BTreeMap::new();
    for (n, f) in records.enumerate() {
        if f.iter().all(|x| x.trim().is_empty()) {
            continue;
        }
        let (Some(text), Some(cat)) = (f.get(ti), f.get(ci)) else {
            return Err(NluError::field(
                file,
                format!("record {}", n + 1),
                "missing text or category",
            ));
        };
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() || cat.trim().is_empty() {
            continue;
        }
        by.entry(cat.trim().to_string()).or_default().push(Query {
            text,
            spans: Vec::new(),
        });
    }
    if by.is_empty() {
        return Err(NluError::import(file, "no labelled rows"));
    }
    Ok(by.into_iter().collect())
}

pub fn load_csv(path: &Path) -> Result<Labelled, NluError> {
    let body = std::fs::read_to_string(path).map_err(|source| NluError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_csv(&body, &path.display().to_string())
}
