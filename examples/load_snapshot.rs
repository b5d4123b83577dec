//! Loads a database's snapshot and prints the time, sizes and the process's peak RSS:
//! `cargo run --release --example load_snapshot -- DB`.

use std::time::Instant;

fn main() {
    let db = std::env::args().nth(1).expect("usage: load_snapshot DB");
    let conn = claimsweep::store::open(std::path::Path::new(&db)).expect("open database");
    let t = Instant::now();
    let snap = claimsweep::snapshot::load_snapshot(&conn).expect("load snapshot");
    let ms = t.elapsed().as_millis();
    let hwm = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    println!(
        "load {ms} ms; claims {} ids {} names {} phones {} banks {} certificates {} employment {}; {hwm}",
        snap.claims.len(),
        snap.ids.len(),
        snap.names.len(),
        snap.phones.len(),
        snap.banks.len(),
        snap.certificates.len(),
        snap.employment.len(),
    );
}
