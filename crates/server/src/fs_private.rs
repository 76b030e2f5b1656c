//! The data directory and its database readable by the server's user only: transcripts and
//! session parameters are personal data. Called once where the data directory is set up
//! ([`crate::AppState::new`]), before any store opens `switchboard.db`; SQLite then creates its
//! `-wal`/`-shm` files with the database file's mode.

use std::path::Path;

/// The database file in the data directory, and the files SQLite keeps beside it.
pub const DB_FILES: [&str; 4] = [
    "switchboard.db",
    "switchboard.db-wal",
    "switchboard.db-shm",
    "switchboard.db-journal",
];

/// Why the data directory cannot be made private.
#[derive(Debug, thiserror::Error)]
#[error("data directory {path}: {source}")]
pub struct DataDirError {
    pub path: String,
    pub source: std::io::Error,
}

/// Creates `dir` (mode 0700) and an empty `switchboard.db` (0600) if missing, and takes group
/// and other permissions off both, and off SQLite's side files, if they exist.
pub fn prepare_data_dir(dir: &Path) -> Result<(), DataDirError> {
    let err = |p: &Path| {
        let path = p.display().to_string();
        move |source| DataDirError { path, source }
    };
    create_private_dir(dir).map_err(err(dir))?;
    let db = dir.join(DB_FILES[0]);
    create_private_file(&db).map_err(err(&db))?;
    for name in DB_FILES {
        let f = dir.join(name);
        if f.exists() {
            restrict(&f, 0o600).map_err(err(&f))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    restrict(dir, 0o700)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(f: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(f)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_file(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Removes the group and other bits of `path` beyond `max` (never adds any).
#[cfg(unix)]
fn restrict(path: &Path, max: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if mode & !max != 0 {
        tracing::info!(path = %path.display(), from = format!("{mode:o}"), to = format!("{:o}", mode & max), "restricting permissions");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & max))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_and_tightens() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/data");
        prepare_data_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("switchboard.db")), 0o600);
        // An existing, too open, directory and database (and WAL) are tightened.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let wal = dir.join("switchboard.db-wal");
        std::fs::write(&wal, b"").unwrap();
        for f in [&dir.join("switchboard.db"), &wal] {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        prepare_data_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("switchboard.db")), 0o600);
        assert_eq!(mode(&wal), 0o600);
    }
}
