//! `guardroom demo`.

use std::process::ExitCode;

use crate::cli::Context;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Run without a screen (broker, simulator and recorder only).
    #[arg(long)]
    pub headless: bool,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
}

pub fn run(_context: &Context, _args: &DemoArgs) -> ExitCode {
    ExitCode::SUCCESS
}
