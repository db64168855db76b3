//! Pure domain types: devices, the events that change them, and the fold
//! that turns an event log into the state the screens draw.
//!
//! Nothing here does I/O or reads a clock: callers pass the time in, so a
//! replay of the same log always yields the same state.

pub mod alarm;
pub mod care;
pub mod device;
pub mod event;
pub mod observation;
pub mod operator;
pub mod outgoing;
pub mod privacy;
pub mod projection;
pub mod services;
pub mod shift;
pub mod storage;
pub mod ticket;
pub mod time;

pub use device::{
    Availability, DetectorClass, Device, DeviceKind, DeviceStatus, Gateway, Reported, ReportedState,
};
pub use event::{Event, EventBody};
pub use observation::Observation;
pub use projection::Projection;
