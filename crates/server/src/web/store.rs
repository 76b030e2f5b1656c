//! Persistence seam of the web chat and console: conversations and console users behind two small
//! traits, implemented by the server's one store (`crate::store`). [`MemoryStore`] keeps them in
//! memory (bounded) for tests; [`FileUsers`] is the users file of older servers
//! (`<data-dir>/console-users.json`), read once at start into the store.

use super::model::{Conversation, Entry, Meta, Search, User, MAX_SEARCH};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, WebStoreError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum WebStoreError {
    #[error("user `{0}` already exists")]
    UserExists(String),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid user file: {source}")]
    Corrupt {
        path: String,
        source: serde_json::Error,
    },
    #[error("store: {0}")]
    Backend(String),
}

/// Conversations as the console's history sees them. Writes come in order per conversation.
pub trait ConversationStore: Send + Sync {
    /// Inserts or replaces the conversation's header.
    fn save_meta<'a>(&'a self, meta: &'a Meta) -> StoreFuture<'a, ()>;
    /// Inserts an entry, or replaces the one with the same `seq` (late NLU annotations).
    fn put_entry<'a>(&'a self, conversation: &'a str, entry: &'a Entry) -> StoreFuture<'a, ()>;
    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Conversation>>;
    /// Newest first, at most `search.limit` (capped at [`MAX_SEARCH`]).
    fn search<'a>(&'a self, search: &'a Search) -> StoreFuture<'a, Vec<Meta>>;
}

/// Console accounts.
pub trait UserStore: Send + Sync {
    /// Fails with [`WebStoreError::UserExists`] for a taken name.
    fn add_user<'a>(&'a self, user: &'a User) -> StoreFuture<'a, ()>;
    fn user<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<User>>;
}

/// Whether `meta`/`entries` match `s` (shared by in-memory implementations and tests).
pub fn matches(s: &Search, meta: &Meta, entries: &[Entry]) -> bool {
    if s.from.is_some_and(|f| meta.updated_at < f) || s.to.is_some_and(|t| meta.started_at > t) {
        return false;
    }
    if let Some(i) = s.intent.as_deref().filter(|i| !i.is_empty()) {
        if !meta.intents.iter().any(|x| x.eq_ignore_ascii_case(i)) {
            return false;
        }
    }
    if let Some(t) = s.text.as_deref().filter(|t| !t.is_empty()) {
        let t = t.to_lowercase();
        if !entries.iter().any(|e| e.text.to_lowercase().contains(&t)) {
            return false;
        }
    }
    true
}

/// Conversations in memory, the oldest forgotten beyond `max`.
pub struct MemoryStore {
    inner: Mutex<Memory>,
    max: usize,
}

#[derive(Default)]
struct Memory {
    convs: HashMap<String, Conversation>,
    order: VecDeque<String>,
    users: HashMap<String, User>,
}

impl MemoryStore {
    pub fn new(max: usize) -> Self {
        MemoryStore {
            inner: Mutex::new(Memory::default()),
            max: max.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ConversationStore for MemoryStore {
    fn save_meta<'a>(&'a self, meta: &'a Meta) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut m = self.lock();
            if let Some(c) = m.convs.get_mut(&meta.id) {
                c.meta = meta.clone();
                return Ok(());
            }
            m.convs.insert(
                meta.id.clone(),
                Conversation {
                    meta: meta.clone(),
                    entries: Vec::new(),
                },
            );
            m.order.push_back(meta.id.clone());
            while m.order.len() > self.max {
                if let Some(old) = m.order.pop_front() {
                    m.convs.remove(&old);
                }
            }
            Ok(())
        })
    }

    fn put_entry<'a>(&'a self, conversation: &'a str, entry: &'a Entry) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut m = self.lock();
            if let Some(c) = m.convs.get_mut(conversation) {
                match c.entries.iter_mut().find(|e| e.seq == entry.seq) {
                    Some(e) => *e = entry.clone(),
                    None => c.entries.push(entry.clone()),
                }
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Conversation>> {
        Box::pin(async move { Ok(self.lock().convs.get(id).cloned()) })
    }

    fn search<'a>(&'a self, search: &'a Search) -> StoreFuture<'a, Vec<Meta>> {
        Box::pin(async move {
            let limit = search.limit.unwrap_or(50).clamp(1, MAX_SEARCH);
            let m = self.lock();
            let mut out: Vec<Meta> = m
                .convs
                .values()
                .filter(|c| matches(search, &c.meta, &c.entries))
                .map(|c| c.meta.clone())
                .collect();
            out.sort_by(|a, b| b.started_at.cmp(&a.started_at).then(b.id.cmp(&a.id)));
            out.truncate(limit);
            Ok(out)
        })
    }
}

impl UserStore for MemoryStore {
    fn add_user<'a>(&'a self, user: &'a User) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut m = self.lock();
            if m.users.contains_key(&user.name) {
                return Err(WebStoreError::UserExists(user.name.clone()));
            }
            m.users.insert(user.name.clone(), user.clone());
            Ok(())
        })
    }

    fn user<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(async move { Ok(self.lock().users.get(name).cloned()) })
    }
}

/// Users in a JSON file (mode 0600), rewritten atomically on each change. Few users, rare writes.
pub struct FileUsers {
    path: PathBuf,
    lock: Mutex<()>,
}

impl FileUsers {
    pub const FILE: &'static str = "console-users.json";

    pub fn new(data_dir: &Path) -> Self {
        FileUsers {
            path: data_dir.join(Self::FILE),
            lock: Mutex::new(()),
        }
    }

    fn io(&self, source: std::io::Error) -> WebStoreError {
        WebStoreError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Every user of the file (none when there is no file).
    pub fn read_all(&self) -> Result<Vec<User>, WebStoreError> {
        self.read()
    }

    fn read(&self) -> Result<Vec<User>, WebStoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|source| WebStoreError::Corrupt {
                path: self.path.display().to_string(),
                source,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.io(e)),
        }
    }

    fn write(&self, users: &[User]) -> Result<(), WebStoreError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| self.io(e))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let body =
            serde_json::to_vec_pretty(users).map_err(|e| WebStoreError::Backend(e.to_string()))?;
        {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(|e| self.io(e))?;
            f.write_all(&body)
                .and_then(|_| f.sync_all())
                .map_err(|e| self.io(e))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))
    }
}

impl UserStore for FileUsers {
    fn add_user<'a>(&'a self, user: &'a User) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut users = self.read()?;
            if users.iter().any(|u| u.name == user.name) {
                return Err(WebStoreError::UserExists(user.name.clone()));
            }
            users.push(user.clone());
            self.write(&users)
        })
    }

    fn user<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(async move {
            let _g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            Ok(self.read()?.into_iter().find(|u| u.name == name))
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::web::model::{Channel, Status, Who};
    use chrono::{TimeZone, Utc};

    fn meta(id: &str, day: u32, intents: &[&str]) -> Meta {
        let t = Utc
            .with_ymd_and_hms(2025, 3, day, 12, 0, 0)
            .single()
            .unwrap_or_default();
        Meta {
            id: id.into(),
            channel: Channel::Chat,
            started_at: t,
            updated_at: t,
            status: Status::Bot,
            handoff_reason: None,
            phone: None,
            intents: intents.iter().map(|s| s.to_string()).collect(),
            calls: Vec::new(),
            last_text: String::new(),
            entry_count: 0,
        }
    }

    fn entry(seq: u32, text: &str) -> Entry {
        Entry {
            seq,
            at: Utc::now(),
            who: Who::Customer,
            agent: None,
            text: text.into(),
            rich: Vec::new(),
            nlu: None,
        }
    }

    #[tokio::test]
    async fn search_by_date_intent_and_text_newest_first() {
        conversations_round_trip(&MemoryStore::new(10)).await;
        users_round_trip(&MemoryStore::new(10)).await;
    }

    /// What every [`ConversationStore`] does (the one store's backends run it too).
    pub(crate) async fn conversations_round_trip(s: &dyn ConversationStore) {
        assert!(s.get("a").await.unwrap().is_none());
        for (id, day, intents, text) in [
            ("a", 1, vec!["Table Booker"], "a table for two"),
            ("b", 2, vec!["Goodbye"], "bye"),
            ("c", 3, vec!["Table Booker", "Goodbye"], "Table please"),
        ] {
            assert!(s.save_meta(&meta(id, day, &intents)).await.is_ok());
            assert!(s.put_entry(id, &entry(0, text)).await.is_ok());
        }
        let ids = |v: Vec<Meta>| v.into_iter().map(|m| m.id).collect::<Vec<_>>();
        let q = Search {
            intent: Some("table booker".into()),
            ..Default::default()
        };
        assert_eq!(ids(s.search(&q).await.unwrap_or_default()), ["c", "a"]);
        let q = Search {
            text: Some("TABLE".into()),
            from: Some(
                Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0)
                    .single()
                    .unwrap_or_default(),
            ),
            ..Default::default()
        };
        assert_eq!(ids(s.search(&q).await.unwrap_or_default()), ["c"]);
        // Replacing an entry by seq keeps one.
        assert!(s.put_entry("a", &entry(0, "changed")).await.is_ok());
        let a = s.get("a").await.ok().flatten().map(|c| c.entries);
        assert_eq!(
            a.map(|e| (e.len(), e[0].text.clone())),
            Some((1, "changed".into()))
        );
        // Entries come back in order, the header as last saved; wildcards are plain text.
        let script = entry(1, "<script>x</script>");
        assert!(s.put_entry("c", &script).await.is_ok());
        assert!(s.put_entry("c", &entry(2, "100% sure_thing")).await.is_ok());
        let mut c = meta("c", 3, &["Table Booker"]);
        c.status = Status::Resolved {
            by: "ada".into(),
            at: c.updated_at,
        };
        assert!(s.save_meta(&c).await.is_ok());
        let got = s.get("c").await.unwrap().expect("c");
        assert_eq!(got.meta, c);
        let seqs: Vec<u32> = got.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [0, 1, 2]);
        assert_eq!(got.entries[1].text, "<script>x</script>");
        let q = |t: &str| Search {
            text: Some(t.into()),
            ..Default::default()
        };
        assert_eq!(ids(s.search(&q("0% S")).await.unwrap()), ["c"]);
        assert!(s.search(&q("1_0")).await.unwrap().is_empty());
        assert!(s.search(&q("%")).await.unwrap().len() == 1);
        let limited = Search {
            limit: Some(2),
            ..Default::default()
        };
        assert_eq!(ids(s.search(&limited).await.unwrap()), ["c", "b"]);
    }

    /// What every [`UserStore`] does.
    pub(crate) async fn users_round_trip(s: &dyn UserStore) {
        let u = User {
            name: "grace".into(),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            admin: true,
            phone: Some("+15550100".into()),
            created_at: Utc.timestamp_millis_opt(1_700_000_000_000).unwrap(),
        };
        assert!(s.user("grace").await.unwrap().is_none());
        s.add_user(&u).await.unwrap();
        assert!(matches!(
            s.add_user(&u).await,
            Err(WebStoreError::UserExists(n)) if n == "grace"
        ));
        assert_eq!(s.user("grace").await.unwrap(), Some(u));
        assert!(s.user("Grace").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn memory_store_forgets_the_oldest_beyond_its_bound() {
        let s = MemoryStore::new(2);
        for (id, day) in [("a", 1), ("b", 2), ("c", 3)] {
            assert!(s.save_meta(&meta(id, day, &[])).await.is_ok());
        }
        assert!(s.get("a").await.ok().flatten().is_none());
        assert!(s.get("c").await.ok().flatten().is_some());
    }

    #[tokio::test]
    async fn file_users_persist_and_refuse_duplicates() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let u = User {
            name: "ada".into(),
            password_hash: "$argon2id$x".into(),
            admin: true,
            phone: None,
            created_at: Utc::now(),
        };
        assert!(FileUsers::new(dir.path()).add_user(&u).await.is_ok());
        let again = FileUsers::new(dir.path());
        assert!(matches!(
            again.add_user(&u).await,
            Err(WebStoreError::UserExists(_))
        ));
        assert_eq!(again.user("ada").await.ok().flatten(), Some(u));
        assert_eq!(again.user("bob").await.ok().flatten(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FileUsers::FILE))
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            assert_eq!(mode, 0o600);
        }
    }
}
