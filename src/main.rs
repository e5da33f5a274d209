//! The `ualign` command line: a thin layer over the library.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    // Still single-threaded here: nothing else reads the environment yet.
    ualign::gpu::quiet_wayland_probe();
    match cli::run(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(cli::EXIT_UNCONVERGED),
        Err(e) if cli::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            cli::note(&format!("error: {e}"));
            ExitCode::FAILURE
        }
    }
}
