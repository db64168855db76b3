//! `guardroom status [--json]`.

use std::process::ExitCode;

use jiff::Timestamp;

use super::Context;
use crate::domain::device::Liveness;
use crate::report::status;

pub fn run(context: &Context, json: bool) -> ExitCode {
    // A configuration is optional here (`status --db FILE` works without
    // one), but one that is named or present must be valid.
    let config = match context.optional_config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let lang = config
        .as_ref()
        .map_or(context.lang, |config| context.lang_for(config));
    let database = context.database(config.as_ref());
    if !database.is_file() {
        return context.fail("status.no_database", &[("path", &database.display())]);
    }
    let liveness = Liveness {
        stale_factor: config
            .as_ref()
            .map_or(Liveness::default().stale_factor, |c| c.console.stale_factor),
    };
    let tz = crate::config::site_time_zone(config.as_ref());

    let setup = config
        .as_ref()
        .map(crate::config::Config::service_setup)
        .unwrap_or_default();
    match status::read_with(&database, Timestamp::now(), liveness, &setup) {
        Ok(report) => {
            let site = config.as_ref().map(|config| &config.site);
            if json {
                let mut value = serde_json::to_value(&report).expect("status serializes");
                if let (Some(site), Some(object)) = (site, value.as_object_mut()) {
                    object.insert(
                        "site".into(),
                        serde_json::json!({ "id": site.id, "name": site.name }),
                    );
                }
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).expect("status serializes")
                );
            } else {
                if let Some(site) = site {
                    let label = crate::report::handover::site_label(&site.id, &site.name);
                    println!("{}", lang.tf("status.site", &[("site", &label)]));
                }
                print!("{}", status::render_text(&report, lang, &tz));
            }
            ExitCode::SUCCESS
        }
        Err(error) => context.fail(
            "status.read_failed",
            &[("path", &database.display()), ("error", &error)],
        ),
    }
}
