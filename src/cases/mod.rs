//! Cases: what inspectors work on. Each sweep groups its flags (and the graph's rings and
//! institution risk) into cases by subject and rule family; a case keeps its identity across
//! sweeps through its key, so each sweep can say what is new, what persists and what is gone,
//! and a decision taken on a case carries over while its evidence stays the same.
//!
//! This module decides (grouping, matching with the previous sweep, history notes, review
//! rules) and builds the typed rows of `store::cases`, which owns the cases tables and every
//! statement that writes them; the reading queries (`query`, `input`) stay here.
//!
//! Invariants:
//! - `case_key` = `subject_kind:subject:rule_family`; the same problem found again is the same
//!   case row.
//! - Amount at risk counts each claim once (see [`build`]).
//! - `case_history` is append-only: triggers reject UPDATE and DELETE, and no code issues them.
//! - Every review action runs in one `BEGIN IMMEDIATE` transaction, so concurrent reviewers on
//!   one database file never lose an action.

pub mod build;
pub mod group;
pub mod history;
pub mod inbox;
pub mod input;
pub mod query;
pub mod render;
pub mod review;
pub mod schema;
pub mod workflow;
pub mod write;

pub use build::{
    build_for_sweep, build_for_sweep_in_memory, build_for_sweep_with, build_prepared, cases_policy,
    extract_in_memory, extract_in_memory_consuming, prepare_in_memory, CaseInput, PreparedCases,
};
pub use group::CaseSummary;
pub use query::{
    diff, history, list, list_sweeps, show, CaseDetail, CaseFilter, CaseRow, CaseSort,
    ClaimEvidence, DiffEntry, FlagEvidence, GraphEvidence, HistoryEntry, NeighbourLink,
    RegistryEvidence, SweepDiff, SweepRow,
};
pub use review::{assign, review};
pub use schema::{ensure_schema, open_db};

pub use crate::finding::{CaseSubject, Change, Family, Status};
pub use crate::text::Lang;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("数据库错误 / database error: {0}")]
    Db(#[from] rusqlite::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{0}: 数据库文件不存在，请先运行 ingest 和 sweep / database file not found (run `claimsweep ingest` and `claimsweep sweep` first)")]
    NoDatabase(PathBuf),
    #[error("筛查 {0} 不存在或尚未生成案件 / sweep {0} not found or has no cases built")]
    NoSweep(i64),
    #[error("案件 {0} 不存在 / case {0} not found")]
    NoCase(i64),
    #[error("未知状态 `{0}`，应为 confirmed、dismissed 或 escalated / unknown status `{0}` (expected confirmed, dismissed or escalated)")]
    UnknownStatus(String),
    #[error(
        "案件 {case_id}：不能从 {from} 变为 {to} / case {case_id}: cannot go from {from} to {to}"
    )]
    InvalidTransition {
        case_id: i64,
        from: &'static str,
        to: String,
    },
    #[error("{0} 不能为空 / {0} must not be empty")]
    Empty(&'static str),
    #[error("数据库内容有误 / malformed stored data: {0}")]
    Malformed(String),
    /// The account may not take this action on this case (the web answers 403).
    #[error("无权操作 / not allowed: {0}")]
    Forbidden(String),
    #[error("账号 `{0}` 不存在或已停用 / no enabled account `{0}`")]
    NoUser(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Sweep(#[from] crate::store::flags::FlagStoreError),
}

/// The family code of a rule id (`cases.rule_family`), from the rule's descriptor.
pub fn family_code(rule: &str) -> &'static str {
    crate::rules::family_of(rule).map_or(UNKNOWN_FAMILY, Family::code)
}

/// The family of a stored flag whose rule this build does not know (a database written by
/// another version): its cases stay apart from every known family.
pub const UNKNOWN_FAMILY: &str = "other";

/// A stored family code in the reader's language (unknown codes as they are).
pub fn family_label(family: &str, lang: Lang) -> String {
    Family::parse(family)
        .map_or(family, |f| f.label(lang))
        .to_string()
}

/// A stored case subject kind in the reader's language (unknown codes as they are).
pub fn subject_kind_label(kind: &str, lang: Lang) -> String {
    CaseSubject::parse(kind)
        .map_or(kind, |k| k.label(lang))
        .to_string()
}
