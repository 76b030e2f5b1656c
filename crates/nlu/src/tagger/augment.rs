//! Training-data augmentation: copies of each annotated phrase with every slot value replaced by
//! another known value of the same slot (from the training annotations and from the gazetteer
//! of the same name), as Dialogflow's automated expansion would accept. The tagger thus sees each
//! context with varied values and leans on context rather than on memorised values.

use std::collections::HashMap;

use super::{SlotSpan, TaggedExample};
use crate::classifier::noise::SplitMix;

/// Known values per slot name.
pub(crate) type Pools = HashMap<String, Vec<String>>;

/// `copies` variants of `ex` (none when it has no slot with a pool of other values).
pub(crate) fn variants(
    ex: &TaggedExample,
    pools: &Pools,
    copies: usize,
    rng: &mut SplitMix,
) -> Vec<TaggedExample> {
    let mut spans: Vec<&SlotSpan> = ex
        .spans
        .iter()
        .filter(|s| ex.text.get(s.start..s.end).is_some())
        .collect();
    spans.sort_by_key(|s| s.start);
    if spans.windows(2).any(|w| w[0].end > w[1].start) {
        return Vec::new();
    }
    let replaceable = spans
        .iter()
        .any(|s| pools.get(&s.slot).is_some_and(|p| p.len() > 1));
    if !replaceable {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(copies);
    for _ in 0..copies {
        let mut text = String::with_capacity(ex.text.len() + 16);
        let mut new_spans = Vec::with_capacity(spans.len());
        let mut shifts: Vec<(usize, usize, isize)> = Vec::new(); // (orig start, orig end, delta after)
        let mut pos = 0;
        for s in &spans {
            text.push_str(ex.text.get(pos..s.start).unwrap_or(""));
            let original = ex.text.get(s.start..s.end).unwrap_or("");
            let value = pools
                .get(&s.slot)
                .and_then(|p| p.get(rng.below(p.len())))
                .map_or(original, String::as_str);
            let start = text.len();
            text.push_str(value);
            new_spans.push(SlotSpan {
                start,
                end: text.len(),
                slot: s.slot.clone(),
            });
            shifts.push((s.start, s.end, text.len() as isize - s.end as isize));
            pos = s.end;
        }
        text.push_str(ex.text.get(pos..).unwrap_or(""));
        // Keep the hints that lie outside every replaced span, shifted.
        let hints = ex
            .hints
            .iter()
            .filter(|h| shifts.iter().all(|(a, b, _)| h.end <= *a || h.start >= *b))
            .filter_map(|h| {
                let delta = shifts
                    .iter()
                    .rev()
                    .find(|(_, b, _)| *b <= h.start)
                    .map_or(0, |(_, _, d)| *d);
                let mut h = h.clone();
                h.start = h.start.checked_add_signed(delta)?;
                h.end = h.end.checked_add_signed(delta)?;
                Some(h)
            })
            .collect();
        out.push(TaggedExample {
            text,
            spans: new_spans,
            hints,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::EntityMatch;

    #[test]
    fn replaces_values_and_shifts_hints() {
        let text = "rain in Paris tomorrow";
        let ex = TaggedExample {
            text: text.into(),
            spans: vec![SlotSpan {
                start: 8,
                end: 13,
                slot: "city".into(),
            }],
            hints: vec![EntityMatch {
                start: 14,
                end: 22,
                entity: "@sys.date".into(),
                value: serde_json::Value::Null,
                original: "tomorrow".into(),
            }],
        };
        let pools: Pools = [(
            "city".to_string(),
            vec!["Paris".to_string(), "New York".to_string()],
        )]
        .into();
        let v = variants(&ex, &pools, 8, &mut SplitMix::new(1));
        assert_eq!(v.len(), 8);
        let ny = v
            .iter()
            .find(|e| e.text == "rain in New York tomorrow")
            .expect("a New York variant");
        assert_eq!(
            ny.spans,
            [SlotSpan {
                start: 8,
                end: 16,
                slot: "city".into()
            }]
        );
        assert_eq!((ny.hints[0].start, ny.hints[0].end), (17, 25));
        assert!(v
            .iter()
            .all(|e| e.text == text || e.text == "rain in New York tomorrow"));
    }
}
