//! `guardroom demo`: an embedded MQTT broker, a simulated community
//! publishing on it, and the console on top. With `--headless`, the recorder
//! runs alone instead of the console, for a set time.
//!
//! - [`site`]: the invented community's configuration, compiled in.
//! - `broker`: rumqttd on 127.0.0.1 and a free port.
//! - [`scenario`]: what each device reports and when, pure and seeded.
//! - `cast`, `payload`: the devices' roles and their native payloads.
//! - `existing`: the Zigbee2MQTT network, Home Assistant and Frigate
//!   server that `--adapters` adds, in their own formats.
//! - [`services`]: the invented residents, their check-ins and an SOS,
//!   and the repair tickets of a simulated property system.
//! - `simulator`: publishes the scenario through an MQTT client.
//! - `headless`: the run without a screen.
//! - `operators`: the invented operators the console's login offers.

mod broker;
mod cast;
mod existing;
mod headless;
mod operators;
mod payload;
pub mod scenario;
pub mod services;
mod simulator;
pub mod site;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use self::broker::EmbeddedBroker;
use self::scenario::{SEED, Scenario};
use self::simulator::Simulator;
use crate::cli::Context;
use crate::cli::console;
use crate::config::Config;
use crate::i18n::Lang;
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Run without a screen (broker, simulator and recorder only).
    #[arg(long)]
    pub headless: bool,
    /// With --headless: stop after this many seconds of simulation, then
    /// print a summary (else run until Ctrl-C or SIGTERM).
    #[arg(long, value_name = "SECS", requires = "headless")]
    pub duration: Option<u64>,
    /// Also simulate a Zigbee2MQTT network, Home Assistant and a Frigate
    /// server, read through the adapters.
    #[arg(long)]
    pub adapters: bool,
}

/// Time allowed for the recorder's subscriptions to reach the broker after
/// its link is online. The simulator waits for them, because rumqttd 0.20
/// forwards at most 100 retained messages per filter to a late QoS 1
/// subscriber, and the start-up snapshot contains several hundred.
const SUBSCRIBE_GRACE: Duration = Duration::from_millis(300);

/// How long the console's recorder may take to connect before the simulator
/// starts anyway (for example when another process records this database).
const RECORDER_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the database is checked for the recorder's link.
const RECORDER_POLL: Duration = Duration::from_millis(100);

pub fn run(context: &Context, args: &DemoArgs) -> ExitCode {
    let database = context
        .cli
        .db
        .clone()
        .unwrap_or_else(|| context.paths.demo_database());
    let attach =
        !args.headless && (context.cli.read_only || crate::recorder::lock::is_held(&database));
    let started = if attach {
        running_since(&database)
    } else {
        record_start(&database)
    };

    let config = match site::load_started(context.lang, args.adapters, started) {
        Ok(config) => config,
        Err(error) => {
            eprintln!(
                "{}",
                context.lang.tf(
                    "demo.site_invalid",
                    &[("error", &error.render(context.lang))]
                )
            );
            return ExitCode::FAILURE;
        }
    };
    let lang = context.lang_for(&config);
    if args.headless {
        headless::run(config, database, args.duration, lang)
    } else if attach {
        // A second console on a running demo, such as a supervisor's review
        // or a maintenance worker's: the demo's site and database, attached
        // to the running demo's recorder, with no broker or simulator of its
        // own.
        let runtime = console::runtime();
        console::open(context, &config, database, &runtime)
    } else {
        run_console(context, config, database, lang)
    }
}

/// Returns when the running demo on `database` started, or now when it
/// recorded none (a demo database from an older version).
fn running_since(database: &std::path::Path) -> Timestamp {
    let started = Store::open_read_only(database).and_then(|store| store.demo_started());
    match started {
        Ok(Some(at)) => at,
        Ok(None) => Timestamp::now(),
        Err(error) => {
            tracing::warn!(%error, database = %database.display(), "demo start unreadable; using now");
            Timestamp::now()
        }
    }
}

/// Records now as the demo's start in `database` and returns it. A failure
/// is only logged, because it costs no more than the attached consoles'
/// agreement on check-in windows. The recorder reports a database it
/// cannot open.
fn record_start(database: &std::path::Path) -> Timestamp {
    let now = Timestamp::now();
    let recorded = Store::open(database).and_then(|store| store.set_demo_started(now));
    if let Err(error) = recorded {
        tracing::warn!(%error, database = %database.display(), "demo start not recorded");
    }
    now
}

/// Starts broker and simulator, then runs the console session on them.
fn run_console(context: &Context, config: Config, database: PathBuf, lang: Lang) -> ExitCode {
    eprintln!(
        "{}",
        lang.tf("demo.database", &[("path", &database.display())])
    );
    let runtime = console::runtime();
    let broker = match runtime.block_on(EmbeddedBroker::start()) {
        Ok(broker) => broker,
        Err(error) => {
            tracing::error!(%error, "embedded broker did not start");
            eprintln!("{}", lang.tf("demo.broker_failed", &[("error", &error)]));
            return ExitCode::FAILURE;
        }
    };
    let config = site::use_broker(config, &broker);

    // The operators are only for the login screen, so only the console
    // demo has them; a database that has its own keeps them.
    let mut notices = Vec::new();
    match operators::seed(&database) {
        Ok(false) => {}
        Ok(true) => {
            eprintln!("{}", operators::describe(lang));
            notices.push(operators::pins(lang));
        }
        Err(error) => {
            tracing::error!(%error, "adding the demo operators failed");
            eprintln!("{}", lang.tf("demo.operators_failed", &[("error", &error)]));
        }
    }

    let scenario = Scenario::new(&config, SEED);
    let ready = recorder_online(database.clone(), Timestamp::now());
    let simulator = Simulator::start(scenario, broker.address(), ready, runtime.handle());
    let code = console::open_with(context, &config, database, &runtime, &notices);
    runtime.block_on(simulator.stop());
    code
}

/// Completes once the database records the recorder's link online at or
/// after `since`, plus [`SUBSCRIBE_GRACE`], or after [`RECORDER_TIMEOUT`].
/// The console starts its recorder inside `console::open`, so the database
/// is the one place this module can see it from.
async fn recorder_online(database: PathBuf, since: Timestamp) {
    // The log stores times in milliseconds.
    let since = Timestamp::from_millisecond(since.as_millisecond()).unwrap_or(since);
    let deadline = Instant::now() + RECORDER_TIMEOUT;
    while Instant::now() < deadline {
        let path = database.clone();
        let online = tokio::task::spawn_blocking(move || link_online_since(&path, since))
            .await
            .unwrap_or(false);
        if online {
            tokio::time::sleep(SUBSCRIBE_GRACE).await;
            return;
        }
        tokio::time::sleep(RECORDER_POLL).await;
    }
    tracing::warn!(
        timeout_s = RECORDER_TIMEOUT.as_secs(),
        database = %database.display(),
        "no recorder connected to the embedded broker; simulating anyway"
    );
}

fn link_online_since(database: &std::path::Path, since: Timestamp) -> bool {
    let Ok(store) = Store::open_read_only(database) else {
        return false;
    };
    matches!(
        store.load_link_and_meta(),
        Ok((Some(link), _)) if link.online && link.since >= since
    )
}
