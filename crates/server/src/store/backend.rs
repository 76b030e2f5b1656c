//! Where the store lives and how it is opened: the location (memory, a data directory, a URL),
//! the connection pool, per-connection settings, and the migrations.
//!
//! Both backends go through sqlx's `Any` driver, so every query is written once: the SQL the store
//! uses is the common subset of SQLite and PostgreSQL (`$N` parameters, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`), and columns are text, 64-bit integers and doubles (JSON as text, times as Unix
//! milliseconds or RFC 3339 text). The schema itself is per backend (`migrations/sqlite`,
//! `migrations/postgres`), embedded in the binary at build time.

use super::StoreError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The database file in a data directory.
pub const DB_FILE: &str = "switchboard.db";

/// Connections per PostgreSQL pool (per node).
const PG_POOL: u32 = 16;
/// Connections per SQLite file pool: one writer at a time (WAL), readers beside it.
const SQLITE_POOL: u32 = 4;

/// A database URL. Its password never appears in `Debug` or `Display` output (or in errors).
#[derive(Clone, PartialEq, Eq)]
pub struct StoreUrl(String);

impl StoreUrl {
    /// Accepts `postgres://…`, `postgresql://…` and `sqlite://PATH` / `sqlite:PATH`.
    pub fn parse(url: &str) -> Result<StoreUrl, StoreError> {
        let url = url.trim();
        let kind = Kind::of(url).ok_or_else(|| StoreError::Url {
            url: redact(url),
            reason: "expected postgres://… or sqlite://PATH",
        })?;
        if kind == Kind::Postgres {
            reqwest::Url::parse(url).map_err(|_| StoreError::Url {
                url: redact(url),
                reason: "not a valid URL",
            })?;
        }
        Ok(StoreUrl(url.to_string()))
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_postgres(&self) -> bool {
        Kind::of(&self.0) == Some(Kind::Postgres)
    }
}

impl FromStr for StoreUrl {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreUrl::parse(s)
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreUrl({})", redact(&self.0))
    }
}

impl std::fmt::Display for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact(&self.0))
    }
}

/// `url` without its password (kept as `***`), for logs and errors.
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        // Not a URL: show the scheme at most, in case the rest holds a secret.
        Err(_) => url.split(':').next().unwrap_or("").to_string() + ":…",
    }
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Location {
    /// An in-memory SQLite database, gone when the store closes (chat, bench, tests).
    #[default]
    Memory,
    /// `switchboard.db` in this directory (created if missing).
    Dir(PathBuf),
    /// This SQLite file.
    File(PathBuf),
    /// A `postgres://` (or `sqlite://`) URL.
    Url(StoreUrl),
}

impl Location {
    /// The URL when there is one, else the data directory, else memory.
    pub fn from_config(data_dir: Option<&Path>, url: Option<&StoreUrl>) -> Location {
        match (url, data_dir) {
            (Some(u), _) => Location::Url(u.clone()),
            (None, Some(d)) => Location::Dir(d.to_path_buf()),
            (None, None) => Location::Memory,
        }
    }

    /// For messages: the file or the redacted URL.
    pub fn describe(&self) -> String {
        match self {
            Location::Memory => ":memory:".into(),
            Location::Dir(d) => d.join(DB_FILE).display().to_string(),
            Location::File(f) => f.display().to_string(),
            Location::Url(u) => u.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

impl Kind {
    fn of(url: &str) -> Option<Kind> {
        let scheme = url.split(':').next()?.to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Kind::Postgres),
            "sqlite" => Some(Kind::Sqlite),
            _ => None,
        }
    }
}

/// An open pool and what it is.
pub(crate) struct Db {
    pub pool: AnyPool,
    pub kind: Kind,
}

/// `path` as a `sqlite://` URL (sqlx percent-decodes the path).
fn sqlite_url(path: &Path) -> String {
    let mut s = String::from("sqlite://");
    for ch in path.display().to_string().chars() {
        match ch {
            '%' => s.push_str("%25"),
            '?' => s.push_str("%3F"),
            '#' => s.push_str("%23"),
            c => s.push(c),
        }
    }
    s.push_str("?mode=rwc");
    s
}

fn create_dir(d: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(d).map_err(|source| StoreError::DataDir {
        path: d.display().to_string(),
        source,
    })
}

/// Opens the pool and brings the schema up to date.
pub(crate) async fn open(location: &Location) -> Result<Db, StoreError> {
    static DRIVERS: std::sync::Once = std::sync::Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let (url, kind, memory) = match location {
        Location::Memory => ("sqlite::memory:".to_string(), Kind::Sqlite, true),
        Location::Dir(d) => {
            create_dir(d)?;
            (sqlite_url(&d.join(DB_FILE)), Kind::Sqlite, false)
        }
        Location::File(f) => {
            if let Some(d) = f.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_dir(d)?;
            }
            (sqlite_url(f), Kind::Sqlite, false)
        }
        Location::Url(u) => {
            let kind = if u.is_postgres() {
                Kind::Postgres
            } else {
                Kind::Sqlite
            };
            (u.expose().to_string(), kind, false)
        }
    };
    let target = location.describe();
    let open_err = |source| StoreError::Open {
        target: target.clone(),
        source,
    };
    // sqlx logs statements (never their arguments) at debug level, slow ones as warnings.
    let options = AnyConnectOptions::from_str(&url).map_err(open_err)?;
    let pool = match kind {
        Kind::Postgres => AnyPoolOptions::new()
            .max_connections(PG_POOL)
            .acquire_timeout(Duration::from_secs(10)),
        // An in-memory database lives as long as its one connection: never close it.
        Kind::Sqlite if memory => AnyPoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None),
        Kind::Sqlite => AnyPoolOptions::new().max_connections(SQLITE_POOL),
    }
    // A local file has no connection to lose: checking one before each use only costs a round
    // trip to its worker thread.
    .test_before_acquire(kind == Kind::Postgres)
    .after_connect(move |conn, _| {
        Box::pin(async move {
            if kind == Kind::Sqlite {
                // WAL: readers never block the writer. synchronous=NORMAL: a commit survives a
                // process crash; a power loss can lose the last commits (see the module docs).
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 5000;",
                )
                .await?;
            }
            Ok(())
        })
    })
    .connect_with(options)
    .await
    .map_err(open_err)?;
    let db = Db { pool, kind };
    migrate(&db, &target).await?;
    Ok(db)
}

async fn migrate(db: &Db, target: &str) -> Result<(), StoreError> {
    let migrate_err = |source| StoreError::Migrate {
        target: target.to_string(),
        source,
    };
    match db.kind {
        Kind::Sqlite => {
            adopt_legacy_sqlite(&db.pool).await?;
            SQLITE_MIGRATIONS.run(&db.pool).await.map_err(migrate_err)
        }
        Kind::Postgres => POSTGRES_MIGRATIONS.run(&db.pool).await.map_err(migrate_err),
    }
}

/// Databases written before the store had migrations: the first migration adopts their tables
/// (`IF NOT EXISTS`), but a `calls` table from before its `hangup` column needs the column first.
async fn adopt_legacy_sqlite(pool: &AnyPool) -> Result<(), StoreError> {
    let migrated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(pool)
    .await?;
    if migrated > 0 {
        return Ok(());
    }
    let calls: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'calls'",
    )
    .fetch_one(pool)
    .await?;
    let hangup: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pragma_table_info('calls') WHERE name = 'hangup'")
            .fetch_one(pool)
            .await?;
    if calls > 0 && hangup == 0 {
        sqlx::query("ALTER TABLE calls ADD COLUMN hangup TEXT")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// A boxed future, `Send`. The store's writer tasks hold connections across awaits; boxing the
/// statements' futures lets the compiler prove those tasks `Send` (it cannot see through sqlx's
/// higher-ranked executor lifetimes otherwise).
pub(crate) type Fut<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Opens a write transaction. SQLite's `BEGIN IMMEDIATE` takes the write lock up front (waiting
/// up to `busy_timeout`), so a batch that reads before it writes cannot fail to upgrade its lock.
pub(crate) fn begin_write(
    conn: &mut sqlx::AnyConnection,
    kind: Kind,
) -> Fut<'_, Result<(), sqlx::Error>> {
    let sql = match kind {
        Kind::Sqlite => "BEGIN IMMEDIATE",
        Kind::Postgres => "BEGIN",
    };
    Box::pin(async move { conn.execute(sql).await.map(|_| ()) })
}

pub(crate) fn commit(conn: &mut sqlx::AnyConnection) -> Fut<'_, Result<(), sqlx::Error>> {
    Box::pin(async move { conn.execute("COMMIT").await.map(|_| ()) })
}

/// Rolls back after a failed statement, so the connection goes back to the pool clean. If even
/// that fails the connection is closed instead of reused.
pub(crate) fn rollback(mut conn: sqlx::pool::PoolConnection<sqlx::Any>) -> Fut<'static, ()> {
    Box::pin(async move {
        if let Err(e) = conn.execute("ROLLBACK").await {
            tracing::error!(error = %e, "store: rollback failed; dropping the connection");
            let _ = conn.detach();
        }
    })
}

/// A pooled connection with a write transaction open.
pub(crate) fn acquire_write(
    pool: &AnyPool,
    kind: Kind,
) -> Fut<'_, Result<sqlx::pool::PoolConnection<sqlx::Any>, sqlx::Error>> {
    Box::pin(async move {
        let mut c = pool.acquire().await?;
        match begin_write(&mut c, kind).await {
            Ok(()) => Ok(c),
            Err(e) => {
                rollback(c).await;
                Err(e)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_hidden() {
        let u = StoreUrl::parse("postgres://sb:s3cret@db.example:5432/switchboard").unwrap();
        assert!(u.is_postgres());
        assert!(!format!("{u} {u:?}").contains("s3cret"));
        assert!(u.expose().contains("s3cret"));
        assert!(StoreUrl::parse("sqlite:///tmp/x.db").is_ok_and(|u| !u.is_postgres()));
        let e = StoreUrl::parse("mysql://root:pw@h/db")
            .unwrap_err()
            .to_string();
        assert!(e.contains("postgres://") && !e.contains("pw"), "{e}");
        assert!(StoreUrl::parse("postgres://[oops").is_err());
    }

    #[test]
    fn sqlite_paths_are_escaped_in_urls() {
        assert_eq!(
            sqlite_url(Path::new("/tmp/a b?#%/x.db")),
            "sqlite:///tmp/a b%3F%23%25/x.db?mode=rwc"
        );
    }
}
