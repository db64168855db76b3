//! Colour themes: TOML files that override the built-in default field by
//! field. Status is never shown by colour alone (every status has a symbol
//! and a word), so a theme can only make things easier to read, not hide them.

use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Names of the themes compiled in from the `themes/` folder.
pub const BUILT_IN: [&str; 4] = ["default", "high-contrast", "light", "mono"];

fn built_in_source(name: &str) -> Option<&'static str> {
    match name {
        "default" => Some(include_str!("../../themes/default.toml")),
        "high-contrast" => Some(include_str!("../../themes/high-contrast.toml")),
        "light" => Some(include_str!("../../themes/light.toml")),
        "mono" => Some(include_str!("../../themes/mono.toml")),
        _ => None,
    }
}

/// Colours as written in a theme file; every field is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    text: Option<String>,
    background: Option<String>,
    dim: Option<String>,
    accent: Option<String>,
    ok: Option<String>,
    warning: Option<String>,
    critical: Option<String>,
    stale: Option<String>,
    selected_fg: Option<String>,
    selected_bg: Option<String>,
    header_fg: Option<String>,
    header_bg: Option<String>,
}

/// A resolved theme.
#[derive(Clone, Debug, PartialEq)]
pub struct Theme {
    pub text: Color,
    pub background: Color,
    pub dim: Color,
    pub accent: Color,
    pub ok: Color,
    pub warning: Color,
    pub critical: Color,
    pub stale: Color,
    pub selected_fg: Color,
    pub selected_bg: Color,
    pub header_fg: Color,
    pub header_bg: Color,
    /// When false every colour is `Reset` and only modifiers mark things.
    pub colour: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme \"{0}\"")]
    Unknown(String),
    #[error("cannot read theme file {path}: {error}")]
    Unreadable { path: String, error: std::io::Error },
    #[error("invalid theme {name}: {error}")]
    Invalid { name: String, error: String },
}

impl Theme {
    /// Resolves a built-in theme by name, or a theme file by path (anything with a
    /// `/` or ending in `.toml`), laid over the default theme.
    pub fn resolve(name: &str) -> Result<Self, ThemeError> {
        let base = parse(
            "default",
            built_in_source("default").expect("default theme is built in"),
        )?;
        let overlay = if let Some(source) = built_in_source(name) {
            parse(name, source)?
        } else if name.contains('/') || name.ends_with(".toml") {
            let text = std::fs::read_to_string(Path::new(name)).map_err(|error| {
                ThemeError::Unreadable {
                    path: name.to_owned(),
                    error,
                }
            })?;
            parse(name, &text)?
        } else {
            return Err(ThemeError::Unknown(name.to_owned()));
        };
        let mut theme = Self::from_file(&base, name)?;
        theme = Self::from_file_over(&theme, &overlay, name)?;
        theme.colour = name != "mono";
        Ok(theme)
    }

    /// Drops every colour, keeping the modifiers; for `NO_COLOR`.
    pub fn without_colour(mut self) -> Self {
        for colour in [
            &mut self.text,
            &mut self.background,
            &mut self.dim,
            &mut self.accent,
            &mut self.ok,
            &mut self.warning,
            &mut self.critical,
            &mut self.stale,
            &mut self.selected_fg,
            &mut self.selected_bg,
            &mut self.header_fg,
            &mut self.header_bg,
        ] {
            *colour = Color::Reset;
        }
        self.colour = false;
        self
    }

    fn from_file(base: &ThemeFile, name: &str) -> Result<Self, ThemeError> {
        let get = |value: &Option<String>| colour(name, value.as_deref().unwrap_or("reset"));
        Ok(Self {
            text: get(&base.text)?,
            background: get(&base.background)?,
            dim: get(&base.dim)?,
            accent: get(&base.accent)?,
            ok: get(&base.ok)?,
            warning: get(&base.warning)?,
            critical: get(&base.critical)?,
            stale: get(&base.stale)?,
            selected_fg: get(&base.selected_fg)?,
            selected_bg: get(&base.selected_bg)?,
            header_fg: get(&base.header_fg)?,
            header_bg: get(&base.header_bg)?,
            colour: true,
        })
    }

    fn from_file_over(base: &Self, overlay: &ThemeFile, name: &str) -> Result<Self, ThemeError> {
        let pick = |value: &Option<String>, fallback: Color| match value {
            Some(text) => colour(name, text),
            None => Ok(fallback),
        };
        Ok(Self {
            text: pick(&overlay.text, base.text)?,
            background: pick(&overlay.background, base.background)?,
            dim: pick(&overlay.dim, base.dim)?,
            accent: pick(&overlay.accent, base.accent)?,
            ok: pick(&overlay.ok, base.ok)?,
            warning: pick(&overlay.warning, base.warning)?,
            critical: pick(&overlay.critical, base.critical)?,
            stale: pick(&overlay.stale, base.stale)?,
            selected_fg: pick(&overlay.selected_fg, base.selected_fg)?,
            selected_bg: pick(&overlay.selected_bg, base.selected_bg)?,
            header_fg: pick(&overlay.header_fg, base.header_fg)?,
            header_bg: pick(&overlay.header_bg, base.header_bg)?,
            colour: true,
        })
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.text).bg(self.background)
    }

    pub fn header(&self) -> Style {
        Style::default()
            .fg(self.header_fg)
            .bg(self.header_bg)
            .add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::default()
            .fg(self.selected_fg)
            .bg(self.selected_bg)
            .add_modifier(Modifier::REVERSED)
    }

    pub fn dim(&self) -> Style {
        Style::default().fg(self.dim)
    }

    pub fn accent(&self) -> Style {
        Style::default()
            .fg(self.accent)
            .add_modifier(Modifier::BOLD)
    }
}

fn parse(name: &str, source: &str) -> Result<ThemeFile, ThemeError> {
    toml::from_str(source).map_err(|error| ThemeError::Invalid {
        name: name.to_owned(),
        error: error.message().to_owned(),
    })
}

/// Parses a colour name (`red`, `light-blue`, `reset`…) or `#rrggbb`.
fn colour(theme: &str, text: &str) -> Result<Color, ThemeError> {
    text.parse::<Color>().map_err(|_| ThemeError::Invalid {
        name: theme.to_owned(),
        error: format!("\"{text}\" is not a colour; use a name such as \"red\" or \"#rrggbb\""),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_resolves() {
        for name in BUILT_IN {
            Theme::resolve(name).unwrap_or_else(|error| panic!("{name}: {error}"));
        }
    }

    #[test]
    fn unknown_theme_is_an_error() {
        assert!(matches!(
            Theme::resolve("nope"),
            Err(ThemeError::Unknown(_))
        ));
    }

    #[test]
    fn file_overrides_field_by_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "critical = \"#ff00ff\"\n").unwrap();
        let theme = Theme::resolve(path.to_str().unwrap()).unwrap();
        let default = Theme::resolve("default").unwrap();
        assert_eq!(theme.critical, Color::Rgb(255, 0, 255));
        assert_eq!(theme.ok, default.ok);
    }

    #[test]
    fn bad_colour_names_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "ok = \"greenish\"\n").unwrap();
        let error = Theme::resolve(path.to_str().unwrap())
            .unwrap_err()
            .to_string();
        assert!(error.contains("greenish"), "{error}");
    }

    #[test]
    fn no_colour_resets_everything() {
        let theme = Theme::resolve("default").unwrap().without_colour();
        assert_eq!(theme.critical, Color::Reset);
        assert!(!theme.colour);
    }
}
