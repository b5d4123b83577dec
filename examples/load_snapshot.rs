//! Loads a database's snapshot and prints the time, the sizes of its tables and string
//! columns, and the process's peak RSS:
//! `cargo run --release --example load_snapshot -- DB`.

use std::mem::size_of_val;
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
    // Bytes each string column holds (stored text + offsets, none when uniform), and the
    // record tables.
    for (name, column) in claimsweep::snapshot::file::STRING_COLUMNS
        .iter()
        .zip(snap.string_columns())
    {
        let text = column.stored_text().len();
        let offsets = if column.is_uniform() {
            0
        } else {
            4 * (column.items() + 1)
        };
        println!(
            "{name:12} {:>10} strings {:>12} text bytes {:>12} with offsets{}",
            column.items(),
            text,
            text + offsets,
            if column.is_uniform() {
                " (uniform)"
            } else {
                ""
            }
        );
    }
    println!(
        "claims {} B, classes {} B, certificates {} B, employment {} B, staff {} B, ui {} B",
        size_of_val(&snap.claims[..]),
        size_of_val(&snap.classes[..]),
        size_of_val(&snap.certificates[..]),
        size_of_val(&snap.employment[..]),
        size_of_val(&snap.staff[..]),
        size_of_val(&snap.ui[..]),
    );
    println!(
        "lookups: class_of_key {} institution_of_org {} certificate_of_key {} offsets {} registers {}",
        size_of_val(&snap.class_of_key[..]),
        size_of_val(&snap.institution_of_org[..]),
        size_of_val(&snap.certificate_of_key[..]),
        size_of_val(&snap.employment_offsets[..]),
        snap.pension_start.heap_bytes() + snap.death_date.heap_bytes() + snap.poverty.len()
    );
}
