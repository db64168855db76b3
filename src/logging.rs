//! Logging to a file in the user's state directory, never to the terminal
//! the console draws on.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Days of log files kept.
const KEEP_DAYS: usize = 14;

/// Starts logging to `<dir>/guardroom.log.<date>`. The level comes from
/// `GUARDROOM_LOG` (e.g. `debug`, `guardroom::ingest=trace`), `info` by default.
/// Keep the guard alive until exit so buffered lines are written.
pub fn init(dir: &Path) -> Result<(WorkerGuard, PathBuf), std::io::Error> {
    std::fs::create_dir_all(dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("guardroom.log")
        .max_log_files(KEEP_DAYS)
        .build(dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter =
        EnvFilter::try_from_env("GUARDROOM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok((guard, dir.to_path_buf()))
}
