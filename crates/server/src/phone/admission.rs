//! Who may hold what before and at a stream's start.
//!
//! - A media socket that has not sent its start message is not a call: it waits under its own
//!   small limit (`phone.max_pending_streams`) and a short timeout (`phone.start_timeout_ms`),
//!   and only a start takes one of the `max_calls` slots. Sockets that never start cannot keep
//!   real calls out.
//! - A call record is written by its own stream only: a start whose call id is live, or already
//!   stored (unless it resumes a paused session with a new stream), is refused and counted.

use super::setup::Phone;
use sb_transport::StartInfo;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Admission {
    pending: Arc<Semaphore>,
    live_ids: Mutex<HashSet<String>>,
    /// Sockets refused because `max_pending_streams` were waiting for their start.
    pub pending_refused: AtomicU64,
    /// Sockets closed because no start came within `start_timeout_ms`.
    pub start_timeouts: AtomicU64,
    /// Starts refused because their call id was live or stored.
    pub duplicates: AtomicU64,
}

impl Admission {
    pub fn new(max_pending: usize) -> Admission {
        Admission {
            pending: Arc::new(Semaphore::new(max_pending)),
            live_ids: Mutex::new(HashSet::new()),
            pending_refused: AtomicU64::new(0),
            start_timeouts: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
        }
    }

    /// A place for a socket waiting for its start, if one is free (else counted).
    pub fn try_pending(&self) -> Option<OwnedSemaphorePermit> {
        let p = self.pending.clone().try_acquire_owned().ok();
        if p.is_none() {
            self.pending_refused.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    fn ids(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.live_ids.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP switchboard_streams_pending_refused_total Media sockets refused because too many were waiting for their start message.\n\
             # TYPE switchboard_streams_pending_refused_total counter\nswitchboard_streams_pending_refused_total {}\n\
             # HELP switchboard_streams_start_timeouts_total Media sockets closed because no start message came in time.\n\
             # TYPE switchboard_streams_start_timeouts_total counter\nswitchboard_streams_start_timeouts_total {}\n\
             # HELP switchboard_calls_duplicate_total Starts refused because their call id was live or already stored.\n\
             # TYPE switchboard_calls_duplicate_total counter\nswitchboard_calls_duplicate_total {}",
            self.pending_refused.load(Ordering::Relaxed),
            self.start_timeouts.load(Ordering::Relaxed),
            self.duplicates.load(Ordering::Relaxed),
        );
    }
}

/// A call id held by its live stream; released when dropped.
pub struct IdClaim {
    phone: Arc<Phone>,
    id: String,
}

impl Drop for IdClaim {
    fn drop(&mut self) {
        if !self.id.is_empty() {
            self.phone.admission.ids().remove(&self.id);
        }
    }
}

/// Claims `start`'s call id for this stream. `Err` (counted) when another stream has it live,
/// or its stored record came from this very stream (a replay), or from another stream that is
/// not resuming a paused session.
pub async fn claim(phone: &Arc<Phone>, start: &StartInfo) -> Result<IdClaim, String> {
    let id = start.call_id.clone();
    let duplicate = |why: String| {
        phone.admission.duplicates.fetch_add(1, Ordering::Relaxed);
        Err(why)
    };
    if id.is_empty() {
        // The call gets a fresh id at setup.
        return Ok(IdClaim {
            phone: phone.clone(),
            id,
        });
    }
    if !phone.admission.ids().insert(id.clone()) {
        return duplicate(format!("call {id} is already live on another stream"));
    }
    let claim = IdClaim {
        phone: phone.clone(),
        id: id.clone(),
    };
    let stored = match phone.calls.get(&id).await {
        Ok(v) => v,
        Err(e) => {
            // Refusing every call while the store is busy would be worse than the risk.
            tracing::warn!(call = %id, error = %e, "cannot look up the call record");
            None
        }
    };
    let Some(rec) = stored else {
        return Ok(claim);
    };
    let stream = start.stream_id.as_str();
    let same_stream = !stream.is_empty()
        && (rec["streamId"] == stream
            || rec["turns"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["streamId"] == stream)));
    // As the call's setup reads it: `config.resumeEndUserId` (our TwiML) or bare.
    let resuming = super::params::read(&start.custom_parameters)
        .config
        .get("resumeEndUserId")
        .is_some_and(|v| !v.trim().is_empty());
    if same_stream || !resuming {
        return duplicate(format!("call {id} already has a record"));
    }
    Ok(claim)
}
