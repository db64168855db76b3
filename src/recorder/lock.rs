//! The recorder lock: an OS file lock beside the database. The process that
//! holds it records; the lock is released by the OS when that process dies,
//! even by `kill -9`, so a stale lock file never blocks a successor.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct RecorderLock {
    // Held for its lock; closing the file releases it.
    _file: File,
    path: PathBuf,
}

/// Returns the lock file of a database: `<database>.lock`.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl RecorderLock {
    /// Takes the lock if no other process holds it.
    pub fn try_acquire(database: &Path) -> std::io::Result<Option<Self>> {
        let path = lock_path(database);
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .read(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)?;
                writeln!(file, "{}", std::process::id())?;
                Ok(Some(Self { _file: file, path }))
            }
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(error)) => Err(error),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// True when some process holds the recorder lock of `database`.
pub fn is_held(database: &Path) -> bool {
    let Ok(file) = File::open(lock_path(database)) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("g.sqlite");
        let first = RecorderLock::try_acquire(&database).unwrap();
        assert!(first.is_some());
        assert!(is_held(&database));
        assert!(RecorderLock::try_acquire(&database).unwrap().is_none());
        drop(first);
        assert!(!is_held(&database));
        assert!(RecorderLock::try_acquire(&database).unwrap().is_some());
    }
}
