//! The whole path on a virtual clock with the production VAD (earshot) instead of the energy
//! VAD: the synthetic caller voice is heard as speech through both codecs, so barge-in and the
//! early turn keep their timing within a VAD frame or two.

mod virtual_support;

use sb_call::AsrPriority;
use sb_speech::vad::EarshotVad;
use sb_testkit::virtual_call::{Setup, VirtualCall};
use sb_testkit::Platform;
use virtual_support::*;

on_both_platforms!(barge_in_and_an_early_answer_with_the_production_vad);

/// Two of earshot's 16 ms frames and one 20 ms line frame.
const VAD_SLACK_MS: u64 = 52;

fn barge_in_and_an_early_answer_with_the_production_vad(p: Platform) {
    let mut setup = Setup::new(p, restaurant(), early());
    setup.vad = Box::new(EarshotVad::new());
    let mut c = VirtualCall::new(setup).expect("virtual call");
    c.start();
    c.run_for(500);
    c.say(BOOKING, 1_500);
    c.until_said(3_000);
    let reply = c.run_until(2_000, |c| c.synthesized().len() == 2);
    let onset = 500 + c.uplink_delay_ms();
    let clears = c.clears();
    assert_eq!(clears.len(), 1, "{}", c.dump());
    assert_at(&c, "clear", clears[0], onset + 300, VAD_SLACK_MS);
    let asr = c.recognitions();
    assert_eq!(asr.len(), 1, "{}", c.dump());
    assert_eq!(
        (asr[0].2, asr[0].3.as_str()),
        (AsrPriority::EarlyGuess, BOOKING)
    );
    let end = speech_end(&c);
    assert_at(&c, "guess", asr[0].0, end + 200, VAD_SLACK_MS);
    assert!(c.synthesized()[1].2.starts_with("Table booked for Tanya"));
    assert_eq!(reply, asr[0].0 + 150);
    assert!(c.problems().is_empty(), "{:?}", c.problems());
}
