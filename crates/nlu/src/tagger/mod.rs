//! tagger placeholder
