//! Repair tickets (报修工单): the lifecycle and its legal actions, service
//! levels, tickets from MQTT and their reconciliation with local changes,
//! and the book that folds ticket events.
//!
//! Tickets come from residents' one-tap repair on `ticket/<id>`, or are
//! created at a console, from scratch or from an alarm or a device. A ticket
//! for a device can take it out of service, which keeps the device's alarms
//! out of the queue until the repair is resolved.

pub mod book;
pub mod reconcile;
pub mod sla;
pub mod state;

pub use book::{
    Conflict, NewTicket, Origin, Reporter, Step, Ticket, TicketBook, TicketContent, TicketEffect,
    TicketEvent,
};
pub use reconcile::{DecodeError, Reconciled, RemoteTicket};
pub use sla::{OverdueNotice, SlaSettings, SlaStatus};
pub use state::{
    Advice, Category, Refusal, Side, TicketAction, TicketActionKind, TicketState, Urgency,
};
