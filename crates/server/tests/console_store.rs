//! Console users and chat conversations live in the server's one store: `switchboard users add`
//! writes the account where `serve` reads it, the users file of an older server is taken in at
//! start, and a conversation outlives its server (and is seen by another node on PostgreSQL,
//! see `store::tests`).

use std::process::Command;
use std::sync::Arc;
use switchboard::clock::SystemClock;
use switchboard::config::ServerConfig;
use switchboard::web::model::{Channel, Entry, Meta, Status, User, Who};
use switchboard::web::store::FileUsers;
use switchboard::AppState;

fn engine() -> Arc<sb_nlu::engine::Engine> {
    let agent = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/restaurant");
    switchboard::cli::load_engine(&agent, None).expect("agent")
}

async fn state(data: &std::path::Path) -> AppState {
    let config = ServerConfig {
        data_dir: Some(data.to_path_buf()),
        ..ServerConfig::default()
    };
    AppState::new(engine(), config, Arc::new(SystemClock))
        .await
        .expect("state")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_add_writes_where_serve_reads() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "users",
            "add",
            "--admin",
            "ada",
            "--phone",
            "+15005550001",
            "--data-dir",
        ])
        .arg(data.path())
        .env("SWITCHBOARD_USER_PASSWORD", "correct horse battery staple")
        .env_remove("SWITCHBOARD_STORE_URL")
        .output()
        .expect("run switchboard users add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!data.path().join(FileUsers::FILE).exists(), "no side file");
    let again = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["users", "add", "ada", "--data-dir"])
        .arg(data.path())
        .env("SWITCHBOARD_USER_PASSWORD", "another long one")
        .env_remove("SWITCHBOARD_STORE_URL")
        .output()
        .expect("run switchboard users add");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("user `ada` already exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let s = state(data.path()).await;
    let ada = s.web.users.user("ada").await.unwrap().expect("ada");
    assert!(ada.admin);
    assert_eq!(ada.phone.as_deref(), Some("+15005550001"));
    assert!(switchboard::web::auth::verify_password(
        &ada.password_hash,
        "correct horse battery staple"
    ));
    s.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_servers_users_file_is_taken_in_and_conversations_outlive_the_server() {
    let data = tempfile::tempdir().unwrap();
    let old = User {
        name: "grace".into(),
        password_hash: switchboard::web::auth::hash_password("a long enough one").unwrap(),
        admin: false,
        phone: None,
        created_at: chrono::Utc::now(),
    };
    use switchboard::web::store::UserStore;
    FileUsers::new(data.path()).add_user(&old).await.unwrap();

    let s = state(data.path()).await;
    assert_eq!(s.web.users.user("grace").await.unwrap(), Some(old.clone()));
    let now = chrono::Utc::now();
    let meta = Meta {
        id: "c1".into(),
        channel: Channel::Chat,
        started_at: now,
        updated_at: now,
        status: Status::Bot,
        handoff_reason: None,
        phone: None,
        intents: vec!["Book a table".into()],
        calls: Vec::new(),
        last_text: "a table for two".into(),
        entry_count: 1,
    };
    let entry = Entry {
        seq: 0,
        at: now,
        who: Who::Customer,
        agent: None,
        text: "a table for two".into(),
        rich: Vec::new(),
        nlu: None,
    };
    let store = &s.web.hub.store;
    store.save_meta(&meta).await.unwrap();
    store.put_entry("c1", &entry).await.unwrap();
    s.store.close().await;

    // A restarted server: the conversation is in its history, the imported user still there
    // (and not imported twice).
    let s = state(data.path()).await;
    let got = s.web.hub.store.get("c1").await.unwrap().expect("c1");
    assert_eq!((got.meta, got.entries), (meta, vec![entry]));
    assert_eq!(s.web.users.user("grace").await.unwrap(), Some(old));
    s.store.close().await;
}
