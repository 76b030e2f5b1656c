//! Process gauges appended to `GET /metrics`: live tokio tasks, cached sessions and live calls —
//! cheap reads of counters that already exist, watched by `switchboard bench soak` for leaks.

use crate::state::AppState;
use std::fmt::Write as _;

/// The gauges in the Prometheus text format.
pub fn render(app: &AppState) -> String {
    let mut out = String::new();
    if let Ok(h) = tokio::runtime::Handle::try_current() {
        let m = h.metrics();
        let _ = writeln!(
            out,
            "# HELP switchboard_tokio_alive_tasks Tokio tasks alive (spawned, not yet finished).\n\
             # TYPE switchboard_tokio_alive_tasks gauge\nswitchboard_tokio_alive_tasks {}",
            m.num_alive_tasks()
        );
        let _ = writeln!(
            out,
            "# HELP switchboard_tokio_workers Tokio worker threads.\n\
             # TYPE switchboard_tokio_workers gauge\nswitchboard_tokio_workers {}",
            m.num_workers()
        );
    }
    let _ = writeln!(
        out,
        "# HELP switchboard_sessions_cached Sessions in the in-memory cache (evicted after the session TTL).\n\
         # TYPE switchboard_sessions_cached gauge\nswitchboard_sessions_cached {}",
        app.sessions.len()
    );
    app.conns.render(&mut out);
    app.guard.render(&mut out);
    if let Some(p) = app.phone.get() {
        p.admission.render(&mut out);
        let _ = writeln!(
            out,
            "# HELP switchboard_calls_live Phone calls whose media socket is being served (from upgrade to end).\n\
             # TYPE switchboard_calls_live gauge\nswitchboard_calls_live {}",
            p.live_calls()
        );
    }
    out
}
