//! Logins against a real operators table, on a virtual clock. Wrong PINs
//! count down the tries, and the limit locks the operator out for the set
//! time across consoles and restarts. A correct PIN resets the count, and
//! an idle console locks itself.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use guardroom::app::{Access, App, LoginError, LoginSettings, Role as AppRole, SiteInfo};
use guardroom::domain::Projection;
use guardroom::domain::alarm::{Action, ActionKind};
use guardroom::domain::device::Liveness;
use guardroom::domain::operator::pin::Pin;
use guardroom::domain::operator::{IdleLock, LockoutPolicy, Role};
use guardroom::store::{LoginOutcome, Store};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

const POLICY: LockoutPolicy = LockoutPolicy {
    max_failures: 3,
    lockout_s: 60,
};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + second).unwrap()
}

fn database(dir: &Path) -> PathBuf {
    let path = dir.join("guardroom.db");
    let mut store = Store::open(&path).unwrap();
    for (id, name, role, pin) in [
        ("g1", "值班员甲", Role::Guard, "2468"),
        ("g2", "值班员乙", Role::Guard, "1357"),
        ("s1", "主管丙", Role::Supervisor, "9999"),
    ] {
        let hash = Pin::parse(pin).unwrap().hash().unwrap();
        assert!(store.add_operator(id, name, role, &hash, at(0)).unwrap());
    }
    path
}

#[test]
fn wrong_pins_lock_out_then_expire() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    let mut store = Store::open(&path).unwrap();

    assert_eq!(
        store.check_pin("g1", "0000", &POLICY, at(1)).unwrap(),
        LoginOutcome::Wrong { remaining: 2 }
    );
    // Another console, with its own connection, continues the count.
    let mut other = Store::open(&path).unwrap();
    assert_eq!(
        other.check_pin("g1", "1111", &POLICY, at(2)).unwrap(),
        LoginOutcome::Wrong { remaining: 1 }
    );
    assert_eq!(
        store.check_pin("g1", "2222", &POLICY, at(3)).unwrap(),
        LoginOutcome::LockedOut { until: at(63) }
    );
    // Locked out: even the right PIN is not taken, and not counted.
    assert_eq!(
        store.check_pin("g1", "2468", &POLICY, at(30)).unwrap(),
        LoginOutcome::LockedOut { until: at(63) }
    );
    // The lockout survives a restart.
    drop(store);
    drop(other);
    let mut store = Store::open(&path).unwrap();
    let stored = store.operator("g1").unwrap().unwrap();
    assert_eq!(stored.attempts.locked_until, Some(at(63)));
    assert_eq!(
        store.check_pin("g1", "2468", &POLICY, at(62)).unwrap(),
        LoginOutcome::LockedOut { until: at(63) }
    );
    match store.check_pin("g1", "2468", &POLICY, at(63)).unwrap() {
        LoginOutcome::Accepted(account) => assert_eq!(account.id, "g1"),
        other => panic!("expected the login after the lockout, got {other:?}"),
    }
    let stored = store.operator("g1").unwrap().unwrap();
    assert_eq!(stored.attempts.failures, 0);
    assert_eq!(stored.attempts.locked_until, None);
}

#[test]
fn success_resets_wrong_pin_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    let mut store = Store::open(&path).unwrap();
    store.check_pin("g2", "0000", &POLICY, at(1)).unwrap();
    store.check_pin("g2", "0000", &POLICY, at(2)).unwrap();
    assert!(matches!(
        store.check_pin("g2", "1357", &POLICY, at(3)).unwrap(),
        LoginOutcome::Accepted(_)
    ));
    assert_eq!(
        store.check_pin("g2", "0000", &POLICY, at(4)).unwrap(),
        LoginOutcome::Wrong { remaining: 2 }
    );
}

#[test]
fn unknown_and_disabled_operators() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    let mut store = Store::open(&path).unwrap();
    assert_eq!(
        store.check_pin("nobody", "1234", &POLICY, at(1)).unwrap(),
        LoginOutcome::Unknown
    );
    store.set_operator_disabled("g2", true, at(1)).unwrap();
    assert_eq!(
        store.check_pin("g2", "1357", &POLICY, at(2)).unwrap(),
        LoginOutcome::Disabled
    );
}

/// Builds a console on `path` that collects the actions it submits.
fn console(path: &Path, read_only: bool) -> (App, Arc<Mutex<Vec<Action>>>) {
    let site = SiteInfo {
        id: "test".into(),
        name: "测试小区".into(),
        time_zone: TimeZone::get("Asia/Shanghai").unwrap(),
        liveness: Liveness::default(),
        database: path.to_path_buf(),
    };
    let mut app = App::new(site, AppRole::Recorder, Projection::default());
    app.access = Access::Operators {
        current: None,
        locked: false,
    };
    app.read_only = read_only;
    app.login = LoginSettings {
        lockout: POLICY,
        idle: IdleLock { idle_lock_s: 600 },
    };
    let submitted = Arc::new(Mutex::new(Vec::new()));
    let sink = submitted.clone();
    app.submit = Some(Box::new(move |action| {
        sink.lock().unwrap().push(action);
        Ok(())
    }));
    (app, submitted)
}

fn kinds(actions: &Mutex<Vec<Action>>) -> Vec<(String, String)> {
    actions
        .lock()
        .unwrap()
        .iter()
        .map(|action| (action.kind.as_str().to_owned(), action.operator.clone()))
        .collect()
}

#[test]
fn console_login_lock_and_switch() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    let (mut app, submitted) = console(&path, false);
    assert!(app.needs_login());
    assert_eq!(
        app.act(None, ActionKind::Silence, "", at(0)),
        Err(guardroom::app::ActError::Refused(
            guardroom::domain::alarm::Refusal::NotLoggedIn
        ))
    );

    assert_eq!(
        app.log_in("g1", "1111", at(1)),
        Err(LoginError::Wrong { remaining: 2 })
    );
    app.log_in("g1", "2468", at(2)).unwrap();
    assert!(!app.needs_login());
    assert_eq!(app.operator.name, "g1");
    assert_eq!(app.operator.role, "guard");
    assert_eq!(kinds(&submitted), [("log_in".to_owned(), "g1".to_owned())]);

    // Locked: the same operator unlocks without a new login entry.
    app.lock();
    assert!(app.needs_login());
    app.log_in("g1", "2468", at(3)).unwrap();
    assert_eq!(kinds(&submitted).len(), 1);

    // Another operator at the lock screen logs the first one out.
    app.lock();
    app.log_in("g2", "1357", at(4)).unwrap();
    assert_eq!(
        kinds(&submitted),
        [
            ("log_in".to_owned(), "g1".to_owned()),
            ("log_out".to_owned(), "g1".to_owned()),
            ("log_in".to_owned(), "g2".to_owned()),
        ]
    );
    app.log_out(at(5));
    assert!(app.needs_login());
    assert_eq!(kinds(&submitted).last().unwrap().0, "log_out");
}

#[test]
fn idle_console_locks_itself() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    let (mut app, _) = console(&path, false);
    app.log_in("g1", "2468", at(0)).unwrap();
    let last_input = at(0);
    assert!(!app.idle_lock_due(last_input, at(0) + SignedDuration::from_secs(599)));
    assert!(app.idle_lock_due(last_input, at(0) + SignedDuration::from_secs(600)));
    app.lock();
    // A locked console has nothing left to lock.
    assert!(!app.idle_lock_due(last_input, at(0) + SignedDuration::from_secs(900)));
}

#[test]
fn review_console_needs_review_permission() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path());
    let (mut app, submitted) = console(&path, true);
    assert!(matches!(
        app.log_in("g1", "2468", at(1)),
        Err(LoginError::NotPermitted { .. })
    ));
    assert!(app.needs_login());
    app.log_in("s1", "9999", at(2)).unwrap();
    assert!(!app.needs_login());
    assert_eq!(
        app.act(None, ActionKind::Silence, "", at(3)),
        Err(guardroom::app::ActError::Refused(
            guardroom::domain::alarm::Refusal::ReadOnly
        ))
    );
    assert!(
        kinds(&submitted).is_empty(),
        "a review console hands in nothing"
    );
}

#[test]
fn operators_config_validated() {
    let load = |text: &str| {
        guardroom::config::load_str(text, "test.toml", Path::new("."), guardroom::i18n::Lang::En)
    };
    let config = load("[site]\nid = \"s\"\n").unwrap();
    assert_eq!(config.operators.max_failures, 5);
    assert_eq!(config.operators.lockout_s, 300);
    assert_eq!(config.operators.idle_lock_s, 600);
    let config = load("[operators]\nmax_failures = 3\nlockout_s = 5\nidle_lock_s = 0\n").unwrap();
    assert_eq!(config.operators.lockout().max_failures, 3);
    assert_eq!(config.operators.idle_lock().idle_lock_s, 0);

    let error = load("[operators]\nmax_failures = 0\nlockout_s = 0\nidle_lock_s = 90000\n")
        .unwrap_err()
        .render(guardroom::i18n::Lang::En);
    for expected in [
        "operators.max_failures: 0 is out of range; use a value from 1 to 100",
        "operators.lockout_s: 0 is out of range; use a value from 1 to 86400",
        "operators.idle_lock_s: 90000 is out of range; use a value from 0 to 86400",
    ] {
        assert!(error.contains(expected), "{expected:?} not in {error}");
    }
    let error = load("[operators]\nmax_tries = 3\n")
        .unwrap_err()
        .render(guardroom::i18n::Lang::En);
    assert!(error.contains("max_tries"), "{error}");
}
