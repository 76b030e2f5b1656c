//! System entities (`@sys.*`) in Dialogflow's value formats.

#[cfg(test)]
mod explore {
    use duckling::*;
    use chrono::{FixedOffset, TimeZone};
    #[test]
    fn explore() {
        let locale = Locale::new(Lang::EN, None);
        let ctx = Context::new(FixedOffset::east_opt(0).unwrap().with_ymd_and_hms(2022, 1, 5, 15, 0, 0).unwrap(), locale);
        let texts = ["I'd like to book a table at 10:00 am on 01/09/2022 for Tanya", "for 4 people", "people",
            "the 10th", "tomorrow", "next monday", "half past seven", "at 10", "noon", "13:00", "at 4pm",
            "call me at (415) 333-3333", "my email is bob@example.com", "visit https://example.com/x?y=1",
            "10 minutes", "2 hours", "ten", "the first", "10th", "next week", "this weekend", "tomorrow morning",
            "from 3pm to 5pm", "+1 415 333 3333", "four one five", "10/12/2021", "10/09/2020", "a table for Nicole on the 10th at 13:00",
            "on Friday at 3 pm", "three weeks", "in 2 days", "1.5", "twenty one", "a dozen", "my bike needs a tune up"];
        for dims in [vec![], vec![DimensionKind::Time]] {
        for t in texts {
            let st = std::time::Instant::now();
            let r = parse(t, &locale, &dims, &ctx, &Options::default());
            let el = st.elapsed();
            println!("{t:?} {:?}", el);
            for e in r { println!("    {:?} {}..{} latent={:?} {:?}", e.body, e.start, e.end, e.latent, e.value); }
        }
        }
    }
}
