use super::*;

fn us(s: &str) -> String {
    normalize_for_speech(s, "en-US", None)
}

fn gb(s: &str) -> String {
    normalize_for_speech(s, "en-GB", None)
}

#[test]
fn clock_times() {
    assert_eq!(us("10:00"), "ten o'clock");
    assert_eq!(us("10:30"), "ten thirty");
    assert_eq!(us("10:05"), "ten oh five");
    assert_eq!(us("13:00"), "one p m");
    assert_eq!(us("13:45"), "one forty-five p m");
    assert_eq!(us("00:15"), "twelve fifteen a m");
    assert_eq!(us("1 pm"), "one p m");
    assert_eq!(us("at 9am sharp"), "at nine a m sharp");
    assert_eq!(
        us("Open 10:30 a.m. to 5 p.m."),
        "Open ten thirty a m to five p m."
    );
    assert_eq!(us("See you at 12:00:00"), "See you at twelve o'clock");
}

#[test]
fn numeric_dates_by_locale() {
    assert_eq!(us("01/09/2022"), "January ninth, twenty twenty-two");
    assert_eq!(gb("01/09/2022"), "the first of September twenty twenty-two");
    assert_eq!(
        us("on 12/25/22."),
        "on December twenty-fifth, twenty twenty-two."
    );
    assert_eq!(
        normalize_for_speech("3/4/2000", "en_au", None),
        "the third of April two thousand"
    );
    // 13th month: not a date, read as numbers.
    assert_eq!(us("13/01/2022"), "thirteen/one/two thousand twenty-two");
}

#[test]
fn iso_values_from_dialogflow_templates() {
    assert_eq!(us("2022-01-09T10:00:00+00:00"), "ten a m");
    assert_eq!(
        us("2022-01-09T12:00:00+00:00"),
        "Sunday the ninth of January"
    );
    assert_eq!(
        us("Booked for 2022-01-09T12:00:00-05:00."),
        "Booked for Sunday the ninth of January."
    );
    assert_eq!(us("2022-01-09T18:30:00Z"), "six thirty p m");
    assert_eq!(us("2022-01-09"), "January ninth, twenty twenty-two");
    assert_eq!(gb("2022-01-09"), "the ninth of January twenty twenty-two");
    // Converted to the agent's time zone when an offset is present.
    assert_eq!(
        normalize_for_speech(
            "2022-01-09T15:00:00+00:00",
            "en-US",
            Some("America/New_York")
        ),
        "ten a m"
    );
    assert_eq!(
        normalize_for_speech("2022-01-09T11:00:00+00:00", "en-GB", Some("Europe/Paris")),
        "Sunday the ninth of January"
    );
    // Unknown zone: ignored.
    assert_eq!(
        normalize_for_speech("2022-01-09T15:00:00+00:00", "en-US", Some("Mars/Base")),
        "three p m"
    );
}

#[test]
fn numbers_ordinals_percent() {
    assert_eq!(us("42"), "forty-two");
    assert_eq!(us("3.5"), "three point five");
    assert_eq!(us("3.14"), "three point one four");
    assert_eq!(
        us("1,234 people"),
        "one thousand two hundred thirty-four people"
    );
    assert_eq!(us("it is -5 outside"), "it is minus five outside");
    assert_eq!(us("10th"), "tenth");
    assert_eq!(us("the 21st and 2nd"), "the twenty-first and second");
    assert_eq!(us("50%"), "fifty percent");
    assert_eq!(us("12.5 %"), "twelve point five percent");
    assert_eq!(us("pages 10-20"), "pages ten-twenty");
    assert_eq!(us("A4 paper"), "A4 paper");
}

#[test]
fn currency() {
    assert_eq!(us("$12.50"), "twelve dollars and fifty cents");
    assert_eq!(us("£3"), "three pounds");
    assert_eq!(us("$1"), "one dollar");
    assert_eq!(us("$0.99"), "ninety-nine cents");
    assert_eq!(us("$1.01"), "one dollar and one cent");
    assert_eq!(us("€2.5"), "two euros and fifty cents");
    assert_eq!(us("£1,000.00 fee"), "one thousand pounds fee");
    assert_eq!(gb("£3.01"), "three pounds and one penny");
}

#[test]
fn phone_numbers() {
    assert_eq!(
        us("+1 415 333 3333"),
        "plus one, four one five, three three three, three three three three"
    );
    assert_eq!(
        us("4153333333"),
        "four one five, three three three, three three three three"
    );
    assert_eq!(
        us("Call (415) 333-3333 now"),
        "Call four one five, three three three, three three three three now"
    );
    assert_eq!(
        us("+44 20 7946 0958"),
        "plus four four, two zero, seven nine four six, zero nine five eight"
    );
    assert_eq!(
        us("14153333333"),
        "one, four one five, three three three, three three three three"
    );
    assert_eq!(
        us("+14153333333"),
        "plus one, four one five, three three three, three three three three"
    );
    // Short groups are not phone numbers.
    assert_eq!(us("10 20 30"), "ten twenty thirty");
}

#[test]
fn abbreviations_and_symbols() {
    assert_eq!(us("Dr. Smith"), "Doctor Smith");
    assert_eq!(us("12 Mulholland Dr."), "twelve Mulholland Drive.");
    assert_eq!(us("St. Louis"), "Saint Louis");
    assert_eq!(
        us("221 Baker St. is famous"),
        "two hundred twenty-one Baker Street is famous"
    );
    assert_eq!(us("Main St."), "Main Street.");
    assert_eq!(us("fruit, e.g. apples"), "fruit, for example apples");
    assert_eq!(us("i.e. now"), "that is now");
    assert_eq!(us("approx. 5 min"), "approximately five min");
    assert_eq!(us("pens, paper etc."), "pens, paper et cetera.");
    assert_eq!(us("Mr. & Mrs. Jones"), "Mister and Missus Jones");
    assert_eq!(us("AT&T"), "AT and T");
    assert_eq!(us("mail me @ home"), "mail me at home");
    assert_eq!(us("room #5"), "room number five");
    assert_eq!(us("No. 7"), "number seven");
    assert_eq!(us("2 + 2 = 4"), "two plus two equals four");
}

#[test]
fn plain_text_unchanged_and_bounded() {
    assert_eq!(
        us("Hello, how can I help you today?"),
        "Hello, how can I help you today?"
    );
    assert_eq!(us(""), "");
    let long = "9".repeat(MAX_TEXT_BYTES * 2);
    let out = us(&long);
    assert!(out.starts_with("nine nine"));
    let long = "é".repeat(MAX_TEXT_BYTES);
    assert_eq!(us(&long).len(), MAX_TEXT_BYTES);
}

/// Deterministic fuzzing over the characters the rules look at: no panics, and output never
/// keeps a digit that a rule should have spelled (except inside words like "A4").
#[test]
fn random_inputs_never_panic() {
    let alphabet: Vec<char> = "0123456789 :/.,-+$£€%#()&@=TZapmAPMstndrhDrSte.g"
        .chars()
        .collect();
    let mut x: u32 = 99;
    for _ in 0..3000 {
        let mut s = String::new();
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let len = (x >> 16) as usize % 40;
        for _ in 0..len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            s.push(alphabet[(x >> 16) as usize % alphabet.len()]);
        }
        let _ = normalize_for_speech(&s, "en-US", Some("Europe/London"));
        let _ = normalize_for_speech(&s, "en-GB", None);
    }
}
