//! Helpers shared by the integration tests: a real mosquitto broker on a free
//! loopback port, the real `guardroom` binary in a private home directory,
//! configuration files, and a QoS 1 publisher.
//!
//! Every process started here is killed by its PID when its handle drops, so
//! a failing test leaves nothing running.

// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod duty;
pub mod tmux;

use std::fs::{File, OpenOptions};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use guardroom::domain::Projection;
use guardroom::store::Store;
use rumqttc::{Client, Event, MqttOptions, Packet, QoS};
use tempfile::TempDir;

/// Maximum wait for a process to start, stop or deliver, so that a broken
/// build fails the test instead of hanging it.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Pause between two looks while polling.
const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Some`, and panics naming `what` after
/// `timeout`.
#[track_caller]
pub fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(POLL);
    }
}

/// Returns a client id no other test in this run uses. The recorder's
/// session is persistent, so two tests sharing an id would share queued messages.
pub fn unique_client_id(prefix: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

fn running_as_root() -> bool {
    // `/proc/self` belongs to the effective user of this process.
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// Finds the mosquitto executable: on `PATH`, else where Debian installs it.
pub fn mosquitto_path() -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("mosquitto"))
        .find(|candidate| candidate.is_file());
    let debian = PathBuf::from("/usr/sbin/mosquitto");
    match on_path {
        Some(path) => path,
        None if debian.is_file() => debian,
        None => panic!(
            "mosquitto not found on PATH or at /usr/sbin/mosquitto; run scripts/test, which installs it"
        ),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding a free port");
    listener.local_addr().expect("local address").port()
}

/// A mosquitto broker listening on 127.0.0.1, with its config, persistence
/// folder and log in a temporary directory.
pub struct Broker {
    dir: TempDir,
    port: u16,
    extra: Vec<String>,
    child: Option<Child>,
}

impl Broker {
    /// Starts a broker on a free port.
    pub fn start_new() -> Self {
        Self::start_with(&[])
    }

    /// Starts a broker with extra lines appended to its configuration, e.g.
    /// `max_queued_messages 0`.
    pub fn start_with(extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("creating the broker's temporary directory");
        let mut broker = Self {
            dir,
            port: 0,
            extra: extra.iter().map(|line| (*line).to_owned()).collect(),
            child: None,
        };
        // Another process may take the port between the probe and the start,
        // so a failed first start is retried on a new port.
        let mut last_error = String::new();
        for _ in 0..3 {
            broker.port = free_port();
            broker.write_config();
            match broker.try_start() {
                Ok(()) => return broker,
                Err(error) => last_error = error,
            }
        }
        panic!("mosquitto did not start: {last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the URL a guardroom configuration uses for this broker.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("mosquitto.conf")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("mosquitto.log")
    }

    /// Reads the broker's output so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn write_config(&self) {
        let data = self.dir.path().join("data");
        std::fs::create_dir_all(&data).expect("creating the persistence folder");
        let mut text = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n",
            self.port,
            data.display()
        );
        // As root, mosquitto drops to the `mosquitto` user, which cannot
        // write to a folder root created.
        if running_as_root() {
            text.push_str("user root\n");
        }
        for line in &self.extra {
            text.push_str(line);
            text.push('\n');
        }
        std::fs::write(self.config_path(), text).expect("writing mosquitto.conf");
    }

    /// Starts the broker again on the same port and persistence folder.
    pub fn start(&mut self) {
        assert!(self.child.is_none(), "broker is already running");
        if let Err(error) = self.try_start() {
            panic!("mosquitto did not restart on port {}: {error}", self.port);
        }
    }

    fn try_start(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("opening mosquitto.log");
        let mut child = Command::new(mosquitto_path())
            .arg("-c")
            .arg(self.config_path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("duplicating the log handle"))
            .stderr(log)
            .spawn()
            .map_err(|error| format!("cannot run mosquitto: {error}"))?;

        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "mosquitto exited with {status}; log:\n{}",
                    self.log()
                ));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "port {} not accepting connections after 10 s; log:\n{}",
                    self.port,
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the broker (SIGKILL to its PID) and waits for it to exit. The
    /// persistence file is not written, so sessions and retained messages
    /// since the last start are gone, as after a power cut.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A private home for the `guardroom` binary: HOME and the XDG directories
/// point into a temporary directory, so tests never see the user's files.
pub struct Home {
    dir: TempDir,
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("creating a temporary home"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Builds a `guardroom` command with the environment pointed into this home.
    pub fn command(&self, args: &[&str]) -> Command {
        let home = self.path();
        let mut command = Command::new(env!("CARGO_BIN_EXE_guardroom"));
        command
            .args(args)
            .current_dir(home)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES")
            .env_remove("GUARDROOM_CONFIG")
            .env_remove("GUARDROOM_LOG")
            .stdin(Stdio::null());
        command
    }

    /// Runs `guardroom` to completion and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .expect("running the guardroom binary")
    }

    /// Runs `guardroom status --json --db DATABASE` and parses what it prints.
    pub fn status_json(&self, database: &Path) -> serde_json::Value {
        let database = database.to_str().expect("database path is UTF-8");
        let output = self.run(&["status", "--json", "--db", database]);
        assert!(
            output.status.success(),
            "status --json failed with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "status --json printed invalid JSON ({error}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// Polls `guardroom status --json` until `done` accepts the report and
    /// returns it, panicking when `running` exits first or after [`DEADLINE`].
    #[track_caller]
    pub fn wait_for_status(
        &self,
        what: &str,
        database: &Path,
        running: &mut Running,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        wait_for(what, DEADLINE, || {
            running.assert_running();
            let status = self.status_json(database);
            done(&status).then_some(status)
        })
    }

    /// Starts `guardroom serve` on `config` and `database` in the background.
    pub fn serve(&self, config: &Path, database: &Path) -> Running {
        let config = config.to_str().expect("config path is UTF-8");
        let database = database.to_str().expect("database path is UTF-8");
        self.spawn("serve", &["serve", "--config", config, "--db", database])
    }

    /// Starts `guardroom` in the background, its output going to
    /// `NAME.stdout` and `NAME.stderr` in this home.
    pub fn spawn(&self, name: &str, args: &[&str]) -> Running {
        let stdout = self.path().join(format!("{name}.stdout"));
        let stderr = self.path().join(format!("{name}.stderr"));
        let child = self
            .command(args)
            .stdout(File::create(&stdout).expect("creating the stdout file"))
            .stderr(File::create(&stderr).expect("creating the stderr file"))
            .spawn()
            .expect("starting the guardroom binary");
        Running {
            child: Some(child),
            stdout,
            stderr,
            logs: self.path().join("state").join("guardroom").join("logs"),
        }
    }

    /// Writes a configuration file for `site` on `broker_url` and returns its path.
    pub fn write_config(&self, site: &str, broker_url: &str, devices: &[TestDevice]) -> PathBuf {
        let path = self.path().join("guardroom.toml");
        let text = config_toml(site, broker_url, &unique_client_id("gr-test"), devices);
        std::fs::write(&path, text).expect("writing guardroom.toml");
        path
    }
}

/// Loads the projection from `database` as `guardroom status` reads it, or
/// `None` while the database does not exist yet or cannot be read.
pub fn projection(database: &Path) -> Option<Projection> {
    let store = Store::open_read_only(database).ok()?;
    store
        .load_projection()
        .ok()
        .map(|(projection, _)| projection)
}

/// One `[[devices]]` entry of a test configuration.
#[derive(Clone, Debug)]
pub struct TestDevice {
    pub id: String,
    /// Display name, any text. It is quoted for TOML when written.
    pub name: String,
    /// `door`, `camera` or `detector`.
    pub kind: &'static str,
    /// Required for detectors, e.g. `smoke`.
    pub class: Option<&'static str>,
}

impl TestDevice {
    pub fn door(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: id.to_owned(),
            kind: "door",
            class: None,
        }
    }
}

/// Renders a small configuration file. Reconnects are capped at 2 s so that
/// a test of a broker restart does not wait long.
pub fn config_toml(
    site: &str,
    broker_url: &str,
    client_id: &str,
    devices: &[TestDevice],
) -> String {
    let mut text = format!(
        "[site]\nid = \"{site}\"\nname = \"Test site\"\ntime_zone = \"Asia/Shanghai\"\n\n\
         [broker]\nurl = \"{broker_url}\"\nclient_id = \"{client_id}\"\n\
         keep_alive_s = 5\nconnect_timeout_s = 2\nretry_max_s = 2\n\n\
         [console]\nlanguage = \"en\"\n"
    );
    for device in devices {
        text.push_str(&format!(
            "\n[[devices]]\nid = \"{id}\"\nkind = \"{kind}\"\nname = {name}\nbuilding = \"B1\"\nzone = \"Z1\"\n",
            id = device.id,
            kind = device.kind,
            name = toml::Value::String(device.name.clone()),
        ));
        if let Some(class) = device.class {
            text.push_str(&format!("class = \"{class}\"\n"));
        }
    }
    text
}

/// A `guardroom` process started in the background, killed on drop.
pub struct Running {
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
    logs: PathBuf,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("process is running").id()
    }

    /// Panics with the process's output when it has already exited.
    pub fn assert_running(&mut self) {
        let child = self.child.as_mut().expect("process is running");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("guardroom exited early with {status}\n{}", self.output());
        }
    }

    /// Collects what the process printed and logged so far, for failure messages.
    pub fn output(&self) -> String {
        let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
        let mut logs = String::new();
        if let Ok(entries) = std::fs::read_dir(&self.logs) {
            for entry in entries.flatten() {
                logs.push_str(&read(&entry.path()));
            }
        }
        format!(
            "--- stdout\n{}--- stderr\n{}--- log\n{}",
            read(&self.stdout),
            read(&self.stderr),
            logs
        )
    }

    /// Sends SIGTERM to the process by its PID and waits for it to exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.pid().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("running kill");
        assert!(sent.success(), "kill -TERM {pid} failed with {sent}");
        let mut child = self.child.take().expect("process is running");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("waiting for guardroom") {
                return status;
            }
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "guardroom did not exit within {DEADLINE:?} of SIGTERM\n{}",
                    self.output()
                );
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An MQTT client that publishes with QoS 1 and can wait until the broker
/// has acknowledged everything it sent.
pub struct Publisher {
    client: Client,
    acks: mpsc::Receiver<Result<(), String>>,
    thread: Option<JoinHandle<()>>,
    sent: usize,
    acked: usize,
}

impl Publisher {
    pub fn connect(port: u16) -> Self {
        let mut options = MqttOptions::new(unique_client_id("gr-test-pub"), "127.0.0.1", port);
        options.set_clean_session(true);
        options.set_keep_alive(Duration::from_secs(30));
        options.set_max_packet_size(1024 * 1024, 1024 * 1024);
        let (client, mut connection) = Client::new(options, 100);
        let (tx, acks) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for event in connection.iter() {
                let sent = match event {
                    Ok(Event::Incoming(Packet::PubAck(_))) => tx.send(Ok(())),
                    Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                    Ok(_) => Ok(()),
                    Err(error) => {
                        let _ = tx.send(Err(error.to_string()));
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        });
        Self {
            client,
            acks,
            thread: Some(thread),
            sent: 0,
            acked: 0,
        }
    }

    /// Queues one QoS 1 publish.
    pub fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>, retain: bool) {
        self.client
            .publish(topic, QoS::AtLeastOnce, retain, payload.into())
            .unwrap_or_else(|error| panic!("publish to {topic} failed: {error}"));
        self.sent += 1;
    }

    /// Waits until the broker has acknowledged every publish so far.
    pub fn flush(&mut self) {
        let start = Instant::now();
        while self.acked < self.sent {
            let left = DEADLINE.saturating_sub(start.elapsed());
            match self.acks.recv_timeout(left) {
                Ok(Ok(())) => self.acked += 1,
                Ok(Err(error)) => panic!("publisher connection failed: {error}"),
                Err(_) => panic!(
                    "broker acknowledged {} of {} publishes within {DEADLINE:?}",
                    self.acked, self.sent
                ),
            }
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A QoS 1 subscriber with a persistent session, so that what is published
/// while it reconnects (after a broker restart) still reaches it.
pub struct Subscriber {
    client: Client,
    messages: mpsc::Receiver<(String, Vec<u8>)>,
    thread: Option<JoinHandle<()>>,
}

impl Subscriber {
    /// Connects, subscribes to `filter` and waits for the SUBACK.
    pub fn connect(port: u16, filter: &str) -> Self {
        let mut options = MqttOptions::new(unique_client_id("gr-test-sub"), "127.0.0.1", port);
        options.set_clean_session(false);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut connection) = Client::new(options, 100);
        client
            .subscribe(filter, QoS::AtLeastOnce)
            .expect("queueing the subscribe");
        let (tx, messages) = mpsc::channel();
        let (subscribed_tx, subscribed) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            for event in connection.iter() {
                match event {
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        let _ = subscribed_tx.send(());
                    }
                    Ok(Event::Incoming(Packet::Publish(publish))) => {
                        if tx.send((publish.topic, publish.payload.to_vec())).is_err() {
                            break;
                        }
                    }
                    Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    // The broker may be restarting: try again shortly.
                    Err(_) => std::thread::sleep(Duration::from_millis(200)),
                }
            }
        });
        subscribed
            .recv_timeout(DEADLINE)
            .expect("the broker acknowledged the subscription");
        Self {
            client,
            messages,
            thread: Some(thread),
        }
    }

    /// Waits up to `timeout` for the next message.
    pub fn next(&self, timeout: Duration) -> Option<(String, Vec<u8>)> {
        self.messages.recv_timeout(timeout).ok()
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.client.disconnect();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
