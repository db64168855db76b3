//! The console's state: its copy of the projection, the link state and its
//! own role. Screens read it; only the event loop changes it,
//! by merging deltas from the recorder or from following the database.

pub mod actions;
pub mod duty;
pub mod follow;
pub mod guide;
pub mod login;
pub mod requests;
pub mod review;

pub use actions::{ActError, Operator, Submit};
pub use guide::AlarmGuide;
pub use login::{Access, Current, LoginError, LoginSettings};

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use uuid::Uuid;

use crate::domain::alarm::Refusal;
use crate::domain::device::Liveness;
use crate::domain::projection::Delta;
use crate::domain::storage::{Storage, StorageFault};
use crate::domain::{Device, DeviceKind, DeviceStatus, Projection};
use crate::ingest::LinkState;
use crate::ingest::link::LinkStatus;

/// Role of this process for its database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Holds the lock: runs ingest and writes the log.
    Recorder,
    /// Another process records; this one follows the database file.
    Attached,
}

/// Site facts the screens need.
#[derive(Clone, Debug)]
pub struct SiteInfo {
    pub id: String,
    pub name: String,
    pub time_zone: TimeZone,
    pub liveness: Liveness,
    pub database: PathBuf,
}

pub struct App {
    pub site: SiteInfo,
    pub role: Role,
    pub projection: Projection,
    /// Live link state when this process records; `None` when attached, in
    /// which case the last recorded link event is shown instead.
    pub link: Option<LinkState>,
    pub last_message: Option<Timestamp>,
    pub bad_payloads: u64,
    /// Warnings shown on every screen until the console closes.
    pub warnings: Vec<String>,
    pub operator: Operator,
    /// Whether operators log in here, and who is logged in.
    pub access: Access,
    pub login: LoginSettings,
    /// A review console: it takes no action and hands nothing to a recorder.
    pub read_only: bool,
    /// Hands actions to this process's recorder; `None` when attached.
    pub submit: Option<Submit>,
    /// Actions the recorder refused after the console's own check passed
    /// (the state moved in between), newest last; the screens show them.
    pub refused: Vec<(Uuid, Refusal)>,
    /// Procedures and linked cameras for the alarm detail.
    pub alarm_guide: AlarmGuide,
    /// Operator actions and escalations committed but not yet confirmed by
    /// the broker.
    pub unsent: u64,
    /// Set while the database rejects writes and this process keeps them in memory.
    pub storage: Option<StorageFault>,
    /// The shift schedule, the reports folder and the handover state.
    pub duty: duty::Duty,
    /// The urgencies and categories a ticket created here may take, in the
    /// order the configuration lists them.
    pub ticket_urgencies: Vec<crate::domain::ticket::Urgency>,
    pub ticket_categories: Vec<crate::domain::ticket::Category>,
}

/// Device counts by kind and status, as the overview and `status` show them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `[kind][status]` in the order of [`DeviceKind::ALL`] and [`DeviceStatus::ALL`].
    pub table: [[usize; DeviceStatus::ALL.len()]; DeviceKind::ALL.len()],
    pub unregistered: usize,
}

impl Counts {
    pub fn get(&self, kind: DeviceKind, status: DeviceStatus) -> usize {
        self.table[kind_index(kind)][status_index(status)]
    }

    pub fn kind_total(&self, kind: DeviceKind) -> usize {
        self.table[kind_index(kind)].iter().sum()
    }

    pub fn status_total(&self, status: DeviceStatus) -> usize {
        self.table.iter().map(|row| row[status_index(status)]).sum()
    }

    pub fn total(&self) -> usize {
        self.table.iter().flatten().sum()
    }
}

pub fn kind_index(kind: DeviceKind) -> usize {
    DeviceKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

pub fn status_index(status: DeviceStatus) -> usize {
    DeviceStatus::ALL
        .iter()
        .position(|s| *s == status)
        .unwrap_or(0)
}

/// Counts every device of a projection by kind and status at `now`.
pub fn count(projection: &Projection, now: Timestamp, liveness: Liveness) -> Counts {
    let mut counts = Counts::default();
    for device in projection.devices.values() {
        let status = projection.status_of(device, now, liveness);
        counts.table[kind_index(device.spec.kind)][status_index(status)] += 1;
        if !device.registered {
            counts.unregistered += 1;
        }
    }
    counts
}

impl App {
    pub fn new(site: SiteInfo, role: Role, projection: Projection) -> Self {
        Self {
            site,
            role,
            projection,
            link: None,
            last_message: None,
            bad_payloads: 0,
            warnings: Vec::new(),
            operator: Operator::from_env("guard", "console"),
            access: Access::Open,
            login: LoginSettings::default(),
            read_only: false,
            submit: None,
            refused: Vec::new(),
            alarm_guide: AlarmGuide::default(),
            unsent: 0,
            storage: None,
            duty: duty::Duty::default(),
            ticket_urgencies: crate::domain::ticket::Urgency::ALL.to_vec(),
            ticket_categories: crate::domain::ticket::Category::ALL.to_vec(),
        }
    }

    /// Takes the storage state a delta or the request writer reports.
    pub fn set_storage(&mut self, storage: Storage) {
        match storage {
            Storage::Unknown => {}
            Storage::Saved => self.storage = None,
            Storage::Held(fault) => self.storage = Some(fault),
        }
    }

    pub fn merge(&mut self, delta: Delta) {
        if delta.last_message.is_some() {
            self.last_message = delta.last_message;
        }
        self.bad_payloads = self.bad_payloads.max(delta.bad_payloads);
        self.refused.extend(delta.refused.iter().cloned());
        if let Some(unsent) = delta.unsent {
            self.unsent = unsent;
        }
        self.set_storage(delta.storage.clone());
        self.projection.merge(delta);
    }

    pub fn status_of(&self, device: &Device, now: Timestamp) -> DeviceStatus {
        self.projection.status_of(device, now, self.site.liveness)
    }

    pub fn counts(&self, now: Timestamp) -> Counts {
        count(&self.projection, now, self.site.liveness)
    }

    /// Returns the link state: live when recording, else the last link
    /// event in the log.
    pub fn link_status(&self) -> Option<LinkStatus> {
        if let Some(link) = &self.link {
            return Some(link.status.clone());
        }
        self.projection.link.as_ref().map(|record| {
            if record.online {
                LinkStatus::Online {
                    since: record.since,
                }
            } else {
                LinkStatus::Offline {
                    since: record.since,
                    attempt: 0,
                    retry_at: record.since,
                    reason: String::new(),
                }
            }
        })
    }
}

/// Everything that reaches the console's event loop from outside the terminal.
#[derive(Debug)]
pub enum Feed {
    /// Rows changed by a commit (own recorder) or seen in the file (attached).
    Delta(Box<Delta>),
    /// The live link state of this process's recorder.
    Link(LinkState),
    /// This process took over (or lost) the recorder role.
    Role(Role),
    /// Something the operator must see until the console closes, such as a
    /// damaged database that was moved aside.
    Warning(String),
    /// The recorder refused an action this console submitted.
    Refused(Uuid, Refusal),
    /// Whether this console's actions are saved or held in memory.
    Storage(Storage),
}
