//! Output files (exports, reports, graph dumps): never onto the database, never half-written.
//!
//! - [`check_not_database`] refuses an output path that is the database or its `-wal`/`-shm`
//!   file, however it is spelled (relative, `..`, a symlink, a hard link).
//! - [`write_atomically`] writes to a temporary file in the output's folder and renames it
//!   into place, so a failed or interrupted write leaves the previous file (or none), never a
//!   half file.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{out}: 输出文件是数据库 {db}（或其 -wal/-shm 文件），拒绝覆盖；请换一个输出文件名 / \
         the output is the database {db} (or its -wal/-shm file): refusing to overwrite it; choose another output file"
    )]
    IsDatabase { out: PathBuf, db: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The path as the file system resolves it: the file itself if it exists (symlinks followed),
/// else its resolved folder joined with its name.
fn resolved(p: &Path) -> PathBuf {
    if let Ok(c) = std::fs::canonicalize(p) {
        return c;
    }
    let name = p.file_name().map(PathBuf::from).unwrap_or_default();
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::canonicalize(&parent)
        .map(|d| d.join(&name))
        .unwrap_or_else(|_| p.to_path_buf())
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// An error when `out` is the database `db` or one of its `-wal`, `-shm`, `-journal` files.
pub fn check_not_database(out: &Path, db: &Path) -> Result<(), OutputError> {
    let out_r = resolved(out);
    let db_r = resolved(db);
    let refused = || OutputError::IsDatabase {
        out: out.to_path_buf(),
        db: db.to_path_buf(),
    };
    if out_r == db_r || same_file(out, db) {
        return Err(refused());
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = db_r.clone().into_os_string();
        side.push(suffix);
        let side = PathBuf::from(side);
        if out_r == side || same_file(out, &side) {
            return Err(refused());
        }
    }
    Ok(())
}

/// Writes `out` through `write`, which is handed a temporary path in the same folder; on
/// success the temporary file is renamed onto `out` (replacing it at once), on failure it is
/// removed and `out` is left as it was.
pub fn write_atomically<E: From<OutputError>>(
    out: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let folder = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let tmp = folder.join(format!(".{name}.{}.tmp", std::process::id()));
    match write(&tmp) {
        Ok(()) => std::fs::rename(&tmp, out).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            E::from(OutputError::Io {
                path: out.to_path_buf(),
                source,
            })
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A CSV cell made safe to open in a spreadsheet (OWASP "CSV Injection"): text that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a formula, so it gets
/// a leading `'`. Negative numbers (`-12.50`) are left as they are.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    // Excel turns `+0` into a formula too; a negative number stays a number.
    let risky = match s.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => true,
        // Only a finite number: `-inf`, `-nan` and `-1e999` parse as floats but a spreadsheet
        // reads them as formulas (`=-inf` is #NAME?).
        Some('-') => !s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    };
    if risky {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// Text that XML 1.0 can carry, for xlsx cells: characters XML forbids (C0 controls other
/// than tab, newline and carriage return; U+FFFE, U+FFFF; lone surrogates cannot occur in a
/// Rust string) become U+FFFD, so the workbook stays well-formed.
pub fn xml_text(s: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r')
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}'
    };
    if s.chars().all(allowed) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(
            s.chars()
                .map(|c| if allowed(c) { c } else { '\u{FFFD}' })
                .collect(),
        )
    }
}

/// Checks `out` against the database, then writes it atomically.
pub fn write_output<E: From<OutputError>>(
    out: &Path,
    db: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    check_not_database(out, db)?;
    write_atomically(out, write)
}

/// How a table is printed: aligned for a terminal (the default), or for a program.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TableFormat {
    /// Columns aligned by display width (CJK characters take two columns)
    #[default]
    Table,
    /// Tab-separated, one header line; tabs and newlines in cells become spaces
    Tsv,
    /// RFC 4180 CSV with a header line; formula-like cells made inert (`csv_cell`)
    Csv,
    /// A JSON array of objects keyed by the columns' keys
    Json,
}

/// One column of a [`Table`]: the header people read, the key programs read (JSON), and
/// whether it holds numbers (right-aligned).
#[derive(Clone, Debug)]
pub struct Column {
    pub header: String,
    pub key: &'static str,
    pub right: bool,
}

/// A table of text cells, printed in any [`TableFormat`]: every list the CLI prints goes
/// through it, so a terminal gets aligned columns and a script gets TSV, CSV or JSON.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these (header, key, right-aligned) columns.
    pub fn new(columns: &[(&str, &'static str, bool)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(h, k, r)| Column {
                    header: h.to_string(),
                    key: k,
                    right: *r,
                })
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra cells are dropped.
    pub fn push(&mut self, mut row: Vec<String>) {
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The header and the rows, each cell through `cell`, joined by `sep`, lines ended by `eol`.
    fn delimited(&self, cell: impl Fn(&str) -> String, sep: &str, eol: &str) -> String {
        let mut out = String::new();
        let header = self.columns.iter().map(|c| c.header.as_str());
        let rows = self.rows.iter().map(|r| r.iter().map(String::as_str));
        for cells in std::iter::once(header.map(&cell).collect::<Vec<_>>())
            .chain(rows.map(|r| r.map(&cell).collect()))
        {
            out.push_str(&cells.join(sep));
            out.push_str(eol);
        }
        out
    }

    pub fn render(&self, format: TableFormat) -> String {
        match format {
            TableFormat::Table => self.aligned(),
            TableFormat::Tsv => self.delimited(|c| c.replace(['\t', '\n', '\r'], " "), "\t", "\n"),
            TableFormat::Csv => self.delimited(
                |c| {
                    let c = csv_cell(c);
                    if c.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", c.replace('"', "\"\""))
                    } else {
                        c.into_owned()
                    }
                },
                ",",
                "\r\n",
            ),
            TableFormat::Json => {
                let rows: Vec<serde_json::Value> = self
                    .rows
                    .iter()
                    .map(|r| {
                        let map: serde_json::Map<String, serde_json::Value> = self
                            .columns
                            .iter()
                            .zip(r)
                            .map(|(c, v)| (c.key.to_string(), serde_json::Value::from(v.as_str())))
                            .collect();
                        serde_json::Value::Object(map)
                    })
                    .collect();
                serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
            }
        }
    }

    /// Header, a rule of dashes, rows; columns padded to their widest cell by display width.
    fn aligned(&self) -> String {
        use crate::text::display_width;
        let mut widths: Vec<usize> = self
            .columns
            .iter()
            .map(|c| display_width(&c.header))
            .collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(display_width(c));
            }
        }
        let fmt_row = |cells: &mut dyn Iterator<Item = &str>| {
            let mut line = String::new();
            for (i, c) in cells.enumerate() {
                if i > 0 {
                    line.push_str(" | ");
                }
                let pad = " ".repeat(widths[i].saturating_sub(display_width(c)));
                if self.columns[i].right {
                    line.push_str(&pad);
                    line.push_str(c);
                } else {
                    line.push_str(c);
                    line.push_str(&pad);
                }
            }
            line.trim_end().to_string() + "\n"
        };
        let mut out = fmt_row(&mut self.columns.iter().map(|c| c.header.as_str()));
        out.push_str(
            &widths
                .iter()
                .map(|w| "-".repeat(*w))
                .collect::<Vec<_>>()
                .join("-+-"),
        );
        out.push('\n');
        for r in &self.rows {
            out.push_str(&fmt_row(&mut r.iter().map(String::as_str)));
        }
        out
    }
}

/// A plain-text table with a header rule; `right[i]` right-aligns column `i` (numbers).
pub fn render_table(headers: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut t = Table::new(
        &headers
            .iter()
            .enumerate()
            .map(|(i, h)| (*h, "", right.get(i).copied().unwrap_or(false)))
            .collect::<Vec<_>>(),
    );
    for r in rows {
        t.push(r.clone());
    }
    t.render(TableFormat::Table)
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_aligns_chinese_by_display_width() {
        let t = render_table(
            &["规则", "n"],
            &[
                vec!["ab".into(), "10".into()],
                vec!["年龄".into(), "7".into()],
            ],
            &[false, true],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "规则 |  n");
        assert_eq!(lines[1], "-----+---");
        assert_eq!(lines[2], "ab   | 10");
        assert_eq!(lines[3], "年龄 |  7");
    }

    #[test]
    fn tables_for_programs_quote_and_key_their_cells() {
        let mut t = Table::new(&[("名称", "name", false), ("金额", "amount", true)]);
        t.push(vec!["a,b\t\"c\"".into(), "=1".into()]);
        assert_eq!(t.render(TableFormat::Tsv), "名称\t金额\na,b \"c\"\t=1\n");
        assert_eq!(
            t.render(TableFormat::Csv),
            "名称,金额\r\n\"a,b\t\"\"c\"\"\",'=1\r\n"
        );
        let v: serde_json::Value = serde_json::from_str(&t.render(TableFormat::Json)).unwrap();
        assert_eq!(v[0]["name"], "a,b\t\"c\"");
        assert_eq!(v[0]["amount"], "=1");
    }

    use super::*;

    #[test]
    fn the_database_and_its_side_files_are_refused_however_spelled() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        std::fs::write(&db, b"db").unwrap();
        assert!(check_not_database(&db, &db).is_err());
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        assert!(check_not_database(&dir.path().join("sub/../a.db"), &db).is_err());
        assert!(check_not_database(&dir.path().join("sub/../a.db-wal"), &db).is_err());
        assert!(check_not_database(&dir.path().join("a.db-wal"), &db).is_err());
        assert!(check_not_database(&dir.path().join("a.db-shm"), &db).is_err());
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        assert!(check_not_database(&link, &db).is_err());
        let hard = dir.path().join("hard.csv");
        std::fs::hard_link(&db, &hard).unwrap();
        assert!(check_not_database(&hard, &db).is_err());
        assert!(check_not_database(&dir.path().join("out.csv"), &db).is_ok());
    }

    #[test]
    fn formula_like_csv_cells_are_neutralised_and_numbers_kept() {
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://x\",\"y\")"),
            "'=HYPERLINK(\"http://x\",\"y\")"
        );
        for s in ["+1+2", "-A1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(csv_cell(s).starts_with('\''), "{s}");
        }
        assert_eq!(csv_cell("-12.50"), "-12.50");
        assert_eq!(csv_cell("张伟"), "张伟");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn characters_xml_forbids_are_replaced() {
        assert_eq!(
            xml_text("a\u{0}b\u{1F}c\u{FFFE}d\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}"
        );
        assert_eq!(xml_text("王丽\t\n😀"), "王丽\t\n😀");
    }

    #[test]
    fn a_failed_write_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.csv");
        std::fs::write(&out, b"old").unwrap();
        let r: Result<(), OutputError> = write_atomically(&out, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(OutputError::Io {
                path: tmp.to_path_buf(),
                source: std::io::Error::other("disk full"),
            })
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
        write_atomically::<OutputError>(&out, |tmp| {
            std::fs::write(tmp, b"new").map_err(|source| OutputError::Io {
                path: tmp.to_path_buf(),
                source,
            })
        })
        .unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
    }
}
