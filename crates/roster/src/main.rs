use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc rather than the system allocator: the services allocate many small,
/// short-lived buffers from every worker thread, where glibc's malloc spends a large
/// share of the CPU (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    roster::run(roster::Cli::parse())
}
