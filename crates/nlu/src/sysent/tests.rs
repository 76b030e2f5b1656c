use super::*;
use chrono::TimeZone;
use serde_json::json;

fn ctx(tz: Tz) -> SysContext {
    SysContext {
        now: Utc.with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(),
        tz,
    }
}

fn utc() -> SysContext {
    ctx(chrono_tz::UTC)
}

fn la() -> SysContext {
    ctx(chrono_tz::America::Los_Angeles)
}

fn get(text: &str, entity: &str, c: &SysContext) -> Vec<(Value, String)> {
    SysExtractor::new()
        .extract(text, &[entity], c)
        .into_iter()
        .map(|m| (m.value, m.original))
        .collect()
}

fn one(text: &str, entity: &str, c: &SysContext) -> Value {
    let all = get(text, entity, c);
    assert_eq!(all.len(), 1, "{entity} in {text:?}: {all:?}");
    all[0].0.clone()
}

const BOOKING: &str = "I'd like to book a table at 10:00 am on 01/09/2022 for Tanya";

#[test]
fn booking_sentence_date_time_person() {
    let x = SysExtractor::new();
    let got = x.extract(
        BOOKING,
        &["@sys.date", "@sys.time", "@sys.person", "@sys.number"],
        &utc(),
    );
    let v: Vec<(&str, Value, &str)> = got
        .iter()
        .map(|m| (m.entity.as_str(), m.value.clone(), m.original.as_str()))
        .collect();
    assert_eq!(
        v,
        [
            (
                "@sys.time",
                json!("2022-01-09T10:00:00+00:00"),
                "at 10:00 am"
            ),
            (
                "@sys.date",
                json!("2022-01-09T12:00:00+00:00"),
                "on 01/09/2022"
            ),
            ("@sys.person", json!({"name": "Tanya"}), "Tanya"),
        ]
    );
    assert_eq!(
        one(BOOKING, "@sys.date", &la()),
        json!("2022-01-09T12:00:00-08:00")
    );
    assert_eq!(
        one(BOOKING, "sys.date-time", &la()),
        json!("2022-01-09T10:00:00-08:00")
    );
}

#[test]
fn relative_dates() {
    let c = utc();
    assert_eq!(
        one("tomorrow", "@sys.date", &c),
        json!("2022-01-06T12:00:00+00:00")
    );
    assert_eq!(
        one("the 10th", "@sys.date", &c),
        json!("2022-01-10T12:00:00+00:00")
    );
    assert_eq!(
        one("next monday please", "@sys.date", &c),
        json!("2022-01-10T12:00:00+00:00")
    );
    assert_eq!(
        one("on the 3rd", "@sys.date", &c),
        json!("2022-02-03T12:00:00+00:00")
    );
    assert_eq!(
        one("10/12/2021", "@sys.date", &c),
        json!("2021-10-12T12:00:00+00:00")
    );
    assert_eq!(
        one("10/09/2020", "@sys.date", &la()),
        json!("2020-10-09T12:00:00-07:00")
    );
    // Late evening in Los Angeles is already the next day in UTC: today is the LA date.
    let late = SysContext {
        now: Utc.with_ymd_and_hms(2022, 1, 6, 5, 0, 0).unwrap(),
        tz: chrono_tz::America::Los_Angeles,
    };
    assert_eq!(
        one("tomorrow", "@sys.date", &late),
        json!("2022-01-06T12:00:00-08:00")
    );
}

#[test]
fn times_carry_today() {
    let c = la();
    assert_eq!(
        one("13:00", "@sys.time", &c),
        json!("2022-01-05T13:00:00-08:00")
    );
    assert_eq!(
        one("at 4pm", "@sys.time", &c),
        json!("2022-01-05T16:00:00-08:00")
    );
    assert_eq!(
        one("noon", "@sys.time", &c),
        json!("2022-01-05T12:00:00-08:00")
    );
    assert_eq!(
        one("half past seven", "@sys.time", &c),
        json!("2022-01-05T19:30:00-08:00")
    );
    assert_eq!(
        one("at 10", "@sys.time", &c),
        json!("2022-01-05T10:00:00-08:00")
    );
    assert_eq!(
        one("a table for Nicole on the 10th at 13:00", "@sys.time", &c),
        json!("2022-01-10T13:00:00-08:00")
    );
}

#[test]
fn date_times_and_periods() {
    let c = utc();
    assert_eq!(
        one("tomorrow at 7pm", "@sys.date-time", &c),
        json!("2022-01-06T19:00:00+00:00")
    );
    assert_eq!(
        one("next week", "@sys.date-time", &c),
        json!({"startDate": "2022-01-10T00:00:00+00:00", "endDate": "2022-01-16T23:59:59+00:00"})
    );
    assert_eq!(
        one("from 3pm to 5pm", "@sys.time-period", &c),
        json!({"startTime": "2022-01-05T15:00:00+00:00", "endTime": "2022-01-05T17:00:00+00:00"})
    );
}

#[test]
fn numbers_and_people() {
    let c = utc();
    let x = SysExtractor::new();
    let got = x.extract(
        "for 4 people",
        &["@sys.number", "@sys.person", "@sys.given-name"],
        &c,
    );
    assert_eq!(
        got.iter()
            .map(|m| (m.entity.as_str(), m.value.clone()))
            .collect::<Vec<_>>(),
        [("@sys.number", json!(4))]
    );
    assert!(get("people", "@sys.number", &c).is_empty());
    assert_eq!(one("about 1.5 kilos", "@sys.number", &c), json!(1.5));
    assert!(get("about 1.5 kilos", "@sys.number-integer", &c).is_empty());
    assert_eq!(one("twenty one guests", "@sys.cardinal", &c), json!(21));
    assert_eq!(one("the 10th one", "@sys.ordinal", &c), json!(10));
    assert_eq!(
        one("it takes 10 minutes", "@sys.duration", &c),
        json!({"amount": 10, "unit": "min"})
    );
    assert_eq!(
        one("for three weeks", "@sys.duration", &c),
        json!({"amount": 3, "unit": "wk"})
    );
    assert!(get("at 10:00 on 01/09/2022", "@sys.number", &c).is_empty());
}

#[test]
fn contacts() {
    let c = utc();
    assert_eq!(
        one("call me at (415) 333-3333", "@sys.phone-number", &c),
        json!("4153333333")
    );
    assert_eq!(
        one("+1 415 333 3333", "@sys.phone-number", &c),
        json!("+14153333333")
    );
    assert_eq!(
        one(
            "four one five three three three three three three three",
            "@sys.phone-number",
            &c
        ),
        json!("4153333333")
    );
    assert_eq!(
        one("my email is bob@example.com.", "@sys.email", &c),
        json!("bob@example.com")
    );
    assert_eq!(
        one("visit https://example.com/x?y=1 now", "@sys.url", &c),
        json!("https://example.com/x?y=1")
    );
    assert!(get("my email is bob@example.com", "@sys.url", &c).is_empty());
}

#[test]
fn names_with_cues() {
    let c = utc();
    assert_eq!(
        one("A table for Nicole on the 10th at 13:00", "@sys.person", &c),
        json!({"name": "Nicole"})
    );
    assert_eq!(
        one("my name is John Smith", "@sys.person", &c),
        json!({"name": "John Smith"})
    );
    assert_eq!(
        one("my name is John Smith", "@sys.last-name", &c),
        json!("Smith")
    );
    assert_eq!(
        one("book it under the name nicole", "@sys.given-name", &c),
        json!("Nicole")
    );
    assert!(get(
        "Will you book a table? I may come with my wife",
        "@sys.person",
        &c
    )
    .is_empty());
    assert_eq!(
        one("Tell Will I may be late", "@sys.given-name", &c),
        json!("Will")
    );
}

#[test]
fn unlisted_names_read_from_their_cue() {
    let c = utc();
    // "Tamiya" is in no census list: a capitalised word ending the phrase after "for".
    let booking = "I'd like to book a table at 10am on Jan. 9, 2022 for Tamiya.";
    assert_eq!(one(booking, "@sys.person", &c), json!({"name": "Tamiya"}));
    assert_eq!(
        one("my name is Oyelaran", "@sys.given-name", &c),
        json!("Oyelaran")
    );
    assert_eq!(
        one("a table for Tamiya at 8 pm", "@sys.person", &c),
        json!({"name": "Tamiya"})
    );
    for text in [
        "a table for Christmas",
        "a table for Sunday",
        "a table for Toronto",
        "dinner with French wine",
        "Tamiya booked a table",
        "a table for IBM",
        "a table for tamiya",
    ] {
        assert!(get(text, "@sys.person", &c).is_empty(), "{text}");
    }
}

#[test]
fn gazetteers() {
    let c = utc();
    assert_eq!(
        one("I live in the United Kingdom", "@sys.geo-country", &c),
        json!("United Kingdom")
    );
    assert_eq!(
        one("flying to the USA", "@sys.geo-country", &c),
        json!("United States")
    );
    assert!(get("tell us about it", "@sys.geo-country", &c).is_empty());
    assert_eq!(
        one("a hotel in new york please", "@sys.geo-city", &c),
        json!("New York")
    );
    assert_eq!(
        one("I was born in California", "@sys.geo-state", &c),
        json!("California")
    );
    assert_eq!(
        one("paint it dark blue", "@sys.color", &c),
        json!("dark blue")
    );
    assert_eq!(
        one("do you speak French?", "@sys.language", &c),
        json!("French")
    );
}

#[test]
fn answers() {
    let c = utc();
    let x = SysExtractor::new();
    let v = |t: &str, e: &str| x.resolve_answer(t, e, &c).map(|m| m.value);
    assert_eq!(v("Tanya", "@sys.person"), Some(json!({"name": "Tanya"})));
    assert_eq!(v("it's Tanya", "@sys.given-name"), Some(json!("Tanya")));
    assert_eq!(v("Zyxwq", "@sys.given-name"), Some(json!("Zyxwq")));
    assert_eq!(
        v("at ten", "@sys.time"),
        Some(json!("2022-01-05T10:00:00+00:00"))
    );
    assert_eq!(
        v("7", "@sys.time"),
        Some(json!("2022-01-05T19:00:00+00:00"))
    );
    assert_eq!(
        v("tomorrow", "@sys.date"),
        Some(json!("2022-01-06T12:00:00+00:00"))
    );
    assert_eq!(
        v("  whatever you like ", "@sys.any"),
        Some(json!("whatever you like"))
    );
    assert_eq!(v("the the", "@sys.person"), None);
    assert_eq!(v("", "@sys.any"), None);
}

#[test]
fn supports_names() {
    assert!(SysExtractor::supports("@sys.date") && SysExtractor::supports("sys.geo-city"));
    assert!(!SysExtractor::supports("@sys.nonsense") && !SysExtractor::supports("@Fruit"));
}

#[test]
fn weird_inputs_do_not_panic() {
    let x = SysExtractor::new();
    let c = la();
    let long = "book a table for 4 at 7pm tomorrow for Nicole 🍝 ".repeat(220);
    let all: Vec<&str> = SUPPORTED.to_vec();
    for t in [
        "",
        " ",
        "🚲",
        "\u{0}",
        "１２：００",
        "ß ẞ ǅ",
        "@@@",
        "://",
        "99999999999999999999999",
        "-",
        long.as_str(),
    ] {
        let _ = x.extract(t, &all, &c);
        for e in &all {
            let _ = x.resolve_answer(t, e, &c);
        }
    }
    assert!(long.len() > 10_000);
    assert_eq!(x.extract(&long, &["@sys.number"], &c).len(), 220);
}

#[test]
fn speed_of_a_fifteen_word_sentence() {
    let x = SysExtractor::new();
    let c = utc();
    let ents = [
        "@sys.date",
        "@sys.time",
        "@sys.number",
        "@sys.person",
        "@sys.duration",
        "@sys.email",
        "@sys.phone-number",
    ];
    let text = "I'd like to book a table for 4 people at 10:00 am on 01/09/2022 for Tanya please";
    // Warm-up: duckling builds its rule tables once per process.
    let _ = x.extract(text, &ents, &c);
    let mut times = Vec::new();
    for i in 1..=40 {
        // A fresh minute each time defeats the cache: this measures real parsing.
        let c = SysContext {
            now: c.now + chrono::Duration::minutes(i),
            ..c
        };
        let t = std::time::Instant::now();
        let got = x.extract(text, &ents, &c);
        times.push(t.elapsed());
        assert_eq!(got.len(), 4);
    }
    times.sort();
    eprintln!(
        "sysent extract p50 {:?} p99 {:?}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    for e in ents {
        let t = std::time::Instant::now();
        let c = SysContext {
            now: c.now + chrono::Duration::minutes(100),
            ..c
        };
        let _ = x.extract(text, &[e], &c);
        eprintln!("  {e}: {:?}", t.elapsed());
    }
    let t = std::time::Instant::now();
    let _ = x.extract(text, &ents, &c);
    eprintln!("  cached: {:?}", t.elapsed());
}

#[test]
fn spoken_dates_with_a_comma_keep_their_year() {
    let text = "I'd like to book a table at 10am on January 9, 2022 for Tanya";
    assert_eq!(
        one(text, "@sys.date", &utc()),
        json!("2022-01-09T12:00:00+00:00")
    );
    assert_eq!(
        one(text, "@sys.time", &utc()),
        json!("2022-01-09T10:00:00+00:00")
    );
    assert_eq!(
        one("on Sunday, January 9", "@sys.date", &utc()),
        json!("2022-01-09T12:00:00+00:00")
    );
}
