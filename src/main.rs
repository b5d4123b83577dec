//! The `claimsweep` binary: parse arguments, run, map errors to exit codes.
use clap::Parser;

// glibc's allocator keeps freed memory of worker threads in per-thread arenas and zeroes fresh
// pages often; mimalloc returns memory sooner, which lowers a sweep's peak RSS.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v3): the position of the option in its enum.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// Milliseconds before freed memory goes back to the OS. mimalloc's own default (1 s) keeps
/// one rule's freed buffers while the next rule allocates, 0.2 GB over 3 GiB at ten million
/// claims; 0 (purge at once) makes the load and the case writer fault the same pages in again
/// and again, seven seconds of a ten-million sweep. 10 ms keeps the peak and loses neither.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

fn main() {
    // Transparent huge pages: each first touch of a 2 MiB page zeroes all of it, and purging
    // freed memory splits them, so a sweep (large short-lived buffers, freed and allocated
    // again) spent a tenth of its CPU zeroing memory; with 4 KiB pages it is a third of that.
    // mimalloc is built without its THP advice (`no_thp`); this covers systems where THP is
    // always on, and SQLite's own allocations.
    // SAFETY: prctl with PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    // An explicit MIMALLOC_PURGE_DELAY in the environment wins (mimalloc reads it itself).
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc allows it at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
    claimsweep::store::configure_sqlite();
    let cli = claimsweep::cli::Cli::parse();
    if let Err(e) = claimsweep::cli::run(cli) {
        // One line: the chain of causes joined, as CONTRACT §3 asks.
        let msg = format!("{e:#}").replace('\n', " ");
        eprintln!("claimsweep: error: {msg}");
        std::process::exit(1);
    }
}
