//! Files only the user that runs Roster may read: its data directories (0700) and
//! the files in them (0600), whatever the process's umask, on a machine other local
//! users share.

use std::io;
use std::path::Path;

/// Creates `dir` (and its parents) if missing, and makes it readable by its owner only.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Creates `file` empty if missing, readable and writable by its owner only; an
/// existing one is narrowed to that.
pub fn private_file(file: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(file)?;
    set_mode(file, 0o600)
}

/// Narrows an existing file to its owner; a missing one is not an error.
pub fn narrow_file(file: &Path) -> io::Result<()> {
    match set_mode(file, 0o600) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}
