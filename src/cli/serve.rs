//! `guardroom serve`: the recorder without a screen, for a service manager.

use std::process::ExitCode;

use tokio::sync::watch;

use super::Context;
use crate::ingest::LinkState;
use crate::recorder::Recorder;
use crate::recorder::lock::RecorderLock;

pub fn run(context: &Context) -> ExitCode {
    let config = match context.load_config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let lang = context.lang_for(&config);
    let database = context.database(Some(&config));
    let _lock = match RecorderLock::try_acquire(&database) {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            eprintln!(
                "{}",
                lang.tf("serve.locked", &[("path", &database.display())])
            );
            return ExitCode::FAILURE;
        }
        Err(error) => {
            eprintln!(
                "{}",
                lang.tf(
                    "serve.lock_failed",
                    &[("path", &database.display()), ("error", &error)]
                )
            );
            return ExitCode::FAILURE;
        }
    };

    let runtime = super::console::runtime();
    runtime.block_on(async {
        let (link_tx, _link_rx) = watch::channel(LinkState::default());
        let Some(recorder) = start_headless(&config, &database, link_tx, runtime.handle(), lang)
        else {
            return ExitCode::FAILURE;
        };
        eprintln!(
            "{}",
            lang.tf("serve.started", &[("path", &database.display())])
        );
        tracing::info!(database = %database.display(), "recorder serving");
        wait_for_termination().await;
        recorder.stop().await;
        eprintln!("{}", lang.t("serve.stopped"));
        ExitCode::SUCCESS
    })
}

/// Starts a recorder for a process without a screen. Prints why it could
/// not start, or where an unreadable database was moved, on stderr.
pub(crate) fn start_headless(
    config: &crate::config::Config,
    database: &std::path::Path,
    link: watch::Sender<LinkState>,
    runtime: &tokio::runtime::Handle,
    lang: crate::i18n::Lang,
) -> Option<Recorder> {
    let recorder = match Recorder::start(config, database.to_path_buf(), link, None, runtime) {
        Ok(recorder) => recorder,
        Err(error) => {
            tracing::error!(%error, database = %database.display(), "recorder did not start");
            let path = database.display();
            eprintln!(
                "{}",
                lang.tf("store.open_failed", &[("path", &path), ("error", &error)])
            );
            return None;
        }
    };
    if let Some(moved) = &recorder.moved_aside {
        let (path, moved) = (database.display(), moved.display());
        eprintln!(
            "{}",
            lang.tf("store.moved_aside", &[("path", &path), ("moved", &moved)])
        );
    }
    Some(recorder)
}

/// Waits for SIGINT, SIGTERM or SIGHUP.
pub async fn wait_for_termination() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut hangup = signal(SignalKind::hangup()).expect("installing the SIGHUP handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
        _ = hangup.recv() => {}
    }
}
