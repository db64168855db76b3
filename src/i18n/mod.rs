//! The message catalog: every user-facing string in Simplified Chinese and
//! English, looked up by key.
//!
//! The catalogs are the TOML files beside this module, compiled in. A key
//! missing from one language falls back to English and, failing that, shows
//! the key itself, so a gap is visible and never a crash; the tests fail on
//! any such gap.

pub mod width;

use std::collections::HashMap;
use std::sync::LazyLock;

/// A language of the user interface.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    ZhCn,
}

const EN_SOURCE: &str = include_str!("en.toml");
const ZH_CN_SOURCE: &str = include_str!("zh-CN.toml");

static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| flatten(EN_SOURCE));
static ZH_CN: LazyLock<HashMap<String, String>> = LazyLock::new(|| flatten(ZH_CN_SOURCE));

/// Parses a catalog into `section.key → text`.
fn flatten(source: &str) -> HashMap<String, String> {
    let table: toml::Table = toml::from_str(source).expect("message catalog is valid TOML");
    let mut out = HashMap::new();
    walk("", &toml::Value::Table(table), &mut out);
    out
}

fn walk(prefix: &str, value: &toml::Value, out: &mut HashMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (key, child) in table {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                walk(&path, child, out);
            }
        }
        toml::Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

impl Lang {
    /// Chooses the language from the locale variables, in POSIX order of
    /// precedence: `LC_ALL`, then `LC_MESSAGES`, then `LANG`.
    pub fn from_env() -> Self {
        let value = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|value| !value.is_empty());
        Self::from_locale(value.as_deref().unwrap_or(""))
    }

    /// `zh…` means Simplified Chinese; anything else English.
    pub fn from_locale(locale: &str) -> Self {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Self::ZhCn
        } else {
            Self::En
        }
    }

    /// Parses a `--lang` value.
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "en" | "english" => Some(Self::En),
            "zh" | "zh-cn" | "zh_cn" | "chinese" => Some(Self::ZhCn),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    fn catalog(self) -> &'static HashMap<String, String> {
        match self {
            Self::En => &EN,
            Self::ZhCn => &ZH_CN,
        }
    }

    /// Looks up the text for `key`.
    pub fn t(self, key: &str) -> &'static str {
        self.catalog()
            .get(key)
            .or_else(|| EN.get(key))
            .map(String::as_str)
            .unwrap_or_else(|| {
                tracing::error!(key, "missing message key");
                // Leaked once per missing key at most in practice; a gap the
                // tests are there to prevent.
                Box::leak(key.to_owned().into_boxed_str())
            })
    }

    /// Looks up the text for `key` if the catalog has it, for keys built from data
    /// (an event type from the network) that may have no translation.
    pub fn try_t(self, key: &str) -> Option<&'static str> {
        self.catalog()
            .get(key)
            .or_else(|| EN.get(key))
            .map(String::as_str)
    }

    /// Looks up the text for `key` and fills in its `{name}` placeholders.
    pub fn tf(self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut text = self.t(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), &value.to_string());
        }
        text
    }
}

/// Lists all keys of a catalog, for the completeness tests.
pub fn keys(lang: Lang) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = lang.catalog().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_catalogs_have_every_key() {
        let en = keys(Lang::En);
        let zh = keys(Lang::ZhCn);
        let missing_in_zh: Vec<_> = en.iter().filter(|key| !zh.contains(key)).collect();
        let missing_in_en: Vec<_> = zh.iter().filter(|key| !en.contains(key)).collect();
        assert!(
            missing_in_zh.is_empty(),
            "missing in zh-CN: {missing_in_zh:?}"
        );
        assert!(missing_in_en.is_empty(), "missing in en: {missing_in_en:?}");
    }

    #[test]
    fn placeholders_match_across_languages() {
        let placeholders = |text: &str| {
            let mut names: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            names.sort();
            names
        };
        for key in keys(Lang::En) {
            assert_eq!(
                placeholders(Lang::En.t(key)),
                placeholders(Lang::ZhCn.t(key)),
                "placeholders differ for {key}"
            );
        }
    }

    #[test]
    fn locale_selects_language() {
        assert_eq!(Lang::from_locale("zh_CN.UTF-8"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("zh_TW.UTF-8"), Lang::ZhCn);
        assert_eq!(Lang::from_locale("en_US.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale("C"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
    }

    #[test]
    fn fills_placeholders() {
        let text = Lang::En.tf("test.greeting", &[("name", &"A")]);
        assert_eq!(text, "hello A");
    }
}
