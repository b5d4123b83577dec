//! Matching a sweep's cases with the cases already stored: what is new, persisting, reopened
//! or resolved, and what changed in the evidence.

#[allow(unused_imports)]
use super::group::*;
#[allow(unused_imports)]
use super::input::*;
use super::{CaseError, Change, Status};
use crate::model::{fen_to_yuan, Fen};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// What `case_sweeps.detail_json` records of a case in one sweep: written by the sweep
/// (`write.rs`), read by the case pages (`query.rs`). A new case records only its rings or its
/// institution rank; a case found again also what changed. Fields are in key order, so the
/// stored text is a JSON object with sorted keys.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChangeDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_claims: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_delta_fen: Option<Fen>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_delta: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_rules: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub institution_rank: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_rules: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reappeared: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_claims: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ring_ids: Vec<i64>,
}

impl ChangeDetail {
    /// The detail of a case found again, with what changed.
    pub fn of_change(d: EvidenceDelta, reappeared: bool) -> ChangeDetail {
        ChangeDetail {
            reason_zh: Some(d.describe_zh()),
            reason_en: Some(d.describe_en()),
            added_claims: Some(d.added_claims),
            removed_claims: Some(d.removed_claims),
            new_rules: Some(d.new_rules),
            dropped_rules: Some(d.dropped_rules),
            claims_delta: Some(d.claims_delta),
            amount_delta_fen: Some(d.amount_delta_fen),
            reappeared: Some(reappeared),
            ..ChangeDetail::default()
        }
    }

    /// The detail as JSON, every field it has.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("strings, numbers and lists always serialise")
    }

    /// The text stored in `detail_json`. A case found again leaves out what did not move
    /// (empty lists, zero deltas, not reappeared, the unchanged reason): sweep after sweep that
    /// is all of it for almost every case, and spelling it made most of `case_sweeps`.
    /// [`ChangeDetail::for_change`] puts it back. A new case's detail has none of these fields,
    /// so its text is as it always was.
    pub fn into_stored_json(mut self) -> String {
        fn none_if_empty<T>(v: &mut Option<Vec<T>>) {
            if v.as_ref().is_some_and(|v| v.is_empty()) {
                *v = None;
            }
        }
        none_if_empty(&mut self.added_claims);
        none_if_empty(&mut self.removed_claims);
        none_if_empty(&mut self.new_rules);
        none_if_empty(&mut self.dropped_rules);
        if self.amount_delta_fen == Some(0) {
            self.amount_delta_fen = None;
        }
        if self.claims_delta == Some(0) {
            self.claims_delta = None;
        }
        if self.reappeared == Some(false) {
            self.reappeared = None;
        }
        if self.reason_zh.as_deref() == Some(UNCHANGED_ZH) {
            self.reason_zh = None;
        }
        if self.reason_en.as_deref() == Some(UNCHANGED_EN) {
            self.reason_en = None;
        }
        self.to_json()
    }

    /// A stored detail as the sweep made it: for a case found again (`change` = `persisting` or
    /// `reopened`, the stored code) what [`ChangeDetail::into_stored_json`] left out is put
    /// back; details stored before it (every field spelled) come back as they are.
    pub fn for_change(mut self, change: &str) -> ChangeDetail {
        if change == Change::Persisting.code() || change == Change::Reopened.code() {
            self.added_claims.get_or_insert_with(Vec::new);
            self.removed_claims.get_or_insert_with(Vec::new);
            self.new_rules.get_or_insert_with(Vec::new);
            self.dropped_rules.get_or_insert_with(Vec::new);
            self.amount_delta_fen.get_or_insert(0);
            self.claims_delta.get_or_insert(0);
            self.reappeared.get_or_insert(false);
            self.reason_zh
                .get_or_insert_with(|| UNCHANGED_ZH.to_string());
            self.reason_en
                .get_or_insert_with(|| UNCHANGED_EN.to_string());
        }
        self
    }

    /// A stored `detail_json`; malformed text is an error naming the case.
    pub fn parse(json: &str, case_id: i64) -> Result<ChangeDetail, CaseError> {
        serde_json::from_str(json).map_err(|e| {
            CaseError::Malformed(format!("case_sweeps.detail_json of case {case_id}: {e}"))
        })
    }
}

/// The reason of a case found again whose evidence did not change.
const UNCHANGED_ZH: &str = "证据未变";
const UNCHANGED_EN: &str = "evidence unchanged";

/// What changed in a case's evidence since the last sweep that found it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceDelta {
    pub added_claims: Vec<String>,
    pub removed_claims: Vec<String>,
    pub new_rules: Vec<String>,
    pub dropped_rules: Vec<String>,
    pub claims_delta: i64,
    pub amount_delta_fen: Fen,
}

impl EvidenceDelta {
    /// New evidence: more claims, another rule or more money. Fewer claims is not.
    pub fn has_new_evidence(&self) -> bool {
        !self.added_claims.is_empty() || !self.new_rules.is_empty() || self.amount_delta_fen > 0
    }
    pub fn is_empty(&self) -> bool {
        self.added_claims.is_empty()
            && self.removed_claims.is_empty()
            && self.new_rules.is_empty()
            && self.dropped_rules.is_empty()
            && self.amount_delta_fen == 0
    }
    /// “新增申领 2 笔，金额增加 1200.00 元”.
    pub fn describe_zh(&self) -> String {
        let mut parts = Vec::new();
        if !self.added_claims.is_empty() {
            parts.push(format!("新增申领 {} 笔", self.added_claims.len()));
        }
        if !self.removed_claims.is_empty() {
            parts.push(format!("减少申领 {} 笔", self.removed_claims.len()));
        }
        if self.amount_delta_fen > 0 {
            parts.push(format!(
                "金额增加 {} 元",
                fen_to_yuan(self.amount_delta_fen)
            ));
        } else if self.amount_delta_fen < 0 {
            parts.push(format!(
                "金额减少 {} 元",
                fen_to_yuan(-self.amount_delta_fen)
            ));
        }
        if !self.new_rules.is_empty() {
            parts.push(format!("新增规则 {}", self.new_rules.join("、")));
        }
        if !self.dropped_rules.is_empty() {
            parts.push(format!("不再触发规则 {}", self.dropped_rules.join("、")));
        }
        if parts.is_empty() {
            UNCHANGED_ZH.into()
        } else {
            parts.join("，")
        }
    }
    /// “2 more claims, +1200.00 yuan”.
    pub fn describe_en(&self) -> String {
        let mut parts = Vec::new();
        let n = self.added_claims.len();
        if n > 0 {
            parts.push(format!("{n} more claim{}", if n == 1 { "" } else { "s" }));
        }
        let n = self.removed_claims.len();
        if n > 0 {
            parts.push(format!("{n} fewer claim{}", if n == 1 { "" } else { "s" }));
        }
        if self.amount_delta_fen > 0 {
            parts.push(format!("+{} yuan", fen_to_yuan(self.amount_delta_fen)));
        } else if self.amount_delta_fen < 0 {
            parts.push(format!("-{} yuan", fen_to_yuan(-self.amount_delta_fen)));
        }
        if !self.new_rules.is_empty() {
            parts.push(format!("new rule {}", self.new_rules.join(", ")));
        }
        if !self.dropped_rules.is_empty() {
            parts.push(format!(
                "rule no longer found {}",
                self.dropped_rules.join(", ")
            ));
        }
        if parts.is_empty() {
            UNCHANGED_EN.into()
        } else {
            parts.join(", ")
        }
    }
    pub fn describe(&self) -> String {
        format!("{} / {}", self.describe_zh(), self.describe_en())
    }
}

pub fn delta(
    old_claims: &BTreeSet<String>,
    old_rules: &BTreeSet<String>,
    old_amount: Fen,
    new_claims: &BTreeSet<String>,
    new_rules: &BTreeSet<String>,
    new_amount: Fen,
) -> EvidenceDelta {
    EvidenceDelta {
        added_claims: new_claims.difference(old_claims).cloned().collect(),
        removed_claims: old_claims.difference(new_claims).cloned().collect(),
        new_rules: new_rules.difference(old_rules).cloned().collect(),
        dropped_rules: old_rules.difference(new_rules).cloned().collect(),
        claims_delta: new_claims.len() as i64 - old_claims.len() as i64,
        amount_delta_fen: new_amount - old_amount,
    }
}

/// A stored case found again, with what the last sweep that found it recorded.
pub(super) struct Existing {
    pub(super) case_id: i64,
    pub(super) status: Status,
    pub(super) last_sweep: i64,
    pub(super) old_amount: Option<Fen>,
    /// The stored fingerprint equals this sweep's.
    pub(super) same_evidence: bool,
    /// Claim ids and rules of the last sweep, kept only when the evidence changed.
    pub(super) old_evidence: Option<Box<(String, String)>>,
    /// The `cases` row already holds this sweep's county, institution, claim count, rules
    /// and fingerprint; with its `score` and `amount_at_risk_fen` (below) equal to this
    /// sweep's and its status kept, only `last_sweep_id` and `updated_at` need writing.
    pub(super) row_same_but_money: bool,
    pub(super) row_score: f64,
    pub(super) row_amount: Fen,
    /// The `cases` row holds this sweep's institution.
    pub(super) row_institution_same: bool,
}

/// A stored case the sweep before found and this one does not: resolved in this sweep.
pub(super) struct Gone {
    pub(super) case_id: i64,
    pub(super) status: String,
    pub(super) last_amount: Fen,
}

/// Stored cases in key order matched to this sweep's cases (`order`), and the cases
/// `prev_sweep` found that this sweep does not (in case id order): one ordered scan of the
/// `case_key` index.
///
/// A `cases` row keeps the figures of the last sweep that found it (written together with
/// that sweep's `case_sweeps` row), so the scan reads `cases` alone; the last sweep's claim ids
/// are looked up only for the few cases whose evidence changed.
pub(super) fn match_existing(
    tx: &Connection,
    grouped: &Grouped,
    prev_sweep: Option<i64>,
) -> Result<(Vec<Option<Existing>>, Vec<Gone>), CaseError> {
    let mut matched: Vec<Option<Existing>> = Vec::new();
    matched.resize_with(grouped.order.len(), || None);
    let mut gone = Vec::new();
    let mut stmt = tx.prepare(
        "SELECT case_key, case_id, status, last_sweep_id, county_code, institution_id, score,
                amount_at_risk_fen, claims, rules, claim_hash
         FROM cases ORDER BY case_key",
    )?;
    let mut last_evidence = tx.prepare(
        "SELECT claim_ids, rules, amount_at_risk_fen FROM case_sweeps
         WHERE case_id = ?1 AND sweep_id = ?2",
    )?;
    let mut rows = stmt.query([])?;
    let mut next = 0;
    let mut ahead = CasesAhead::new(grouped);
    while let Some(r) = rows.next()? {
        let key = text_at(r, 0)?;
        ahead.prefetch_to(next);
        while next < grouped.order.len()
            && grouped.key(&grouped.cases[grouped.order[next] as usize]) < key
        {
            next += 1;
            ahead.prefetch_to(next);
        }
        if next == grouped.order.len()
            || grouped.key(&grouped.cases[grouped.order[next] as usize]) != key
        {
            let last_sweep: i64 = r.get(3)?;
            if Some(last_sweep) == prev_sweep {
                gone.push(Gone {
                    case_id: r.get(1)?,
                    status: text_at(r, 2)?.to_string(),
                    last_amount: r.get(7)?,
                });
            }
            continue;
        }
        let case = &grouped.cases[grouped.order[next] as usize];
        let case_id: i64 = r.get(1)?;
        let status = text_at(r, 2)?;
        let status = Status::parse(status)
            .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
        let last_sweep: i64 = r.get(3)?;
        let claims = grouped.claims_of(case);
        let row_amount: Fen = r.get(7)?;
        let same_evidence = stored_fingerprint_is(r.get_ref(10)?, &grouped.digests[next]);
        let (old_amount, old_evidence) = if same_evidence {
            (Some(row_amount), None)
        } else {
            let last = last_evidence
                .query_row(params![case_id, last_sweep], |s| {
                    let text = |k| -> rusqlite::Result<String> {
                        Ok(text_or_null_at(s, k)?.unwrap_or("").to_string())
                    };
                    Ok((s.get::<_, Option<Fen>>(2)?, text(0)?, text(1)?))
                })
                .optional()?;
            match last {
                Some((amount, claim_ids, rules)) => (amount, Some(Box::new((claim_ids, rules)))),
                None => (None, Some(Box::default())),
            }
        };
        let row_institution_same = text_at(r, 5)? == grouped.texts.resolve(case.institution);
        let row_same_but_money = same_evidence
            && text_at(r, 4)? == grouped.texts.resolve(case.county)
            && row_institution_same
            && r.get::<_, i64>(8)? == claims.len() as i64
            && joins_to(text_at(r, 9)?, grouped.rules_of(case));
        matched[next] = Some(Existing {
            case_id,
            status,
            last_sweep,
            old_amount,
            same_evidence,
            old_evidence,
            row_same_but_money,
            row_score: r.get(6)?,
            row_amount,
            row_institution_same,
        });
        next += 1;
    }
    gone.sort_unstable_by_key(|g| g.case_id);
    Ok((matched, gone))
}

/// Prefetches what matching reads of the cases ahead in key order. `order` visits `cases`
/// at random, and each case's key, claims and rules are elsewhere again: waiting on memory
/// at every step, matching 1.8 M cases with the stored ones took 2.8 s of CPU at 10 M claims.
struct CasesAhead<'g> {
    grouped: &'g Grouped,
    /// Positions of `order` below this have had their cases prefetched.
    cases_to: usize,
    /// Positions below this have had their keys, claims and rules prefetched.
    parts_to: usize,
}

impl<'g> CasesAhead<'g> {
    /// How far ahead the parts are prefetched; the cases themselves twice as far, so that
    /// reading a case for its parts' addresses finds it in the cache.
    const DISTANCE: usize = 32;

    fn new(grouped: &'g Grouped) -> Self {
        CasesAhead {
            grouped,
            cases_to: 0,
            parts_to: 0,
        }
    }

    /// Prefetches for the positions up to `position` plus the distance.
    fn prefetch_to(&mut self, position: usize) {
        use crate::intern::prefetch_read;
        let g = self.grouped;
        let n = g.order.len();
        while self.cases_to < (position + 2 * Self::DISTANCE).min(n) {
            let case: *const u8 =
                (&g.cases[g.order[self.cases_to] as usize] as *const CaseBuild).cast();
            for line in (0..std::mem::size_of::<CaseBuild>()).step_by(64) {
                prefetch_read(case.wrapping_add(line));
            }
            prefetch_read(case.wrapping_add(std::mem::size_of::<CaseBuild>() - 1));
            self.cases_to += 1;
        }
        while self.parts_to < (position + Self::DISTANCE).min(n) {
            let case = &g.cases[g.order[self.parts_to] as usize];
            prefetch_read(g.key(case).as_ptr());
            if let Some(c) = g.claims.get(case.claims.start()) {
                prefetch_read(c);
            }
            if let Some(r) = g.rules.get(case.rules.start()) {
                prefetch_read(r);
            }
            self.parts_to += 1;
        }
    }
}

/// Decided runs of rows a writer may hold before the deciding thread waits.
pub(super) const RUNS_AHEAD: usize = 2;

pub(super) fn stored_summary(
    conn: &Connection,
    sweep_id: i64,
) -> Result<Option<CaseSummary>, CaseError> {
    match conn
        .query_row(
            "SELECT summary_json FROM case_builds WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get::<_, String>(0),
        )
        .optional()?
    {
        Some(json) => serde_json::from_str(&json)
            .map(Some)
            .map_err(|e| CaseError::Malformed(format!("case_builds.summary_json: {e}"))),
        None => Ok(None),
    }
}
