//! The real console in a real terminal: a tmux server of the test's own
//! runs `guardroom` at 80×24, and the test reads the screen and types keys
//! the way a guard would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::Home;

/// Maximum wait for a text to show on screen. A loaded 2-core machine
/// takes seconds to start the console and hash a PIN.
pub const SCREEN_TIMEOUT: Duration = Duration::from_secs(20);

/// A tmux server with a private socket in the test home, killed on drop
/// together with everything running in it.
pub struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    pub fn new(home: &Home) -> Self {
        Self {
            socket: home.path().join("tmux.sock"),
        }
    }

    /// Runs a tmux command against this server.
    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    /// Starts `command` (a shell line) in a new 80×24 session.
    pub fn start(&self, session: &str, command: &str) {
        let output = self.tmux(&[
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "80",
            "-y",
            "24",
            command,
        ]);
        assert!(
            output.status.success(),
            "tmux failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Returns the visible screen of `session`, one line per row.
    pub fn screen(&self, session: &str) -> String {
        String::from_utf8_lossy(
            &self
                .tmux(&["capture-pane", "-p", "-t", &pane(session)])
                .stdout,
        )
        .into_owned()
    }

    /// Sends keys by their tmux names (`Enter`, `Tab`, `Escape`) or as
    /// runs of plain characters.
    pub fn keys(&self, session: &str, keys: &[&str]) {
        let target = pane(session);
        let mut args = vec!["send-keys", "-t", target.as_str()];
        args.extend_from_slice(keys);
        let output = self.tmux(&args);
        assert!(
            output.status.success(),
            "tmux send-keys failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Types `text` literally, so that no word in it is taken for a key
    /// name. Chinese text reaches the console this way.
    pub fn type_text(&self, session: &str, text: &str) {
        let output = self.tmux(&["send-keys", "-t", &pane(session), "-l", text]);
        assert!(
            output.status.success(),
            "tmux send-keys -l failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Returns the PID of the process running in `session`.
    pub fn pane_pid(&self, session: &str) -> Option<u32> {
        let output = self.tmux(&["display-message", "-p", "-t", &pane(session), "#{pane_pid}"]);
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    }

    /// Waits until the screen contains `text` and returns how long it took.
    #[track_caller]
    pub fn wait_for(&self, session: &str, text: &str) -> Duration {
        self.wait_until(session, text, |screen| screen.contains(text))
    }

    /// Waits until `done` accepts the screen, and panics naming `what`
    /// with the last screen after [`SCREEN_TIMEOUT`].
    #[track_caller]
    pub fn wait_until(&self, session: &str, what: &str, done: impl Fn(&str) -> bool) -> Duration {
        self.wait_within(session, what, SCREEN_TIMEOUT, done)
    }

    /// Waits like [`Tmux::wait_until`] but up to `timeout`, for what the
    /// console does on a timer of its own.
    #[track_caller]
    pub fn wait_within(
        &self,
        session: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Duration {
        let start = Instant::now();
        loop {
            let screen = self.screen(session);
            if done(&screen) {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < timeout,
                "screen never showed {what:?}; last screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Returns the tmux target for the pane of `session`, matching the session
/// name exactly. A bare name also matches window names, and every window
/// here is named after `guardroom`, so "guard" could pick another session.
fn pane(session: &str) -> String {
    format!("={session}:")
}

/// Logs `id` in on the login screen of `session`.
pub fn log_in(tmux: &Tmux, session: &str, id: &str, pin: &str) {
    tmux.type_text(session, id);
    tmux.keys(session, &["Enter"]);
    tmux.type_text(session, pin);
    tmux.keys(session, &["Enter"]);
}

/// Quits the console in `session` with `q` and `y`, after `question`
/// shows, and waits until its process has ended.
pub fn quit(tmux: &Tmux, session: &str, question: &str) {
    let pid = tmux.pane_pid(session).expect("pane pid");
    tmux.keys(session, &["q"]);
    tmux.wait_for(session, question);
    tmux.keys(session, &["y"]);
    wait_gone(pid);
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// Builds the shell line that runs the console with the home's
/// environment, in language `lang`, with `extra` arguments such as
/// `--read-only` appended.
pub fn console_line(
    home: &Home,
    config: &Path,
    database: &Path,
    lang: &str,
    extra: &[&str],
) -> String {
    let binary = env!("CARGO_BIN_EXE_guardroom");
    let root = home.path().display();
    let mut line = format!(
        "exec env HOME={root} XDG_CONFIG_HOME={root}/config XDG_DATA_HOME={root}/data \
         XDG_STATE_HOME={root}/state LANG=C.UTF-8 TERM=xterm-256color {binary} --lang {lang} \
         --config {} --db {}",
        config.display(),
        database.display()
    );
    for argument in extra {
        line.push(' ');
        line.push_str(argument);
    }
    line
}

/// Returns everything the consoles of `home` logged so far.
pub fn read_logs(home: &Home) -> String {
    let folder = home.path().join("state").join("guardroom").join("logs");
    let mut logs = String::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        logs.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    logs
}

/// True while process `pid` runs and is not a zombie.
pub fn process_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.contains(") Z "))
}

/// Waits until process `pid` has ended.
#[track_caller]
pub fn wait_gone(pid: u32) {
    let start = Instant::now();
    while process_alive(pid) {
        assert!(
            start.elapsed() < SCREEN_TIMEOUT,
            "console {pid} still running after {SCREEN_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
