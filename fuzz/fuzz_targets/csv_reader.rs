//! The CSV reader of the input stage on arbitrary bytes, as a `claims.csv` in a source folder
//! (`input::read_source`, then `input::parse_table` as ingest and `read_ledger` call it):
//! encoding detection (UTF-8, BOM, UTF-16, GBK/GB18030 line by line), delimiter choice,
//! quoted fields, the bounds on records that run over lines.
//!
//! The first input byte chooses whether the canonical claims header is put in front of the
//! rest (so that mutated bodies get past the header check) or the bytes are the whole file.
//!
//! Asserts: no panic; an unreadable file is one error naming the file; every record after the
//! header becomes exactly one row or one reject (read = loaded + rejected, where `read` is
//! counted independently of the reader when the text holds no quote and no CR); records come
//! in file order with line numbers within the file and after the header's (line numbers count
//! `\n` line ends: after a lone CR, an old Mac line end, a record may share the header's line); each reject has a reason and its raw text
//! is text of the file; loaded text is valid UTF-8.

#![no_main]

use claimsweep::input::{self, decode_text, InputError, Parsed};
use claimsweep::model::{ClaimRow, TableSpec};
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("claimsweep-fuzz-csv-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fn header() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let spec = TableSpec::by_name("claims").unwrap();
        let names: Vec<&str> = spec.columns.iter().map(|c| c.name).collect();
        names.join(",") + "\n"
    })
}

/// Records after the header, counted without the CSV reader: valid only for text without
/// quotes and carriage returns, where a record is a non-empty line.
fn count_plain_records(text: &str, delimiter: char) -> usize {
    let mut lines = text.split('\n').filter(|l| !l.is_empty());
    let _header = lines.next();
    lines
        .filter(|l| !l.split(delimiter).all(|f| f.trim().is_empty()))
        .count()
}

fn utf8(s: &str) {
    assert!(std::str::from_utf8(s.as_bytes()).is_ok());
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(data.len() + 256);
    if mode & 1 == 1 {
        bytes.extend_from_slice(header().as_bytes());
    }
    bytes.extend_from_slice(body);
    let d = dir();
    std::fs::write(d.join("claims.csv"), &bytes).unwrap();

    let decoded = decode_text(bytes.clone(), "claims.csv");
    let src = match input::read_source(d) {
        Ok(src) => src,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("claims.csv"), "{msg}");
            assert!(!msg.contains('\n'), "one line: {msg:?}");
            assert_eq!(
                matches!(e, InputError::Encoding { .. }),
                decoded.is_err(),
                "{msg}"
            );
            return;
        }
    };
    let text = decoded.expect("read_source decoded it");
    assert_eq!(src.tables.len(), 1);
    let t = &src.tables[0];
    assert_eq!(t.spec.name, "claims");

    let (mut loaded, mut rejected, mut read) = (0usize, 0usize, 0usize);
    let mut last_line = 0u64;
    let max_line = text.matches('\n').count() as u64 + 1;
    let lone_cr = text.replace("\r\n", "").contains('\r');
    let res = input::parse_table::<ClaimRow>(t, |p| {
        read += 1;
        let line = match p {
            Parsed::Row {
                line,
                key,
                row,
                extra,
            } => {
                loaded += 1;
                for s in [
                    &key,
                    &row.claim_id,
                    &row.id_number,
                    &row.name,
                    &row.phone,
                    &row.bank_account,
                    &row.county_code,
                    &row.institution_id,
                    &row.class_id,
                    &row.occupation_code,
                    &row.cert_no,
                ] {
                    utf8(s);
                }
                if let Some(x) = extra {
                    utf8(&x);
                    assert!(x.starts_with('{') && x.ends_with('}'));
                }
                line
            }
            Parsed::Reject(r) => {
                rejected += 1;
                assert!(!r.reason.is_empty());
                assert_eq!(r.file, "claims.csv");
                utf8(&r.raw);
                assert!(
                    text.contains(r.raw.as_str()),
                    "raw {:?} is text of the file",
                    r.raw
                );
                r.line
            }
        };
        // Line numbers count `\n` line ends, as the CSV reader does: after a lone CR (an old
        // Mac line end, a known limit) a record can share the header's line number.
        assert!(
            line >= 2 || lone_cr,
            "a record at line {line}, before the first record"
        );
        assert!(
            line <= max_line,
            "line {line} beyond the file's {max_line} lines"
        );
        assert!(
            line >= last_line,
            "records out of order: {line} after {last_line}"
        );
        last_line = line;
    });
    match res {
        Ok(()) => {
            assert_eq!(read, loaded + rejected);
            if !text.contains(['"', '\r']) {
                let delimiter = match text.lines().next() {
                    Some(h) if h.contains('\t') && !h.contains(',') => '\t',
                    _ => ',',
                };
                assert_eq!(
                    read,
                    count_plain_records(&text, delimiter),
                    "every non-blank line after the header is one row or one reject"
                );
            }
            // read_ledger (the path without a database) sees the same rows and rejects.
            let (ledger, rejects) = input::read_ledger(d).expect("read once, read again");
            assert_eq!(ledger.claims.len(), loaded);
            assert_eq!(rejects.len(), rejected);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("claims.csv") && !msg.contains('\n'), "{msg}");
        }
    }
});
