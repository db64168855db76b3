//! The user's directories for configuration, data and logs (XDG on Linux).

use std::path::PathBuf;

use directories::ProjectDirs;

/// Directories guardroom uses when the configuration names none.
#[derive(Clone, Debug)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    /// Finds the user's directories, or falls back to folders under the current directory when
    /// the home directory is unknown (a service account without a home).
    pub fn discover() -> Self {
        match ProjectDirs::from("", "", "guardroom") {
            Some(dirs) => Self {
                config_dir: dirs.config_dir().to_path_buf(),
                data_dir: dirs.data_dir().to_path_buf(),
                state_dir: dirs
                    .state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .to_path_buf(),
            },
            None => Self {
                config_dir: PathBuf::from("guardroom-config"),
                data_dir: PathBuf::from("guardroom-data"),
                state_dir: PathBuf::from("guardroom-data"),
            },
        }
    }

    pub fn user_config_file(&self) -> PathBuf {
        self.config_dir.join("guardroom.toml")
    }

    pub fn default_database(&self) -> PathBuf {
        self.data_dir.join("guardroom.sqlite")
    }

    pub fn demo_database(&self) -> PathBuf {
        self.data_dir.join("demo").join("guardroom-demo.sqlite")
    }

    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.join("logs")
    }
}
