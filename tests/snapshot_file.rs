//! The columnar snapshot of an ingest state (`<db>.snapshots/ingest-N/`, Arrow IPC): written by
//! `ingest`, read by `sweep`, pruned by `gc`; a sweep judges exactly as from SQLite.

mod common;
use common::{claimsweep, query_all};
use std::path::Path;

type FlagRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
);

fn flags(db: &Path, sweep: i64) -> Vec<FlagRow> {
    let rows: Vec<FlagRow> = query_all(
        db,
        &format!(
            "SELECT seq, rule, subject_kind, subject, claim_ids, amount_at_risk_fen, severity,
                    explanation_zh, facts_json FROM flags WHERE sweep_id = {sweep} ORDER BY seq"
        ),
        |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        },
    );
    // Explanations stored compressed are read back as the readers do.
    let conn = rusqlite::Connection::open(db).unwrap();
    let texts = claimsweep::store::flags::flag_texts(&conn, sweep);
    rows.into_iter()
        .map(|mut f| {
            let mut en = String::new();
            texts.fill(f.0, &mut f.7, &mut en).unwrap();
            assert!(!f.7.is_empty(), "flag {} has its explanation", f.0);
            f
        })
        .collect()
}

fn case_rows(db: &Path, sweep: i64) -> Vec<(String, i64, String)> {
    query_all(
        db,
        &format!(
            "SELECT c.case_key, s.amount_at_risk_fen, s.claim_ids FROM case_sweeps s
             JOIN cases c ON c.case_id = s.case_id WHERE s.sweep_id = {sweep} ORDER BY c.case_key"
        ),
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

fn from_file(db: &Path, sweep: i64) -> bool {
    let json: Vec<String> = query_all(
        db,
        &format!("SELECT summary_json FROM sweeps WHERE sweep_id = {sweep}"),
        |r| r.get(0),
    );
    let v: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    v["snapshot_from_file"].as_bool().unwrap()
}

fn bytes_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_sweep_from_the_columnar_snapshot_judges_as_one_from_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(
        p,
        &[
            "generate", "--claims", "6000", "--seed", "4", "--messy", "--out", "g",
        ],
    );
    let out = claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    assert!(out.contains("列式快照"), "{out}");
    let folder = p.join("a.db.snapshots/ingest-1");
    assert!(folder.join("claims.arrow").is_file());
    assert!(folder.join("meta.json").is_file());
    let first_bytes = bytes_of(&folder);

    // Sweep 1 reads the snapshot; sweep 2, with the folder gone, reads SQLite.
    claimsweep(p, &["sweep", "--db", "a.db"]);
    std::fs::remove_dir_all(&folder).unwrap();
    claimsweep(p, &["sweep", "--db", "a.db"]);
    let db = p.join("a.db");
    assert!(from_file(&db, 1), "sweep 1 read the columnar snapshot");
    assert!(
        !from_file(&db, 2),
        "sweep 2 had no snapshot and read SQLite"
    );
    let (f1, f2) = (flags(&db, 1), flags(&db, 2));
    assert!(f1.len() > 100, "the messy ledger has flags: {}", f1.len());
    assert_eq!(f1, f2, "the same flags, in the same order");
    assert_eq!(case_rows(&db, 1), case_rows(&db, 2));

    // The same state written again gives the same bytes (deterministic files).
    claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    let again = p.join("a.db.snapshots/ingest-2");
    let mut second = bytes_of(&again);
    let mut first = first_bytes;
    // meta.json names the ingest (id, time): everything else is identical.
    first.retain(|(n, _)| n != "meta.json");
    second.retain(|(n, _)| n != "meta.json");
    assert_eq!(first, second);

    // gc keeps the current state's folder only.
    claimsweep(
        p,
        &["generate", "--claims", "6000", "--seed", "5", "--out", "g2"],
    );
    claimsweep(p, &["ingest", "g2", "--db", "a.db"]);
    let out = claimsweep(p, &["gc", "--db", "a.db"]);
    assert!(out.contains("删除旧的列式快照 1 个"), "{out}");
    assert!(!again.exists());
    assert!(p.join("a.db.snapshots/ingest-3").is_dir());
    claimsweep(p, &["sweep", "--db", "a.db"]);
    assert!(from_file(&db, 3));
}

#[test]
fn a_damaged_snapshot_is_an_error_naming_its_file_never_a_silent_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(p, &["generate", "--claims", "800", "--out", "g"]);
    claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    let claims = p.join("a.db.snapshots/ingest-1/claims.arrow");
    let bytes = std::fs::read(&claims).unwrap();
    std::fs::write(&claims, &bytes[..bytes.len() / 2]).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(["sweep", "--db", "a.db"])
        .current_dir(p)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("claims.arrow"), "{err}");
    // Removing the folder (a cache) lets the sweep read SQLite.
    std::fs::remove_dir_all(p.join("a.db.snapshots")).unwrap();
    claimsweep(p, &["sweep", "--db", "a.db"]);
}

/// Ingest's fast path (the snapshot built from the parsed rows of a fresh state) writes the
/// same files, byte for byte, as reading that state back from SQLite: with rejects, duplicate
/// keys, a GBK table and a register whose primary key covers its only column (which SQLite
/// would read in key order, not rowid order, unless told `NOT INDEXED`).
#[test]
fn the_snapshot_built_while_ingesting_is_the_one_read_back_from_sqlite() {
    use claimsweep::snapshot::file::{save_ingested, snapshots_dir, stage};
    use claimsweep::snapshot::load::ingest_with_snapshot;
    use claimsweep::store::ingest::IngestOptions;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(
        p,
        &[
            "generate", "--claims", "3000", "--seed", "9", "--messy", "--out", "g",
        ],
    );
    let g = p.join("g");
    // The messy ledger is GBK: a few tables in UTF-8 (streamed from their files), the rest
    // stay GBK (decoded whole).
    for table in ["claims", "certificates", "registry_poverty"] {
        let path = g.join(format!("{table}.csv"));
        let bytes = std::fs::read(&path).unwrap();
        let (text, _, bad) = encoding_rs::GB18030.decode(&bytes);
        assert!(!bad);
        std::fs::write(&path, text.as_bytes()).unwrap();
    }
    // Rejects: a duplicate claim (its first line again) and a line of the wrong width.
    let claims_csv = g.join("claims.csv");
    let mut text = std::fs::read_to_string(&claims_csv).unwrap();
    let first = text.lines().nth(1).unwrap().to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{first}\n只有,两列\n"));
    std::fs::write(&claims_csv, text).unwrap();

    let db = p.join("fast.db");
    let mut conn = claimsweep::store::open(&db).unwrap();
    let opts = IngestOptions::default();
    let (report, snap) = ingest_with_snapshot(&mut conn, &g, &opts).unwrap();
    assert!(report.total(|t| t.rejected) >= 2, "{:?}", report.tables);
    assert!(report
        .first_rejects
        .iter()
        .any(|r| r.reason.contains("duplicate key")));
    let built = snap.expect("a fresh database: built while ingesting");
    // Its data files were written while the ingest built its indexes, beside the database.
    assert!(built.staged.is_some());
    let staging = || {
        std::fs::read_dir(snapshots_dir(&db))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".writing")
            })
            .count()
    };
    assert_eq!(staging(), 1);
    let snap = built.snap;
    drop(conn);
    assert_built_is_read_back(&db, report.ingest_id, &snap, built.staged);
    assert_eq!(staging(), 0, "published under the state's name");

    // A second ingest whose rows are out of the stored order: no fast path, the read-back
    // writes its snapshot.
    let lines: Vec<String> = std::fs::read_to_string(&claims_csv)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let mut swapped = lines.clone();
    swapped.swap(5, 6);
    std::fs::write(&claims_csv, swapped.join("\n") + "\n").unwrap();
    let mut conn = claimsweep::store::open(&db).unwrap();
    let (again, none) = ingest_with_snapshot(&mut conn, &g, &opts).unwrap();
    assert!(none.is_none() && !again.sent_rows_are_the_state);
    // A snapshot of another state is never saved under a later one's name, and files staged
    // for it are removed.
    let staged = stage(&db, &snap).unwrap();
    assert_eq!(staging(), 1);
    assert!(save_ingested(&db, report.ingest_id, &snap, Some(staged))
        .unwrap()
        .is_none());
    assert_eq!(staging(), 0);
}

/// Saves `snap`, built while ingest `ingest_id` ran, and asserts its files are byte for byte
/// those the read-back of the same state from SQLite writes.
fn assert_built_is_read_back(
    db: &Path,
    ingest_id: i64,
    snap: &claimsweep::snapshot::Snapshot,
    staged: Option<claimsweep::snapshot::file::Staged>,
) {
    use claimsweep::snapshot::file::{save_current, save_ingested};
    let fast = save_ingested(db, ingest_id, snap, staged).unwrap().unwrap();
    let fast_bytes = bytes_of(&fast.dir);
    // The same state read back from SQLite, written to the same folder.
    let back = save_current(db).unwrap().unwrap();
    assert_eq!(back.dir, fast.dir);
    let back_bytes = bytes_of(&back.dir);
    assert_eq!(fast_bytes.len(), back_bytes.len());
    for ((name, a), (_, b)) in fast_bytes.iter().zip(&back_bytes) {
        assert!(
            a == b,
            "{name} differs between the fast path and the read-back"
        );
    }
}

/// A re-ingest whose extract keeps the stored rows' order (a cumulative export: last time's
/// rows, some changed or gone, then new ones) builds its snapshot from the extract, the same
/// bytes as the read-back; any other order, new rows before stored ones, or an appended
/// extract that leaves stored rows out reads the state back from SQLite.
#[test]
fn a_re_ingest_in_the_stored_order_builds_its_snapshot_from_the_extract() {
    use claimsweep::snapshot::load::ingest_with_snapshot;
    use claimsweep::store::ingest::IngestOptions;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(
        p,
        &["generate", "--claims", "3000", "--seed", "12", "--out", "g"],
    );
    let g = p.join("g");
    let db = p.join("re.db");
    let opts = IngestOptions::default();
    let ingest = |opts: &IngestOptions| {
        let mut conn = claimsweep::store::open(&db).unwrap();
        ingest_with_snapshot(&mut conn, &g, opts).unwrap()
    };
    let (first, built) = ingest(&opts);
    let built = built.expect("a fresh database");
    assert_built_is_read_back(&db, first.ingest_id, &built.snap, built.staged);

    let claims_csv = g.join("claims.csv");
    let lines: Vec<String> = std::fs::read_to_string(&claims_csv)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let write = |lines: &[String]| std::fs::write(&claims_csv, lines.join("\n") + "\n").unwrap();
    // A new claim: an existing line under a claim id no row has.
    let new_line = |from: &str, id: &str| {
        let mut cells: Vec<&str> = from.split(',').collect();
        cells[0] = id;
        cells.join(",")
    };
    let counts = |r: &claimsweep::store::ingest::IngestReport| {
        let t = r.tables.iter().find(|t| t.table == "claims").unwrap();
        (t.new, t.changed, t.unchanged, t.absent)
    };

    // Unchanged: every row found at the cursor.
    let (same, built) = ingest(&opts);
    assert_eq!(counts(&same), (0, 0, 3000, 0));
    let built = built.expect("the extract in the stored order");
    assert_built_is_read_back(&db, same.ingest_id, &built.snap, built.staged);

    // One row gone, one changed (its amount), two new at the end.
    let amount = lines[0].split(',').position(|h| h == "amount").unwrap();
    let mut next = lines.clone();
    next.remove(100);
    let mut cells: Vec<String> = next[200].split(',').map(str::to_string).collect();
    cells[amount] = "1234.56".into();
    next[200] = cells.join(",");
    next.push(new_line(&lines[1], "SQNEW0000001"));
    next.push(new_line(&lines[2], "SQNEW0000002"));
    write(&next);
    let (changed, built) = ingest(&opts);
    assert_eq!(counts(&changed), (2, 1, 2998, 1));
    let built = built.expect("stored rows in order, new ones after them");
    assert_built_is_read_back(&db, changed.ingest_id, &built.snap, built.staged);

    // The ledger's rows are `next`'s, in its order. Out of that order by one swap: read back.
    let mut swapped = next.clone();
    swapped.swap(10, 11);
    write(&swapped);
    let (r, none) = ingest(&opts);
    assert_eq!(counts(&r), (0, 0, 3001, 0));
    assert!(none.is_none() && !r.sent_rows_are_the_state);
    // A new row among the stored ones: new rows are inserted (given their rowids) in runs,
    // the last run after every stored row, and sent as inserted: built.
    let new3 = new_line(&lines[3], "SQNEW0000003");
    let mut one_new = next.clone();
    one_new.insert(50, new3.clone());
    write(&one_new);
    let (r, built) = ingest(&opts);
    assert_eq!(counts(&r), (1, 0, 3001, 0));
    let built = built.expect("the new row was inserted after every stored one");
    assert_built_is_read_back(&db, r.ingest_id, &built.snap, built.staged);
    // The ledger: `next`, then SQNEW0000003. Forty new rows before stored ones: a run of
    // them is inserted before the stored rows after it, out of rowid order: read back.
    let forty: Vec<String> = (0..40)
        .map(|k| new_line(&lines[5 + k], &format!("SQB{k:09}")))
        .collect();
    let mut runs = next[..50].to_vec();
    runs.extend(forty.iter().cloned());
    runs.extend(next[50..].iter().cloned());
    runs.push(new3.clone());
    write(&runs);
    let (r, none) = ingest(&opts);
    assert_eq!(counts(&r), (40, 0, 3002, 0));
    assert!(none.is_none() && !r.sent_rows_are_the_state);
    // The ledger: `next`, SQNEW0000003, the forty. Appended, in order, with stored rows left
    // out: they stay, unsent: read back.
    let append = IngestOptions {
        append: true,
        ..IngestOptions::default()
    };
    write(&next[..2000]);
    let (r, none) = ingest(&append);
    assert_eq!(counts(&r), (0, 0, 1999, 0));
    assert!(none.is_none() && !r.sent_rows_are_the_state);
    // Appended with every stored row, in order, and a new one after them: built.
    let mut all = next.clone();
    all.push(new3);
    all.extend(forty);
    all.push(new_line(&lines[4], "SQNEW0000004"));
    write(&all);
    let (r, built) = ingest(&append);
    assert_eq!(counts(&r), (1, 0, 3042, 0));
    let built = built.expect("appended in the stored order");
    assert_built_is_read_back(&db, r.ingest_id, &built.snap, built.staged);
}

/// Rewrites an Arrow IPC file with the same batches, uncompressed (as snapshots were written
/// before they were compressed); returns the sizes before and after.
fn rewrite_uncompressed(path: &Path) -> (u64, u64) {
    let before = std::fs::metadata(path).unwrap().len();
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::fs::File::open(path).unwrap(), None).unwrap();
    let schema = reader.schema();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let mut w =
        arrow_ipc::writer::FileWriter::try_new(std::fs::File::create(path).unwrap(), &schema)
            .unwrap();
    for b in &batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    (before, std::fs::metadata(path).unwrap().len())
}

#[test]
fn snapshots_are_stored_compressed_and_uncompressed_ones_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    claimsweep(
        p,
        &["generate", "--claims", "6000", "--seed", "8", "--out", "g"],
    );
    claimsweep(p, &["ingest", "g", "--db", "a.db"]);
    claimsweep(p, &["sweep", "--db", "a.db"]);
    let db = p.join("a.db");
    assert!(from_file(&db, 1));

    // Each large file is at least twice as large uncompressed: the stored one is compressed.
    let folder = p.join("a.db.snapshots/ingest-1");
    for name in ["strings.arrow", "claims.arrow", "certificates.arrow"] {
        let (stored, plain) = rewrite_uncompressed(&folder.join(name));
        assert!(
            plain >= 2 * stored,
            "{name}: {stored} bytes stored, {plain} plain"
        );
    }
    // A snapshot written uncompressed (before compression) is read, with the same judgement.
    claimsweep(p, &["sweep", "--db", "a.db"]);
    assert!(from_file(&db, 2), "the uncompressed snapshot was read");
    assert_eq!(flags(&db, 1), flags(&db, 2));
}
