//! The terminal user interface.

use tokio::sync::mpsc;

use crate::app::{App, Feed};
use crate::i18n::Lang;
use crate::theme::Theme;

pub async fn run(
    _app: App,
    _feed: mpsc::Receiver<Feed>,
    _lang: Lang,
    _theme: Theme,
) -> std::io::Result<()> {
    Ok(())
}
