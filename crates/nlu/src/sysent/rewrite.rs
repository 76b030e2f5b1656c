//! A text with some spans replaced, and the way back to the original's offsets.
//!
//! The recogniser forms of [`super::spoken`] are rewritten into forms the date/time grammar
//! reads ("8.30pm" → "8:30 pm"); matches found in the rewritten text are mapped back, so a
//! match's `original` is what the user wrote ("at 8.30pm"), never the rewrite.

/// One replacement of `start..end` of the original (byte offsets on char boundaries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub start: usize,
    pub end: usize,
    pub with: String,
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    /// Start in the rewritten text.
    new: usize,
    /// Start in the original.
    old: usize,
    /// Length in the original.
    old_len: usize,
    replaced: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Rewritten {
    pub text: String,
    /// Pieces of the rewritten text in order: copies of the original or replacements.
    segs: Vec<Seg>,
}

impl Rewritten {
    /// Applies `edits` (any order; an edit overlapping an earlier-listed one is dropped).
    pub fn new(original: &str, edits: Vec<Edit>) -> Rewritten {
        let mut kept: Vec<Edit> = Vec::with_capacity(edits.len());
        for e in edits {
            let valid = e.start <= e.end
                && original.is_char_boundary(e.start)
                && original.is_char_boundary(e.end)
                && e.end <= original.len();
            if valid && !kept.iter().any(|k| k.start < e.end && e.start < k.end) {
                kept.push(e);
            }
        }
        kept.sort_by_key(|e| e.start);
        let mut text = String::with_capacity(original.len() + 8);
        let mut segs = Vec::with_capacity(kept.len() * 2 + 1);
        let mut at = 0;
        for e in kept {
            if e.start > at {
                segs.push(Seg {
                    new: text.len(),
                    old: at,
                    old_len: e.start - at,
                    replaced: false,
                });
                text.push_str(&original[at..e.start]);
            }
            segs.push(Seg {
                new: text.len(),
                old: e.start,
                old_len: e.end - e.start,
                replaced: true,
            });
            text.push_str(&e.with);
            at = e.end;
        }
        if at < original.len() {
            segs.push(Seg {
                new: text.len(),
                old: at,
                old_len: original.len() - at,
                replaced: false,
            });
            text.push_str(&original[at..]);
        }
        Rewritten { text, segs }
    }

    /// The original span of `start..end` of the rewritten text: a span that starts or ends
    /// inside a replacement covers the whole replaced original.
    pub fn to_original(&self, start: usize, end: usize) -> (usize, usize) {
        let seg_of = |pos: usize| {
            let i = self.segs.partition_point(|s| s.new <= pos);
            self.segs.get(i.saturating_sub(1))
        };
        let s = match seg_of(start) {
            Some(g) if g.replaced => g.old,
            Some(g) => g.old + (start - g.new).min(g.old_len),
            None => start,
        };
        let e = match seg_of(end.saturating_sub(1).max(start)) {
            Some(g) if g.replaced => g.old + g.old_len,
            Some(g) => g.old + (end - g.new).min(g.old_len),
            None => end,
        };
        (s, e.max(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(start: usize, end: usize, with: &str) -> Edit {
        Edit {
            start,
            end,
            with: with.into(),
        }
    }

    #[test]
    fn maps_spans_back_to_the_original() {
        let t = "a table at 8.30pm please";
        let r = Rewritten::new(t, vec![edit(11, 17, "8:30 pm")]);
        assert_eq!(r.text, "a table at 8:30 pm please");
        let at = r.text.find("at 8").unwrap();
        let end = at + "at 8:30 pm".len();
        let (s, e) = r.to_original(at, end);
        assert_eq!(&t[s..e], "at 8.30pm");
        let p = r.text.find("please").unwrap();
        let (s, e) = r.to_original(p, p + 6);
        assert_eq!(&t[s..e], "please");
        // A span ending inside a replacement takes all of it.
        let (s, e) = r.to_original(at, at + 4);
        assert_eq!(&t[s..e], "at 8.30pm");
    }

    #[test]
    fn overlapping_and_bad_edits_are_dropped() {
        let t = "é 10m";
        let r = Rewritten::new(
            t,
            vec![edit(3, 6, "10 am"), edit(4, 6, "x"), edit(1, 2, "y")],
        );
        assert_eq!(r.text, "é 10 am");
        let r = Rewritten::new(t, Vec::new());
        assert_eq!((r.text.as_str(), r.to_original(0, 2)), (t, (0, 2)));
    }
}
