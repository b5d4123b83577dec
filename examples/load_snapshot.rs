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
    // Bytes each string column holds (stored text + offsets), and the record tables.
    let names = [
        "claim_ids",
        "ids",
        "names",
        "phones",
        "banks",
        "orgs",
        "counties",
        "class_keys",
        "occupations",
        "cert_keys",
        "texts",
    ];
    for (name, (text, offsets)) in names.iter().zip(snap.string_columns()) {
        println!(
            "{name:12} {:>10} strings {:>12} text bytes {:>12} with offsets",
            offsets.len() - 1,
            text.len(),
            text.len() + 4 * offsets.len()
        );
    }
    let rec = |n: usize, size: usize| n * size;
    println!(
        "claims {} B, classes {} B, certificates {} B, employment {} B, staff {} B, ui {} B",
        rec(
            snap.claims.len(),
            std::mem::size_of::<claimsweep::snapshot::Claim>()
        ),
        rec(
            snap.classes.len(),
            std::mem::size_of::<claimsweep::snapshot::Class>()
        ),
        rec(
            snap.certificates.len(),
            std::mem::size_of::<claimsweep::snapshot::Certificate>()
        ),
        rec(
            snap.employment.len(),
            std::mem::size_of::<claimsweep::snapshot::Spell>()
        ),
        rec(
            snap.staff.len(),
            std::mem::size_of::<claimsweep::snapshot::Staff>()
        ),
        rec(
            snap.ui.len(),
            std::mem::size_of::<claimsweep::snapshot::UiRecord>()
        ),
    );
    println!(
        "lookups: class_of_key {} institution_of_org {} certificate_of_key {} offsets {} registers {}",
        snap.class_of_key.len() * 4,
        snap.institution_of_org.len() * 4,
        snap.certificate_of_key.len() * 4,
        snap.employment_offsets.len() * 4,
        snap.pension_start.heap_bytes() + snap.death_date.heap_bytes() + snap.poverty.len()
    );
}
