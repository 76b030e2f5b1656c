//! What every imported agent satisfies, and a render of each response template in it (templates
//! are agent-author text run against user-supplied parameters).

use sb_nlu::agent::{Agent, Message};
use sb_nlu::template::{references_filled, render, TemplateEnv};
use serde_json::{json, Map};
use std::collections::BTreeSet;

pub fn check(agent: &Agent) {
    assert!(!agent.intents.is_empty(), "an agent has intents");
    assert!(agent.time_zone.parse::<chrono_tz::Tz>().is_ok());
    assert!((0.0..=1.0).contains(&agent.ml_min_confidence));
    let ids: BTreeSet<&str> = agent.intents.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids.len(), agent.intents.len(), "intent ids are unique");

    let mut params = Map::new();
    params.insert("name".into(), json!("Ada"));
    params.insert("n".into(), json!({"amount": 2, "unit": "kg"}));
    params.insert("list".into(), json!(["a", 1, null]));
    let originals = params.clone();
    let ctx = params.clone();
    let contexts = [("ctx", &ctx)];
    let env = TemplateEnv {
        params: &params,
        originals: &originals,
        contexts: &contexts,
        session_params: &params,
    };
    for intent in &agent.intents {
        let mut texts: Vec<&str> = intent
            .parameters
            .iter()
            .flat_map(|p| &p.prompts)
            .map(String::as_str)
            .collect();
        texts.extend(intent.parameters.iter().map(|p| p.value.as_str()));
        for m in &intent.messages {
            match m {
                Message::Text { variants, .. } => texts.extend(variants.iter().map(String::as_str)),
                Message::SynthesizeSpeech { text, ssml, .. } => {
                    texts.extend(text.as_deref());
                    texts.extend(ssml.as_deref());
                }
                _ => {}
            }
        }
        for t in texts {
            let _ = render(t, &env);
            let filled = references_filled(t, "w");
            // A template without references renders as itself.
            if !t.contains(['$', '#']) {
                assert_eq!(filled, t);
            }
        }
        for c in &intent.output_contexts {
            assert_eq!(
                c.name,
                c.name.to_lowercase(),
                "context names are lower-cased"
            );
        }
    }
}
