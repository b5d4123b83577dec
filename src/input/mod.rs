//! The input stage (CONTRACT §1): finds the tables of a source folder (CSV) or workbook
//! (`.xlsx`), detects the text encoding, maps English or Chinese headers to the model's
//! columns and parses each record into a typed row or a reject.
//!
//! Reading and header checks happen up front ([`read_source`]), so a missing required column
//! fails the whole ingest before anything is written. Records are then streamed table by
//! table ([`parse_table`]) so large tables never exist twice in memory.

pub mod keyfilter;
pub mod rows;
pub mod values;

use crate::compression::Compression;
use crate::model::{Ledger, TableSpec, TABLES};
use crate::text::fold_width;
use rows::{Cells, ParseRow};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A source that cannot be read at all. Each message is one line naming the file.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{file}: 无法读取 / cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: 不是普通文件（管道、设备或套接字），拒绝读取 / not a regular file (a FIFO, device or socket): not read")]
    NotRegular { file: String },
    #[error("{file}: 文件在导入过程中被修改，请重新导入 / the file changed while it was being ingested: ingest it again")]
    Changed { file: String },
    #[error("{file}: 编码无法识别 / not UTF-8, UTF-8 with BOM, UTF-16 or GBK/GB18030 text")]
    Encoding { file: String },
    #[error("{file}: 文件为空，没有表头 / empty file, no header row")]
    Empty { file: String },
    #[error("{file}: 缺少必需列 / missing required column {column} ({zh})")]
    MissingColumn {
        file: String,
        column: &'static str,
        zh: &'static str,
    },
    #[error("{file}: line {line}: CSV 格式错误 / malformed CSV: {reason}")]
    Csv {
        file: String,
        line: u64,
        reason: String,
    },
    #[error("{file}: 无法打开工作簿 / cannot open workbook: {reason}")]
    Workbook { file: String, reason: String },
    #[error("{file}: 工作簿中没有与表名对应的工作表 / no sheet is named like a table (claims/补贴申领 …)")]
    UnknownWorkbook { file: String },
    #[error("{file}: 表 {table} 重复出现 / second source for table {table} (first: {first})")]
    DuplicateTable {
        file: String,
        table: &'static str,
        first: String,
    },
    #[error("{path}: 缺少申领表 / no claims table (claims.csv or 补贴申领.csv)")]
    NoClaims { path: String },
    #[error("{path}: 不是文件夹或 .xlsx 工作簿 / not a folder or an .xlsx workbook")]
    NotSource { path: String },
}

/// The records of one table as read from its file or sheet.
pub enum Body {
    /// Decoded CSV text; the first record is the header.
    Csv { text: String, delimiter: u8 },
    /// A CSV file in UTF-8 or GBK, read again in chunks when its table is loaded: a ledger
    /// of millions of claims is never in memory as a whole, and the tables waiting for their
    /// turn take none. `bytes` and `modified` are what `read_source` hashed: a file that
    /// differs when it is loaded is an error (`InputError::Changed`), not a state its hash
    /// does not name.
    CsvFile {
        path: PathBuf,
        delimiter: u8,
        /// UTF-8 (the file may start with a byte order mark, skipped) or GBK (decoded chunk by
        /// chunk, line by line as [`decode_text`] decodes a whole file).
        encoding: FileEncoding,
        /// Read through its decompression (`claims.csv.gz`, `claims.csv.zst`).
        compression: Compression,
        /// The file's size on disk (compressed, if it is).
        bytes: u64,
        modified: Option<std::time::SystemTime>,
        /// Lines in the file (for progress and sizing).
        lines: usize,
    },
    /// Sheet rows as text; `first_line` is the sheet row number of `rows[0]` (the header).
    Sheet {
        rows: Vec<Vec<String>>,
        first_line: u64,
    },
}

/// How a [`Body::CsvFile`] is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileEncoding {
    /// `bom`: the file starts with a UTF-8 byte order mark.
    Utf8 { bom: bool },
    /// Not UTF-8 as a whole: GB18030 line by line, a UTF-8 line pasted in kept as UTF-8.
    Gbk,
}

/// One input table, its header already mapped to the model's columns.
pub struct SourceTable {
    pub spec: &'static TableSpec,
    /// File name as reported (`claims.csv`, `ledger.xlsx:补贴申领`).
    pub file: String,
    pub header: Vec<String>,
    /// For each column of `spec.columns`, the index of the source field holding it.
    pub colmap: Vec<Option<usize>>,
    /// Source fields that are no column of the model: (field index, header), kept as JSON.
    pub extras: Vec<(usize, String)>,
    pub body: Body,
}

/// A whole source: its tables in load order (`model::TABLES`), the files ignored and a
/// SHA-256 over the bytes of every table file (a compressed file's text, decompressed).
pub struct Source {
    pub path: PathBuf,
    pub tables: Vec<SourceTable>,
    pub ignored: Vec<String>,
    pub content_hash: String,
}

/// A row that could not be read: where it is, why, and its raw text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub table: &'static str,
    pub file: String,
    pub line: u64,
    pub column: Option<&'static str>,
    pub reason: String,
    pub raw: String,
}

/// One parsed record.
pub enum Parsed<R> {
    Row {
        line: u64,
        key: String,
        row: R,
        extra: Option<String>,
        /// With [`KeyCheck::Filtered`]: the record's raw text when its key may have been on
        /// an earlier row, for the caller to confirm and reject ([`duplicate_key_reason`]).
        suspect: Option<String>,
    },
    Reject(Reject),
}

/// How [`parse_table`] finds a key an earlier record of the table already had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCheck {
    /// Every key is kept with its line: a repeated key is rejected here.
    Kept,
    /// Only a filter of the keys is kept ([`keyfilter::KeyFilter`]): a row whose key may have
    /// been seen comes with its raw text in `suspect`, and the caller, which keeps the earlier
    /// rows by key (a load into a table with that key as primary key, and the rows it held
    /// before), confirms it and rejects it as `Kept` would have.
    Filtered,
}

/// Why a record whose key an earlier record (on line `first`) had is rejected.
pub fn duplicate_key_reason(first: u64) -> String {
    format!("重复的键，首次出现在第 {first} 行 / duplicate key, first at line {first}")
}

/// A FIFO, socket or device would block or never end a read: only regular files (or symlinks
/// to them) are read.
fn refuse_non_regular(p: &Path) -> Result<(), InputError> {
    let meta = std::fs::metadata(p).map_err(|e| InputError::Io {
        file: p.display().to_string(),
        source: e,
    })?;
    if meta.is_file() {
        Ok(())
    } else {
        Err(InputError::NotRegular {
            file: p.display().to_string(),
        })
    }
}

/// Reads a folder of CSV files or one `.xlsx` workbook and checks every table's header.
pub fn read_source(path: &Path) -> Result<Source, InputError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputError::Io {
        file: shown.clone(),
        source: e,
    })?;
    let mut hasher = Sha256::new();
    let mut found: Vec<SourceTable> = Vec::new();
    let mut ignored = Vec::new();
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| InputError::Io {
                file: shown.clone(),
                source: e,
            })?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| InputError::Io {
                file: shown.clone(),
                source: e,
            })?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                continue;
            }
            refuse_non_regular(&p)?;
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // `claims.csv`, or compressed as a whole: `claims.csv.gz`, `claims.csv.zst`.
            let found_spec = Compression::of_csv_name(&name)
                .and_then(|(stem, c)| table_by_name(stem).map(|spec| (spec, c)));
            let Some((spec, compression)) = found_spec else {
                ignored.push(name);
                continue;
            };
            let table = csv_file_table(spec, name, &p, compression, &mut hasher)?;
            push_table(&mut found, table)?;
        }
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx") || e.eq_ignore_ascii_case("xlsm"))
    {
        refuse_non_regular(path)?;
        let bytes = std::fs::read(path).map_err(|e| InputError::Io {
            file: shown.clone(),
            source: e,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        hash_file(&mut hasher, &name, &bytes);
        for t in workbook_tables(&name, bytes, &mut ignored)? {
            push_table(&mut found, t)?;
        }
        if found.is_empty() {
            return Err(InputError::UnknownWorkbook { file: shown });
        }
    } else {
        return Err(InputError::NotSource { path: shown });
    }
    if !found.iter().any(|t| t.spec.name == "claims") {
        return Err(InputError::NoClaims { path: shown });
    }
    found.sort_by_key(|t| TABLES.iter().position(|s| s.name == t.spec.name));
    let content_hash = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Source {
        path: path.to_path_buf(),
        tables: found,
        ignored,
        content_hash,
    })
}

fn hash_file(h: &mut Sha256, name: &str, bytes: &[u8]) {
    h.update(name.as_bytes());
    h.update([0u8]);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn push_table(found: &mut Vec<SourceTable>, t: SourceTable) -> Result<(), InputError> {
    if let Some(first) = found.iter().find(|f| f.spec.name == t.spec.name) {
        return Err(InputError::DuplicateTable {
            file: t.file,
            table: t.spec.name,
            first: first.file.clone(),
        });
    }
    found.push(t);
    Ok(())
}

/// A table named in English (any case) or Chinese.
pub fn table_by_name(name: &str) -> Option<&'static TableSpec> {
    let n = fold_width(name);
    TABLES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(&n) || t.zh == n)
}

/// Decodes text whose encoding nobody told us: UTF-8 (with or without BOM), UTF-16 with BOM,
/// else GB18030 (a superset of GBK). Bytes valid in none of them are an error.
pub fn decode_text(bytes: Vec<u8>, file: &str) -> Result<String, InputError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8(rest.to_vec())
            .map_err(|_| InputError::Encoding { file: file.into() });
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _, bad) = encoding_rs::UTF_16LE.decode(&bytes);
        if bad {
            return Err(InputError::Encoding { file: file.into() });
        }
        return Ok(text.into_owned());
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        // Not UTF-8 as a whole: GBK/GB18030, line by line, since exports are sometimes pasted
        // together from two systems (decoding a UTF-8 line as GBK loads mojibake: 徐鹏 →
        // 寰愰箯). A line that is not valid UTF-8 is GB18030. A line valid as both is read the
        // way that reads as Chinese text (`reads_better_as_gbk`). Line ends are ASCII in
        // both, so a line is a sound unit.
        Err(e) => decode_gbk(e.as_bytes(), file),
    }
}

/// Whole lines of a file that is not UTF-8 as a whole ([`decode_text`]), decoded line by line
/// ([`decode_gbk_lines`]) in pieces on the pool and joined in file order: the text does not
/// depend on the thread count.
fn decode_gbk(bytes: &[u8], file: &str) -> Result<String, InputError> {
    use rayon::prelude::*;
    let pieces: Vec<&[u8]> = line_pieces(bytes, GBK_PIECE_BYTES);
    let decoded: Vec<Option<String>> = pieces
        .par_iter()
        .map(|piece| decode_gbk_lines(piece))
        .collect();
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for piece in decoded {
        out.push_str(&piece.ok_or_else(|| InputError::Encoding { file: file.into() })?);
    }
    Ok(out)
}

/// Bytes of GBK text decoded by one pool task.
const GBK_PIECE_BYTES: usize = 4 << 20;

/// `bytes` cut into pieces of about `size` bytes, each ending at a line end (the last at the
/// end of the text).
fn line_pieces(bytes: &[u8], size: usize) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let cut = match rest
            .get(size..)
            .and_then(|after| after.iter().position(|&b| b == b'\n'))
        {
            Some(i) => size + i + 1,
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(cut);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// Decodes whole lines of a file that is not UTF-8 as a whole: each line as GB18030, or as
/// UTF-8 where that reads as more common characters; `None` if a line is neither.
fn decode_gbk_lines(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 2);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let gbk = encoding_rs::GB18030.decode_without_bom_handling_and_without_replacement(line);
        match (std::str::from_utf8(line), gbk) {
            (Ok(utf8), Some(gbk)) if utf8.is_ascii() || reads_better_as_gbk(utf8, &gbk) => {
                out.push_str(&gbk)
            }
            (Ok(utf8), _) => out.push_str(utf8),
            (Err(_), Some(gbk)) => out.push_str(&gbk),
            (Err(_), None) => return None,
        }
    }
    Some(out)
}

/// Whether a line valid both as UTF-8 and as GB18030 is GB18030 text: the reading with fewer
/// characters outside Chinese text ([`foreign_chars`]; GBK bytes of traditional characters
/// read as UTF-8 give Yi syllables and the like: 陳慶 → ꐑc), then the one with more common
/// characters ([`common_chars`]; UTF-8 read as GBK gives rare ones: 徐鹏 → 寰愰箯); a tie
/// keeps GB18030, the file's encoding.
fn reads_better_as_gbk(utf8: &str, gbk: &str) -> bool {
    (foreign_chars(gbk), common_chars(utf8)) <= (foreign_chars(utf8), common_chars(gbk))
}

/// How many characters of `s` Chinese ledger text does not hold: not ASCII, Han ideographs,
/// CJK or general punctuation, full-width forms, or the middle dot of minority names.
fn foreign_chars(s: &str) -> usize {
    s.chars()
        .filter(|&c| {
            !matches!(c as u32,
                0..=0x7F
                | 0xB7
                | 0x2000..=0x206F
                | 0x3000..=0x303F
                | 0x3400..=0x4DBF
                | 0x4E00..=0x9FFF
                | 0xF900..=0xFAFF
                | 0xFF00..=0xFFEF
                | 0x20000..=0x3134F)
        })
        .count()
}

/// How many characters of `s` are ASCII or in GB2312 (the 7,445 characters of everyday
/// Chinese text: GBK byte pairs A1–F7 / A1–FE).
fn common_chars(s: &str) -> usize {
    let mut buf = [0u8; 4];
    s.chars()
        .filter(|c| {
            if c.is_ascii() {
                return true;
            }
            let (bytes, _, bad) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
            !bad && bytes.len() == 2
                && (0xA1..=0xF7).contains(&bytes[0])
                && (0xA1..=0xFE).contains(&bytes[1])
        })
        .count()
}

fn csv_reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes())
}

/// Bytes read from a CSV file at a time, when scanning it and when loading it.
#[cfg(not(test))]
const CHUNK_BYTES: usize = 16 << 20;
/// Tiny chunks in unit tests: every record boundary case meets a chunk boundary.
#[cfg(test)]
const CHUNK_BYTES: usize = 61;

/// What one streaming pass over a CSV file found.
struct FileScan {
    /// The whole file is UTF-8 (after an optional BOM), not UTF-16.
    utf8: bool,
    bom: bool,
    lines: usize,
    /// The file's first chunks, up to one with a line end: the header is in them.
    head: Vec<u8>,
    /// The file's text in bytes (decompressed, if it is compressed).
    text_bytes: u64,
}

/// Reads a CSV file once in chunks: hashes it into `hasher` as [`hash_file`] would, checks
/// whether it is UTF-8, counts its lines and keeps its first chunk.
///
/// A compressed file is read through its decompression: its text is hashed, checked and
/// counted, beside its size on disk.
fn scan_csv_file(
    path: &Path,
    name: &str,
    compression: Compression,
    hasher: &mut Sha256,
) -> Result<(FileScan, u64, Option<std::time::SystemTime>), InputError> {
    let io = |e| InputError::Io {
        file: name.to_string(),
        source: e,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    let (len, modified) = (meta.len(), meta.modified().ok());
    let mut file = compression.reader(file).map_err(io)?;
    hasher.update(name.as_bytes());
    hasher.update([0u8]);
    hasher.update(len.to_le_bytes());
    let mut buf = vec![0u8; CHUNK_BYTES];
    // An incomplete UTF-8 sequence at the end of a chunk is completed by the next one.
    let mut pending: Vec<u8> = Vec::new();
    let mut scan = FileScan {
        utf8: true,
        bom: false,
        lines: 0,
        head: Vec::new(),
        text_bytes: 0,
    };
    let (mut total, mut last) = (0u64, b'\n');
    loop {
        let n = read_full(&mut *file, &mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        if !scan.head.contains(&b'\n') {
            scan.head.extend_from_slice(chunk);
        }
        if total == 0 {
            scan.bom = chunk.starts_with(&[0xEF, 0xBB, 0xBF]);
            if chunk.starts_with(&[0xFF, 0xFE]) || chunk.starts_with(&[0xFE, 0xFF]) {
                scan.utf8 = false;
            }
        }
        let body = if total == 0 && scan.bom {
            &chunk[3..]
        } else {
            chunk
        };
        total += n as u64;
        last = chunk[n - 1];
        // Hashing, and checking the text with counting its lines, side by side: the hash is
        // the longer of the two (about 1.5 GB/s), so the other side must not copy the chunk.
        let (utf8, lines) = (&mut scan.utf8, &mut scan.lines);
        rayon::join(
            || hasher.update(chunk),
            || {
                *lines += memchr::memchr_iter(b'\n', chunk).count();
                if *utf8 {
                    *utf8 = utf8_so_far(&mut pending, body);
                }
            },
        );
    }
    if !pending.is_empty() {
        scan.utf8 = false;
    }
    if total > 0 && last != b'\n' {
        scan.lines += 1;
    }
    scan.text_bytes = total;
    let unchanged = match compression {
        Compression::None => total == len,
        // The decompressed stream ended where its format says it ends; the file on disk
        // must still be the one opened.
        _ => std::fs::metadata(path).is_ok_and(|m| m.len() == len && m.modified().ok() == modified),
    };
    if !unchanged {
        return Err(InputError::Changed { file: name.into() });
    }
    Ok((scan, len, modified))
}

/// Whether `pending` (an incomplete UTF-8 sequence the chunk before ended with) followed by
/// `chunk` is UTF-8 so far; leaves in `pending` the incomplete sequence `chunk` ends with.
/// The chunk is checked where it lies: only the bytes that complete `pending` are copied.
fn utf8_so_far(pending: &mut Vec<u8>, chunk: &[u8]) -> bool {
    let mut rest = chunk;
    if !pending.is_empty() {
        // A sequence is at most 4 bytes long: these complete it, if the chunk has them.
        let had = pending.len();
        let take = rest.len().min(4 - had);
        pending.extend_from_slice(&rest[..take]);
        let valid = match std::str::from_utf8(pending) {
            Ok(_) => pending.len(),
            Err(e) if e.valid_up_to() > 0 => e.valid_up_to(),
            // The chunk ended before the sequence did (it took all of it): still pending.
            Err(e) if e.error_len().is_none() => return true,
            Err(_) => return false,
        };
        rest = &rest[valid - had..];
        pending.clear();
    }
    match std::str::from_utf8(rest) {
        Ok(_) => true,
        Err(e) if e.error_len().is_none() => {
            pending.extend_from_slice(&rest[e.valid_up_to()..]);
            true
        }
        Err(_) => false,
    }
}

/// Reads until `buf` is full or the file ends; the number of bytes read.
fn read_full<R: std::io::Read + ?Sized>(file: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One CSV file of a folder as a table: UTF-8 and GBK files are loaded from the file in
/// chunks ([`Body::CsvFile`]); UTF-16, and a byte order mark before text that is not UTF-8,
/// are decoded whole (`decode_text`).
fn csv_file_table(
    spec: &'static TableSpec,
    file: String,
    path: &Path,
    compression: Compression,
    hasher: &mut Sha256,
) -> Result<SourceTable, InputError> {
    let (scan, bytes, modified) = scan_csv_file(path, &file, compression, hasher)?;
    let marked = [&[0xEF, 0xBB, 0xBF][..], &[0xFF, 0xFE], &[0xFE, 0xFF]]
        .iter()
        .any(|m| scan.head.starts_with(m));
    let encoding = match (scan.utf8, marked) {
        (true, _) => FileEncoding::Utf8 { bom: scan.bom },
        (false, false) => FileEncoding::Gbk,
        (false, true) => {
            let whole =
                crate::compression::read_all(path, compression).map_err(|e| InputError::Io {
                    file: file.clone(),
                    source: e,
                })?;
            if whole.len() as u64 != scan.text_bytes || !whole.starts_with(&scan.head) {
                return Err(InputError::Changed { file });
            }
            return csv_table(spec, file, whole);
        }
    };
    let head = &scan.head[if scan.bom { 3 } else { 0 }..];
    // The first chunk up to its last whole line: the header is in it.
    let cut = match head.iter().rposition(|&b| b == b'\n') {
        Some(i) if (scan.head.len() as u64) < scan.text_bytes => i + 1,
        _ => head.len(),
    };
    let text = match encoding {
        FileEncoding::Utf8 { .. } => std::str::from_utf8(&head[..cut])
            .map_err(|_| InputError::Changed { file: file.clone() })?
            .into(),
        FileEncoding::Gbk => std::borrow::Cow::Owned(decode_gbk(&head[..cut], &file)?),
    };
    let (header, delimiter) = csv_header(&text, &file)?;
    let (colmap, extras) = map_header(spec, &header, &file)?;
    Ok(SourceTable {
        spec,
        file,
        header,
        colmap,
        extras,
        body: Body::CsvFile {
            path: path.to_path_buf(),
            delimiter,
            encoding,
            compression,
            bytes,
            modified,
            lines: scan.lines,
        },
    })
}

fn csv_table(
    spec: &'static TableSpec,
    file: String,
    bytes: Vec<u8>,
) -> Result<SourceTable, InputError> {
    let text = decode_text(bytes, &file)?;
    let (header, delimiter) = csv_header(&text, &file)?;
    let (colmap, extras) = map_header(spec, &header, &file)?;
    Ok(SourceTable {
        spec,
        file,
        header,
        colmap,
        extras,
        body: Body::Csv { text, delimiter },
    })
}

/// The header of CSV text (its first record) and the field delimiter.
fn csv_header(text: &str, file: &str) -> Result<(Vec<String>, u8), InputError> {
    let file = file.to_string();
    let first_line = text.lines().next().unwrap_or("");
    // Tab-separated "CSV" is what some systems export; a comma anywhere in the header wins.
    let delimiter = if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    };
    let mut rdr = csv_reader(text, delimiter);
    let mut rec = csv::StringRecord::new();
    let got = rdr.read_record(&mut rec).map_err(|e| InputError::Csv {
        file: file.clone(),
        line: 1,
        reason: e.to_string(),
    })?;
    if !got || rec.iter().all(|f| f.trim().is_empty()) {
        return Err(InputError::Empty { file });
    }
    Ok((rec.iter().map(clean_header).collect(), delimiter))
}

fn clean_header(h: &str) -> String {
    fold_width(h.trim_start_matches('\u{feff}'))
        .trim_matches('"')
        .trim()
        .to_string()
}

/// Maps header cells to the spec's columns (English name in any case, or a Chinese header).
/// For each column of a table spec, the field that holds it, if any.
type ColumnMap = Vec<Option<usize>>;

/// The first field naming a column wins; every other field is an extra.
fn map_header(
    spec: &'static TableSpec,
    header: &[String],
    file: &str,
) -> Result<(ColumnMap, Vec<(usize, String)>), InputError> {
    let mut colmap = vec![None; spec.columns.len()];
    let mut extras = Vec::new();
    for (k, h) in header.iter().enumerate() {
        let j = spec
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(h) || c.zh.contains(&h.as_str()));
        match j {
            Some(j) if colmap[j].is_none() => colmap[j] = Some(k),
            _ => {
                let name = if h.is_empty() {
                    format!("列{}", k + 1)
                } else {
                    h.clone()
                };
                extras.push((k, name));
            }
        }
    }
    for (j, c) in spec.columns.iter().enumerate() {
        if c.required && colmap[j].is_none() {
            return Err(InputError::MissingColumn {
                file: file.into(),
                column: c.name,
                zh: c.zh.first().copied().unwrap_or(""),
            });
        }
    }
    Ok((colmap, extras))
}

/// The tables of a workbook. calamine panics on some malformed files (a shared-string index
/// beyond the table): a hostile workbook is an unreadable one, not a crash.
fn workbook_tables(
    file: &str,
    bytes: Vec<u8>,
    ignored: &mut Vec<String>,
) -> Result<Vec<SourceTable>, InputError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_workbook(file, bytes, ignored)
    }))
    .unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(InputError::Workbook {
            file: file.into(),
            reason: format!("工作簿结构损坏 / malformed workbook ({what})"),
        })
    })
}

fn read_workbook(
    file: &str,
    bytes: Vec<u8>,
    ignored: &mut Vec<String>,
) -> Result<Vec<SourceTable>, InputError> {
    use calamine::Reader;
    let mut book =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).map_err(|e| {
            InputError::Workbook {
                file: file.into(),
                reason: e.to_string(),
            }
        })?;
    let mut out = Vec::new();
    for sheet in book.sheet_names() {
        let shown = format!("{file}:{sheet}");
        let Some(spec) = table_by_name(&sheet) else {
            ignored.push(shown);
            continue;
        };
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| InputError::Workbook {
                file: shown.clone(),
                reason: e.to_string(),
            })?;
        let start_row = range.start().map(|(r, _)| r as u64).unwrap_or(0);
        let mut rows: Vec<Vec<String>> = range
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect();
        // The header is the first row with any text (sheets often start with a blank row).
        let skip = rows
            .iter()
            .position(|r| r.iter().any(|c| !c.trim().is_empty()));
        let Some(skip) = skip else {
            return Err(InputError::Empty { file: shown });
        };
        rows.drain(..skip);
        let header: Vec<String> = rows[0].iter().map(|h| clean_header(h)).collect();
        let (colmap, extras) = map_header(spec, &header, &shown)?;
        out.push(SourceTable {
            spec,
            file: shown,
            header,
            colmap,
            extras,
            body: Body::Sheet {
                rows,
                first_line: start_row + skip as u64 + 1,
            },
        });
    }
    Ok(out)
}

/// Columns whose values are compared as identifiers across rows and tables.
const IDENTIFIER_COLUMNS: &[&str] = &[
    "claim_id",
    "id_number",
    "phone",
    "bank_account",
    "county_code",
    "institution_id",
    "class_id",
    "occupation_code",
    "cert_no",
    "employer_id",
    "legal_rep_id",
];

/// An identifier without invisible format characters (`Ok(Some)` when any were dropped), or
/// the reason it is not one value (a control character).
fn clean_identifier(v: &str) -> Result<Option<String>, &'static str> {
    let invisible = |c: char| {
        matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    if v.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Ok(None);
    }
    if v.chars().any(|c| c.is_control() && c != '\t') {
        return Err("标识符含控制字符（如 NUL），与看似相同的值并非同一值 / identifier with a control character (NUL …): not the value it prints as");
    }
    if v.chars().any(invisible) {
        Ok(Some(v.chars().filter(|&c| !invisible(c)).collect()))
    } else {
        Ok(None)
    }
}

/// Prefix of the text of a workbook number cell too long to be exact (a noncharacter: never
/// in real text).
const INEXACT_NUMBER: &str = "\u{FDD0}";

/// A workbook cell as the text a CSV export would have held.
fn cell_text(c: &calamine::Data) -> String {
    use calamine::Data;
    match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Integral floats (phone numbers, counts, whole amounts) without a trailing `.0`.
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => (*f as i64).to_string(),
        // A number cell holds at most 15 significant digits exactly: an 18-digit ID number or
        // a bank account stored as a number has lost its last digits. Marked, so that the row
        // is rejected rather than loaded altered.
        Data::Float(f) if f.abs() >= 1e15 => format!("{INEXACT_NUMBER}{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match values::excel_serial_date(dt.as_f64()) {
            Some(d) => d.to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// One record of a table: its line in the file (where it starts), its fields and raw text.
struct Record<'a> {
    line: u64,
    fields: &'a [&'a str],
    raw: &'a str,
    /// Why the record could not be split into fields (its raw text is then its first line).
    malformed: Option<&'static str>,
}

/// A record spanning several lines is a stray quote, not a multi-line field, when it has the
/// wrong number of fields or runs beyond these bounds.
const MAX_RECORD_LINES: usize = 20;
const MAX_RECORD_BYTES: usize = 64 * 1024;

impl SourceTable {
    /// Calls `f` for every record after the header, in file order.
    fn for_each_record(&self, mut f: impl FnMut(&Record)) -> Result<(), InputError> {
        match &self.body {
            Body::Csv { text, delimiter } => {
                let mut header_pending = true;
                self.records_in(text, *delimiter, (0, 1), false, &mut header_pending, &mut f)?;
            }
            Body::CsvFile {
                path,
                delimiter,
                encoding,
                compression,
                bytes,
                modified,
                ..
            } => {
                let changed = || InputError::Changed {
                    file: self.file.clone(),
                };
                let io = |e| InputError::Io {
                    file: self.file.clone(),
                    source: e,
                };
                let file = std::fs::File::open(path).map_err(io)?;
                let meta = file.metadata().map_err(io)?;
                if meta.len() != *bytes || meta.modified().ok() != *modified {
                    return Err(changed());
                }
                let mut file = compression.reader(file).map_err(io)?;
                // `buf` holds the file's bytes from the first record not yet read (at a line
                // start) on, or for GBK those not yet decoded; each round appends a chunk and
                // reads the records of its whole lines.
                let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
                // A GBK file's text decoded from the first record not yet read on.
                let mut decoded = String::new();
                let mut chunk = vec![0u8; CHUNK_BYTES];
                let (mut line, mut first, mut header_pending) = (1u64, true, true);
                loop {
                    let n = read_full(&mut *file, &mut chunk).map_err(io)?;
                    let mut part = &chunk[..n];
                    if first && *encoding == (FileEncoding::Utf8 { bom: true }) {
                        part = part.get(3..).unwrap_or(&[]);
                    }
                    first = false;
                    buf.extend_from_slice(part);
                    let at_end = n < CHUNK_BYTES;
                    let cut = if at_end {
                        buf.len()
                    } else {
                        match buf.iter().rposition(|&b| b == b'\n') {
                            Some(i) => i + 1,
                            None => continue, // no whole line yet
                        }
                    };
                    let text: &str = match encoding {
                        FileEncoding::Utf8 { .. } => {
                            std::str::from_utf8(&buf[..cut]).map_err(|_| changed())?
                        }
                        // Decoded a chunk of whole lines at a time, after the text not yet
                        // read.
                        FileEncoding::Gbk => {
                            let piece = decode_gbk(&buf[..cut], &self.file)?;
                            buf.drain(..cut);
                            decoded.push_str(&piece);
                            &decoded
                        }
                    };
                    let (stop, stop_line) = self.records_in(
                        text,
                        *delimiter,
                        (0, line),
                        !at_end,
                        &mut header_pending,
                        &mut f,
                    )?;
                    if at_end {
                        break;
                    }
                    match encoding {
                        FileEncoding::Utf8 { .. } => drop(buf.drain(..stop)),
                        FileEncoding::Gbk => drop(decoded.drain(..stop)),
                    }
                    line = stop_line;
                }
            }
            Body::Sheet { rows, first_line } => {
                let mut fields: Vec<&str> = Vec::new();
                for (i, r) in rows.iter().enumerate().skip(1) {
                    fields.clear();
                    fields.extend(r.iter().map(String::as_str));
                    // Sheets pad short rows to the range width: trailing cells beyond the header
                    // are empty and not a column-count error.
                    while fields.len() > self.header.len() && fields.last() == Some(&"") {
                        fields.pop();
                    }
                    let raw = r.join(",");
                    f(&Record {
                        line: first_line + i as u64,
                        fields: &fields,
                        raw: raw.trim_end_matches(','),
                        malformed: None,
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads the records of `text` from byte `from.0` (a line start, line `from.1`) on,
    /// calling `f` for each after the header. With `partial` the text is whole lines of a
    /// file that goes on: a record that reaches its end may continue past it, so reading stops
    /// before such a record (unless it is the first one read, which is then longer than a
    /// chunk: malformed whatever follows). Returns where reading stopped: the byte offset and
    /// line of the first record not read (the end of `text` when all were).
    fn records_in(
        &self,
        text: &str,
        delimiter: u8,
        from: (usize, u64),
        partial: bool,
        header_pending: &mut bool,
        f: &mut impl FnMut(&Record),
    ) -> Result<(usize, u64), InputError> {
        let ncols = self.header.len();
        // Reading restarts here after a record that swallowed lines (a stray quote):
        // `base` is a byte offset of a line start, `base_line` its line number.
        let (mut base, mut base_line) = from;
        let mut rec = csv::ByteRecord::new();
        'segments: loop {
            let part = &text[base..];
            let mut rdr = csv_reader(part, delimiter);
            loop {
                let got = rdr
                    .read_byte_record(&mut rec)
                    .map_err(|e| InputError::Csv {
                        file: self.file.clone(),
                        line: e.position().map_or(0, |p| p.line() + base_line - 1),
                        reason: e.to_string(),
                    })?;
                if !got {
                    let lines = part.matches('\n').count() as u64;
                    return Ok((text.len(), base_line + lines));
                }
                let pos = rec.position().cloned().unwrap_or_else(csv::Position::new);
                let end = rdr.position().byte() as usize;
                // After a CRLF line end the reader's position is at the `\n` of the
                // line before (it ended that record at the `\r`), and before the blank
                // lines it skipped: the record starts at its first character, lines later.
                let (mut start, mut line) = (pos.byte() as usize, pos.line());
                while let Some(&b) = part.as_bytes().get(start).filter(|_| start < end) {
                    match b {
                        b'\n' => line += 1,
                        b'\r' => {}
                        _ => break,
                    }
                    start += 1;
                }
                let line = line + base_line - 1;
                if partial && end >= part.len() && base + start != from.0 {
                    // May go on in the next chunk: read it again from there.
                    return Ok((base + start, line));
                }
                if *header_pending {
                    *header_pending = false;
                    continue;
                }
                let raw = part
                    .get(start..end.max(start))
                    .unwrap_or("")
                    .trim_end_matches(['\r', '\n']);
                let lines = raw.matches('\n').count() + 1;
                if lines > 1
                    && (rec.len() != ncols
                        || lines > MAX_RECORD_LINES
                        || raw.len() > MAX_RECORD_BYTES)
                {
                    // A quoted field that runs over following lines and breaks the
                    // record: its first line alone is the reject; reading resumes on
                    // the next line, which is read as a record of its own.
                    let first_len = raw.find('\n').unwrap_or(raw.len());
                    f(&Record {
                        line,
                        fields: &[],
                        raw: raw[..first_len].trim_end_matches('\r'),
                        malformed: Some(
                            "引号不成对，该字段跨越后续各行；本行作废，从下一行继续读取 / unbalanced quote: the field runs over the following lines; this line is rejected and reading resumes on the next line",
                        ),
                    });
                    base += start + first_len + 1;
                    base_line = line + 1;
                    continue 'segments;
                }
                let fields: Vec<&str> = rec
                    .iter()
                    // SAFETY: `text` is a `str`, and the CSV reader splits it only
                    // at ASCII bytes (delimiter, quote, line end), which never occur
                    // inside a UTF-8 multi-byte sequence; unescaping `""` drops an
                    // ASCII byte. So every field is valid UTF-8.
                    .map(|b| unsafe { std::str::from_utf8_unchecked(b) })
                    .collect();
                f(&Record {
                    line,
                    fields: &fields,
                    raw,
                    malformed: None,
                });
            }
        }
    }

    fn is_excel(&self) -> bool {
        matches!(self.body, Body::Sheet { .. })
    }

    /// Number of data records (after the header), for progress display.
    pub fn approx_records(&self) -> usize {
        match &self.body {
            Body::Csv { text, .. } => bytecount_newlines(text.as_bytes()).saturating_sub(1),
            Body::CsvFile { lines, .. } => lines.saturating_sub(1),
            Body::Sheet { rows, .. } => rows.len().saturating_sub(1),
        }
    }
}

fn bytecount_newlines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count() + usize::from(!b.ends_with(b"\n") && !b.is_empty())
}

/// Parses every record of `t` as an `R`, calling `f` with each row or reject in file order.
/// Fully blank records hold nothing and are skipped; every other record becomes exactly one
/// row or one reject. A key seen before in this source rejects the later record, here
/// ([`KeyCheck::Kept`]) or by the caller ([`KeyCheck::Filtered`]).
pub fn parse_table<R: ParseRow>(
    t: &SourceTable,
    keys: KeyCheck,
    mut f: impl FnMut(Parsed<R>),
) -> Result<(), InputError> {
    // Kept: keys seen so far, end to end in one interner, and the line each was first seen
    // on (a map of `String` keys hashed each key twice and allocated it once more per row).
    let mut seen = crate::intern::Interner::<crate::intern::AsWritten>::new();
    let mut first_line: Vec<u64> = Vec::new();
    let mut filter = None;
    match keys {
        KeyCheck::Kept => {
            first_line.reserve_exact(t.approx_records() + 1);
            // Id 0 is the interner's empty string, not a key seen.
            first_line.push(u64::MAX);
        }
        KeyCheck::Filtered => {
            filter = Some(keyfilter::KeyFilter::with_expected(t.approx_records()))
        }
    }
    let excel = t.is_excel();
    let ncols = t.header.len();
    t.for_each_record(|rec| {
        let reject = |column: Option<&'static str>, reason: String| {
            Parsed::Reject(Reject {
                table: t.spec.name,
                file: t.file.clone(),
                line: rec.line,
                column,
                reason,
                raw: rec.raw.to_string(),
            })
        };
        if let Some(reason) = rec.malformed {
            f(reject(None, reason.to_string()));
            return;
        }
        if rec.fields.iter().all(|v| v.trim().is_empty()) {
            return;
        }
        if rec.fields.len() != ncols {
            f(reject(
                None,
                format!("列数不符 / wrong column count: expected {ncols}, found {}", rec.fields.len()),
            ));
            return;
        }
        let local: Vec<&str> = t.colmap.iter().map(|m| m.map_or("", |k| rec.fields[k])).collect();
        if let Some(filter) = &filter {
            // A single-column key is the table's first column (`ParseRow::key`).
            filter.prefetch(local[0].trim());
        }
        // Identifiers: invisible format characters (zero-width, BOM, bidi marks) are dropped,
        // so that two values that print alike compare alike; a control character (NUL …)
        // changes what the value is, and the row is a reject.
        let mut cleaned: Vec<std::borrow::Cow<str>> = local.iter().map(|v| std::borrow::Cow::Borrowed(*v)).collect();
        for (k, col) in t.spec.columns.iter().enumerate() {
            if !IDENTIFIER_COLUMNS.contains(&col.name) {
                continue;
            }
            match clean_identifier(local[k]) {
                Ok(Some(v)) => cleaned[k] = std::borrow::Cow::Owned(v),
                Ok(None) => {}
                Err(reason) => {
                    f(reject(Some(col.name), reason.to_string()));
                    return;
                }
            }
        }
        let local: Vec<&str> = cleaned.iter().map(|v| v.as_ref()).collect();
        if let Some(k) = local.iter().position(|v| v.starts_with(INEXACT_NUMBER)) {
            f(reject(
                Some(t.spec.columns[k].name),
                format!(
                    "数字单元格超过15位有效数字，Excel 已改变其末几位（{}）：请将该列设为文本格式后重新导出 / a number cell of more than 15 significant digits, whose last digits Excel has changed ({}): format the column as text and export again",
                    &local[k][INEXACT_NUMBER.len()..],
                    &local[k][INEXACT_NUMBER.len()..]
                ),
            ));
            return;
        }
        let parsed = R::parse(&Cells { spec: t.spec, vals: &local, excel });
        match parsed {
            Err(e) => f(reject(e.column, e.reason)),
            Ok(row) => {
                let key = row.key();
                let mut suspect = None;
                match &mut filter {
                    Some(filter) => {
                        if filter.insert(&key) {
                            suspect = Some(rec.raw.to_string());
                        }
                    }
                    None => {
                        let id = seen.intern(&key) as usize;
                        match first_line.get(id) {
                            Some(&first) if first != u64::MAX => {
                                f(reject(None, duplicate_key_reason(first)));
                                return;
                            }
                            Some(_) => first_line[id] = rec.line,
                            None => first_line.push(rec.line),
                        }
                    }
                }
                let extra = extra_json(&t.extras, rec.fields);
                f(Parsed::Row { line: rec.line, key, row, extra, suspect });
            }
        }
    })
}

/// Extra columns of one record as a JSON object in header order; `None` when all are empty.
fn extra_json(extras: &[(usize, String)], fields: &[&str]) -> Option<String> {
    if extras.iter().all(|(k, _)| fields[*k].trim().is_empty()) {
        return None;
    }
    let mut s = String::from("{");
    for (n, (k, h)) in extras
        .iter()
        .filter(|(k, _)| !fields[*k].trim().is_empty())
        .enumerate()
    {
        if n > 0 {
            s.push(',');
        }
        s.push_str(&serde_json::to_string(h).unwrap_or_default());
        s.push(':');
        s.push_str(&serde_json::to_string(fields[*k].trim()).unwrap_or_default());
    }
    s.push('}');
    Some(s)
}

/// Everything a source holds, parsed into a [`Ledger`] plus its rejects, without a database.
pub fn read_ledger(path: &Path) -> Result<(Ledger, Vec<Reject>), InputError> {
    let src = read_source(path)?;
    let mut l = Ledger::default();
    let mut rejects = Vec::new();
    fn collect<R: ParseRow>(
        t: &SourceTable,
        out: &mut Vec<R>,
        rejects: &mut Vec<Reject>,
    ) -> Result<(), InputError> {
        parse_table::<R>(t, KeyCheck::Kept, |p| match p {
            Parsed::Row { row, .. } => out.push(row),
            Parsed::Reject(r) => rejects.push(r),
        })
    }
    for t in &src.tables {
        l.present.push(t.spec.name);
        let r = &mut rejects;
        match t.spec.name {
            "claims" => collect(t, &mut l.claims, r)?,
            "classes" => collect(t, &mut l.classes, r)?,
            "institutions" => collect(t, &mut l.institutions, r)?,
            "certificates" => collect(t, &mut l.certificates, r)?,
            "projects" => collect(t, &mut l.projects, r)?,
            "employment" => collect(t, &mut l.employment, r)?,
            "staff" => collect(t, &mut l.staff, r)?,
            "registry_pension" => collect(t, &mut l.registry_pension, r)?,
            "registry_death" => collect(t, &mut l.registry_death, r)?,
            "registry_ui" => collect(t, &mut l.registry_ui, r)?,
            "registry_poverty" => collect(t, &mut l.registry_poverty, r)?,
            "living_standards" => collect(t, &mut l.living_standards, r)?,
            other => unreachable!("table {other} is in model::TABLES but has no parser"),
        }
    }
    Ok((l, rejects))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chunked UTF-8 check agrees with checking the whole text, wherever the chunks are cut
    /// (through a 2-, 3- or 4-byte sequence, or into pieces shorter than one).
    #[test]
    fn utf8_check_in_chunks_agrees_with_the_whole() {
        let good = "a张伟é😀b,李\n".as_bytes().to_vec();
        let mut cases = vec![good.clone()];
        for bad_at in [1, 2, 4, 9] {
            let mut bad = good.clone();
            bad[bad_at] = 0xFF;
            cases.push(bad);
        }
        // A sequence cut short at the end, and one whose continuation is wrong.
        cases.push(good[..good.len() - 7].to_vec());
        let mut wrong = good.clone();
        wrong[2] = b'x';
        cases.push(wrong);
        for text in &cases {
            let whole = std::str::from_utf8(text).is_ok();
            for a in 0..=text.len() {
                for b in a..=text.len() {
                    let mut pending = Vec::new();
                    let mut ok = true;
                    for piece in [&text[..a], &text[a..b], &text[b..]] {
                        if ok && !piece.is_empty() {
                            ok = utf8_so_far(&mut pending, piece);
                        }
                    }
                    assert_eq!(ok && pending.is_empty(), whole, "{text:?} cut at {a}, {b}");
                }
            }
        }
    }
    #[test]
    fn encodings_are_detected() {
        let text = "申领编号,姓名\nC1,张伟\n";
        assert_eq!(decode_text(text.as_bytes().to_vec(), "f").unwrap(), text);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(bom, "f").unwrap(), text);
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert!(std::str::from_utf8(&gbk).is_err());
        assert_eq!(decode_text(gbk.into_owned(), "f").unwrap(), text);
    }

    #[test]
    fn headers_map_in_any_order_and_language() {
        let spec = table_by_name("补贴申领").unwrap();
        assert_eq!(spec.name, "claims");
        assert_eq!(table_by_name("Claims").unwrap().name, "claims");
        assert!(table_by_name("labels").is_none());
        let h: Vec<String> = [
            "申领日期",
            "AMOUNT",
            "claim_id",
            "身份证号",
            "姓名",
            "补贴类型",
            "备注",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (colmap, extras) = map_header(spec, &h, "f").unwrap();
        assert_eq!(colmap[0], Some(2));
        assert_eq!(colmap[17], Some(0));
        assert_eq!(colmap[14], Some(1));
        assert_eq!(extras, vec![(6, "备注".to_string())]);
        let err = map_header(spec, &h[1..], "claims.csv")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("claims.csv") && err.contains("claim_date"),
            "{err}"
        );
    }

    #[test]
    fn records_report_their_starting_line_and_raw_text() {
        let text = "claim_id,name\nC1,\"two\nlines\"\nC2,x\n".to_string();
        let spec = table_by_name("claims").unwrap();
        let t = SourceTable {
            spec,
            file: "claims.csv".into(),
            header: vec!["claim_id".into(), "name".into()],
            colmap: vec![],
            extras: vec![],
            body: Body::Csv {
                text,
                delimiter: b',',
            },
        };
        let mut seen = Vec::new();
        t.for_each_record(|r| seen.push((r.line, r.fields.len(), r.raw.to_string())))
            .unwrap();
        assert_eq!(
            seen,
            vec![
                (2, 2, "C1,\"two\nlines\"".to_string()),
                (4, 2, "C2,x".to_string())
            ]
        );
    }

    /// (line, fields, raw, malformed).
    type Record = (u64, Vec<String>, String, bool);

    /// Every record of `text` as (line, fields, raw, malformed) read whole and read from a
    /// file in chunks of `CHUNK_BYTES` (61 bytes in unit tests).
    fn records_whole_and_chunked(text: &str, bom: bool) -> [Vec<Record>; 2] {
        let mut bytes = if bom { vec![0xEF, 0xBB, 0xBF] } else { vec![] };
        bytes.extend_from_slice(text.as_bytes());
        records_of_file(bytes, FileEncoding::Utf8 { bom })
    }

    /// The records of a file of `bytes` read whole and read in chunks as `encoding`.
    fn records_of_file(bytes: Vec<u8>, encoding: FileEncoding) -> [Vec<Record>; 2] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry_poverty.csv");
        std::fs::write(&path, &bytes).unwrap();
        // A table with one required column: the others are extras.
        let spec = table_by_name("registry_poverty").unwrap();
        let mut hasher = Sha256::new();
        let chunked =
            csv_file_table(spec, "p.csv".into(), &path, Compression::None, &mut hasher).unwrap();
        assert!(
            matches!(chunked.body, Body::CsvFile { encoding: e, .. } if e == encoding),
            "read in chunks as {encoding:?}"
        );
        let mut whole_hasher = Sha256::new();
        hash_file(&mut whole_hasher, "p.csv", &bytes);
        assert_eq!(
            hasher.finalize(),
            whole_hasher.finalize(),
            "the same content hash"
        );
        let whole = csv_table(spec, "p.csv".into(), bytes).unwrap();
        assert_eq!(whole.header, chunked.header);
        assert_eq!(whole.approx_records(), chunked.approx_records());
        [whole, chunked].map(|t| {
            let mut seen = Vec::new();
            t.for_each_record(|r| {
                seen.push((
                    r.line,
                    r.fields.iter().map(|f| f.to_string()).collect(),
                    r.raw.to_string(),
                    r.malformed.is_some(),
                ))
            })
            .unwrap();
            seen
        })
    }

    #[test]
    fn a_file_read_in_chunks_gives_the_records_of_the_whole_text() {
        let mut text = String::from("claim_id,id_number,name,amount,claim_date\r\n");
        debug_assert!(text.contains("id_number"));
        for i in 0..40 {
            match i % 7 {
                // A field over three lines, CRLF line ends, Chinese text.
                0 => text.push_str(&format!("C{i},3713,\"张\r\n三\r\n丰\",{i},2020-01-01\r\n")),
                1 => text.push_str("\r\n\r\n"),
                2 => text.push_str(&format!(
                    "C{i},3713,\"李四，\"\"引号\"\"\",1,2020-01-0{}\n",
                    i % 9 + 1
                )),
                3 => text.push_str(&format!("C{i},{}\n", "长".repeat(40))),
                _ => text.push_str(&format!("C{i},371302,王五{i},100,2020-02-03\n")),
            }
        }
        // A stray quote: the field would run over every following line.
        text.push_str("C98,3713,\"broken,1,2020-01-01\n");
        for i in 0..30 {
            text.push_str(&format!("D{i},371302,赵六,1,2020-01-01\n"));
        }
        text.push_str("D99,371302,last,1,2020-01-01");
        for bom in [false, true] {
            let [whole, chunked] = records_whole_and_chunked(&text, bom);
            assert!(whole.len() > 60, "{}", whole.len());
            assert!(
                whole.iter().any(|r| r.3),
                "the stray quote is a malformed record"
            );
            // Regression: after blank CRLF lines a record had the line and raw text of the
            // first blank line.
            let c2 = whole
                .iter()
                .find(|r| r.1.first().is_some_and(|f| f == "C2"))
                .unwrap();
            assert_eq!((c2.0, c2.2.starts_with("C2,")), (7, true), "{c2:?}");
            assert_eq!(whole, chunked);
        }
        let [whole, chunked] = records_whole_and_chunked("id_number,name\n", false);
        assert!(whole.is_empty());
        assert_eq!(whole, chunked);
    }

    #[test]
    fn a_gbk_file_read_in_chunks_gives_the_records_of_the_whole_text() {
        let mut text = String::from("id_number,姓名,备注\r\n");
        for i in 0..40 {
            match i % 5 {
                // A field over two lines, blank lines, quotes, a stray quote.
                0 => text.push_str(&format!("3713{i},\"张\r\n三丰\",临沂市\r\n")),
                1 => text.push_str("\r\n\n"),
                2 => text.push_str(&format!(
                    "3713{i},\"李四，\"\"引号\"\"\",{}\n",
                    "长".repeat(30)
                )),
                3 if i == 13 => text.push_str("3713,\"未闭合,兰山区\n"),
                _ => text.push_str(&format!("3713{i},王五{i},河东区\n")),
            }
        }
        text.push_str("371399,最后,罗庄区");
        let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
        assert!(!unmappable);
        let mut bytes = gbk.into_owned();
        // A line pasted in from a UTF-8 export stays UTF-8.
        let cut = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        bytes.splice(cut..cut, "371300,徐鹏,兰陵县\n".bytes());
        let [whole, chunked] = records_of_file(bytes, FileEncoding::Gbk);
        assert!(whole.len() > 30, "{}", whole.len());
        assert_eq!(whole[0].1, ["371300", "徐鹏", "兰陵县"]);
        assert!(whole
            .iter()
            .any(|r| r.1.first().is_some_and(|f| f == "371399")));
        assert!(
            whole.iter().any(|r| r.3),
            "the stray quote is a malformed record"
        );
        assert_eq!(whole, chunked);
        // A line neither GBK nor UTF-8 is an encoding error, read whole or in chunks.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry_poverty.csv");
        let mut bad = encoding_rs::GBK.encode("id_number,姓名\n").0.into_owned();
        bad.extend_from_slice(&[b'\n'; 70]);
        bad.extend_from_slice(b"3713,\xff\xff\n");
        std::fs::write(&path, &bad).unwrap();
        let spec = table_by_name("registry_poverty").unwrap();
        let t = csv_file_table(
            spec,
            "p.csv".into(),
            &path,
            Compression::None,
            &mut Sha256::new(),
        )
        .unwrap();
        let err = t.for_each_record(|_| {}).unwrap_err();
        assert!(matches!(err, InputError::Encoding { .. }), "{err}");
        assert!(matches!(
            csv_table(spec, "p.csv".into(), bad),
            Err(InputError::Encoding { .. })
        ));
    }

    #[test]
    fn gbk_text_decoded_in_pieces_is_the_text_decoded_line_by_line() {
        let mut utf8 = String::new();
        for i in 0..500 {
            utf8.push_str(&format!("C{i},张三{i},山东省临沂市\r\n"));
        }
        let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
        for size in [1, 7, 100, 1 << 20] {
            let pieces = line_pieces(&gbk, size);
            assert_eq!(pieces.concat(), gbk.to_vec());
            assert!(pieces[..pieces.len() - 1]
                .iter()
                .all(|p| p.ends_with(b"\n")));
        }
        assert_eq!(decode_text(gbk.to_vec(), "g.csv").unwrap(), utf8);
        assert!(line_pieces(b"", 4).is_empty());
    }
}
