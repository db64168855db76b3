//! `guardroom serve` against a real mosquitto broker: retained states, an
//! availability change, and a broker restart.

mod support;

use std::path::{Path, PathBuf};

use guardroom::domain::Projection;
use guardroom::domain::device::{Availability, DeviceKind, ReportedState};
use guardroom::store::Store;
use jiff::Timestamp;
use serde_json::Value;
use support::{Broker, DEADLINE, Home, Publisher, Running, TestDevice, wait_for};

const SITE: &str = "itest";

fn topic(tail: &str) -> String {
    format!("gr/v1/{SITE}/{tail}")
}

/// Loads the projection as `status` reads it, or `None` while the database
/// does not exist yet.
fn projection(database: &Path) -> Option<Projection> {
    let store = Store::open_read_only(database).ok()?;
    store
        .load_projection()
        .ok()
        .map(|(projection, _)| projection)
}

/// Starts `guardroom serve` on `config` and `database`.
fn serve(home: &Home, config: &Path, database: &Path) -> Running {
    home.spawn(
        "serve",
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--db",
            database.to_str().unwrap(),
        ],
    )
}

/// Stops serve with SIGTERM and checks that it exits cleanly and records
/// the link as down.
fn stop_serve(mut serve: Running, home: &Home, database: &Path) {
    let output = serve.output();
    let status = serve.terminate();
    assert!(status.success(), "serve exited with {status}\n{output}");
    let after = home.status_json(database);
    assert_eq!(
        after["recorder_running"],
        Value::Bool(false),
        "no recorder after serve stopped"
    );
    assert_eq!(
        after["link"]["recorded_state"], "offline",
        "serve records the link as down when it stops"
    );
}

fn state_payload(state: &str, battery: u8) -> String {
    let ts = Timestamp::now().as_millisecond();
    format!(r#"{{"v":1,"ts":{ts},"kind":"door","state":"{state}","battery":{battery}}}"#)
}

fn door_id(index: usize) -> String {
    format!("door-{index:03}")
}

/// Returns the published state of a door: every fifth is open, the rest closed.
fn door_state(index: usize) -> &'static str {
    if index.is_multiple_of(5) {
        "open"
    } else {
        "closed"
    }
}

fn setup(registered: usize) -> (Broker, Home, PathBuf, PathBuf) {
    let broker = Broker::start_new();
    let home = Home::new();
    let devices: Vec<TestDevice> = (0..registered)
        .map(|index| TestDevice::door(&door_id(index)))
        .collect();
    let config = home.write_config(SITE, &broker.url(), &devices);
    let database = home.path().join("guardroom.sqlite");
    (broker, home, config, database)
}

#[test]
fn retained_states_all_recorded() {
    const DOORS: usize = 500;
    const REGISTERED: usize = 20;
    let (broker, home, config, database) = setup(REGISTERED);

    let mut publisher = Publisher::connect(broker.port());
    for index in 0..DOORS {
        let payload = state_payload(door_state(index), 50 + (index % 50) as u8);
        publisher.publish(
            &topic(&format!("dev/{}/state", door_id(index))),
            payload,
            true,
        );
    }
    publisher.flush();
    drop(publisher);

    let mut serve = serve(&home, &config, &database);
    let projection = wait_for("500 retained states in the database", DEADLINE, || {
        serve.assert_running();
        projection(&database).filter(|projection| {
            projection
                .devices
                .values()
                .filter(|device| device.reported.is_some())
                .count()
                == DOORS
        })
    });

    assert_eq!(projection.devices.len(), DOORS, "one device per door");
    for index in 0..DOORS {
        let id = door_id(index);
        let device = &projection.devices[&id];
        let reported = device.reported.as_ref().unwrap();
        assert_eq!(
            reported.state.as_str(),
            door_state(index),
            "{id} has its published state"
        );
        assert_eq!(
            reported.battery,
            Some(50 + (index % 50) as u8),
            "{id} has its published battery"
        );
        assert_eq!(
            device.registered,
            index < REGISTERED,
            "{id} is registered only when configured"
        );
        assert_eq!(device.spec.kind, DeviceKind::Door, "{id} is a door");
        assert!(device.last_seen.is_some(), "{id} has the payload's time");
    }

    let status = home.status_json(&database);
    let open = DOORS / 5;
    assert_eq!(
        status["recorder_running"],
        Value::Bool(true),
        "serve holds the lock"
    );
    assert_eq!(status["link"]["state"], "online", "link online");
    assert_eq!(
        status["devices"]["total"], DOORS,
        "status counts every door"
    );
    assert_eq!(
        status["devices"]["unregistered"],
        DOORS - REGISTERED,
        "status counts doors outside the inventory"
    );
    assert_eq!(status["devices"]["by_status"]["open"], open, "open doors");
    assert_eq!(
        status["devices"]["by_status"]["normal"],
        DOORS - open,
        "closed doors are normal"
    );
    assert_eq!(
        status["devices"]["by_kind"]["door"]["total"], DOORS,
        "all are doors"
    );
    assert_eq!(status["bad_payloads"], 0, "no bad payloads");

    stop_serve(serve, &home, &database);
}

#[test]
fn offline_avail_marks_device_offline() {
    let (broker, home, config, database) = setup(2);
    let mut serve = serve(&home, &config, &database);
    let mut publisher = Publisher::connect(broker.port());
    for index in 0..2 {
        let state_topic = topic(&format!("dev/{}/state", door_id(index)));
        publisher.publish(&state_topic, state_payload("closed", 90), true);
        let avail_topic = topic(&format!("dev/{}/avail", door_id(index)));
        publisher.publish(&avail_topic, "online", true);
    }
    publisher.flush();

    wait_for("both doors online and normal", DEADLINE, || {
        serve.assert_running();
        let status = projection(&database).map(|_| home.status_json(&database))?;
        (status["devices"]["by_status"]["normal"] == 2).then_some(())
    });

    publisher.publish(&topic("dev/door-001/avail"), "offline", true);
    publisher.flush();
    let status = wait_for("door-001 offline in status --json", DEADLINE, || {
        serve.assert_running();
        let status = home.status_json(&database);
        (status["devices"]["by_status"]["offline"] == 1).then_some(status)
    });

    let projection = projection(&database).unwrap();
    assert_eq!(
        status["devices"]["by_kind"]["door"]["offline"], 1,
        "the offline device is a door"
    );
    assert_eq!(
        status["devices"]["by_status"]["normal"], 1,
        "the other door stays normal"
    );
    assert_eq!(
        projection.devices["door-001"].availability,
        Availability::Offline,
        "door-001 is the offline one"
    );
    assert_eq!(
        projection.devices["door-000"].availability,
        Availability::Online,
        "door-000 stays online"
    );
    assert_eq!(
        projection.devices["door-001"]
            .reported
            .as_ref()
            .map(|reported| reported.state),
        Some(ReportedState::Closed),
        "going offline keeps the last state"
    );

    drop(publisher);
    stop_serve(serve, &home, &database);
}

#[test]
fn serve_survives_broker_restart() {
    let (mut broker, home, config, database) = setup(3);
    let mut serve = serve(&home, &config, &database);
    {
        let mut publisher = Publisher::connect(broker.port());
        publisher.publish(
            &topic("dev/door-000/state"),
            state_payload("closed", 90),
            true,
        );
        publisher.flush();
    }
    let first_online = wait_for("first state recorded", DEADLINE, || {
        serve.assert_running();
        let projection = projection(&database)?;
        let recorded = projection.devices.get("door-000")?.reported.is_some();
        let link = projection.link.filter(|link| link.online)?;
        assert!(!link.session_lost, "a first connection loses no session");
        recorded.then_some(link.since)
    });

    broker.stop();
    wait_for("serve to record the link down", DEADLINE, || {
        serve.assert_running();
        let link = projection(&database)?.link?;
        (!link.online).then_some(())
    });
    broker.start();
    let reconnected = wait_for("serve to reconnect", DEADLINE, || {
        serve.assert_running();
        let link = projection(&database)?.link?;
        (link.online && link.since > first_online).then_some(link.since)
    });
    // The broker was killed before it saved its sessions: the recorder
    // must say that messages may be missing.
    let status = home.status_json(&database);
    assert_eq!(
        status["link"]["session_lost"],
        Value::Bool(true),
        "the reconnect found no session: {status}"
    );

    // The restarted broker lost its sessions, so these arrive only if serve
    // subscribed again: one retained state, and a live event published until
    // it is seen, since the subscription may lag the recorded reconnect.
    let mut publisher = Publisher::connect(broker.port());
    publisher.publish(
        &topic("dev/door-001/state"),
        state_payload("open", 80),
        true,
    );
    publisher.flush();
    let mut attempts = 0;
    let projection = wait_for("states and event after the restart", DEADLINE, || {
        serve.assert_running();
        attempts += 1;
        publisher.publish(
            &topic("evt/door-002"),
            r#"{"id":"after-restart-1","type":"door_forced"}"#,
            false,
        );
        publisher.flush();
        let projection = projection(&database)?;
        let door_1 = projection.devices.get("door-001")?.reported.is_some();
        let door_2 = projection
            .devices
            .get("door-002")?
            .recent
            .iter()
            .any(|recent| recent.what == "event");
        (door_1 && door_2).then_some(projection)
    });

    let store = Store::open_read_only(&database).unwrap();
    let forced_events = store
        .events_after(0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|event| event.body.kind() == "device_event_raised")
        .count();
    assert_eq!(
        projection.devices["door-001"]
            .reported
            .as_ref()
            .unwrap()
            .state,
        ReportedState::Open,
        "state published after the restart is recorded"
    );
    assert_eq!(
        forced_events, 1,
        "one event for {attempts} deliveries of the same event id"
    );
    assert_eq!(
        projection.devices["door-000"]
            .reported
            .as_ref()
            .unwrap()
            .state,
        ReportedState::Closed,
        "state from before the restart is kept"
    );
    assert!(
        projection
            .link
            .as_ref()
            .is_some_and(|link| link.since >= reconnected),
        "link stays online after the reconnect"
    );

    drop(publisher);
    stop_serve(serve, &home, &database);
}
