//! The console session: take the recorder role or attach, then run the
//! screen until the operator quits. Shared by `guardroom` and `guardroom demo`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::tz::TimeZone;
use tokio::sync::{mpsc, watch};

use super::Context;
use crate::app::requests::Requests;
use crate::app::{
    Access, ActError, AlarmGuide, App, Feed, LoginSettings, Operator, Role, SiteInfo, Submit,
    follow,
};
use crate::config::Config;
use crate::domain::device::Liveness;
use crate::i18n::Lang;
use crate::ingest::LinkState;
use crate::notify::Notifier;
use crate::recorder::Recorder;
use crate::recorder::lock::RecorderLock;
use crate::store::Store;
use crate::theme::Theme;

/// Maximum wait at close for this console's queued actions to be saved.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// How often an attached console checks whether the recorder has gone.
const TAKEOVER_INTERVAL: Duration = Duration::from_secs(2);

/// Capacity of the feed into the event loop; deltas carry whole batches, so
/// a few hundred is seconds of a busy site.
const FEED_CAPACITY: usize = 256;

/// Builds the runtime for the console and the recorder: two workers suffice, since
/// SQLite work runs on its own threads.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("guardroom")
        .enable_all()
        .build()
        .expect("starting the async runtime")
}

/// `guardroom` with no command.
pub fn run(context: &Context) -> ExitCode {
    let config = match context.load_config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let database = context.database(Some(&config));
    let runtime = runtime();
    open(context, &config, database, &runtime)
}

/// Checks everything that could fail before the terminal is taken over, then
/// runs the session on `runtime`.
pub fn open(
    context: &Context,
    config: &Config,
    database: PathBuf,
    runtime: &tokio::runtime::Runtime,
) -> ExitCode {
    open_with(context, config, database, runtime, &[])
}

/// Opens the console like [`open`], with `notices` on the standing line
/// from the start, as the demo's operators.
pub fn open_with(
    context: &Context,
    config: &Config,
    database: PathBuf,
    runtime: &tokio::runtime::Runtime,
    notices: &[String],
) -> ExitCode {
    let lang = context.lang_for(config);
    let theme = match Theme::resolve(&context.theme_name(config)) {
        Ok(theme) if no_color() => theme.without_colour(),
        Ok(theme) => theme,
        Err(error) => return context.fail("cli.bad_theme", &[("error", &error)]),
    };
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return context.fail("cli.no_terminal", &[]);
    }
    let Ok(time_zone) = TimeZone::get(&config.site.time_zone) else {
        return context.fail("config.bad_time_zone", &[("value", &config.site.time_zone)]);
    };
    let site = SiteInfo {
        id: config.site.id.clone(),
        name: config.site.name.clone(),
        time_zone,
        liveness: Liveness {
            stale_factor: config.console.stale_factor,
        },
        database: database.clone(),
    };

    let read_only = context.cli.read_only;
    if read_only && !database.is_file() {
        return context.fail("login.no_database", &[("path", &database.display())]);
    }
    runtime.block_on(async {
        match session(
            config,
            site,
            lang,
            theme,
            runtime.handle(),
            read_only,
            notices,
        )
        .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("{message}");
                ExitCode::FAILURE
            }
        }
    })
}

/// `NO_COLOR` set to anything but the empty string turns colour off.
pub fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty())
}

/// Destination of this console's actions: the recorder's submitter once
/// this process records, empty while it is attached.
type SubmitSlot = Arc<Mutex<Option<Submit>>>;

/// The role this process plays and what keeps it going.
struct Roles {
    lock: Option<RecorderLock>,
    recorder: Option<Recorder>,
    follower_stop: Option<watch::Sender<bool>>,
    submit: SubmitSlot,
}

impl Roles {
    fn recording(&mut self, recorder: Recorder) {
        if let Ok(mut slot) = self.submit.lock() {
            *slot = Some(recorder.submitter());
        }
        self.recorder = Some(recorder);
    }
}

async fn session(
    config: &Config,
    site: SiteInfo,
    lang: Lang,
    theme: Theme,
    runtime: &tokio::runtime::Handle,
    read_only: bool,
    notices: &[String],
) -> Result<(), String> {
    let database = site.database.clone();
    let (feed_tx, feed_rx) = mpsc::channel(FEED_CAPACITY);
    // A review console never records: it follows the file, even when no
    // recorder runs.
    let lock = if read_only {
        None
    } else {
        RecorderLock::try_acquire(&database).map_err(|error| {
            lang.tf(
                "serve.lock_failed",
                &[("path", &database.display()), ("error", &error)],
            )
        })?
    };
    let mut roles = Roles {
        lock,
        recorder: None,
        follower_stop: None,
        submit: SubmitSlot::default(),
    };

    let role = if roles.lock.is_some() {
        let recorder = start_recorder(config, &database, &feed_tx, runtime, lang)?;
        roles.recording(recorder);
        Role::Recorder
    } else {
        Role::Attached
    };

    let store = Store::open_read_only(&database).map_err(|error| {
        lang.tf(
            "store.open_failed",
            &[("path", &database.display()), ("error", &error)],
        )
    })?;
    let (mut projection, meta) = store.load_projection().map_err(|error| {
        lang.tf(
            "store.open_failed",
            &[("path", &database.display()), ("error", &error)],
        )
    })?;
    // Tickets and check-ins are folded from their events, so that the
    // screens show them at once; later ones arrive with the deltas, from
    // the newest event loaded here on.
    projection.services = store
        .load_services(config.service_setup())
        .map_err(|error| {
            lang.tf(
                "store.open_failed",
                &[("path", &database.display()), ("error", &error)],
            )
        })?;
    let operators = store.operator_count().map_err(|error| {
        lang.tf(
            "store.open_failed",
            &[("path", &database.display()), ("error", &error)],
        )
    })?;
    drop(store);

    let service_seq = projection.services.applied_seq;
    let mut app = App::new(site, role, projection);
    app.last_message = meta.last_message;
    app.bad_payloads = meta.bad_payloads;
    app.operator = Operator::from_env(&config.console.user, &config.console.id);
    app.alarm_guide = AlarmGuide::from_config(config);
    app.read_only = read_only;
    app.ticket_urgencies.clone_from(&config.tickets.urgencies);
    app.ticket_categories.clone_from(&config.tickets.categories);
    app.duty.schedule = config.shifts.clone();
    app.duty.reports_dir = config.console.reports_dir.clone().unwrap_or_else(|| {
        database
            .parent()
            .unwrap_or_else(|| std::path::Path::new("."))
            .join("reports")
    });
    app.login = LoginSettings {
        lockout: config.operators.lockout(),
        idle: config.operators.idle_lock(),
    };
    if operators > 0 {
        app.access = Access::Operators {
            current: None,
            locked: false,
        };
    } else {
        app.warnings.push(lang.t("login.no_operators").to_owned());
    }
    app.warnings.extend(notices.iter().cloned());
    if read_only {
        let start = (meta.rev, service_seq);
        return review(
            app, roles, &database, start, config, feed_tx, feed_rx, lang, theme, runtime,
        )
        .await;
    }
    let slot = roles.submit.clone();
    // While attached, actions go to the recorder through the database.
    let requests = Requests::start(database.clone(), feed_tx.clone());
    let closing = requests.clone();
    app.submit = Some(Box::new(move |action| {
        let slot = slot
            .lock()
            .map_err(|_| ActError::Unavailable("poisoned".into()))?;
        match slot.as_ref() {
            Some(submit) => submit(action),
            None => requests.submit(action),
        }
    }));
    if role == Role::Attached {
        roles.follower_stop = Some(start_follower(
            &database,
            meta.rev,
            Some(service_seq),
            &config.console.id,
            &feed_tx,
        ));
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let keeper = tokio::spawn(keep_role(
        roles,
        config.clone(),
        database,
        feed_tx,
        runtime.clone(),
        lang,
        stop_rx,
    ));

    let (notifier, notify_state) = if config.console.notifications {
        Notifier::desktop(runtime)
    } else {
        Notifier::disabled()
    };
    let outcome = crate::ui::run(app, feed_rx, lang, theme, notifier, notify_state).await;

    // The logout on quit may still wait in the request writer.
    let flushed = tokio::task::spawn_blocking(move || closing.flush(FLUSH_TIMEOUT))
        .await
        .unwrap_or(false);
    if !flushed {
        tracing::warn!(
            timeout_s = FLUSH_TIMEOUT.as_secs(),
            "closing before this console's last actions were saved"
        );
    }
    let _ = stop_tx.send(true);
    let _ = keeper.await;
    outcome.map_err(|error| lang.tf("ui.failed", &[("error", &error)]))
}

/// Runs a review console: it follows the database and hands nothing to a
/// recorder, so it has no submit function at all.
#[allow(clippy::too_many_arguments)]
async fn review(
    app: App,
    mut roles: Roles,
    database: &std::path::Path,
    (rev, service_seq): (i64, i64),
    config: &Config,
    feed_tx: mpsc::Sender<Feed>,
    feed_rx: mpsc::Receiver<Feed>,
    lang: Lang,
    theme: Theme,
    runtime: &tokio::runtime::Handle,
) -> Result<(), String> {
    tracing::info!(database = %database.display(), "opening a read-only review console");
    roles.follower_stop = Some(start_follower(
        database,
        rev,
        Some(service_seq),
        &config.console.id,
        &feed_tx,
    ));
    let (notifier, notify_state) = if config.console.notifications {
        Notifier::desktop(runtime)
    } else {
        Notifier::disabled()
    };
    let outcome = crate::ui::run(app, feed_rx, lang, theme, notifier, notify_state).await;
    if let Some(follower) = roles.follower_stop.take() {
        let _ = follower.send(true);
    }
    outcome.map_err(|error| lang.tf("ui.failed", &[("error", &error)]))
}

fn start_recorder(
    config: &Config,
    database: &std::path::Path,
    feed: &mpsc::Sender<Feed>,
    runtime: &tokio::runtime::Handle,
    lang: Lang,
) -> Result<Recorder, String> {
    let (link_tx, mut link_rx) = watch::channel(LinkState::default());
    let deltas = feed.clone();
    let on_commit = Box::new(move |delta| {
        // A full feed means the screen is behind; waiting here slows ingest
        // down rather than dropping rows the screen must show.
        let _ = deltas.blocking_send(Feed::Delta(Box::new(delta)));
    });
    let recorder = Recorder::start(
        config,
        database.to_path_buf(),
        link_tx,
        Some(on_commit),
        runtime,
    )
    .map_err(|error| {
        lang.tf(
            "store.open_failed",
            &[("path", &database.display()), ("error", &error)],
        )
    })?;
    if let Some(moved) = &recorder.moved_aside {
        let warning = lang.tf(
            "store.moved_aside",
            &[("path", &database.display()), ("moved", &moved.display())],
        );
        // The feed is empty this early, so the warning reaches the screen first.
        let _ = feed.try_send(Feed::Warning(warning));
    }

    let links = feed.clone();
    runtime.spawn(async move {
        loop {
            let state = link_rx.borrow_and_update().clone();
            if links.send(Feed::Link(state)).await.is_err() {
                break;
            }
            if link_rx.changed().await.is_err() {
                break;
            }
        }
    });
    Ok(recorder)
}

fn start_follower(
    database: &std::path::Path,
    rev: i64,
    service_seq: Option<i64>,
    console: &str,
    feed: &mpsc::Sender<Feed>,
) -> watch::Sender<bool> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let feed = feed.clone();
    let database = database.to_path_buf();
    let console = console.to_owned();
    std::thread::Builder::new()
        .name("follower".into())
        .spawn(move || {
            let deliver = |delta| feed.blocking_send(Feed::Delta(Box::new(delta))).is_ok();
            if let Err(error) =
                follow::follow(database, rev, service_seq, &console, deliver, stop_rx)
            {
                tracing::error!(%error, "following the database failed");
            }
        })
        .expect("spawning the follower thread");
    stop_tx
}

/// Holds the role for the session: an attached console takes over the
/// recorder role when the recorder's lock comes free. On stop, shuts the
/// recorder down so it commits what it holds.
async fn keep_role(
    mut roles: Roles,
    config: Config,
    database: PathBuf,
    feed: mpsc::Sender<Feed>,
    runtime: tokio::runtime::Handle,
    lang: Lang,
    mut stop: watch::Receiver<bool>,
) {
    while roles.recorder.is_none() {
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep(TAKEOVER_INTERVAL) => {}
        }
        let Ok(Some(lock)) = RecorderLock::try_acquire(&database) else {
            continue;
        };
        tracing::info!(database = %database.display(), "recorder lock is free; taking over");
        if let Some(follower) = roles.follower_stop.take() {
            let _ = follower.send(true);
        }
        match start_recorder(&config, &database, &feed, &runtime, lang) {
            Ok(recorder) => {
                roles.lock = Some(lock);
                roles.recording(recorder);
                let _ = feed.send(Feed::Role(Role::Recorder)).await;
            }
            Err(error) => {
                tracing::error!(%error, "taking over the recorder role failed");
                break;
            }
        }
    }
    let _ = stop.wait_for(|stopped| *stopped).await;
    if let Some(follower) = roles.follower_stop.take() {
        let _ = follower.send(true);
    }
    if let Some(recorder) = roles.recorder.take() {
        recorder.stop().await;
    }
    drop(roles.lock);
}
