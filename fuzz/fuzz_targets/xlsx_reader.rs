//! The workbook reader of the input stage (`input::read_source` on a `.xlsx`, then
//! `input::parse_table`), two ways, chosen by the first input byte:
//!
//! - even: the rest of the bytes are the workbook file itself (zip, XML, shared strings…);
//!   asserts no panic, an unreadable workbook is one error naming the file, and every record
//!   of a readable one is one row or one reject with a reason.
//! - odd: the rest is split at 0xFF bytes into cell strings, written with `rust_xlsxwriter`
//!   under the canonical claims header into a sheet `claims` (a) as the report writer writes
//!   text (`report::xlsx::cell_text`: XML-forbidden characters replaced, length bounded) and
//!   (b) as they are. Asserts: (a) always writes, reads back and every cell string is exactly
//!   what was written; (b) either is refused by the writer with a reason, or is refused by
//!   the reader with a reason, or reads back exactly. Either way every non-blank record is one
//!   row or one reject with a reason.

#![no_main]

use claimsweep::input::{self, Body, Parsed};
use claimsweep::model::{ClaimRow, TableSpec};
use claimsweep::report::xlsx::cell_text;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn path() -> &'static PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("claimsweep-fuzz-xlsx-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join("ledger.xlsx")
    })
}

fn columns() -> Vec<&'static str> {
    let spec = TableSpec::by_name("claims").unwrap();
    spec.columns.iter().map(|c| c.name).collect()
}

/// Reads the workbook at `path()`; on success checks every record and returns the sheet rows
/// of the claims table; on failure checks the error and returns its message.
fn read_back() -> Result<Vec<Vec<String>>, String> {
    let p = path();
    let src = match input::read_source(p) {
        Ok(src) => src,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("ledger.xlsx"), "{msg}");
            assert!(!msg.trim().is_empty());
            return Err(msg);
        }
    };
    let mut rows = Vec::new();
    for t in &src.tables {
        let (mut read, mut loaded, mut rejected) = (0, 0, 0);
        let mut last = 0;
        let check = |line: u64, last: &mut u64| {
            assert!(line >= 2 && line >= *last, "line {line} after {last}");
            *last = line;
        };
        let res = match t.spec.name {
            "claims" => input::parse_table::<ClaimRow>(t, |p| {
                read += 1;
                match p {
                    Parsed::Row { line, .. } => {
                        loaded += 1;
                        check(line, &mut last);
                    }
                    Parsed::Reject(r) => {
                        rejected += 1;
                        assert!(!r.reason.is_empty());
                        check(r.line, &mut last);
                    }
                }
            }),
            _ => Ok(()),
        };
        res.expect("sheet rows are text: nothing can fail after read_source");
        assert_eq!(read, loaded + rejected);
        if let Body::Sheet { rows: r, .. } = &t.body {
            if t.spec.name == "claims" {
                let data_rows = r
                    .iter()
                    .skip(1)
                    .filter(|r| r.iter().any(|c| !c.trim().is_empty()));
                assert_eq!(
                    read,
                    data_rows.count(),
                    "one row or reject per non-blank record"
                );
                rows = r.clone();
            }
        }
    }
    Ok(rows)
}

/// Writes `cells` (row-major, `ncols` a row) under the claims header; the writer's own refusal
/// comes back as its message.
fn write_book(cells: &[String]) -> Result<Vec<u8>, String> {
    let cols = columns();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("claims").map_err(|e| e.to_string())?;
    for (c, h) in cols.iter().enumerate() {
        ws.write_string(0, c as u16, *h)
            .map_err(|e| e.to_string())?;
    }
    for (k, s) in cells.iter().enumerate() {
        let (r, c) = (1 + k / cols.len(), k % cols.len());
        ws.write_string(r as u32, c as u16, s)
            .map_err(|e| e.to_string())?;
    }
    wb.save_to_buffer().map_err(|e| e.to_string())
}

/// The written cells as the reader must return them: row-major under the header.
fn assert_cells(rows: &[Vec<String>], cells: &[String]) {
    let ncols = columns().len();
    for (k, s) in cells.iter().enumerate() {
        let (r, c) = (1 + k / ncols, k % ncols);
        let got = rows.get(r).and_then(|row| row.get(c)).map(String::as_str);
        // A row of nothing but empty cells is a row the workbook never stored.
        let expect_missing = s.is_empty();
        // calamine 0.31 reads `_x00+H_` as the escape of character H (a sign accepted
        // where two hex digits belong), though no writer escapes to that: a dependency's
        // limit, not the input stage's.
        if s.contains("_x00+") {
            continue;
        }
        match got {
            Some(g) => assert_eq!(g, s, "cell ({r},{c}) read back"),
            None => assert!(expect_missing, "cell ({r},{c}) {s:?} missing"),
        }
    }
}

/// libFuzzer's panic hook aborts at once, even on a panic that is caught. The input stage
/// catches calamine's panics on malformed workbooks (an error, not a crash): those go on to
/// be caught; a panic anywhere else, or one the input stage lets escape, still aborts.
fn let_calamine_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let fuzzer_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().contains("/calamine-"))
            {
                return;
            }
            fuzzer_hook(info)
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_calamine_panics_unwind();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        std::fs::write(path(), rest).unwrap();
        let _ = read_back();
        return;
    }
    // At most four rows of cells.
    let raw: Vec<String> = rest
        .split(|&b| b == 0xFF)
        .take(4 * columns().len())
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    if raw.iter().all(|c| c.trim().is_empty()) {
        return;
    }

    // (a) as the report writer writes text: always a readable workbook that holds it exactly.
    let safe: Vec<String> = raw.iter().map(|s| cell_text(s)).collect();
    let book = write_book(&safe).expect("report text is always writable");
    std::fs::write(path(), &book).unwrap();
    match read_back() {
        Ok(rows) => assert_cells(&rows, &safe),
        Err(msg) => panic!("a workbook of report text is unreadable: {msg}"),
    }

    // (b) as they are: refused with a reason, or read back exactly.
    if safe != raw {
        match write_book(&raw) {
            Err(msg) => assert!(!msg.is_empty()),
            Ok(book) => {
                std::fs::write(path(), &book).unwrap();
                match read_back() {
                    Ok(rows) => assert_cells(&rows, &raw),
                    Err(msg) => assert!(!msg.is_empty()),
                }
            }
        }
    }
});
