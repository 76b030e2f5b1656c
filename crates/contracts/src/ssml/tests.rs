use super::*;

fn speech(text: &str) -> Piece {
    Piece::Speech {
        text: text.into(),
        rate: 1.0,
    }
}

fn said(ssml: &str) -> String {
    let r = read(ssml);
    assert_eq!(r.warning, None, "{ssml}");
    r.spoken_text()
}

#[test]
fn speak_root_gives_its_text() {
    assert_eq!(
        read("<speak>Transferring</speak>").pieces,
        [speech("Transferring")]
    );
    assert_eq!(said("<speak>  Hello\n  there  </speak>"), "Hello there");
    // The root is optional (fragments from a template).
    assert_eq!(said("Hello <break/> there"), "Hello there");
}

#[test]
fn is_ssml_needs_a_speak_root() {
    assert!(is_ssml("<speak>Hi</speak>"));
    assert!(is_ssml("  <SPEAK version=\"1.1\">Hi</SPEAK>"));
    assert!(!is_ssml("Hi <speak>"));
    assert!(!is_ssml("<speaker>"));
    assert!(!is_ssml("<spe"));
}

#[test]
fn break_time_is_a_silence_of_that_length() {
    assert_eq!(
        read("<speak>One<break time=\"500ms\"/>two</speak>").pieces,
        [speech("One"), Piece::Silence { ms: 500 }, speech("two")]
    );
    assert_eq!(
        read("<speak>a<break time='1.5s'/>b</speak>").pieces[1],
        Piece::Silence { ms: 1500 }
    );
    assert_eq!(
        read("<speak>a<break time=\"99s\"/>b</speak>").pieces[1],
        Piece::Silence { ms: MAX_BREAK_MS }
    );
}

#[test]
fn break_strength_sets_the_length() {
    let ms = |s: &str| match &read(&format!("<speak>a<break strength=\"{s}\"/>b</speak>")).pieces[..]
    {
        [_, Piece::Silence { ms }, _] => *ms,
        [_] => 0,
        other => panic!("{other:?}"),
    };
    assert_eq!(ms("none"), 0);
    assert!(ms("x-weak") < ms("weak"));
    assert!(ms("weak") < ms("medium"));
    assert!(ms("medium") < ms("strong"));
    assert!(ms("strong") < ms("x-strong"));
    assert_eq!(ms("bogus"), ms("medium"));
    // A bare break is medium; time wins over strength.
    assert_eq!(
        read("<speak>a<break/>b</speak>").pieces[1],
        Piece::Silence { ms: 500 }
    );
    assert_eq!(
        read("<speak>a<break strength=\"x-strong\" time=\"200ms\"/>b</speak>").pieces[1],
        Piece::Silence { ms: 200 }
    );
}

#[test]
fn adjacent_breaks_add_up() {
    assert_eq!(
        read("<speak>a<break time=\"200ms\"/><break time=\"300ms\"/>b</speak>").pieces,
        [speech("a"), Piece::Silence { ms: 500 }, speech("b")]
    );
}

#[test]
fn say_as_characters_spells_letters_and_digits() {
    assert_eq!(
        said("<speak>Hi there, are you calling to make a reservation at <say-as interpret-as=\"characters\">OMG</say-as> Garden?</speak>"),
        "Hi there, are you calling to make a reservation at O M G Garden?"
    );
    assert_eq!(
        said("<say-as interpret-as=\"spell-out\">ab-12</say-as>"),
        "A B one two"
    );
}

#[test]
fn say_as_cardinal_and_ordinal() {
    assert_eq!(
        said("<say-as interpret-as=\"cardinal\">12345</say-as>"),
        "twelve thousand three hundred forty-five"
    );
    assert_eq!(
        said("<say-as interpret-as=\"cardinal\">-1,002.5</say-as>"),
        "minus one thousand two point five"
    );
    assert_eq!(
        said("<say-as interpret-as=\"ordinal\">21</say-as>"),
        "twenty-first"
    );
    // Not a number: kept as written.
    assert_eq!(
        said("<say-as interpret-as=\"cardinal\">lots</say-as>"),
        "lots"
    );
}

#[test]
fn say_as_date_follows_its_format() {
    let d = |v: &str, f: Option<&str>| {
        let attr = f.map(|f| format!(" format=\"{f}\"")).unwrap_or_default();
        said(&format!("<say-as interpret-as=\"date\"{attr}>{v}</say-as>"))
    };
    assert_eq!(d("2022-01-09", None), "January ninth, twenty twenty-two");
    assert_eq!(
        d("01/09/2022", Some("mdy")),
        "January ninth, twenty twenty-two"
    );
    assert_eq!(
        d("09/01/2022", Some("dmy")),
        "January ninth, twenty twenty-two"
    );
    assert_eq!(d("12-25", Some("md")), "December twenty-fifth");
    assert_eq!(d("13/45/2022", Some("mdy")), "13/45/2022");
}

#[test]
fn say_as_time_reads_the_clock() {
    assert_eq!(
        said("<say-as interpret-as=\"time\">10:30</say-as>"),
        "ten thirty"
    );
    assert_eq!(
        said("<say-as interpret-as=\"time\">1 pm</say-as>"),
        "one p m"
    );
}

#[test]
fn say_as_telephone_reads_digit_groups() {
    assert_eq!(
        said("<say-as interpret-as=\"telephone\">+1 202-333-4444</say-as>"),
        "plus one, two zero two, three three three, four four four four"
    );
}

#[test]
fn sub_says_its_alias() {
    assert_eq!(
        said("<speak>Call <sub alias=\"World Wide Web Consortium\">W3C</sub> now</speak>"),
        "Call World Wide Web Consortium now"
    );
    // Without an alias the content is said.
    assert_eq!(said("<sub>W3C</sub>"), "W3C");
}

#[test]
fn prosody_rate_sets_the_speaking_rate() {
    let r = read("<speak>normal <prosody rate=\"slow\">slow <prosody rate=\"50%\">slower</prosody></prosody> back</speak>");
    assert_eq!(
        r.pieces,
        [
            speech("normal"),
            Piece::Speech {
                text: "slow".into(),
                rate: 0.8
            },
            Piece::Speech {
                text: "slower".into(),
                rate: 0.4
            },
            speech("back"),
        ]
    );
    let fast = |r: &str| match &read(&format!("<prosody rate=\"{r}\">x</prosody>")).pieces[0] {
        Piece::Speech { rate, .. } => *rate,
        p => panic!("{p:?}"),
    };
    assert_eq!(fast("x-fast"), 1.5);
    assert_eq!(fast("+20%"), 1.2);
    assert_eq!(fast("1000%"), 4.0, "clamped");
    assert_eq!(fast("nonsense"), 1.0);
    // Other prosody attributes change nothing.
    assert_eq!(
        read("<prosody pitch=\"+2st\">x</prosody>").pieces,
        [speech("x")]
    );
}

#[test]
fn paragraphs_and_sentences_end_with_a_full_stop() {
    assert_eq!(
        said("<speak><p><s>First one</s><s>Second one?</s></p><p>Next</p></speak>"),
        "First one. Second one? Next."
    );
}

#[test]
fn audio_is_a_clip_with_its_text_as_fallback() {
    assert_eq!(
        read("<speak>Music <audio src=\"https://x/a.wav\"><desc>piano</desc>a tune</audio> done</speak>").pieces,
        [
            speech("Music"),
            Piece::Audio {
                src: "https://x/a.wav".into(),
                fallback: "a tune".into()
            },
            speech("done"),
        ]
    );
}

#[test]
fn unknown_tags_are_dropped_and_their_text_kept() {
    assert_eq!(
        said("<speak><emphasis level=\"strong\">Very</emphasis> <foo:bar x=\"1\">good</foo:bar><mark name=\"m\"/><!-- note --></speak>"),
        "Very good"
    );
}

#[test]
fn entities_are_resolved_and_never_yield_angle_brackets() {
    assert_eq!(
        said("<speak>Fish &amp; chips &#x41;</speak>"),
        "Fish & chips A"
    );
    assert_eq!(said("<speak>1 &lt; 2 &gt; 0</speak>"), "1 2 0");
}

#[test]
fn malformed_ssml_falls_back_to_the_text_with_a_warning() {
    for bad in [
        "<speak>Hello <break time=\"1s\"> there</speak>",
        "<speak>Hello there",
        "<speak>Hello</p></speak>",
        "<speak>Tom &nbsp; Jerry</speak>",
        "<speak>a <b",
    ] {
        let r = read(bad);
        assert!(r.warning.is_some(), "{bad}");
        let text = r.spoken_text();
        assert!(
            text.starts_with("Hello") || text.starts_with("Tom") || text.starts_with('a'),
            "{bad}: {text}"
        );
        assert!(!text.contains('<') && !text.contains('>'), "{bad}: {text}");
    }
    assert_eq!(read("<speak>Hello there").spoken_text(), "Hello there");
}

#[test]
fn deep_nesting_is_malformed_not_a_stack_overflow() {
    let deep = "<p>".repeat(10_000) + "x" + &"</p>".repeat(10_000);
    let r = read(&deep);
    assert!(r.warning.is_some());
    assert_eq!(r.spoken_text(), "x");
}

#[test]
fn escape_round_trips_through_the_reader() {
    let t = "a < b & \"c\" > 'd'";
    assert_eq!(
        said(&format!("<speak>{}</speak>", escape(t))),
        "a b & \"c\" 'd'"
    );
}

/// A small xorshift generator: the same inputs every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

#[test]
fn arbitrary_input_never_panics_nor_says_angle_brackets() {
    let tokens = [
        "<speak>",
        "</speak>",
        "<break time=\"",
        "500ms",
        "\"/>",
        "<break/>",
        "<say-as interpret-as=\"",
        "characters",
        "date",
        "telephone",
        "cardinal",
        "time",
        "\">",
        "</say-as>",
        "<sub alias=\"",
        "</sub>",
        "<prosody rate=\"",
        "x-fast",
        "-300%",
        "</prosody>",
        "<p>",
        "</p>",
        "<s>",
        "</s>",
        "<audio src=\"",
        "</audio>",
        "<desc>",
        "</desc>",
        "<",
        ">",
        "/",
        "\"",
        "'",
        "&",
        "&amp;",
        "&lt;",
        "&#60;",
        "&#x3e;",
        "&#0;",
        "&bogus;",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<?x",
        "?>",
        " ",
        "hello",
        "12",
        "2022-01-09",
        "+1 415",
        "é",
        "\u{0}",
        "=",
        "<unknown a=b>",
        "</unknown>",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let n = 1 + rng.next() % 24;
        let input: String = (0..n).map(|_| rng.pick(&tokens)).collect();
        let r = read(&input);
        for p in &r.pieces {
            let text = match p {
                Piece::Speech { text, rate } => {
                    assert!((MIN_RATE..=MAX_RATE).contains(rate), "{input:?}");
                    text
                }
                Piece::Audio { fallback, .. } => fallback,
                Piece::Silence { ms } => {
                    assert!(*ms <= MAX_BREAK_MS);
                    continue;
                }
            };
            assert!(!text.contains(['<', '>']), "{input:?} -> {text:?}");
            assert!(
                !text.is_empty() || matches!(p, Piece::Audio { .. }),
                "{input:?}"
            );
        }
    }
}

#[test]
fn to_ssml_round_trips_pieces() {
    let pieces = vec![
        speech("Fish & chips <3"),
        Piece::Silence { ms: 250 },
        Piece::Speech {
            text: "quick".into(),
            rate: 1.25,
        },
        Piece::Audio {
            src: "https://x/a.wav?a=1&b=2".into(),
            fallback: "a \"tune\"".into(),
        },
    ];
    let back = read(&to_ssml(&pieces));
    assert_eq!(back.warning, None);
    assert_eq!(back.pieces[0], speech("Fish & chips 3"));
    assert_eq!(back.pieces[1..], pieces[1..]);
}

/// Found by fuzzing: a clip `src` holding a tab (from `&#9;`, or taken raw from a malformed
/// attribute) was written literally, and read back as a space.
#[test]
fn to_ssml_keeps_tabs_and_line_breaks_in_a_clip_src() {
    let r = read("<speak><audio src=\"a&#9;b&#10;c&#13;d\"/></speak>");
    let Some(Piece::Audio { src, .. }) = r.pieces.first() else {
        panic!("{r:?}")
    };
    assert_eq!(src, "a\tb\nc\rd");
    assert_eq!(read(&to_ssml(&r.pieces)).pieces, r.pieces);
    let raw = read("<speak><audio src=\"x\t& y\"/></speak>");
    assert_eq!(read(&to_ssml(&raw.pieces)).pieces, raw.pieces);
}

#[test]
fn pieces_of_plain_text_is_one_speech_piece() {
    assert_eq!(pieces_of("Hello  there").pieces, [speech("Hello there")]);
    assert_eq!(pieces_of("  ").pieces, []);
    assert_eq!(
        pieces_of("<speak>a<break time=\"1s\"/>b</speak>")
            .pieces
            .len(),
        3
    );
}
