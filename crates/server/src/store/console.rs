//! The web chat's and console's records in the one store: conversations with their entries
//! (`conversations`, `conversation_entries`) and console users (`console_users`). Written and read
//! directly: a chat message is committed before the console is told of it, and another node's
//! console finds it.

use super::{to_ms, Store, StoreError};
use crate::web::model::{Conversation, Entry, Meta, Search, User, MAX_SEARCH};
use crate::web::store::{ConversationStore, StoreFuture, UserStore, WebStoreError};
use sqlx::Row;

/// Rows a history search reads at most while filtering by intent (which is inside the header).
const MAX_SCANNED: usize = 10_000;

fn backend(e: impl std::fmt::Display) -> WebStoreError {
    WebStoreError::Backend(e.to_string())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, WebStoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn parse<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T, WebStoreError> {
    serde_json::from_str(s).map_err(|source| backend(StoreError::Corrupt { what, source }))
}

/// `%text%` for `LIKE … ESCAPE '\'`, the text lower-cased as entries are.
fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl ConversationStore for Store {
    fn save_meta<'a>(&'a self, meta: &'a Meta) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO conversations(id, started_at, updated_at, meta) VALUES ($1, $2, $3, $4)
                 ON CONFLICT(id) DO UPDATE SET started_at = excluded.started_at,
                 updated_at = excluded.updated_at, meta = excluded.meta",
            )
            .bind(&meta.id)
            .bind(to_ms(meta.started_at))
            .bind(to_ms(meta.updated_at))
            .bind(json(meta)?)
            .execute(self.pool())
            .await
            .map_err(backend)?;
            Ok(())
        })
    }

    fn put_entry<'a>(&'a self, conversation: &'a str, entry: &'a Entry) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO conversation_entries(conversation, seq, text_lower, entry)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT(conversation, seq) DO UPDATE SET text_lower = excluded.text_lower,
                 entry = excluded.entry",
            )
            .bind(conversation)
            .bind(i64::from(entry.seq))
            .bind(entry.text.to_lowercase())
            .bind(json(entry)?)
            .execute(self.pool())
            .await
            .map_err(backend)?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Conversation>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT meta FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(backend)?;
            let Some(row) = row else {
                return Ok(None);
            };
            let meta: Meta = parse(
                "conversation",
                &row.try_get::<String, _>(0).map_err(backend)?,
            )?;
            let rows = sqlx::query(
                "SELECT entry FROM conversation_entries WHERE conversation = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(self.pool())
            .await
            .map_err(backend)?;
            let mut entries = Vec::with_capacity(rows.len());
            for r in rows {
                entries.push(parse(
                    "conversation entry",
                    &r.try_get::<String, _>(0).map_err(backend)?,
                )?);
            }
            Ok(Some(Conversation { meta, entries }))
        })
    }

    fn search<'a>(&'a self, search: &'a Search) -> StoreFuture<'a, Vec<Meta>> {
        Box::pin(async move {
            let limit = search.limit.unwrap_or(50).clamp(1, MAX_SEARCH);
            let intent = search.intent.as_deref().filter(|i| !i.is_empty());
            let text = search
                .text
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(like_pattern);
            // Dates and text in SQL; the intent (in the header) here, page by page.
            let page = if intent.is_some() { MAX_SEARCH } else { limit };
            let mut out = Vec::new();
            let mut offset = 0usize;
            while out.len() < limit && offset < MAX_SCANNED {
                let rows = sqlx::query(
                    "SELECT c.meta FROM conversations c
                     WHERE ($1 IS NULL OR c.updated_at >= $1) AND ($2 IS NULL OR c.started_at <= $2)
                     AND ($3 IS NULL OR EXISTS (SELECT 1 FROM conversation_entries e
                          WHERE e.conversation = c.id AND e.text_lower LIKE $3 ESCAPE '\\'))
                     ORDER BY c.started_at DESC, c.id DESC LIMIT $4 OFFSET $5",
                )
                .bind(search.from.map(to_ms))
                .bind(search.to.map(to_ms))
                .bind(text.as_deref())
                .bind(page as i64)
                .bind(offset as i64)
                .fetch_all(self.pool())
                .await
                .map_err(backend)?;
                let n = rows.len();
                for r in rows {
                    let meta: Meta =
                        parse("conversation", &r.try_get::<String, _>(0).map_err(backend)?)?;
                    let wanted = intent
                        .is_none_or(|i| meta.intents.iter().any(|x| x.eq_ignore_ascii_case(i)));
                    if wanted && out.len() < limit {
                        out.push(meta);
                    }
                }
                if n < page {
                    break;
                }
                offset += n;
            }
            Ok(out)
        })
    }
}

impl UserStore for Store {
    fn add_user<'a>(&'a self, user: &'a User) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let r = sqlx::query(
                "INSERT INTO console_users(name, user_json) VALUES ($1, $2)
                 ON CONFLICT(name) DO NOTHING",
            )
            .bind(&user.name)
            .bind(json(user)?)
            .execute(self.pool())
            .await
            .map_err(backend)?;
            if r.rows_affected() == 0 {
                return Err(WebStoreError::UserExists(user.name.clone()));
            }
            Ok(())
        })
    }

    fn user<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Option<User>> {
        Box::pin(async move {
            let row = sqlx::query("SELECT user_json FROM console_users WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await
                .map_err(backend)?;
            match row {
                Some(r) => Ok(Some(parse(
                    "console user",
                    &r.try_get::<String, _>(0).map_err(backend)?,
                )?)),
                None => Ok(None),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("Table_For 2%"), "%table\\_for 2\\%%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
    }
}
