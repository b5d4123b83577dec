//! The `claimsweep` binary: parse arguments, run, map errors to exit codes.
use clap::Parser;

// glibc's allocator keeps freed memory of worker threads in per-thread arenas and zeroes fresh
// pages often; mimalloc returns memory sooner, which lowers a sweep's peak RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = claimsweep::cli::Cli::parse();
    if let Err(e) = claimsweep::cli::run(cli) {
        // One line: the chain of causes joined, as CONTRACT §3 asks.
        let msg = format!("{e:#}").replace('\n', " ");
        eprintln!("claimsweep: error: {msg}");
        std::process::exit(1);
    }
}
