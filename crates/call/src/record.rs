//! What the turn state machine asks of the engine and reports about a turn: the engine
//! request, the caller's sentiment, how the call goes on after a reply, the turn's record.

use crate::session::CallSession;
use crate::turn::BotTurn;
use crate::types::*;
use sb_nlu::dialog::{QueryInput, QueryParams, TurnRequest, TurnResult};
use serde_json::{json, Map, Value};

impl CallSession {
    /// The engine request for `input` at `at` (the call's session parameters go with the first).
    pub(crate) fn request(
        &self,
        at: u64,
        input: QueryInput,
        confidence: Option<f32>,
        sentiment: Option<(f32, f32)>,
    ) -> TurnRequest {
        let params = QueryParams {
            time_zone: self.cfg.time_zone.clone(),
            session_params: if self.params_pending {
                self.cfg.session_params.clone()
            } else {
                Map::new()
            },
            payload: self.cfg.payload.clone(),
            ..QueryParams::default()
        };
        TurnRequest {
            session: self.session_path.clone(),
            input,
            params,
            now: self.utc_at(at),
            sentiment,
            speech_confidence: confidence,
            source: self.cfg.source.clone(),
        }
    }

    /// (score, magnitude) of what the caller said, when sentiment analysis is on.
    pub(crate) fn sentiment_of(&self, text: &str) -> Option<(f32, f32)> {
        match (&self.sentiment, self.cfg.sentiment) {
            (Some(s), true) => {
                let sc = s.analyze(text);
                Some((sc.score, sc.magnitude))
            }
            _ => None,
        }
    }

    /// `TurnCompleted` for engine turns (prompts that are not engine turns have no record).
    pub(crate) fn emit_record(&mut self, t: BotTurn, interrupted: bool) {
        let (Some(input), Some(r)) = (t.input, t.result) else {
            return;
        };
        let rec = TurnRecord {
            turn: t.id,
            input,
            intent: r.intent_name,
            confidence: r.confidence,
            parameters: r.parameters,
            all_required_params_present: r.all_required_params_present,
            bot_text: r.reply_text,
            sentiment: t.sentiment,
            timings: t.timings,
            query_result: r.query_result,
            interrupted,
        };
        self.out
            .push_back(Output::Event(CallEvent::TurnCompleted(Box::new(rec))));
    }
}

/// What the call does after the reply: handoff wins over pause, pause over end.
pub(crate) fn ending_of(r: &TurnResult) -> Option<(EndStatus, HangupReason)> {
    let c = &r.control;
    if c.live_agent_handoff.is_some() || c.transfer_to.is_some() {
        let params = c.live_agent_handoff.clone().unwrap_or_else(|| json!({}));
        let status = EndStatus::LiveAgentHandoff {
            params,
            transfer_to: c.transfer_to.clone(),
        };
        return Some((status, HangupReason::LiveAgentHandoff));
    }
    if let Some(p) = &c.pause {
        let params: Map<String, Value> = p.clone();
        return Some((EndStatus::Paused { params }, HangupReason::Paused));
    }
    c.end_interaction
        .then_some((EndStatus::Completed, HangupReason::EndOfConversation))
}
