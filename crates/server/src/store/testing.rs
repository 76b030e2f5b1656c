//! Test support (not part of the server): a PostgreSQL schema of its own for each test, so store
//! tests on the one test database run in parallel without seeing each other's rows.

use super::StoreUrl;
use sqlx::Connection;

/// The test PostgreSQL's URL (`scripts/start-postgres.sh` prints it).
pub const POSTGRES_URL_VAR: &str = "SWITCHBOARD_TEST_POSTGRES_URL";

/// A URL of the test PostgreSQL whose `search_path` is a new, empty schema. Without
/// [`POSTGRES_URL_VAR`] this panics with the command that starts one, unless
/// `SWITCHBOARD_TEST_ALLOW_SKIP=1` (a developer opt-out) makes it a skip (`None`).
pub async fn fresh_postgres() -> Option<StoreUrl> {
    let base = match std::env::var(POSTGRES_URL_VAR) {
        Ok(u) if !u.trim().is_empty() => u,
        _ => {
            let what = format!(
                "{POSTGRES_URL_VAR} is not set: run `eval \"$(scripts/start-postgres.sh)\"` \
                 (installs and starts a throwaway PostgreSQL) before `cargo test`"
            );
            if std::env::var("SWITCHBOARD_TEST_ALLOW_SKIP").as_deref() == Ok("1") {
                eprintln!("SKIPPED: {what}");
                return None;
            }
            panic!("{what}");
        }
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {POSTGRES_URL_VAR}: {e}"));
    sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create schema {schema}: {e}"));
    let _ = conn.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options%5Bsearch_path%5D={schema}");
    Some(StoreUrl::parse(&url).unwrap_or_else(|e| panic!("{e}")))
}
