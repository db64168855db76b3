//! Entities: what a Home Assistant entity means in our model, and its last
//! reading decoded from its state topic.

use jiff::Timestamp;

use super::discovery::{AvailabilityMode, AvailabilityTopic, Component, EntityConfig};
use super::template::{Payload, RenderError, Template};
use crate::domain::device::DetectorClass;
use crate::ingest::DecodeError;
use crate::ingest::sanitize::sanitize;

/// Binary sensor device classes Home Assistant defines that this adapter
/// does not watch; any class outside these and the watched ones is an error.
const UNWATCHED_BINARY_CLASSES: [&str; 11] = [
    "battery_charging",
    "cold",
    "light",
    "moving",
    "plug",
    "power",
    "presence",
    "running",
    "sound",
    "update",
    "vibration",
];

/// Battery level at or below which a device counts as low, in percent; the
/// same threshold the native format uses.
pub const BATTERY_LOW_PERCENT: u8 = crate::ingest::decode::BATTERY_LOW_PERCENT;

/// Part an entity plays in one of our devices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Door, garage door, window or opening contact: `on` is open.
    Door,
    /// A detector of this class: `on` is alarm.
    Detector(DetectorClass),
    /// `on` is tamper.
    Tamper,
    /// Problem, or safety (`on` is unsafe): `on` is fault.
    Fault,
    /// `on` is low battery.
    BatteryLow,
    /// `on` is connected.
    Connectivity,
    /// `on` is unlocked.
    Lock,
    /// Battery sensor, percent.
    BatteryLevel,
    /// Signal strength sensor, dBm.
    Signal,
    /// Alarm control panel.
    Panel,
}

impl Role {
    /// Returns the role of an entity: `Ok(None)` for a class Home Assistant defines
    /// that this adapter does not watch, `Err` for a class it does not define.
    pub fn of(config: &EntityConfig) -> Result<Option<Self>, String> {
        let class = config.device_class.as_deref();
        Ok(match config.component {
            Component::AlarmPanel => Some(Self::Panel),
            Component::Sensor => match (class, config.unit.as_deref()) {
                (Some("battery"), None | Some("%")) => Some(Self::BatteryLevel),
                (Some("signal_strength"), Some("dBm")) => Some(Self::Signal),
                _ => None,
            },
            Component::BinarySensor => match class {
                None => None,
                Some("door" | "garage_door" | "opening" | "window") => Some(Self::Door),
                Some("smoke") => Some(Self::Detector(DetectorClass::Smoke)),
                Some("heat") => Some(Self::Detector(DetectorClass::Heat)),
                Some("gas" | "carbon_monoxide") => Some(Self::Detector(DetectorClass::Gas)),
                Some("moisture") => Some(Self::Detector(DetectorClass::WaterLeak)),
                Some("motion" | "occupancy") => Some(Self::Detector(DetectorClass::Pir)),
                Some("tamper") => Some(Self::Tamper),
                Some("problem" | "safety") => Some(Self::Fault),
                Some("battery") => Some(Self::BatteryLow),
                Some("connectivity") => Some(Self::Connectivity),
                Some("lock") => Some(Self::Lock),
                Some(other) if UNWATCHED_BINARY_CLASSES.contains(&other) => None,
                Some(other) => {
                    return Err(format!(
                        "device_class \"{other}\" is not a Home Assistant binary sensor class"
                    ));
                }
            },
        })
    }

    /// True for the roles that give a device of ours its state.
    pub fn is_primary(self) -> bool {
        matches!(self, Self::Door | Self::Detector(_) | Self::Panel)
    }
}

/// States of a Home Assistant alarm control panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PanelState {
    Disarmed,
    ArmedHome,
    ArmedAway,
    ArmedNight,
    ArmedVacation,
    ArmedCustomBypass,
    Pending,
    Arming,
    Disarming,
    Triggered,
}

impl PanelState {
    const ALL: [PanelState; 10] = [
        Self::Disarmed,
        Self::ArmedHome,
        Self::ArmedAway,
        Self::ArmedNight,
        Self::ArmedVacation,
        Self::ArmedCustomBypass,
        Self::Pending,
        Self::Arming,
        Self::Disarming,
        Self::Triggered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disarmed => "disarmed",
            Self::ArmedHome => "armed_home",
            Self::ArmedAway => "armed_away",
            Self::ArmedNight => "armed_night",
            Self::ArmedVacation => "armed_vacation",
            Self::ArmedCustomBypass => "armed_custom_bypass",
            Self::Pending => "pending",
            Self::Arming => "arming",
            Self::Disarming => "disarming",
            Self::Triggered => "triggered",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }

    pub fn is_armed(self) -> bool {
        self.as_str().starts_with("armed_")
    }
}

/// The last value an entity reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    On(bool),
    Percent(u8),
    Dbm(i16),
    Panel(PanelState),
}

/// One availability topic of an entity and its last message.
#[derive(Clone, Debug, PartialEq)]
pub struct AvailabilitySource {
    pub config: AvailabilityTopic,
    pub template: Result<Template, String>,
    pub online: Option<bool>,
}

/// An entity this adapter watches.
#[derive(Clone, Debug, PartialEq)]
pub struct Entity {
    pub config: EntityConfig,
    pub role: Role,
    /// The name mappings use: the unique id, else the discovery id.
    pub source: String,
    pub template: Result<Template, String>,
    pub availability: Vec<AvailabilitySource>,
    /// Availability from the most recent availability message, for mode
    /// `latest`.
    pub latest_availability: Option<bool>,
    pub reading: Option<Reading>,
    /// When an `on` state turns `off` by itself (`off_delay`).
    pub off_at: Option<Timestamp>,
    /// The panel's last armed state, named in the alarm it raises.
    pub last_armed: Option<PanelState>,
}

/// Words Home Assistant uses for "no value", which leave the state as it is.
fn is_no_value(text: &str) -> bool {
    matches!(text, "" | "None" | "unknown" | "unavailable")
}

impl Entity {
    pub fn new(config: EntityConfig, role: Role) -> Self {
        let source = config
            .unique_id
            .clone()
            .unwrap_or_else(|| config.discovery_id.clone());
        let template = match &config.value_template {
            Some(text) => Template::parse(text),
            None => Ok(Template::payload()),
        };
        let availability = config
            .availability
            .iter()
            .map(|topic| AvailabilitySource {
                config: topic.clone(),
                template: match &topic.template {
                    Some(text) => Template::parse(text),
                    None => Ok(Template::payload()),
                },
                online: None,
            })
            .collect();
        Self {
            config,
            role,
            source,
            template,
            availability,
            latest_availability: None,
            reading: None,
            off_at: None,
            last_armed: None,
        }
    }

    /// Decodes a state payload. `Ok(None)` when it carries no value: a
    /// field the payload lacks, or Home Assistant's words for "unknown".
    pub fn decode(&self, payload: &Payload<'_>) -> Result<Option<Reading>, DecodeError> {
        // Home Assistant ignores an empty payload; a retained state that
        // is being cleared arrives as one.
        if payload.text().trim().is_empty() {
            return Ok(None);
        }
        let template = self
            .template
            .as_ref()
            .map_err(|reason| DecodeError::BadField {
                field: "value_template",
                reason: reason.clone(),
            })?;
        let Some(rendered) = template.render(payload).map_err(render_error)? else {
            return Ok(None);
        };
        let value = rendered.trim();
        if is_no_value(value) {
            return Ok(None);
        }
        let reading = match self.role {
            Role::BatteryLevel => {
                let percent = value
                    .parse::<f64>()
                    .ok()
                    .filter(|level| (0.0..=100.0).contains(level))
                    .ok_or_else(|| bad_value("expected a battery level from 0 to 100", value))?;
                Reading::Percent(percent.round() as u8)
            }
            Role::Signal => {
                let dbm = value
                    .parse::<f64>()
                    .ok()
                    .filter(|dbm| (-150.0..=0.0).contains(dbm))
                    .ok_or_else(|| bad_value("expected dBm from -150 to 0", value))?;
                Reading::Dbm(dbm.round() as i16)
            }
            Role::Panel => Reading::Panel(
                PanelState::parse(value)
                    .ok_or_else(|| bad_value("not an alarm panel state", value))?,
            ),
            _ if value == self.config.payload_on => Reading::On(true),
            _ if value == self.config.payload_off => Reading::On(false),
            _ => {
                return Err(bad_value(
                    &format!(
                        "neither payload_on \"{}\" nor payload_off \"{}\"",
                        sanitize(&self.config.payload_on),
                        sanitize(&self.config.payload_off)
                    ),
                    value,
                ));
            }
        };
        Ok(Some(reading))
    }

    /// Records a message on `topic`, one of the entity's availability
    /// topics. Returns an error when the payload matches neither of the
    /// topic's payloads.
    pub fn observe_availability(
        &mut self,
        topic: &str,
        payload: &Payload<'_>,
    ) -> Result<(), DecodeError> {
        if payload.text().trim().is_empty() {
            return Ok(());
        }
        for source in self
            .availability
            .iter_mut()
            .filter(|source| source.config.topic == topic)
        {
            let template = source
                .template
                .as_ref()
                .map_err(|reason| DecodeError::BadField {
                    field: "availability",
                    reason: reason.clone(),
                })?;
            let Some(rendered) = template.render(payload).map_err(render_error)? else {
                continue;
            };
            let value = rendered.trim();
            let online = if value == source.config.available {
                true
            } else if value == source.config.not_available {
                false
            } else {
                return Err(DecodeError::BadField {
                    field: "availability",
                    reason: format!(
                        "\"{}\" is neither \"{}\" nor \"{}\"",
                        sanitize(value),
                        sanitize(&source.config.available),
                        sanitize(&source.config.not_available)
                    ),
                });
            };
            source.online = Some(online);
            self.latest_availability = Some(online);
        }
        Ok(())
    }

    /// Returns whether the entity is available, by its availability mode.
    /// `None` while its topics have not reported enough, or when it has none.
    pub fn available(&self) -> Option<bool> {
        if self.availability.is_empty() {
            return None;
        }
        let mut states = self.availability.iter().map(|source| source.online);
        match self.config.availability_mode {
            AvailabilityMode::Latest => self.latest_availability,
            AvailabilityMode::All => {
                let states: Vec<Option<bool>> = states.collect();
                if states.contains(&Some(false)) {
                    Some(false)
                } else if states.iter().all(|state| *state == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            }
            AvailabilityMode::Any => {
                if states.any(|state| state == Some(true)) {
                    Some(true)
                } else if self.availability.iter().any(|s| s.online == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// Returns the binary value, for the roles that have one.
    pub fn is_on(&self) -> Option<bool> {
        match self.reading {
            Some(Reading::On(on)) => Some(on),
            _ => None,
        }
    }
}

fn render_error(error: RenderError) -> DecodeError {
    match error {
        RenderError::InvalidJson(reason) => DecodeError::InvalidJson(reason),
        RenderError::NoSingleValue => DecodeError::BadField {
            field: "value_template",
            reason: "the template selects an object or a list, not a value".into(),
        },
        RenderError::NotNumber(value) => DecodeError::BadField {
            field: "value_template",
            reason: format!("\"{value}\" is not a number"),
        },
    }
}

fn bad_value(expected: &str, value: &str) -> DecodeError {
    DecodeError::BadField {
        field: "state",
        reason: format!("\"{}\": {expected}", sanitize(value)),
    }
}
