use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    roster::run(roster::Cli::parse())
}
