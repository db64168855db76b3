//! Our devices: how the entities of one Home Assistant device become one or
//! more devices of ours.
//!
//! Each entity that gives a state (a door contact, a detector, an alarm
//! panel) is a device of ours. Battery, signal, connectivity and lock
//! entities of the same Home Assistant device add to each of those. Tamper,
//! problem and safety entities join the state of a lone detector, such as a
//! smoke detector that reports its own tamper switch. Beside a door, a panel
//! or several detectors they are devices of their own: our door and panel
//! states have no tamper or fault, and picking one of several detectors
//! would be a guess. A connectivity entity with nothing else to
//! join is a device of its own, so that its online state is seen.

use std::collections::BTreeMap;

use super::Config;
use super::entity::{BATTERY_LOW_PERCENT, Entity, Reading, Role};
use crate::domain::device::{DetectorClass, DeviceKind, Reported, ReportedState};
use crate::domain::observation::SelfDescription;
use crate::ingest::adapters::{DeviceMapping, Mappings, device_id, report_interval};

/// One device of ours and the entities it is made of, by discovery id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    /// The entity that gives the device its state.
    pub main: String,
    /// Tamper and fault entities that join the main entity's state.
    pub merged: Vec<String>,
    /// Battery, signal, lock and connectivity entities.
    pub attached: Vec<String>,
}

impl Target {
    fn new(main: &Entity, mappings: &Mappings) -> Self {
        Self {
            id: device_id(super::ID_PREFIX, &main.source, mappings),
            main: main.config.discovery_id.clone(),
            merged: Vec::new(),
            attached: Vec::new(),
        }
    }

    /// True when `entity` (a discovery id) is part of this device.
    pub fn contains(&self, entity: &str) -> bool {
        self.main == entity
            || self.merged.iter().any(|id| id == entity)
            || self.attached.iter().any(|id| id == entity)
    }
}

/// Lays out the devices of ours that the entities of one Home Assistant
/// device (`members`, in a stable order) make.
pub fn layout(members: &[&Entity], mappings: &Mappings) -> Vec<Target> {
    let with_role = |wanted: fn(Role) -> bool| -> Vec<&Entity> {
        members
            .iter()
            .copied()
            .filter(|entity| wanted(entity.role))
            .collect()
    };
    let primaries = with_role(Role::is_primary);
    let conditions = with_role(|role| matches!(role, Role::Tamper | Role::Fault));
    let connectivity = with_role(|role| role == Role::Connectivity);

    let mut targets: Vec<Target> = primaries
        .iter()
        .map(|entity| Target::new(entity, mappings))
        .collect();
    let lone_detector = primaries.len() == 1 && matches!(primaries[0].role, Role::Detector(_));
    if lone_detector {
        targets[0].merged = conditions
            .iter()
            .map(|entity| entity.config.discovery_id.clone())
            .collect();
    } else {
        targets.extend(
            conditions
                .iter()
                .map(|entity| Target::new(entity, mappings)),
        );
    }
    if targets.is_empty() {
        targets.extend(
            connectivity
                .iter()
                .map(|entity| Target::new(entity, mappings)),
        );
    }

    let main_roles: BTreeMap<String, Role> = members
        .iter()
        .map(|entity| (entity.config.discovery_id.clone(), entity.role))
        .collect();
    for target in &mut targets {
        let is_door = main_roles.get(&target.main) == Some(&Role::Door);
        target.attached = members
            .iter()
            .filter(|entity| entity.config.discovery_id != target.main)
            .filter(|entity| match entity.role {
                Role::BatteryLevel | Role::BatteryLow | Role::Signal | Role::Connectivity => true,
                Role::Lock => is_door,
                _ => false,
            })
            .map(|entity| entity.config.discovery_id.clone())
            .collect();
    }
    targets
}

/// The description and report of `target` from its entities' readings, or
/// `None` while its main entity has not reported.
pub fn compose(
    target: &Target,
    entities: &BTreeMap<String, Entity>,
    config: &Config,
) -> Option<(SelfDescription, Reported)> {
    let main = entities.get(&target.main)?;
    let reading = main.reading?;
    let merged_on = |role: Role| {
        target
            .merged
            .iter()
            .filter_map(|id| entities.get(id))
            .any(|entity| entity.role == role && entity.is_on() == Some(true))
    };

    let (kind, class, state) = match (main.role, reading) {
        (Role::Door, Reading::On(open)) => (
            DeviceKind::Door,
            None,
            if open {
                ReportedState::Open
            } else {
                ReportedState::Closed
            },
        ),
        (Role::Detector(class), Reading::On(alarm)) => {
            let state = if alarm {
                ReportedState::Alarm
            } else if merged_on(Role::Tamper) {
                ReportedState::Tamper
            } else if merged_on(Role::Fault) {
                ReportedState::Fault
            } else {
                ReportedState::Normal
            };
            (DeviceKind::Detector, Some(class), state)
        }
        (Role::Tamper, Reading::On(on)) => (
            DeviceKind::Detector,
            None,
            if on {
                ReportedState::Tamper
            } else {
                ReportedState::Normal
            },
        ),
        (Role::Fault, Reading::On(on)) => (
            DeviceKind::Detector,
            None,
            if on {
                ReportedState::Fault
            } else {
                ReportedState::Normal
            },
        ),
        // The arm state has no place among our states; it is logged as
        // events, and a triggered panel raises its alarm separately.
        (Role::Panel, Reading::Panel(_)) => (DeviceKind::Detector, None, ReportedState::Normal),
        (Role::Connectivity, Reading::On(_)) => (DeviceKind::Unknown, None, ReportedState::Normal),
        _ => return None,
    };

    let mut reported = Reported::new(state);
    for entity in target.attached.iter().filter_map(|id| entities.get(id)) {
        match (entity.role, entity.reading) {
            (Role::BatteryLevel, Some(Reading::Percent(percent))) => {
                reported.battery = Some(percent);
            }
            (Role::BatteryLow, Some(Reading::On(low))) => reported.battery_low |= low,
            (Role::Signal, Some(Reading::Dbm(dbm))) => reported.signal = Some(dbm),
            (Role::Lock, Some(Reading::On(unlocked))) => reported.locked = Some(!unlocked),
            _ => {}
        }
    }
    reported.battery_low |= reported
        .battery
        .is_some_and(|percent| percent <= BATTERY_LOW_PERCENT);

    Some((describe(main, kind, class, config), reported))
}

fn describe(
    main: &Entity,
    kind: DeviceKind,
    class: Option<DetectorClass>,
    config: &Config,
) -> SelfDescription {
    let mapping = config.devices.get(&main.source);
    let mapped = |field: fn(&DeviceMapping) -> &Option<String>| {
        mapping.and_then(|mapping| field(mapping).clone())
    };
    let name = mapped(|m| &m.name)
        .or_else(|| main.config.name.clone())
        .unwrap_or_else(|| main.source.clone());
    SelfDescription {
        kind: Some(kind),
        class,
        name: Some(name),
        building: mapped(|m| &m.building),
        zone: mapped(|m| &m.zone).or_else(|| main.config.suggested_area.clone()),
        gateway: (!config.gateway.is_empty()).then(|| config.gateway.clone()),
        interval_s: report_interval(mapping, config.interval_s),
    }
}

/// Returns whether `target` is online. Its main entity's availability
/// topics and any connectivity entity decide, and one that reports offline
/// wins. `None` while none of them has reported.
pub fn availability(target: &Target, entities: &BTreeMap<String, Entity>) -> Option<bool> {
    let main = entities.get(&target.main)?;
    let mut inputs = vec![main.available()];
    if main.role == Role::Connectivity {
        inputs.push(main.is_on());
    }
    inputs.extend(
        target
            .attached
            .iter()
            .filter_map(|id| entities.get(id))
            .filter(|entity| entity.role == Role::Connectivity)
            .map(Entity::is_on),
    );
    if inputs.contains(&Some(false)) {
        Some(false)
    } else if inputs.contains(&Some(true)) {
        Some(true)
    } else {
        None
    }
}
