//! The demo's operators: invented people with simple PINs, added when the
//! demo database has none, so that a newcomer sees the login at once.

use std::path::Path;

use jiff::Timestamp;

use crate::domain::operator::Role;
use crate::domain::operator::pin::Pin;
use crate::i18n::Lang;
use crate::store::Store;

/// Id, name, role and PIN of each demo operator. The README lists the same.
pub const OPERATORS: [(&str, &str, Role, &str); 4] = [
    ("g1", "保安甲", Role::Guard, "1111"),
    ("g2", "保安乙", Role::Guard, "2222"),
    ("m1", "维修工丙", Role::Maintenance, "3333"),
    ("s1", "主管丁", Role::Supervisor, "9999"),
];

/// Adds the demo operators to `database` unless it has operators already.
/// Returns whether the database's operators are the demo's, so that the
/// start-up text lists them; a PIN changed since with `operator set-pin`
/// is not noticed.
pub fn seed(database: &Path) -> Result<bool, String> {
    let mut store = Store::open(database).map_err(|error| error.to_string())?;
    let existing = store.operators().map_err(|error| error.to_string())?;
    if !existing.is_empty() {
        let ids: Vec<&str> = existing.iter().map(|account| account.id.as_str()).collect();
        let demo: Vec<&str> = OPERATORS.iter().map(|(id, ..)| *id).collect();
        return Ok(ids == demo);
    }
    let now = Timestamp::now();
    for (id, name, role, pin) in OPERATORS {
        let hash = Pin::parse(pin)
            .expect("demo PINs meet the rule")
            .hash()
            .map_err(|error| error.to_string())?;
        store
            .add_operator(id, name, role, &hash, now)
            .map_err(|error| error.to_string())?;
    }
    tracing::info!(database = %database.display(), "demo operators added");
    Ok(true)
}

/// Describes the demo operators on one line, for the start-up text.
pub fn describe(lang: Lang) -> String {
    let list: Vec<String> = OPERATORS
        .iter()
        .map(|(id, name, role, pin)| {
            lang.tf(
                "demo.operator",
                &[
                    ("id", id),
                    ("name", name),
                    ("role", &lang.t(&format!("operator_role.{role}"))),
                    ("pin", pin),
                ],
            )
        })
        .collect();
    lang.tf(
        "demo.operators",
        &[("list", &list.join(lang.t("demo.list_separator")))],
    )
}

/// Lists the demo operators' ids and PINs in a line short enough for the
/// standing line of an 80-column login screen.
pub fn pins(lang: Lang) -> String {
    let list: Vec<String> = OPERATORS
        .iter()
        .map(|(id, _, _, pin)| format!("{id}/{pin}"))
        .collect();
    lang.tf(
        "demo.operator_pins",
        &[("list", &list.join(lang.t("demo.list_separator")))],
    )
}
