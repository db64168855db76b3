//! Decoding `ticket/<id>` records and `care/<person>/evt` events, with the
//! same bounds and sanitising as the other native payloads.
//!
//! The domain modules define both formats (see
//! [`RemoteTicket::decode`](crate::domain::ticket::RemoteTicket::decode) and
//! [`CareEvent::decode`](crate::domain::care::CareEvent::decode)); this
//! module bounds the payload first and strips control characters from every
//! text field after, because the values are stored and drawn.

use jiff::Timestamp;

use super::decode::{DecodeError, Limits, check_text};
use super::sanitize::sanitize;
use crate::domain::care::{CareDecodeError, CareEvent, CareEventKind};
use crate::domain::observation::Observation;
use crate::domain::ticket::reconcile::DecodeError as TicketError;
use crate::domain::ticket::{RemoteTicket, TicketContent};

/// Decodes a `ticket/<id>` payload. An empty payload deletes the record.
pub fn decode_ticket(
    id: &str,
    payload: &[u8],
    limits: &Limits,
) -> Result<Observation, DecodeError> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Observation::Ticket {
            id: id.to_owned(),
            record: None,
        });
    }
    let text = check_text(payload, limits)?;
    check_depth(text, limits)?;
    let record = RemoteTicket::decode(id, text.as_bytes()).map_err(ticket_error)?;
    Ok(Observation::Ticket {
        id: id.to_owned(),
        record: record.map(|mut record| {
            clean_content(&mut record.content);
            Box::new(record)
        }),
    })
}

/// Decodes a `care/<person>/evt` payload received at `received`.
pub fn decode_care(
    resident: &str,
    payload: &[u8],
    received: Timestamp,
    limits: &Limits,
) -> Result<Observation, DecodeError> {
    let text = check_text(payload, limits)?;
    check_depth(text, limits)?;
    let mut event = CareEvent::decode(resident, text.as_bytes(), received).map_err(care_error)?;
    event.id = sanitize(&event.id);
    if event.id.is_empty() {
        return Err(DecodeError::BadField {
            field: "id",
            reason: "contains only control characters".into(),
        });
    }
    event.text = event.text.as_deref().map(sanitize);
    if let CareEventKind::Activity { source } = &mut event.kind {
        *source = sanitize(source);
    }
    Ok(Observation::Care { event })
}

fn check_depth(text: &str, limits: &Limits) -> Result<(), DecodeError> {
    // Parsing into a value first bounds the nesting the same way as the
    // other payloads; the typed decoders then read the same text.
    super::decode::parse_json_object(text.as_bytes(), limits).map(|_| ())
}

fn clean_content(content: &mut TicketContent) {
    content.location = sanitize(&content.location);
    content.description = sanitize(&content.description);
    for field in [
        &mut content.assignee,
        &mut content.device,
        &mut content.refers_to,
    ] {
        *field = field.as_deref().map(sanitize);
    }
    if let Some(reporter) = &mut content.reporter {
        reporter.name = sanitize(&reporter.name);
        reporter.phone = sanitize(&reporter.phone);
    }
}

fn ticket_error(error: TicketError) -> DecodeError {
    let field = match &error {
        TicketError::Json { .. } => return DecodeError::InvalidJson(error.to_string()),
        TicketError::Schema { .. } => "v",
        TicketError::IdMismatch { .. } => "id",
        TicketError::VersionZero(_) => "version",
        TicketError::Rating { .. } => "rating",
    };
    DecodeError::BadField {
        field,
        reason: error.to_string(),
    }
}

fn care_error(error: CareDecodeError) -> DecodeError {
    let field = match &error {
        CareDecodeError::Json { .. } => return DecodeError::InvalidJson(error.to_string()),
        CareDecodeError::Schema { .. } => "v",
        CareDecodeError::EmptyId(_) => "id",
    };
    DecodeError::BadField {
        field,
        reason: error.to_string(),
    }
}
