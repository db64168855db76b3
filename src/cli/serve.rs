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
        let recorder =
            match Recorder::start(&config, database.clone(), link_tx, None, runtime.handle()) {
                Ok(recorder) => recorder,
                Err(error) => {
                    eprintln!(
                        "{}",
                        lang.tf(
                            "store.open_failed",
                            &[("path", &database.display()), ("error", &error)]
                        )
                    );
                    return ExitCode::FAILURE;
                }
            };
        if let Some(moved) = &recorder.moved_aside {
            eprintln!(
                "{}",
                lang.tf(
                    "store.moved_aside",
                    &[("path", &database.display()), ("moved", &moved.display())]
                )
            );
        }
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
