//! The `claimsweep` binary: parse arguments, run, map errors to exit codes.
use clap::Parser;

// glibc's allocator keeps freed memory of worker threads in per-thread arenas and zeroes fresh
// pages often; mimalloc returns memory sooner, which lowers a sweep's peak RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Transparent huge pages: each first touch of a 2 MiB page zeroes all of it, and purging
    // freed memory splits them, so a sweep (large short-lived buffers, freed and allocated
    // again) spent a tenth of its CPU zeroing memory; with 4 KiB pages it is a third of that.
    // mimalloc is built without its THP advice (`no_thp`); this covers systems where THP is
    // always on, and SQLite's own allocations.
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    // Freed memory goes back to the OS within 10 ms until a sweep knows its ledger's size
    // (see claimsweep::memory).
    claimsweep::memory::set_purge_delay(claimsweep::memory::EAGER_PURGE_MS);
    claimsweep::store::configure_sqlite();
    let cli = claimsweep::cli::Cli::parse();
    if let Err(e) = claimsweep::cli::run(cli) {
        // A reader that stopped early (`| head`) is not a failure: end quietly, as cat does.
        if claimsweep::cli::is_broken_pipe(&e) {
            std::process::exit(0);
        }
        eprintln!("claimsweep: error: {}", claimsweep::cli::error_line(&e));
        std::process::exit(1);
    }
}
