//! The desktop backend: notifications over D-Bus through notify-rust.

use super::{Backend, Notice};

/// Application name shown by the notification server.
const APP_NAME: &str = "guardroom";

/// Sends notices to the desktop's notification server (the freedesktop.org
/// `org.freedesktop.Notifications` service on Linux).
///
/// `show` blocks until the server replies. With no session bus it fails at
/// once, but a bus that accepts the call and never replies makes it block
/// forever, so [`super::Notifier`] calls it on its own thread with a timeout.
#[derive(Debug, Clone, Copy, Default)]
pub struct DesktopBackend;

impl Backend for DesktopBackend {
    fn show(&self, notice: &Notice) -> Result<(), String> {
        let mut notification = notify_rust::Notification::new();
        notification
            .appname(APP_NAME)
            .summary(&notice.summary)
            .body(&escape_markup(&notice.body));

        // notify-rust has no urgency setter on macOS without its
        // `preview-macos-un` feature.
        #[cfg(not(target_os = "macos"))]
        if notice.urgent {
            notification.urgency(notify_rust::Urgency::Critical);
        }

        notification
            .show()
            .map(drop)
            .map_err(|error| error.to_string())
    }
}

/// Replaces `&`, `<` and `>` with entities, because notification servers
/// read the body as markup and would otherwise drop or misread text such as
/// a device name containing `<`.
pub fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_markup_characters() {
        assert_eq!(escape_markup("<b>&"), "&lt;b&gt;&amp;");
    }

    #[test]
    fn escape_keeps_entities_literal() {
        assert_eq!(escape_markup("&amp;"), "&amp;amp;");
    }

    #[test]
    fn escape_keeps_other_text() {
        assert_eq!(
            escape_markup("1号楼 东门 \"open\" 'x'"),
            "1号楼 东门 \"open\" 'x'"
        );
    }
}
