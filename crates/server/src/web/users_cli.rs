//! `switchboard users add [--admin] NAME`: creates a console account. The password comes from
//! `SWITCHBOARD_USER_PASSWORD` or standard input (never the command line, where other users of
//! the machine could read it in the process list).

use super::auth;
use super::model::User;
use super::store::{FileUsers, UserStore};
use crate::store::{Location, Store, StoreUrl};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a console user (password from SWITCHBOARD_USER_PASSWORD or stdin).
    Add(AddArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Sign-in name: letters, digits, '.', '_', '-', '@'.
    pub name: String,
    /// The user may administer the console.
    #[arg(long)]
    pub admin: bool,
    /// The agent's phone, called into the conference when they press "call".
    #[arg(long)]
    pub phone: Option<String>,
    /// Directory of the server's data (as for `serve`).
    #[arg(long, default_value = "./data", env = "SWITCHBOARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The server's store when it is not the data directory's (as for `serve`).
    #[arg(long, env = "SWITCHBOARD_STORE_URL", hide_env_values = true)]
    pub store_url: Option<String>,
}

pub const PASSWORD_ENV: &str = "SWITCHBOARD_USER_PASSWORD";

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return rpassword::prompt_password("Password: ").context("reading the password");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub async fn run(cmd: UsersCommand) -> anyhow::Result<()> {
    match cmd {
        UsersCommand::Add(a) => add(a).await,
    }
}

async fn add(a: AddArgs) -> anyhow::Result<()> {
    auth::check_name(&a.name)?;
    if let Some(p) = &a.phone {
        super::dial::normalize_number(p, None)
            .with_context(|| "--phone must be an international number (+CC…)")?;
    }
    let password = read_password()?;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password)).await??;
    let user = User {
        name: a.name.clone(),
        password_hash: hash,
        admin: a.admin,
        phone: a.phone,
        created_at: chrono::Utc::now(),
    };
    let url = a.store_url.as_deref().map(StoreUrl::parse).transpose()?;
    let location = Location::from_config(Some(&a.data_dir), url.as_ref());
    if let Location::Dir(d) = &location {
        crate::fs_private::prepare_data_dir(d)?;
    }
    let store = Store::open(&location, 16).await?;
    let added = store.add_user(&user).await;
    store.close().await;
    added?;
    println!(
        "added {} user `{}` in {}",
        if a.admin { "admin" } else { "console" },
        a.name,
        location.describe()
    );
    Ok(())
}

/// Takes the users of an older server's `<data-dir>/console-users.json` into `store` (those not
/// there yet). A file that cannot be read is reported, not fatal: its users can be added again.
pub async fn import_file_users(data_dir: &std::path::Path, store: &Store) {
    let file = FileUsers::new(data_dir);
    let users = match file.read_all() {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "console users file not imported");
            return;
        }
    };
    for u in users {
        match store.add_user(&u).await {
            Ok(()) => tracing::info!(user = %u.name, "console user imported into the store"),
            Err(super::store::WebStoreError::UserExists(_)) => {}
            Err(e) => tracing::warn!(user = %u.name, error = %e, "console user not imported"),
        }
    }
}
