//! Reading the eldercare residents registry that `[care] residents` names.

use std::path::Path;

use super::load::Problem;
use super::model::Care;
use crate::domain::care::{Resident, parse_csv, parse_toml};
use crate::i18n::Lang;

/// Reads the residents file of `care`, relative to `base`, and makes its
/// path absolute. Problems go to `problems` under `care.residents`.
pub fn load(
    care: &mut Care,
    base: &Path,
    lang: Lang,
    problems: &mut Vec<Problem>,
) -> Vec<Resident> {
    let Some(path) = &care.residents else {
        return Vec::new();
    };
    let path = base.join(path);
    care.residents = Some(path.clone());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            problems.push(Problem {
                key: "care.residents".into(),
                reason: lang.tf(
                    "config.file_unreadable",
                    &[("path", &path.display()), ("error", &error)],
                ),
            });
            return Vec::new();
        }
    };
    let csv = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let parsed = if csv {
        parse_csv(&text).map_err(|errors| errors.iter().map(ToString::to_string).collect())
    } else {
        parse_toml(&text).map_err(|errors| errors.iter().map(ToString::to_string).collect())
    };
    match parsed {
        Ok(residents) => residents,
        Err(messages) => {
            let messages: Vec<String> = messages;
            for message in messages {
                problems.push(Problem {
                    key: "care.residents".into(),
                    reason: lang.tf(
                        "config.residents_problem",
                        &[("path", &path.display()), ("problem", &message)],
                    ),
                });
            }
            Vec::new()
        }
    }
}
