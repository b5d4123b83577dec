//! Reports for inspectors: a self-contained HTML file (inline CSS, inline SVG, a small inline
//! script, no network) and the same content as an Excel workbook, one sheet per part.
//!
//! [`data::gather`] reads the sweep from the database into a [`ReportData`] (masking personal
//! identifiers on the way in, see [`mask`]); [`tables::sheets`] turns it into the report's
//! parts; [`html`] and [`xlsx`] render them. Chinese by default, English labels on request
//! ([`labels`]).

pub mod data;
pub mod html;
pub mod labels;
pub mod ledger;
pub mod mask;
pub mod tables;
pub mod xlsx;

pub use data::{gather, gather_with, Phase, ReportData, ReportOptions, Scope};

use crate::policy::PolicySet;
use crate::store::lock::LockMode;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error(transparent)]
    Flags(#[from] crate::store::flags::FlagStoreError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Cases(#[from] crate::cases::CaseError),
    #[error("数据库内容有误 / malformed stored data: {0}")]
    Malformed(String),
    #[error("数据库锁 / database lock: {0}")]
    Lock(#[source] std::io::Error),
    #[error("{path}: 无法写入报告 / cannot write the report: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: 无法写入 Excel 报告 / cannot write the workbook: {source}")]
    Xlsx {
        path: PathBuf,
        source: rust_xlsxwriter::XlsxError,
    },
}

/// Output format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Xlsx,
}

/// Gathers the report of a sweep and writes it to `path` in `format`.
pub fn write_report(
    conn: &Connection,
    policies: &PolicySet,
    opts: &ReportOptions,
    format: Format,
    path: &Path,
) -> Result<ReportData, ReportError> {
    write_report_with(conn, policies, opts, format, path, &mut |_| {})
}

/// [`write_report`], telling `progress` each phase as it starts.
pub fn write_report_with(
    conn: &Connection,
    policies: &PolicySet,
    opts: &ReportOptions,
    format: Format,
    path: &Path,
    progress: &mut dyn FnMut(Phase),
) -> Result<ReportData, ReportError> {
    // One state of the ledger for the whole report: no ingest changes it meanwhile.
    let _lock = crate::store::lock::LedgerLock::for_connection(conn, LockMode::Shared)
        .map_err(ReportError::Lock)?;
    let data = match format {
        // The page shows the first rows of each part; the workbook has them all.
        Format::Html => gather_with(
            conn,
            policies,
            opts,
            Scope::Overview {
                rows: html::HTML_MAX_ROWS,
            },
            progress,
        )?,
        // The workbook lists every case and its evidence in sheets; the drill-down is HTML's.
        Format::Xlsx => gather_with(
            conn,
            policies,
            &ReportOptions {
                detailed_cases: 0,
                ..opts.clone()
            },
            Scope::Full,
            progress,
        )?,
    };
    progress(Phase::Write);
    match format {
        Format::Html => {
            let write = |path: &Path| -> std::io::Result<()> {
                let mut out =
                    std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
                html::write(&mut out, &data, opts)?;
                std::io::Write::flush(&mut out)
            };
            write(path).map_err(|source| ReportError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Format::Xlsx => xlsx::write(&data, path)?,
    }
    Ok(data)
}
