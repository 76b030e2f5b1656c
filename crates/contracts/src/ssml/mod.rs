//! A reader of SSML (the subset Dialogflow's telephony responses use) that turns a document into
//! what the phone plays: words for the TTS, silences and audio clips, in order.
//!
//! * `<speak>` is the root; `<p>` and `<s>` end a sentence (a full stop is added when the text
//!   has no closing punctuation, so the voice pauses as for a sentence).
//! * `<break time="500ms|2s">` or `<break strength="none…x-strong">` is real silence of that
//!   length (at most [`MAX_BREAK_MS`]; a bare `<break/>` is `medium`).
//! * `<say-as interpret-as="characters|spell-out|verbatim|cardinal|number|ordinal|digits|date|
//!   time|telephone">` becomes words (see `say_as.rs`); other kinds keep their text, which the
//!   TTS normaliser reads as it would any text.
//! * `<sub alias="…">` says the alias instead of its content.
//! * `<prosody rate="x-slow…x-fast|80%|1.2">` sets the speaking rate, relative to the enclosing
//!   one (other prosody attributes are ignored).
//! * `<audio src="…">` plays a clip; its text (not its `<desc>`) is kept as the words to say if
//!   the clip cannot be played.
//! * Any other element is dropped and its text kept; comments, processing instructions and
//!   `<desc>` are never read out.
//!
//! Malformed input (unbalanced or unknown-entity markup) is read as plain text with every tag
//! stripped, and the reading carries a warning; the reader never fails and never panics. The
//! words it yields never contain `<` or `>`.

mod say_as;
#[cfg(test)]
mod tests;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Longest silence one `<break>` makes (Google's limit for `time`).
pub const MAX_BREAK_MS: u32 = 10_000;
/// Bounds of the speaking rate (1.0 is the voice's own).
const MIN_RATE: f32 = 0.25;
const MAX_RATE: f32 = 4.0;
/// Deepest element nesting read; deeper markup is treated as malformed.
const MAX_DEPTH: usize = 64;

/// One step of a spoken reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// Words for the TTS at `rate` times the voice's own speed.
    Speech { text: String, rate: f32 },
    /// Silence of `ms` milliseconds.
    Silence { ms: u32 },
    /// An audio clip at `src`; `fallback` is said instead if it cannot be played.
    Audio { src: String, fallback: String },
}

/// What [`read`] made of a document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reading {
    pub pieces: Vec<Piece>,
    /// Set when the markup was malformed and the text was read with its tags stripped.
    pub warning: Option<String>,
}

impl Reading {
    /// The words said, pieces joined by a space (clips by their fallback text).
    pub fn spoken_text(&self) -> String {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Speech { text, .. } => out.push(text),
                Piece::Audio { fallback, .. } if !fallback.is_empty() => out.push(fallback),
                _ => {}
            }
        }
        out.join(" ")
    }
}

/// Whether `text` is an SSML document (Dialogflow treats a response starting with `<speak>` so).
pub fn is_ssml(text: &str) -> bool {
    let t = text.trim_start();
    t.len() >= 6
        && t.as_bytes()[..6].eq_ignore_ascii_case(b"<speak")
        && matches!(
            t.as_bytes().get(6),
            Some(b'>' | b' ' | b'/' | b'\t' | b'\n' | b'\r')
        )
}

/// Escapes text for inclusion in an SSML document.
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// [`escape`] for an attribute value, with tab and line breaks as character references: a reader
/// turns literal ones into spaces (XML attribute-value normalisation).
fn escape_attribute(text: &str) -> String {
    escape(text)
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

/// Writes `pieces` as an SSML document that [`read`] gives back (the pieces of several
/// documents can be joined into one this way).
pub fn to_ssml(pieces: &[Piece]) -> String {
    let mut out = String::from("<speak>");
    for p in pieces {
        match p {
            Piece::Speech { text, rate } if *rate == 1.0 => out.push_str(&escape(text)),
            Piece::Speech { text, rate } => out.push_str(&format!(
                "<prosody rate=\"{}%\">{}</prosody>",
                rate * 100.0,
                escape(text)
            )),
            Piece::Silence { ms } => out.push_str(&format!("<break time=\"{ms}ms\"/>")),
            Piece::Audio { src, fallback } => out.push_str(&format!(
                "<audio src=\"{}\">{}</audio>",
                escape_attribute(src),
                escape(fallback)
            )),
        }
        out.push(' ');
    }
    out.push_str("</speak>");
    out
}

/// The pieces of a reply text: an SSML document is read, any other text is one speech piece.
pub fn pieces_of(text: &str) -> Reading {
    if is_ssml(text) {
        read(text)
    } else {
        Reading {
            pieces: tidy(vec![Piece::Speech {
                text: text.to_string(),
                rate: 1.0,
            }]),
            warning: None,
        }
    }
}

/// Reads an SSML document (or a fragment: the `<speak>` root is optional).
pub fn read(ssml: &str) -> Reading {
    match parse(ssml) {
        Ok(pieces) => Reading {
            pieces: tidy(pieces),
            warning: None,
        },
        Err(e) => Reading {
            pieces: tidy(vec![Piece::Speech {
                text: strip_tags(ssml),
                rate: 1.0,
            }]),
            warning: Some(format!("malformed SSML read as plain text: {e}")),
        },
    }
}

/// What an open element does to the text inside it.
#[derive(Debug)]
enum Frame {
    /// Text is said (at the frame's rate).
    Plain,
    /// Text is collected and read as one `say-as` value.
    SayAs {
        kind: String,
        format: Option<String>,
        text: String,
    },
    /// Text is ignored (`<sub>`'s content, `<desc>`).
    Muted,
    /// Text becomes the clip's fallback.
    Audio { src: String, text: String },
    /// A sentence (`<p>`, `<s>`): closed with a full stop.
    Sentence,
}

struct Open {
    frame: Frame,
    rate: f32,
}

struct Builder {
    stack: Vec<Open>,
    pieces: Vec<Piece>,
}

impl Builder {
    fn rate(&self) -> f32 {
        self.stack.last().map_or(1.0, |o| o.rate)
    }

    fn text(&mut self, t: &str) {
        for o in self.stack.iter_mut().rev() {
            match &mut o.frame {
                Frame::Muted => return,
                Frame::SayAs { text, .. } | Frame::Audio { text, .. } => {
                    text.push_str(t);
                    return;
                }
                Frame::Plain | Frame::Sentence => {}
            }
        }
        let rate = self.rate();
        self.say(t, rate);
    }

    fn say(&mut self, t: &str, rate: f32) {
        if let Some(Piece::Speech { text, rate: r }) = self.pieces.last_mut() {
            if *r == rate {
                text.push_str(t);
                return;
            }
        }
        self.pieces.push(Piece::Speech {
            text: t.to_string(),
            rate,
        });
    }

    fn end_sentence(&mut self) {
        if let Some(Piece::Speech { text, .. }) = self.pieces.last_mut() {
            let t = text.trim_end();
            if !t.is_empty() && !t.ends_with(['.', '!', '?', ',', ';', ':']) {
                text.truncate(t.len());
                text.push('.');
            }
            text.push(' ');
        }
    }

    fn open(&mut self, e: &BytesStart, empty: bool) -> Result<(), String> {
        let name = lower(e.local_name().as_ref());
        let rate = self.rate();
        let attr = |k: &str| attribute(e, k);
        let frame = match name.as_str() {
            "break" => {
                let ms = break_ms(attr("time").as_deref(), attr("strength").as_deref());
                self.pieces.push(Piece::Silence { ms });
                Frame::Muted
            }
            "say-as" => Frame::SayAs {
                kind: attr("interpret-as")
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                format: attr("format"),
                text: String::new(),
            },
            "sub" => {
                if let Some(alias) = attr("alias") {
                    self.say(&format!(" {alias} "), rate);
                    Frame::Muted
                } else {
                    Frame::Plain
                }
            }
            "audio" => Frame::Audio {
                src: attr("src").unwrap_or_default(),
                text: String::new(),
            },
            "desc" => Frame::Muted,
            "p" | "s" => {
                self.end_sentence();
                Frame::Sentence
            }
            _ => Frame::Plain,
        };
        let rate = match (name.as_str(), attr("rate")) {
            ("prosody", Some(r)) => (rate * rate_factor(&r)).clamp(MIN_RATE, MAX_RATE),
            _ => rate,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("elements nested deeper than {MAX_DEPTH}"));
        }
        self.stack.push(Open { frame, rate });
        if empty {
            self.close();
        }
        Ok(())
    }

    fn close(&mut self) {
        let Some(open) = self.stack.pop() else {
            return;
        };
        match open.frame {
            Frame::SayAs { kind, format, text } => {
                let words = say_as::words(&kind, format.as_deref(), &text);
                self.text(&format!(" {words} "));
            }
            Frame::Audio { src, text } => self.pieces.push(Piece::Audio {
                src: src.trim().to_string(),
                fallback: text,
            }),
            Frame::Sentence => self.end_sentence(),
            Frame::Plain | Frame::Muted => {}
        }
    }
}

fn parse(ssml: &str) -> Result<Vec<Piece>, String> {
    let mut reader = Reader::from_str(ssml);
    reader.config_mut().check_end_names = true;
    let mut b = Builder {
        stack: Vec::new(),
        pieces: Vec::new(),
    };
    loop {
        let ev = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match ev {
            Event::Start(e) => b.open(&e, false)?,
            Event::Empty(e) => b.open(&e, true)?,
            Event::End(_) => b.close(),
            Event::Text(t) => b.text(&t.xml10_content()),
            Event::CData(t) => b.text(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => resolve_predefined_entity(&r.xml10_content())
                        .ok_or_else(|| format!("unknown entity &{};", r.xml10_content()))?
                        .to_string(),
                    Err(e) => return Err(e.to_string()),
                };
                b.text(&c);
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = b.stack.last() {
        return Err(format!("unclosed element ({:?})", open.frame));
    }
    Ok(b.pieces)
}

/// Collapses whitespace, removes angle brackets and empty pieces, merges neighbours.
fn tidy(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for p in pieces {
        let p = match p {
            Piece::Speech { text, rate } => {
                let text = clean(&text);
                if text.is_empty() {
                    continue;
                }
                Piece::Speech { text, rate }
            }
            Piece::Silence { ms: 0 } => continue,
            Piece::Audio { src, fallback } => Piece::Audio {
                src,
                fallback: clean(&fallback),
            },
            p => p,
        };
        match (out.last_mut(), p) {
            (Some(Piece::Silence { ms: a }), Piece::Silence { ms: b }) => {
                *a = a.saturating_add(b).min(MAX_BREAK_MS)
            }
            (Some(Piece::Speech { text: a, rate: r }), Piece::Speech { text: b, rate })
                if *r == rate =>
            {
                a.push(' ');
                a.push_str(&b);
            }
            (_, p) => out.push(p),
        }
    }
    out
}

fn clean(text: &str) -> String {
    text.replace(['<', '>'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text of malformed markup: tags removed, predefined and numeric entities resolved.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if in_tag => {}
            c => out.push(c),
        }
    }
    match quick_xml::escape::unescape(&out) {
        Ok(u) => u.into_owned(),
        Err(_) => out,
    }
}

fn lower(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn attribute(e: &BytesStart, key: &str) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (lower(a.key.local_name().as_ref()) == key).then(|| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map(|v| v.into_owned())
                .unwrap_or_else(|_| a.value.to_string())
        })
    })
}

/// Milliseconds of a `<break>`: `time` ("500ms", "1.5s") wins over `strength`.
fn break_ms(time: Option<&str>, strength: Option<&str>) -> u32 {
    if let Some(ms) = time.and_then(parse_duration_ms) {
        return ms.min(MAX_BREAK_MS);
    }
    match strength.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("none") => 0,
        Some("x-weak") => 150,
        Some("weak") => 300,
        Some("strong") => 800,
        Some("x-strong") => 1200,
        _ => 500, // medium, and a bare <break/>
    }
}

fn parse_duration_ms(t: &str) -> Option<u32> {
    let t = t.trim().to_ascii_lowercase();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    let v: f64 = num.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * scale).min(f64::from(MAX_BREAK_MS)) as u32)
}

/// A `<prosody rate>` as a factor of the enclosing rate; unknown values keep it.
fn rate_factor(r: &str) -> f32 {
    let r = r.trim().to_ascii_lowercase();
    let f = match r.as_str() {
        "x-slow" => 0.6,
        "slow" => 0.8,
        "medium" | "default" => 1.0,
        "fast" => 1.25,
        "x-fast" => 1.5,
        _ => match r.strip_suffix('%').map(str::trim) {
            // "+20%" / "-20%" change the rate, "80%" sets it.
            Some(p) if p.starts_with(['+', '-']) => {
                p.parse::<f32>().map_or(1.0, |v| 1.0 + v / 100.0)
            }
            Some(p) => p.parse::<f32>().map_or(1.0, |v| v / 100.0),
            None => r.parse::<f32>().unwrap_or(1.0),
        },
    };
    if f.is_finite() && f > 0.0 {
        f
    } else {
        1.0
    }
}
