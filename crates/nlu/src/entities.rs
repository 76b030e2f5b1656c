//! Developer entity extraction (map, list, regexp entities; synonyms; fuzzy matching) and the
//! match type shared with system entities.

pub(crate) mod annotations;
mod matcher;
pub(crate) mod phrase;
mod phrase_templates;
mod template;
#[cfg(test)]
mod tests;

pub use matcher::EntityMatcher;
pub use phrase_templates::{PhraseTemplates, TemplateMatch};

use serde_json::Value;

/// One entity found in a text. Offsets are byte offsets on char boundaries.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityMatch {
    pub start: usize,
    pub end: usize,
    /// Entity type with `@`: `@sys.date`, `@AppointmentType`.
    pub entity: String,
    /// Resolved value in Dialogflow's format (string, number, object…).
    pub value: Value,
    /// The text as the user wrote it (`$param.original`).
    pub original: String,
}
