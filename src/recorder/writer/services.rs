//! The recorder's part of repair tickets and eldercare: records from
//! `ticket/<id>` and `care/<person>/evt`, the care engine and the SLA check
//! on each tick, the alarms their signals raise, and the ticket records
//! published back, retained, after every change.

use jiff::Timestamp;

use super::{Pending, Writer, outbound};
use uuid::Uuid;

use crate::domain::alarm::{Action, ActionKind, Change, Condition, rules};
use crate::domain::services::{CareRecord, care_alarm, overdue_alarm, overdue_ended};
use crate::domain::ticket::{Reconciled, TicketEffect, TicketEvent};
use crate::domain::time::{from_millis, to_millis};
use crate::domain::{Event, EventBody, Observation};
use crate::store::StoreError;

impl Writer {
    /// Rebuilds tickets and care state from the log, then logs the
    /// residents watched when the configured registry changed.
    pub(super) fn start_services(
        &mut self,
        pending: &mut Pending,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.projection.services = self.store.load_services(self.settings.services.clone())?;
        if let Some(record) = self.projection.services.registry_change() {
            tracing::info!(
                residents = self.settings.services.residents.len(),
                "the residents registry changed; watching the configured residents"
            );
            let body = EventBody::Care {
                record,
                action: None,
            };
            self.append(pending, Event::new(now, body));
        }
        Ok(())
    }

    /// Handles ticket records and care events; returns false for other observations.
    pub(super) fn observe_services(
        &mut self,
        pending: &mut Pending,
        observation: &Observation,
        received: Timestamp,
    ) -> bool {
        match observation {
            Observation::Ticket { id, record: None } => {
                tracing::info!(ticket = %id, "ticket record deleted; the ticket stays as it is");
            }
            Observation::Ticket {
                record: Some(record),
                ..
            } => {
                let services = &self.projection.services;
                let changes_nothing = match services.tickets.reconcile(record) {
                    Reconciled::Stale { .. } => true,
                    Reconciled::InSync => services
                        .tickets
                        .get(&record.id)
                        .is_some_and(|ticket| ticket.agreed >= record.version),
                    _ => false,
                };
                if !changes_nothing {
                    let body = EventBody::Ticket {
                        event: TicketEvent::Received {
                            record: record.as_ref().clone(),
                        },
                        action: None,
                    };
                    self.append(pending, Event::new(received, body));
                }
            }
            Observation::Care { event } => {
                if self
                    .projection
                    .services
                    .care
                    .resident(&event.resident)
                    .is_none()
                {
                    tracing::warn!(resident = %event.resident, event = %event.id, "care event for a resident outside the registry; logged, no rule runs");
                }
                let body = EventBody::Care {
                    record: CareRecord::Event {
                        event: event.clone(),
                    },
                    action: None,
                };
                self.append(pending, Event::new(received, body));
            }
            _ => return false,
        }
        true
    }

    /// Runs the care engine and the ticket SLA check at `now`.
    pub(super) fn tick_services(&mut self, pending: &mut Pending, now: Timestamp) {
        // The log keeps milliseconds: ticking at the logged instant keeps
        // a replay's ticks at the same times as these.
        let now = from_millis(to_millis(now));
        let signals = self.projection.services.care.tick(now);
        for signal in signals {
            let body = EventBody::Care {
                record: CareRecord::Signal {
                    signal: signal.clone(),
                },
                action: None,
            };
            self.append(pending, Event::new(now, body));
            self.raise_care(pending, &signal, now);
        }
        for body in self.projection.services.overdue(now) {
            self.append(pending, Event::new(now, body));
        }
    }

    /// Turns an operator's action on tickets or care, logged by `act` as a
    /// duty-log entry, into its ticket or care event.
    pub(super) fn service_event(&self, event: Event) -> Event {
        let EventBody::DutyRecorded { action } = &event.body else {
            return event;
        };
        match self.projection.services.body_of(action, event.at) {
            Some(body) => Event { body, ..event },
            None => event,
        }
    }

    /// Carries out the follow-ups of folding a ticket or care event:
    /// publishes the ticket, re-checks a device back in service, and raises
    /// or clears alarms. A ticket that is no longer open clears its overdue notice.
    pub(super) fn after_services(
        &mut self,
        pending: &mut Pending,
        body: &EventBody,
        at: Timestamp,
    ) {
        let follow_ups = self.projection.services.take_follow_ups();
        let index = pending.events.len().saturating_sub(1);
        for effect in &follow_ups.tickets {
            match effect {
                TicketEffect::Publish { ticket } => self.publish_ticket(pending, index, ticket),
                TicketEffect::DeviceOutOfService { device, ticket } => {
                    tracing::info!(%device, %ticket, "device out of service for its repair");
                    self.touch_device_alarms(pending, device);
                }
                TicketEffect::DeviceReturned { device, ticket } => {
                    tracing::info!(%device, %ticket, "device back in service; checking its state");
                    self.touch_device_alarms(pending, device);
                    self.recheck_device(pending, device, at);
                }
                TicketEffect::ConflictFlagged { ticket } => {
                    tracing::warn!(%ticket, "ticket record disagrees with local changes; both kept until an operator chooses");
                }
                TicketEffect::Reconciled { ticket, outcome } => {
                    tracing::debug!(%ticket, ?outcome, "ticket record reconciled");
                }
            }
        }
        // Signals that come of folding an outcome or a check-in (a stage
        // skipped by "not reached", a ladder ended) go into the log like
        // the timers' ones, so that the log shows every stage. Folding a
        // logged signal changes nothing, so a replay is the same.
        let logged = matches!(
            body,
            EventBody::Care {
                record: CareRecord::Signal { .. },
                ..
            }
        );
        for signal in &follow_ups.signals {
            if !logged {
                let record = EventBody::Care {
                    record: CareRecord::Signal {
                        signal: signal.clone(),
                    },
                    action: None,
                };
                self.append(pending, Event::new(at, record));
            }
            self.raise_care(pending, signal, at);
        }
        self.acknowledge_with_outcome(pending, body, at);
        if let EventBody::Ticket { event, .. } = body {
            let alarms = match event {
                TicketEvent::OverdueNoticed { notice } => {
                    overdue_alarm(&self.projection.alarms, notice, &self.settings.rules)
                }
                _ => overdue_ended(
                    &self.projection.alarms,
                    &self.projection.services.tickets,
                    event.ticket(),
                ),
            };
            for body in alarms {
                self.append(pending, Event::new(at, body));
            }
        }
    }

    fn publish_ticket(&self, pending: &mut Pending, index: usize, id: &str) {
        let prefix = &self.settings.topics.tickets;
        let Some(ticket) = self.projection.services.tickets.get(id) else {
            return;
        };
        if prefix.is_empty() {
            return;
        }
        pending
            .outbox
            .push((index, format!("{prefix}{id}"), outbound::ticket(ticket)));
    }

    fn raise_care(
        &mut self,
        pending: &mut Pending,
        signal: &crate::domain::care::CareSignal,
        at: Timestamp,
    ) {
        let bodies = care_alarm(
            &self.projection.alarms,
            &self.projection.services.setup,
            signal,
            &self.settings.rules,
        );
        for body in bodies {
            self.append(pending, Event::new(at, body));
        }
    }

    /// Acknowledges the missed check-in's alarm in the name of the guard who
    /// recorded an outcome, because recording one is handling the alarm.
    /// A stage the outcome started stays quiet too, while the timers' next
    /// stage sounds again.
    fn acknowledge_with_outcome(&mut self, pending: &mut Pending, body: &EventBody, at: Timestamp) {
        let EventBody::Care {
            record: CareRecord::Outcome { record },
            action: Some(action),
        } = body
        else {
            return;
        };
        let source = format!("care:{}", record.resident);
        let Some(alarm) = self
            .projection
            .alarms
            .open_for(&source, Condition::MissedCheckIn)
            .filter(|alarm| !alarm.acknowledged)
        else {
            return;
        };
        let acknowledge = Action {
            id: Uuid::new_v4(),
            alarm: Some(alarm.id),
            kind: ActionKind::Acknowledge,
            operator: action.operator.clone(),
            role: action.role.clone(),
            console: action.console.clone(),
            via_ssh: action.via_ssh,
            remark: String::new(),
        };
        self.append(
            pending,
            Event::new(
                at,
                EventBody::AlarmActed {
                    action: acknowledge,
                },
            ),
        );
    }

    /// Marks the device's open alarms and the book's state for the commit.
    fn touch_device_alarms(&self, pending: &mut Pending, device: &str) {
        pending.book_changed = true;
        for alarm in self.projection.alarms.open.values() {
            if alarm.device.as_deref() == Some(device) {
                pending.alarms.insert(alarm.id);
            }
        }
    }

    /// Runs the state rules on the device's last report, because alarms
    /// that would have been raised or cleared while it was out of service
    /// may be due now. An alarm acknowledged before the repair whose
    /// condition is still true sounds again: the repair did not end it,
    /// and the guard must not take the silence for a fix.
    fn recheck_device(&mut self, pending: &mut Pending, device: &str, at: Timestamp) {
        let Some(reported) = self
            .projection
            .devices
            .get(device)
            .and_then(|device| device.reported.clone())
        else {
            return;
        };
        let report = EventBody::StateReported {
            device: device.to_owned(),
            reported,
            retained: false,
            seen_at: None,
        };
        for body in rules::after(&self.projection, &report, at, &self.settings.rules) {
            self.append(pending, Event::new(at, body));
        }
        let still: Vec<u64> = self
            .projection
            .alarms
            .open
            .values()
            .filter(|alarm| {
                alarm.device.as_deref() == Some(device)
                    && alarm.active
                    && alarm.acknowledged
                    && !alarm.momentary
                    && !alarm.out_of_service
            })
            .map(|alarm| alarm.id)
            .collect();
        for alarm in still {
            let body = EventBody::AlarmChanged {
                alarm,
                change: Change::StillActive,
            };
            self.append(pending, Event::new(at, body));
        }
    }
}
