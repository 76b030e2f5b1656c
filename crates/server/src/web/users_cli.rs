//! `switchboard users add [--admin] NAME`: creates a console account. The password comes from
//! `SWITCHBOARD_USER_PASSWORD` or standard input (never the command line, where other users of
//! the machine could read it in the process list).

use super::auth;
use super::model::User;
use super::store::{FileUsers, UserStore};
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
    FileUsers::new(&a.data_dir).add_user(&user).await?;
    println!(
        "added {} user `{}` in {}",
        if a.admin { "admin" } else { "console" },
        a.name,
        a.data_dir.display()
    );
    Ok(())
}
