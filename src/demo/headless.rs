//! `guardroom demo --headless`: the embedded broker, the simulator and the
//! recorder without a screen, for a set time or until a signal, then a
//! one-line summary of what the database holds.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::watch;
use tokio::time::Instant;

use super::broker::EmbeddedBroker;
use super::scenario::{SEED, Scenario};
use super::simulator::Simulator;
use super::{SUBSCRIBE_GRACE, site};
use crate::cli::console::runtime;
use crate::cli::serve::{self, wait_for_termination};
use crate::config::Config;
use crate::domain::DeviceStatus;
use crate::domain::device::Liveness;
use crate::i18n::Lang;
use crate::ingest::{LinkState, LinkStatus};
use crate::recorder::lock::RecorderLock;
use crate::report::status;
use crate::store::StoreError;

/// How long the recorder may take to connect to the embedded broker.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn run(
    config: Config,
    database: PathBuf,
    duration: Option<u64>,
    lang: Lang,
) -> ExitCode {
    let _lock = match take_lock(&database, lang) {
        Ok(lock) => lock,
        Err(code) => return code,
    };
    eprintln!(
        "{}",
        lang.tf("demo.database", &[("path", &database.display())])
    );
    let runtime = runtime();
    runtime.block_on(simulate(
        config,
        &database,
        duration,
        lang,
        runtime.handle(),
    ))
}

/// Takes the recorder lock of `database`, printing why when it cannot.
fn take_lock(database: &Path, lang: Lang) -> Result<RecorderLock, ExitCode> {
    match RecorderLock::try_acquire(database) {
        Ok(Some(lock)) => Ok(lock),
        Ok(None) => {
            eprintln!(
                "{}",
                lang.tf("demo.locked", &[("path", &database.display())])
            );
            Err(ExitCode::FAILURE)
        }
        Err(error) => {
            tracing::error!(%error, database = %database.display(), "cannot lock the demo database");
            eprintln!(
                "{}",
                lang.tf(
                    "serve.lock_failed",
                    &[("path", &database.display()), ("error", &error)]
                )
            );
            Err(ExitCode::FAILURE)
        }
    }
}

/// Runs broker, recorder and simulator until the duration passes or a
/// signal arrives, then prints the summary.
async fn simulate(
    config: Config,
    database: &Path,
    duration: Option<u64>,
    lang: Lang,
    runtime: &tokio::runtime::Handle,
) -> ExitCode {
    let broker = match EmbeddedBroker::start().await {
        Ok(broker) => broker,
        Err(error) => {
            tracing::error!(%error, "embedded broker did not start");
            eprintln!("{}", lang.tf("demo.broker_failed", &[("error", &error)]));
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "{}",
        lang.tf("demo.broker_started", &[("address", &broker.address())])
    );
    let config = site::use_broker(config, &broker);

    let (link_tx, mut link_rx) = watch::channel(LinkState::default());
    let Some(recorder) = serve::start_headless(&config, database, link_tx, runtime, lang) else {
        return ExitCode::FAILURE;
    };
    wait_until_online(&mut link_rx).await;

    let scenario = Scenario::new(&config, SEED);
    let devices = scenario.device_count();
    let simulator = Simulator::start(scenario, broker.address(), std::future::ready(()), runtime);
    let ran = wait_for_stop(duration, devices, lang).await;

    simulator.stop().await;
    recorder.stop().await;
    tracing::info!(ran_s = ran.as_secs_f64(), "headless demo stopped");

    let liveness = Liveness {
        stale_factor: config.console.stale_factor,
    };
    eprintln!(
        "{}",
        lang.tf("demo.database", &[("path", &database.display())])
    );
    match summary(database, ran, liveness, lang) {
        Ok(line) => {
            eprintln!("{line}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, database = %database.display(), "cannot read the demo summary");
            eprintln!(
                "{}",
                lang.tf(
                    "status.read_failed",
                    &[("path", &database.display()), ("error", &error)]
                )
            );
            ExitCode::FAILURE
        }
    }
}

/// Waits for the duration, or for Ctrl-C, SIGTERM or SIGHUP, and returns
/// how long that took.
async fn wait_for_stop(duration: Option<u64>, devices: usize, lang: Lang) -> Duration {
    let started = Instant::now();
    match duration {
        Some(secs) => {
            eprintln!(
                "{}",
                lang.tf(
                    "demo.running_for",
                    &[("devices", &devices), ("secs", &secs)]
                )
            );
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(secs)) => {}
                () = wait_for_termination() => {}
            }
        }
        None => {
            eprintln!("{}", lang.tf("demo.running", &[("devices", &devices)]));
            wait_for_termination().await;
        }
    }
    started.elapsed()
}

/// Waits until the recorder's link is online, then a moment more for its
/// subscriptions to reach the broker. Gives up after [`CONNECT_TIMEOUT`],
/// and the demo carries on: the recorder keeps retrying by itself.
async fn wait_until_online(link: &mut watch::Receiver<LinkState>) {
    let online = link.wait_for(|state| matches!(state.status, LinkStatus::Online { .. }));
    match tokio::time::timeout(CONNECT_TIMEOUT, online).await {
        Ok(Ok(_)) => tokio::time::sleep(SUBSCRIBE_GRACE).await,
        Ok(Err(_)) | Err(_) => tracing::warn!(
            timeout_s = CONNECT_TIMEOUT.as_secs(),
            "recorder not connected to the embedded broker; simulating anyway"
        ),
    }
}

/// Formats the one-line summary: run time, device count, the non-zero
/// statuses (most urgent first), events and bad payloads.
fn summary(
    database: &Path,
    ran: Duration,
    liveness: Liveness,
    lang: Lang,
) -> Result<String, StoreError> {
    let report = status::read(database, Timestamp::now(), liveness)?;
    let statuses: Vec<String> = DeviceStatus::ALL
        .iter()
        .filter_map(|status| {
            let count = report.devices.by_status.get(status.as_str()).copied()?;
            let label = lang.t(&format!("device_status.{}", status.as_str()));
            (count > 0).then(|| format!("{label} {count}"))
        })
        .collect();
    Ok(lang.tf(
        "demo.summary",
        &[
            ("secs", &ran.as_secs()),
            ("devices", &report.devices.total),
            ("unregistered", &report.devices.unregistered),
            ("events", &report.events),
            ("bad", &report.bad_payloads),
            ("statuses", &statuses.join(lang.t("demo.list_separator"))),
        ],
    ))
}
