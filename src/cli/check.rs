//! `guardroom check-config`.

use std::process::ExitCode;

use super::Context;

pub fn run(context: &Context) -> ExitCode {
    let config = match context.load_config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let lang = context.lang_for(&config);
    if let Some(theme) = &context.cli.theme
        && let Err(error) = crate::theme::Theme::resolve(theme)
    {
        return context.fail("cli.bad_theme", &[("error", &error)]);
    }
    let file = config
        .source
        .as_ref()
        .map_or_else(String::new, |path| path.display().to_string());
    println!(
        "{}",
        lang.tf(
            "config.ok",
            &[
                ("file", &file),
                ("site", &config.site.id),
                ("devices", &config.devices.len())
            ]
        )
    );
    ExitCode::SUCCESS
}
