//! The one keymap table. Key handling, the footer hints and the `?` help
//! screen all read it, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Something the operator asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    ForceQuit,
    Help,
    Back,
    ShowOverview,
    ShowDevices,
    NextView,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Filter,
    CycleKind,
    CycleStatus,
    CycleBuilding,
    CycleSort,
    ClearFilters,
    Confirm,
    Cancel,
}

/// Screen area in which a binding applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every screen.
    Global,
    /// Lists (device list, overview's attention list).
    List,
    /// The device list only.
    Devices,
    /// A yes/no question on screen.
    Confirm,
}

/// A key as written in the table and on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn key(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub action: Action,
    /// Catalog key of the description (`keys.<name>`).
    pub help: &'static str,
    /// Shown in the footer line of its scope.
    pub footer: bool,
}

/// Every key binding. Order is the order of the help screen and the footer.
pub const BINDINGS: &[Binding] = &[
    Binding {
        scope: Scope::Confirm,
        keys: &[ch('y'), key(KeyCode::Enter)],
        action: Action::Confirm,
        help: "keys.confirm",
        footer: true,
    },
    Binding {
        scope: Scope::Confirm,
        keys: &[ch('n'), key(KeyCode::Esc)],
        action: Action::Cancel,
        help: "keys.cancel",
        footer: true,
    },
    Binding {
        scope: Scope::Global,
        keys: &[ch('1')],
        action: Action::ShowOverview,
        help: "keys.overview",
        footer: true,
    },
    Binding {
        scope: Scope::Global,
        keys: &[ch('2')],
        action: Action::ShowDevices,
        help: "keys.devices",
        footer: true,
    },
    Binding {
        scope: Scope::Global,
        keys: &[key(KeyCode::Tab)],
        action: Action::NextView,
        help: "keys.next_view",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[ch('j'), key(KeyCode::Down)],
        action: Action::Down,
        help: "keys.down",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[ch('k'), key(KeyCode::Up)],
        action: Action::Up,
        help: "keys.up",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[key(KeyCode::PageDown), ctrl('d')],
        action: Action::PageDown,
        help: "keys.page_down",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[key(KeyCode::PageUp), ctrl('u')],
        action: Action::PageUp,
        help: "keys.page_up",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[ch('g'), key(KeyCode::Home)],
        action: Action::Top,
        help: "keys.top",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[ch('G'), key(KeyCode::End)],
        action: Action::Bottom,
        help: "keys.bottom",
        footer: false,
    },
    Binding {
        scope: Scope::List,
        keys: &[key(KeyCode::Enter), ch('l')],
        action: Action::Open,
        help: "keys.open",
        footer: true,
    },
    Binding {
        scope: Scope::Devices,
        keys: &[ch('/')],
        action: Action::Filter,
        help: "keys.filter",
        footer: true,
    },
    Binding {
        scope: Scope::Devices,
        keys: &[ch('t')],
        action: Action::CycleKind,
        help: "keys.kind",
        footer: true,
    },
    Binding {
        scope: Scope::Devices,
        keys: &[ch('s')],
        action: Action::CycleStatus,
        help: "keys.status",
        footer: true,
    },
    Binding {
        scope: Scope::Devices,
        keys: &[ch('b')],
        action: Action::CycleBuilding,
        help: "keys.building",
        footer: true,
    },
    Binding {
        scope: Scope::Devices,
        keys: &[ch('o')],
        action: Action::CycleSort,
        help: "keys.sort",
        footer: true,
    },
    Binding {
        scope: Scope::Devices,
        keys: &[ch('c')],
        action: Action::ClearFilters,
        help: "keys.clear",
        footer: false,
    },
    Binding {
        scope: Scope::Global,
        keys: &[key(KeyCode::Esc), ch('h')],
        action: Action::Back,
        help: "keys.back",
        footer: false,
    },
    Binding {
        scope: Scope::Global,
        keys: &[ch('?')],
        action: Action::Help,
        help: "keys.help",
        footer: true,
    },
    Binding {
        scope: Scope::Global,
        keys: &[ch('q')],
        action: Action::Quit,
        help: "keys.quit",
        footer: true,
    },
    Binding {
        scope: Scope::Global,
        keys: &[ctrl('c')],
        action: Action::ForceQuit,
        help: "keys.force_quit",
        footer: false,
    },
];

impl Key {
    fn matches(&self, event: &KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl != self.ctrl {
            return false;
        }
        match (self.code, event.code) {
            // Shifted letters arrive as upper-case chars, with or without SHIFT set.
            (KeyCode::Char(want), KeyCode::Char(got)) => want == got,
            (want, got) => want == got,
        }
    }

    /// Formats the key as shown on screen: `Enter`, `Ctrl-C`, `/`.
    pub fn label(&self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".to_owned(),
            KeyCode::Esc => "Esc".to_owned(),
            KeyCode::Tab => "Tab".to_owned(),
            KeyCode::Up => "↑".to_owned(),
            KeyCode::Down => "↓".to_owned(),
            KeyCode::PageUp => "PgUp".to_owned(),
            KeyCode::PageDown => "PgDn".to_owned(),
            KeyCode::Home => "Home".to_owned(),
            KeyCode::End => "End".to_owned(),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{}", name.to_uppercase())
        } else {
            name
        }
    }
}

/// Looks up the action of a key press in the given scopes, in table order.
/// Key releases never match.
pub fn resolve(event: &KeyEvent, scopes: &[Scope]) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    // Ctrl-C always quits, whatever is on screen.
    if event.modifiers.contains(KeyModifiers::CONTROL) && event.code == KeyCode::Char('c') {
        return Some(Action::ForceQuit);
    }
    BINDINGS
        .iter()
        .filter(|binding| scopes.contains(&binding.scope))
        .find(|binding| binding.keys.iter().any(|key| key.matches(event)))
        .map(|binding| binding.action)
}

/// Lists the bindings shown in the footer for these scopes: help and quit
/// first, so a narrow footer still shows how to get help and out.
pub fn footer(scopes: &[Scope]) -> impl Iterator<Item = &'static Binding> + '_ {
    let first = |binding: &&Binding| matches!(binding.action, Action::Help | Action::Quit);
    let shown = move |binding: &&'static Binding| binding.footer && scopes.contains(&binding.scope);
    BINDINGS.iter().filter(shown).filter(first).chain(
        BINDINGS
            .iter()
            .filter(shown)
            .filter(move |binding| !first(binding)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn ctrl_c_quits_everywhere() {
        let event = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(resolve(&event, &[Scope::Confirm]), Some(Action::ForceQuit));
        assert_eq!(resolve(&event, &[]), Some(Action::ForceQuit));
    }

    #[test]
    fn scope_limits_bindings() {
        let slash = press(KeyCode::Char('/'), KeyModifiers::NONE);
        assert_eq!(resolve(&slash, &[Scope::Global, Scope::List]), None);
        assert_eq!(
            resolve(&slash, &[Scope::Global, Scope::Devices]),
            Some(Action::Filter)
        );
    }

    #[test]
    fn plain_c_is_not_ctrl_c() {
        let event = press(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(
            resolve(&event, &[Scope::Global, Scope::Devices]),
            Some(Action::ClearFilters)
        );
    }

    #[test]
    fn shifted_letter_matches() {
        let event = press(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(resolve(&event, &[Scope::List]), Some(Action::Bottom));
    }

    #[test]
    fn every_binding_has_a_key() {
        for binding in BINDINGS {
            assert!(!binding.keys.is_empty(), "{} has no key", binding.help);
        }
    }

    #[test]
    fn no_key_bound_twice_in_a_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                if a.scope != b.scope {
                    continue;
                }
                for key in a.keys {
                    assert!(
                        !b.keys.contains(key),
                        "{} bound twice in {:?}",
                        key.label(),
                        a.scope
                    );
                }
            }
        }
    }
}
