//! Runs the sample broker configuration, `config/mosquitto.conf`, on a real
//! mosquitto. A copy listens on a free port of 127.0.0.1 and keeps its
//! persistence file, password file and log in a temporary directory. Every
//! other line is the sample's own, so a setting that mosquitto rejects fails
//! these tests.

mod support;

use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rumqttc::{
    Client, ConnectReturnCode, Connection, ConnectionError, Event, MqttOptions, Outgoing, Packet,
    QoS, RecvTimeoutError,
};
use support::DEADLINE;
use tempfile::TempDir;

const SAMPLE: &str = include_str!("../config/mosquitto.conf");

const USER: &str = "guardroom";
const PASSWORD: &str = "sample-config-test";

/// Returns the active settings of a mosquitto configuration as (key, value)
/// pairs, skipping comments and blank lines.
fn settings(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| match line.split_once(char::is_whitespace) {
            Some((key, value)) => (key, value.trim()),
            None => (line, ""),
        })
        .collect()
}

fn values<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    settings(text)
        .into_iter()
        .filter(|(name, _)| *name == key)
        .map(|(_, value)| value)
        .collect()
}

fn running_as_root() -> bool {
    // `/proc/self` belongs to the effective user of this process.
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

/// Rewrites the sample for a private broker: the listener moves to `port` on
/// 127.0.0.1, and the persistence folder, password file and log file move
/// into `dir`. Every other line is kept as it is.
fn private_copy(sample: &str, port: u16, dir: &Path) -> String {
    assert_eq!(
        values(sample, "listener").len(),
        1,
        "the sample must have exactly one active listener, which this test moves to a free port"
    );
    for key in ["persistence_location", "password_file"] {
        assert_eq!(
            values(sample, key).len(),
            1,
            "the sample must set {key} once"
        );
    }

    let mut text = String::new();
    for line in sample.lines() {
        let key = settings(line).first().map(|(key, value)| (*key, *value));
        let rewritten = match key {
            Some(("listener", _)) => format!("listener {port} 127.0.0.1"),
            Some(("persistence_location", _)) => {
                format!("persistence_location {}/", dir.join("data").display())
            }
            Some(("password_file", _)) => {
                format!("password_file {}", dir.join("passwd").display())
            }
            Some(("log_dest", value)) if value.starts_with("file") => {
                format!("log_dest file {}", dir.join("mosquitto.log").display())
            }
            _ => line.to_owned(),
        };
        text.push_str(&rewritten);
        text.push('\n');
    }
    // As root, mosquitto drops to the `mosquitto` user, which cannot write to
    // a folder that root created.
    if running_as_root() {
        text.push_str("user root\n");
    }
    text
}

/// A mosquitto started from a private copy of the sample, killed by its PID
/// when dropped.
struct SampleBroker {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl SampleBroker {
    /// Writes the password file and starts the broker on a free port. A port
    /// taken between the probe and the start is retried on a new one.
    fn start_new() -> Self {
        let dir = tempfile::tempdir().expect("creating the broker's temporary directory");
        std::fs::create_dir_all(dir.path().join("data")).expect("creating the persistence folder");
        create_password_file(&dir.path().join("passwd"));

        let mut broker = Self {
            dir,
            port: 0,
            child: None,
        };
        let mut last_error = String::new();
        for _ in 0..3 {
            broker.port = free_port();
            let config = private_copy(SAMPLE, broker.port, broker.dir.path());
            std::fs::write(broker.config_path(), config).expect("writing the copy of the sample");
            match broker.try_start() {
                Ok(()) => return broker,
                Err(error) => last_error = error,
            }
        }
        panic!("mosquitto did not start from the sample configuration: {last_error}");
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("mosquitto.conf")
    }

    /// Returns what mosquitto printed before its log file was open (errors in
    /// the configuration) and its log file, for failure messages.
    fn output(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- output\n{}--- mosquitto.log\n{}",
            read("output"),
            read("mosquitto.log")
        )
    }

    fn try_start(&mut self) -> Result<(), String> {
        let output = File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join("output"))
            .expect("opening the broker's output file");
        let mut child = Command::new(support::mosquitto_path())
            .arg("-c")
            .arg(self.config_path())
            .stdin(Stdio::null())
            .stdout(output.try_clone().expect("duplicating the output handle"))
            .stderr(output)
            .spawn()
            .map_err(|error| format!("cannot run mosquitto: {error}"))?;

        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("mosquitto exited with {status}\n{}", self.output()));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "port {} not accepting connections after 10 s\n{}",
                    self.port,
                    self.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the broker again on the same port and persistence folder.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "broker is already running");
        if let Err(error) = self.try_start() {
            panic!("mosquitto did not restart on port {}: {error}", self.port);
        }
    }

    fn assert_running(&mut self) {
        let child = self.child.as_mut().expect("broker was started");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("mosquitto exited with {status}\n{}", self.output());
        }
    }

    /// Sends SIGTERM to the broker's PID and waits for it to exit. mosquitto
    /// saves its persistence file on the way out, as under `systemctl stop`.
    fn terminate(&mut self) {
        let mut child = self.child.take().expect("broker was started");
        let pid = child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed with {sent}");
        let status = support::wait_for("mosquitto to exit after SIGTERM", DEADLINE, || {
            child.try_wait().expect("waiting for mosquitto")
        });
        assert!(
            status.success(),
            "mosquitto exited with {status} after SIGTERM\n{}",
            self.output()
        );
    }
}

impl Drop for SampleBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn create_password_file(path: &Path) {
    let output = Command::new("mosquitto_passwd")
        .arg("-b")
        .arg("-c")
        .arg(path)
        .args([USER, PASSWORD])
        .output()
        .expect("running mosquitto_passwd (installed with the mosquitto package)");
    assert!(
        output.status.success(),
        "mosquitto_passwd failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn mqtt_options(port: u16, client_id: &str, credentials: Option<(&str, &str)>) -> MqttOptions {
    let mut options = MqttOptions::new(client_id, "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    if let Some((user, password)) = credentials {
        options.set_credentials(user, password);
    }
    options
}

/// Returns the next event or connection error, panicking after `DEADLINE`.
/// The error is boxed because `ConnectionError` is large.
fn next_event(connection: &mut Connection, what: &str) -> Result<Event, Box<ConnectionError>> {
    match connection.recv_timeout(DEADLINE) {
        Ok(event) => event.map_err(Box::new),
        Err(RecvTimeoutError::Timeout) => panic!("timed out after {DEADLINE:?} waiting for {what}"),
        Err(RecvTimeoutError::Disconnected) => {
            panic!("MQTT client closed while waiting for {what}")
        }
    }
}

/// Connects and returns the session-present flag of the CONNACK, or the
/// error that ended the attempt (a refused CONNACK included).
fn connect(connection: &mut Connection) -> Result<bool, Box<ConnectionError>> {
    loop {
        match next_event(connection, "CONNACK")? {
            Event::Incoming(Packet::ConnAck(ack)) => return Ok(ack.session_present),
            _ => continue,
        }
    }
}

fn wait_for_packet(connection: &mut Connection, what: &str, matches: impl Fn(&Packet) -> bool) {
    loop {
        match next_event(connection, what) {
            Ok(Event::Incoming(packet)) if matches(&packet) => return,
            Ok(_) => continue,
            Err(error) => panic!("connection failed while waiting for {what}: {error}"),
        }
    }
}

fn disconnect(client: &Client, connection: &mut Connection) {
    client.disconnect().expect("queueing the disconnect");
    loop {
        match next_event(connection, "DISCONNECT to be sent") {
            Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

#[test]
fn sample_sets_options_guardroom_needs() {
    let expected = [
        ("listener", Some("1883 127.0.0.1")),
        ("allow_anonymous", Some("false")),
        ("password_file", None),
        ("persistence", Some("true")),
        ("persistence_location", None),
        ("autosave_interval", None),
        ("persistent_client_expiration", None),
        ("max_queued_messages", None),
        ("max_queued_bytes", None),
        ("max_inflight_messages", None),
        ("retain_available", Some("true")),
        ("log_dest", None),
    ];
    for (key, value) in expected {
        let found = values(SAMPLE, key);
        assert!(!found.is_empty(), "the sample does not set {key}");
        if let Some(value) = value {
            assert_eq!(found, [value], "value of {key} in the sample");
        }
    }
    assert_ne!(
        values(SAMPLE, "max_queued_messages"),
        ["0"],
        "max_queued_messages 0 lets one offline client take all the broker's memory"
    );
}

#[test]
fn sample_starts_and_requires_password() {
    let mut broker = SampleBroker::start_new();
    broker.assert_running();

    let id = support::unique_client_id("gr-sample-user");
    let (client, mut connection) =
        Client::new(mqtt_options(broker.port, &id, Some((USER, PASSWORD))), 10);
    let accepted = connect(&mut connection);
    assert!(
        accepted.is_ok(),
        "a user from the password file was refused: {accepted:?}\n{}",
        broker.output()
    );
    disconnect(&client, &mut connection);

    let id = support::unique_client_id("gr-sample-anonymous");
    let (_client, mut connection) = Client::new(mqtt_options(broker.port, &id, None), 10);
    let refused = connect(&mut connection);
    assert!(
        matches!(
            refused.as_ref().map_err(|error| &**error),
            Err(ConnectionError::ConnectionRefused(
                ConnectReturnCode::NotAuthorized | ConnectReturnCode::BadUserNamePassword
            ))
        ),
        "an anonymous client was not refused: {refused:?}"
    );

    broker.assert_running();
}

#[test]
fn sample_keeps_queued_messages_across_restart() {
    let mut broker = SampleBroker::start_new();
    let credentials = Some((USER, PASSWORD));
    let topic = "gr/v1/sample-site/evt/b1-door-east";

    // A persistent session with a QoS 1 subscription, as guardroom keeps.
    let subscriber_id = support::unique_client_id("gr-sample-console");
    let mut options = mqtt_options(broker.port, &subscriber_id, credentials);
    options.set_clean_session(false);
    let (client, mut connection) = Client::new(options.clone(), 10);
    connect(&mut connection).expect("console connects");
    client
        .subscribe("gr/v1/sample-site/#", QoS::AtLeastOnce)
        .expect("queueing the subscribe");
    wait_for_packet(&mut connection, "SUBACK", |packet| {
        matches!(packet, Packet::SubAck(_))
    });
    disconnect(&client, &mut connection);

    // Three events arrive while the console is away.
    let publisher_id = support::unique_client_id("gr-sample-device");
    let (publisher, mut publisher_connection) =
        Client::new(mqtt_options(broker.port, &publisher_id, credentials), 10);
    connect(&mut publisher_connection).expect("device connects");
    let payloads = ["event-1", "event-2", "event-3"];
    for payload in payloads {
        publisher
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .expect("queueing a publish");
        wait_for_packet(&mut publisher_connection, "PUBACK", |packet| {
            matches!(packet, Packet::PubAck(_))
        });
    }
    disconnect(&publisher, &mut publisher_connection);

    broker.terminate();
    broker.restart();

    let (_client, mut connection) = Client::new(options, 10);
    let session_present = connect(&mut connection).expect("console reconnects");
    assert!(
        session_present,
        "the broker lost the console's session over a restart\n{}",
        broker.output()
    );
    let mut received = Vec::new();
    while received.len() < payloads.len() {
        match next_event(&mut connection, "queued messages") {
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                assert_eq!(publish.topic, topic, "topic of a queued message");
                received.push(String::from_utf8_lossy(&publish.payload).into_owned());
            }
            Ok(_) => continue,
            Err(error) => panic!("connection failed while waiting for queued messages: {error}"),
        }
    }
    assert_eq!(received, payloads, "messages queued before the restart");
}
