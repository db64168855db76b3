//! Native topic layout: `gr/v1/<site>/…`, and which route a topic takes.

use super::sanitize::sanitize;

/// Maximum length of a device or gateway id in a topic, in bytes.
pub const MAX_ID_BYTES: usize = 64;

/// The topic root of one site, e.g. `gr/v1/cuihu/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicRoot {
    prefix: String,
}

/// Destination of a topic: the kind of message and the id it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    DeviceState(String),
    DeviceAvailability(String),
    GatewayAvailability(String),
    DeviceEvent(String),
    /// `alarm/<id>`: an alarm record owned by another system.
    Alarm(String),
    /// `ticket/<id>`: a repair ticket record, retained.
    Ticket(String),
    /// `care/<person>/evt`: a resident's check-in, activity, SOS or fall.
    CareEvent(String),
    /// Under the root but not a topic this console reads.
    Other,
    /// A topic under the root whose id is empty, too long or not clean text.
    BadId,
}

impl TopicRoot {
    pub fn new(site: &str) -> Self {
        Self {
            prefix: format!("gr/v1/{site}/"),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Returns the topic filters the console subscribes to.
    pub fn subscriptions(&self) -> Vec<String> {
        [
            "dev/+/state",
            "dev/+/avail",
            "gw/+/avail",
            "evt/+",
            "alarm/+",
            "ticket/+",
            "care/+/evt",
        ]
        .iter()
        .map(|tail| format!("{}{tail}", self.prefix))
        .collect()
    }

    /// Returns the full topic for a tail such as `dev/door-1/state`.
    pub fn topic(&self, tail: &str) -> String {
        format!("{}{tail}", self.prefix)
    }

    pub fn route(&self, topic: &str) -> Route {
        let Some(tail) = topic.strip_prefix(&self.prefix) else {
            return Route::Other;
        };
        let parts: Vec<&str> = tail.split('/').collect();
        let (make, id): (fn(String) -> Route, &str) = match parts.as_slice() {
            ["dev", id, "state"] => (Route::DeviceState, id),
            ["dev", id, "avail"] => (Route::DeviceAvailability, id),
            ["gw", id, "avail"] => (Route::GatewayAvailability, id),
            ["evt", id] => (Route::DeviceEvent, id),
            ["alarm", id] => (Route::Alarm, id),
            ["ticket", id] => (Route::Ticket, id),
            ["care", id, "evt"] => (Route::CareEvent, id),
            _ => return Route::Other,
        };
        match clean_id(id) {
            Some(id) => make(id),
            None => Route::BadId,
        }
    }
}

/// Accepts an id only if it is short and already clean: an id that needed
/// sanitising would name a different device than the publisher meant.
fn clean_id(id: &str) -> Option<String> {
    if id.is_empty() || id.len() > MAX_ID_BYTES || sanitize(id) != id {
        return None;
    }
    Some(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_native_topics() {
        let root = TopicRoot::new("demo");
        assert_eq!(
            root.route("gr/v1/demo/dev/b1-door-1/state"),
            Route::DeviceState("b1-door-1".into())
        );
        assert_eq!(
            root.route("gr/v1/demo/dev/cam-3/avail"),
            Route::DeviceAvailability("cam-3".into())
        );
        assert_eq!(
            root.route("gr/v1/demo/gw/gw-1/avail"),
            Route::GatewayAvailability("gw-1".into())
        );
        assert_eq!(
            root.route("gr/v1/demo/evt/smoke-9"),
            Route::DeviceEvent("smoke-9".into())
        );
        assert_eq!(
            root.route("gr/v1/demo/ticket/R-1001"),
            Route::Ticket("R-1001".into())
        );
        assert_eq!(
            root.route("gr/v1/demo/care/r-0101/evt"),
            Route::CareEvent("r-0101".into())
        );
        assert_eq!(root.route("gr/v1/demo/care/r-0101"), Route::Other);
    }

    #[test]
    fn other_topics_ignored() {
        let root = TopicRoot::new("demo");
        assert_eq!(root.route("gr/v1/other/dev/x/state"), Route::Other);
        assert_eq!(root.route("gr/v1/demo/dev/x/y/state"), Route::Other);
        assert_eq!(root.route("gr/v1/demo/console/c1/act"), Route::Other);
    }

    #[test]
    fn bad_ids_rejected() {
        let root = TopicRoot::new("demo");
        assert_eq!(root.route("gr/v1/demo/dev//state"), Route::BadId);
        assert_eq!(root.route("gr/v1/demo/dev/a\u{1b}[2J/state"), Route::BadId);
        let long = "x".repeat(MAX_ID_BYTES + 1);
        assert_eq!(root.route(&format!("gr/v1/demo/evt/{long}")), Route::BadId);
    }

    #[test]
    fn subscriptions_cover_routes() {
        let root = TopicRoot::new("s");
        assert_eq!(
            root.subscriptions(),
            vec![
                "gr/v1/s/dev/+/state",
                "gr/v1/s/dev/+/avail",
                "gr/v1/s/gw/+/avail",
                "gr/v1/s/evt/+",
                "gr/v1/s/alarm/+",
                "gr/v1/s/ticket/+",
                "gr/v1/s/care/+/evt"
            ]
        );
    }
}
