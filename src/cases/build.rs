//! Building the cases of one sweep from its stored flags.
//!
//! Grouping (subject of the case ← flag):
//! - `project` flags → the class (`class:<class_id>`), family `project`;
//! - `contact` flags → the phone or bank account (`contact:<phone:…|bank:…>`), family `network`;
//! - every other flag (person, person_year, claim) → the person: the ID number of its claims
//!   (the smallest one when a flag spans several, as `multi_id` does), family of its rule;
//! - rings stored by the graph stage (`rings`/`ring_members`) → `ring:<smallest member>`.
//!
//! Amount at risk counts each claim once: a flag's amount is spread over its claims in
//! proportion to what each claim paid (amount + living allowance); a claim flagged by several
//! rules of one case counts with the largest share any of them gives it, never the sum.
//!
//! Score = weight of the most severe rule × (1 + breadth_bonus × (distinct rules − 1))
//!         × amount at risk in yuan, with the weights of the policy's `[cases]` section
//! (Linyi: high 3, medium 2, low 1, breadth bonus 0.25). Money weighs most; a case that
//! several independent rules agree on ranks above one rule. The score orders the inspectors'
//! queue only; it decides nothing.

use super::{rule_family, CaseError, Change, Status};
use crate::dates::now_timestamp;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::{CasesPolicy, PolicySet, Severity};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The actor of history entries written by the sweep itself.
pub const SYSTEM_ACTOR: &str = "system";

/// What building the cases of one sweep did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    pub sweep_id: i64,
    /// Cases found in this sweep.
    pub cases: usize,
    pub new: usize,
    pub persisting: usize,
    pub reopened: usize,
    /// Found in the previous sweep, not in this one.
    pub resolved: usize,
    /// Dismissed cases found again with no new evidence: they stay dismissed.
    pub kept_dismissed: usize,
    /// Sum over the cases of this sweep (a claim in two cases counts in both).
    pub amount_at_risk_fen: Fen,
    pub flags: usize,
    /// Ring and institution cases opened from the graph's findings.
    #[serde(default)]
    pub graph_cases: usize,
}

/// Weight of a severity in the score (policy `[cases]`).
pub fn weight_of(policy: &CasesPolicy, severity: Severity) -> f64 {
    match severity {
        Severity::High => policy.weight_high,
        Severity::Medium => policy.weight_medium,
        Severity::Low => policy.weight_low,
    }
}

/// Weight of a severity as stored in `flags.severity`; an unknown one weighs as low.
pub fn severity_weight(policy: &CasesPolicy, severity: &str) -> f64 {
    let sev = match severity {
        "high" => Severity::High,
        "medium" => Severity::Medium,
        _ => Severity::Low,
    };
    weight_of(policy, sev)
}

/// The documented score of a case (module documentation).
pub fn score(policy: &CasesPolicy, max_weight: f64, distinct_rules: usize, amount: Fen) -> f64 {
    let breadth = 1.0 + policy.breadth_bonus * (distinct_rules.saturating_sub(1)) as f64;
    let raw = max_weight * breadth * amount as f64 / 100.0;
    (raw * 100.0).round() / 100.0
}

/// Evidence fingerprint: sorted claim ids and rules. Same fingerprint, same evidence.
pub fn evidence_hash(claim_ids: &BTreeSet<String>, rules: &BTreeSet<String>) -> String {
    let mut h = Sha256::new();
    for c in claim_ids {
        h.update(c.as_bytes());
        h.update([0u8]);
    }
    h.update([1u8]);
    for r in rules {
        h.update(r.as_bytes());
        h.update([0u8]);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

struct StoredFlag {
    seq: i64,
    rule: String,
    subject_kind: String,
    subject: String,
    claim_ids: Vec<String>,
    amount: Fen,
    severity: String,
}

#[derive(Clone, Default)]
struct ClaimFacts {
    id_number: String,
    paid: Fen,
    county_code: String,
    institution_id: String,
}

#[derive(Default)]
struct CaseBuild {
    subject_kind: String,
    subject: String,
    family: String,
    seqs: Vec<i64>,
    rules: BTreeSet<String>,
    max_weight: f64,
    /// claim id → amount at risk of that claim in this case
    claim_risk: BTreeMap<String, Fen>,
    county_code: String,
    institution_id: String,
    /// Graph rings behind a ring case.
    ring_ids: Vec<i64>,
    /// Rank in the graph's institution risk, for institution cases.
    institution_rank: Option<i64>,
}

impl CaseBuild {
    fn key(&self) -> String {
        case_key(&self.subject_kind, &self.subject, &self.family)
    }
    fn amount(&self) -> Fen {
        self.claim_risk.values().sum()
    }
    fn claim_set(&self) -> BTreeSet<String> {
        self.claim_risk.keys().cloned().collect()
    }
}

pub fn case_key(subject_kind: &str, subject: &str, family: &str) -> String {
    format!("{subject_kind}:{subject}:{family}")
}

/// Spreads a flag's amount over its claims in proportion to what each paid; the remainder of
/// the integer division goes to the last claim so the shares add up to the flag's amount.
fn spread(amount: Fen, paid: &[Fen]) -> Vec<Fen> {
    if paid.is_empty() {
        return Vec::new();
    }
    let total: i128 = paid.iter().map(|&p| p.max(0) as i128).sum();
    let mut shares: Vec<Fen> = if total == 0 {
        vec![amount / paid.len() as Fen; paid.len()]
    } else {
        paid.iter()
            .map(|&p| ((amount as i128 * p.max(0) as i128) / total) as Fen)
            .collect()
    };
    let given: Fen = shares.iter().sum();
    if let Some(last) = shares.last_mut() {
        *last += amount - given;
    }
    shares
}

fn load_flags(conn: &Connection, sweep_id: i64) -> Result<Vec<StoredFlag>, CaseError> {
    let mut stmt = conn.prepare(
        "SELECT seq, rule, subject_kind, subject, claim_ids, amount_at_risk_fen, severity
         FROM flags WHERE sweep_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt.query_map([sweep_id], |r| {
        let ids: String = r.get(4)?;
        Ok(StoredFlag {
            seq: r.get(0)?,
            rule: r.get(1)?,
            subject_kind: r.get(2)?,
            subject: r.get(3)?,
            claim_ids: ids
                .split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            amount: r.get(5)?,
            severity: r.get(6)?,
        })
    })?;
    let mut flags = rows.collect::<Result<Vec<_>, _>>()?;
    // A flag whose claim_ids column is empty may still list its claims in flag_claims.
    let mut by_seq = conn.prepare(
        "SELECT claim_id FROM flag_claims WHERE sweep_id = ?1 AND seq = ?2 ORDER BY claim_id",
    )?;
    for f in flags.iter_mut().filter(|f| f.claim_ids.is_empty()) {
        f.claim_ids = by_seq
            .query_map(params![sweep_id, f.seq], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
    }
    Ok(flags)
}

fn claim_facts_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ClaimFacts> {
    Ok(ClaimFacts {
        id_number: r.get(first)?,
        paid: r.get(first + 1)?,
        county_code: r.get(first + 2)?,
        institution_id: r.get(first + 3)?,
    })
}

/// Facts of every claim the flags name. The claims listed in `flag_claims` come in one query
/// (the lookups run inside SQLite); any other claim a flag names is looked up on its own.
fn load_claim_facts(
    conn: &Connection,
    sweep_id: i64,
    flags: &[StoredFlag],
) -> Result<HashMap<String, ClaimFacts>, CaseError> {
    let mut facts: HashMap<String, ClaimFacts> = HashMap::new();
    {
        let mut bulk = conn.prepare(
            "SELECT claim_id, id_number, amount_fen + living_amount_fen, county_code, institution_id
             FROM claims WHERE claim_id IN (SELECT claim_id FROM flag_claims WHERE sweep_id = ?1)",
        )?;
        let mut rows = bulk.query([sweep_id])?;
        while let Some(r) = rows.next()? {
            facts.insert(r.get(0)?, claim_facts_row(r, 1)?);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT id_number, amount_fen + living_amount_fen, county_code, institution_id
         FROM claims WHERE claim_id = ?1",
    )?;
    for f in flags {
        for c in &f.claim_ids {
            if facts.contains_key(c) {
                continue;
            }
            let row = stmt.query_row([c], |r| claim_facts_row(r, 0)).optional()?;
            // A flag naming a claim that is not in the ledger still counts it, with no amount
            // of its own; the flag's amount is then spread evenly.
            facts.insert(c.clone(), row.unwrap_or_default());
        }
    }
    Ok(facts)
}

/// The most frequent non-empty value, ties broken by the smallest.
fn mode<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values.filter(|v| !v.is_empty()) {
        *counts.entry(v).or_default() += 1;
    }
    let mut best: Option<(&str, usize)> = None;
    for (v, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((v, n));
        }
    }
    best.map(|(v, _)| v.to_string()).unwrap_or_default()
}

fn subject_of(flag: &StoredFlag, facts: &HashMap<String, ClaimFacts>) -> (String, String, String) {
    match flag.subject_kind.as_str() {
        "project" => ("class".into(), flag.subject.clone(), "project".into()),
        "contact" => ("contact".into(), flag.subject.clone(), "network".into()),
        _ => {
            let person = flag
                .claim_ids
                .iter()
                .filter_map(|c| facts.get(c))
                .map(|f| f.id_number.as_str())
                .filter(|s| !s.is_empty())
                .min()
                .map(String::from)
                .unwrap_or_else(|| flag.subject.clone());
            ("person".into(), person, rule_family(&flag.rule).into())
        }
    }
}

fn group(
    conn: &Connection,
    flags: &[StoredFlag],
    facts: &HashMap<String, ClaimFacts>,
    policy: &CasesPolicy,
) -> Result<BTreeMap<String, CaseBuild>, CaseError> {
    let mut cases: BTreeMap<String, CaseBuild> = BTreeMap::new();
    for f in flags {
        let (kind, subject, family) = subject_of(f, facts);
        let key = case_key(&kind, &subject, &family);
        let case = cases.entry(key).or_insert_with(|| CaseBuild {
            subject_kind: kind,
            subject,
            family,
            ..Default::default()
        });
        case.seqs.push(f.seq);
        case.rules.insert(f.rule.clone());
        case.max_weight = case.max_weight.max(severity_weight(policy, &f.severity));
        let paid: Vec<Fen> = f
            .claim_ids
            .iter()
            .map(|c| facts.get(c).map_or(0, |x| x.paid))
            .collect();
        for (c, share) in f.claim_ids.iter().zip(spread(f.amount, &paid)) {
            let e = case.claim_risk.entry(c.clone()).or_insert(0);
            *e = (*e).max(share);
        }
    }
    let mut class_stmt =
        conn.prepare_cached("SELECT county_code, institution_id FROM classes WHERE class_id = ?1")?;
    for case in cases.values_mut() {
        let claim_facts: Vec<&ClaimFacts> = case
            .claim_risk
            .keys()
            .filter_map(|c| facts.get(c))
            .collect();
        case.county_code = mode(claim_facts.iter().map(|f| f.county_code.as_str()));
        case.institution_id = mode(claim_facts.iter().map(|f| f.institution_id.as_str()));
        if case.subject_kind == "class" {
            if let Some((county, inst)) = class_stmt
                .query_row([&case.subject], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .optional()?
            {
                if !county.is_empty() {
                    case.county_code = county;
                }
                if !inst.is_empty() {
                    case.institution_id = inst;
                }
            }
        }
    }
    Ok(cases)
}

/// Facts of `claim_ids`: from `known` (the flagged claims, loaded once) when there, else
/// looked up.
fn paid_of(
    conn: &Connection,
    known: &HashMap<String, ClaimFacts>,
    claim_ids: &[String],
) -> Result<Vec<ClaimFacts>, CaseError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id_number, amount_fen + living_amount_fen, county_code, institution_id
         FROM claims WHERE claim_id = ?1",
    )?;
    let mut out = Vec::with_capacity(claim_ids.len());
    for c in claim_ids {
        if let Some(f) = known.get(c) {
            out.push(f.clone());
            continue;
        }
        out.push(
            stmt.query_row([c], |r| claim_facts_row(r, 0))
                .optional()?
                .unwrap_or_default(),
        );
    }
    Ok(out)
}

/// Adds a graph finding's claims to a case: its amount spread over them like a flag's.
fn add_claims(case: &mut CaseBuild, claim_ids: &[String], facts: &[ClaimFacts], amount: Fen) {
    let paid: Vec<Fen> = facts.iter().map(|f| f.paid).collect();
    for (c, share) in claim_ids.iter().zip(spread(amount, &paid)) {
        let e = case.claim_risk.entry(c.clone()).or_insert(0);
        *e = (*e).max(share);
    }
}

/// Ring cases from the graph's `rings`/`ring_members`, and institution cases for the first
/// `institution_top_n` institutions of its risk ranking (`institution_risk`), when the sweep
/// stored them. A ring's subject is its smallest institution member (its smallest person when
/// it has none), so the same ring found again with one more person is the same case.
fn add_graph_cases(
    conn: &Connection,
    sweep_id: i64,
    cases: &mut BTreeMap<String, CaseBuild>,
    known: &HashMap<String, ClaimFacts>,
    policy: &CasesPolicy,
) -> Result<usize, CaseError> {
    use super::schema::table_exists;
    let mut added = 0;
    if table_exists(conn, "rings")? && table_exists(conn, "ring_members")? {
        let rings: Vec<(i64, String, Fen)> = {
            let mut stmt = conn.prepare(
                "SELECT ring_id, claim_ids, amount_fen FROM rings WHERE sweep_id = ?1 ORDER BY ring_id",
            )?;
            let rows = stmt.query_map([sweep_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut members = conn.prepare_cached(
            "SELECT kind, value FROM ring_members WHERE sweep_id = ?1 AND ring_id = ?2
             ORDER BY kind, value",
        )?;
        for (ring_id, claim_ids, amount) in rings {
            let members: Vec<(String, String)> = members
                .query_map(params![sweep_id, ring_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let smallest = |kind: &str| {
                members
                    .iter()
                    .filter(|(k, _)| k == kind)
                    .map(|(_, v)| v.clone())
                    .min()
            };
            let subject = smallest("institution")
                .or_else(|| smallest("person"))
                .unwrap_or_else(|| format!("ring{ring_id}"));
            let claim_ids: Vec<String> = split_set(&claim_ids).into_iter().collect();
            let facts = paid_of(conn, known, &claim_ids)?;
            let key = case_key("ring", &subject, "network");
            let case = cases.entry(key).or_insert_with(|| {
                added += 1;
                CaseBuild {
                    subject_kind: "ring".into(),
                    subject: subject.clone(),
                    family: "network".into(),
                    ..Default::default()
                }
            });
            case.rules.insert("ring".into());
            case.max_weight = case.max_weight.max(weight_of(policy, policy.ring_severity));
            case.ring_ids.push(ring_id);
            add_claims(case, &claim_ids, &facts, amount);
            case.county_code = smallest("county")
                .unwrap_or_else(|| mode(facts.iter().map(|f| f.county_code.as_str())));
            case.institution_id = smallest("institution")
                .unwrap_or_else(|| mode(facts.iter().map(|f| f.institution_id.as_str())));
        }
    }
    if table_exists(conn, "institution_risk")? {
        let top: Vec<(i64, String, Fen, String)> = {
            let mut stmt = conn.prepare(
                "SELECT rank, institution_id, amount_at_risk_fen, evidence_json FROM institution_risk
                 WHERE sweep_id = ?1 AND rank <= ?2 ORDER BY rank",
            )?;
            let rows = stmt.query_map(params![sweep_id, policy.institution_top_n], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        let mut county =
            conn.prepare_cached("SELECT county_code FROM institutions WHERE institution_id = ?1")?;
        for (rank, inst, amount, evidence) in top {
            let evidence: serde_json::Value = serde_json::from_str(&evidence).map_err(|e| {
                CaseError::Malformed(format!("institution_risk.evidence_json of {inst}: {e}"))
            })?;
            let mut claim_ids = BTreeSet::new();
            for term in evidence.as_array().into_iter().flatten() {
                for c in term["claim_ids"].as_array().into_iter().flatten() {
                    if let Some(c) = c.as_str() {
                        claim_ids.insert(c.to_string());
                    }
                }
            }
            let claim_ids: Vec<String> = claim_ids.into_iter().collect();
            let facts = paid_of(conn, known, &claim_ids)?;
            let mut case = CaseBuild {
                subject_kind: "institution".into(),
                subject: inst.clone(),
                family: "institution".into(),
                max_weight: weight_of(policy, policy.institution_severity),
                institution_id: inst.clone(),
                institution_rank: Some(rank),
                ..Default::default()
            };
            case.rules.insert("institution_risk".into());
            add_claims(&mut case, &claim_ids, &facts, amount);
            case.county_code = county
                .query_row([&inst], |r| r.get::<_, String>(0))
                .optional()?
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| mode(facts.iter().map(|f| f.county_code.as_str())));
            cases.insert(case.key(), case);
            added += 1;
        }
    }
    Ok(added)
}

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
            "证据未变".into()
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
            "evidence unchanged".into()
        } else {
            parts.join(", ")
        }
    }
    pub fn describe(&self) -> String {
        format!("{} / {}", self.describe_zh(), self.describe_en())
    }
}

fn split_set(s: &str) -> BTreeSet<String> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
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

fn join(set: &BTreeSet<String>) -> String {
    let mut out = String::with_capacity(set.iter().map(|x| x.len() + 1).sum());
    for (k, x) in set.iter().enumerate() {
        if k > 0 {
            out.push(';');
        }
        out.push_str(x);
    }
    out
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn append_history(
    conn: &Connection,
    case_id: i64,
    at: &str,
    actor: &str,
    action: &str,
    from: Option<Status>,
    to: Option<Status>,
    note: &str,
    sweep_id: Option<i64>,
) -> Result<(), CaseError> {
    conn.prepare_cached(
        "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, note, sweep_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        case_id,
        at,
        actor,
        action,
        from.map(Status::code),
        to.map(Status::code),
        note,
        sweep_id
    ])?;
    Ok(())
}

/// [`build_for_sweep_with`] under the `[cases]` section of the embedded default policy.
pub fn build_for_sweep(conn: &mut Connection, sweep_id: i64) -> Result<CaseSummary, CaseError> {
    let policies = PolicySet::embedded_default();
    build_for_sweep_with(conn, sweep_id, &cases_policy(&policies))
}

/// The `[cases]` section a sweep under `policies` uses: that of the latest policy in force.
pub fn cases_policy(policies: &PolicySet) -> CasesPolicy {
    match policies.policies.last() {
        Some(p) => p.cases.clone(),
        None => PolicySet::embedded_default().policies[0].cases.clone(),
    }
}

/// Groups the flags (and graph findings) of `sweep_id` into cases, compares them with the
/// previous sweep whose cases were built, and records new / persisting / reopened / resolved,
/// all in one transaction. Calling it again for a sweep already built returns the stored
/// summary.
pub fn build_for_sweep_with(
    conn: &mut Connection,
    sweep_id: i64,
    policy: &CasesPolicy,
) -> Result<CaseSummary, CaseError> {
    super::schema::ensure_schema(conn)?;
    conn.busy_timeout(super::schema::BUSY_TIMEOUT)?;
    let exists: Option<i64> = conn
        .query_row(
            "SELECT sweep_id FROM sweeps WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(CaseError::NoSweep(sweep_id));
    }
    // Grouping only reads the sweep's own rows, which never change once stored: it runs
    // before the write lock is taken, so reviewers wait only for the writes.
    let flags = load_flags(conn, sweep_id)?;
    let facts = load_claim_facts(conn, sweep_id, &flags)?;
    let mut cases = group(conn, &flags, &facts, policy)?;
    let mut summary = CaseSummary {
        sweep_id,
        flags: flags.len(),
        ..Default::default()
    };
    summary.graph_cases = add_graph_cases(conn, sweep_id, &mut cases, &facts, policy)?;

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(json) = tx
        .query_row(
            "SELECT summary_json FROM case_builds WHERE sweep_id = ?1",
            [sweep_id],
            |r| r.get::<_, String>(0),
        )
        .optional()?
    {
        return serde_json::from_str(&json)
            .map_err(|e| CaseError::Malformed(format!("case_builds.summary_json: {e}")));
    }
    let prev_sweep: Option<i64> = tx.query_row(
        "SELECT max(sweep_id) FROM case_builds WHERE sweep_id < ?1",
        [sweep_id],
        |r| r.get(0),
    )?;
    let now = now_timestamp();
    // Every stored case with the evidence of the last sweep that found it, in one query.
    type Existing = (
        i64,
        String,
        i64,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let mut existing_by_key: HashMap<String, Existing> = HashMap::new();
    {
        let mut stmt = tx.prepare(
            "SELECT c.case_key, c.case_id, c.status, c.last_sweep_id, s.claim_ids, s.rules,
                    s.amount_at_risk_fen, s.claim_hash
             FROM cases c LEFT JOIN case_sweeps s
               ON s.case_id = c.case_id AND s.sweep_id = c.last_sweep_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            existing_by_key.insert(
                r.get(0)?,
                (
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ),
            );
        }
    }
    for (key, case) in &cases {
        let rules_joined = join(&case.rules);
        let claims = case.claim_set();
        let amount = case.amount();
        let hash = evidence_hash(&claims, &case.rules);
        let case_score = score(policy, case.max_weight, case.rules.len(), amount);
        let existing = existing_by_key.remove(key.as_str());
        let (case_id, change, status, detail) = match existing {
            None => {
                tx.prepare_cached(
                    "INSERT INTO cases (case_key, subject_kind, subject, rule_family, county_code,
                       institution_id, status, first_sweep_id, last_sweep_id, created_at, updated_at,
                       score, amount_at_risk_fen, claims, rules, claim_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13)",
                )?
                .execute(params![
                    key,
                    case.subject_kind,
                    case.subject,
                    case.family,
                    case.county_code,
                    case.institution_id,
                    sweep_id,
                    now,
                    case_score,
                    amount,
                    claims.len() as i64,
                    rules_joined,
                    hash
                ])?;
                let case_id = tx.last_insert_rowid();
                let note = format!(
                    "新发现：{} 笔申领，涉及金额 {} 元 / found: {} claims, {} yuan",
                    claims.len(),
                    fen_to_yuan(amount),
                    claims.len(),
                    fen_to_yuan(amount)
                );
                append_history(
                    &tx,
                    case_id,
                    &now,
                    SYSTEM_ACTOR,
                    "created",
                    None,
                    Some(Status::Open),
                    &note,
                    Some(sweep_id),
                )?;
                summary.new += 1;
                (case_id, Change::New, Status::Open, serde_json::json!({}))
            }
            Some((case_id, status, last_sweep, old_claims, old_rules, old_amount, old_hash)) => {
                let status = Status::parse(&status).ok_or_else(|| {
                    CaseError::Malformed(format!("case {case_id}: status {status}"))
                })?;
                let d = delta(
                    &split_set(old_claims.as_deref().unwrap_or("")),
                    &split_set(old_rules.as_deref().unwrap_or("")),
                    old_amount.unwrap_or(0),
                    &claims,
                    &case.rules,
                    amount,
                );
                let same_evidence = old_hash.as_deref() == Some(hash.as_str());
                let reappeared = Some(last_sweep) != prev_sweep;
                if reappeared {
                    let note = format!(
                        "在第 {last_sweep} 次筛查后消失，本次再次发现 / gone after sweep {last_sweep}, found again"
                    );
                    append_history(
                        &tx,
                        case_id,
                        &now,
                        SYSTEM_ACTOR,
                        "reappeared",
                        Some(status),
                        Some(status),
                        &note,
                        Some(sweep_id),
                    )?;
                }
                let mut change = Change::Persisting;
                let mut new_status = status;
                if status == Status::Dismissed {
                    if d.has_new_evidence() {
                        new_status = Status::Open;
                        change = Change::Reopened;
                        let note = format!("有新证据，重新打开：{}", d.describe_zh())
                            + &format!(" / reopened on new evidence: {}", d.describe_en());
                        append_history(
                            &tx,
                            case_id,
                            &now,
                            SYSTEM_ACTOR,
                            "reopen",
                            Some(status),
                            Some(new_status),
                            &note,
                            Some(sweep_id),
                        )?;
                        summary.reopened += 1;
                    } else {
                        let why = if same_evidence {
                            "证据未变，保持已排除 / evidence unchanged, stays dismissed".to_string()
                        } else {
                            format!(
                                "无新证据（{}），保持已排除 / no new evidence ({}), stays dismissed",
                                d.describe_zh(),
                                d.describe_en()
                            )
                        };
                        append_history(
                            &tx,
                            case_id,
                            &now,
                            SYSTEM_ACTOR,
                            "keep_dismissed",
                            Some(status),
                            Some(status),
                            &why,
                            Some(sweep_id),
                        )?;
                        summary.kept_dismissed += 1;
                    }
                } else if !d.is_empty() && status != Status::Open {
                    // A decided or assigned case keeps its status; its reviewer sees what moved.
                    let note = format!(
                        "证据变化：{} / evidence changed: {}",
                        d.describe_zh(),
                        d.describe_en()
                    );
                    append_history(
                        &tx,
                        case_id,
                        &now,
                        SYSTEM_ACTOR,
                        "evidence_changed",
                        Some(status),
                        Some(status),
                        &note,
                        Some(sweep_id),
                    )?;
                }
                if change == Change::Persisting {
                    summary.persisting += 1;
                }
                tx.prepare_cached(
                    "UPDATE cases SET status = ?2, last_sweep_id = ?3, county_code = ?4,
                       institution_id = ?5, updated_at = ?6, score = ?7, amount_at_risk_fen = ?8,
                       claims = ?9, rules = ?10, claim_hash = ?11 WHERE case_id = ?1",
                )?
                .execute(params![
                    case_id,
                    new_status.code(),
                    sweep_id,
                    case.county_code,
                    case.institution_id,
                    now,
                    case_score,
                    amount,
                    claims.len() as i64,
                    rules_joined,
                    hash
                ])?;
                let detail = serde_json::json!({
                    "added_claims": d.added_claims,
                    "removed_claims": d.removed_claims,
                    "new_rules": d.new_rules,
                    "dropped_rules": d.dropped_rules,
                    "claims_delta": d.claims_delta,
                    "amount_delta_fen": d.amount_delta_fen,
                    "reappeared": reappeared,
                    "reason_zh": d.describe_zh(),
                    "reason_en": d.describe_en(),
                });
                (case_id, change, new_status, detail)
            }
        };
        let _ = status;
        let mut detail = detail;
        if !case.ring_ids.is_empty() {
            detail["ring_ids"] = serde_json::json!(case.ring_ids);
        }
        if let Some(rank) = case.institution_rank {
            detail["institution_rank"] = serde_json::json!(rank);
        }
        tx.prepare_cached(
            "INSERT INTO case_sweeps (case_id, sweep_id, change, score, amount_at_risk_fen, claims,
               claim_hash, rules, claim_ids, detail_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            case_id,
            sweep_id,
            change.code(),
            case_score,
            amount,
            claims.len() as i64,
            hash,
            rules_joined,
            join(&claims),
            detail.to_string()
        ])?;
        let mut ins = tx.prepare_cached(
            "INSERT OR IGNORE INTO case_flags (case_id, sweep_id, seq) VALUES (?1, ?2, ?3)",
        )?;
        for seq in &case.seqs {
            ins.execute(params![case_id, sweep_id, seq])?;
        }
        summary.cases += 1;
        summary.amount_at_risk_fen += amount;
    }

    // Found in the previous sweep, not in this one: resolved in this sweep. The decision
    // taken on the case stays as it was.
    if let Some(prev) = prev_sweep {
        let gone: Vec<(i64, String, i64)> = {
            let mut stmt = tx.prepare(
                "SELECT c.case_id, c.status, c.amount_at_risk_fen FROM cases c
                 WHERE c.last_sweep_id = ?1 ORDER BY c.case_id",
            )?;
            let rows = stmt.query_map([prev], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        for (case_id, status, last_amount) in gone {
            let status = Status::parse(&status)
                .ok_or_else(|| CaseError::Malformed(format!("case {case_id}: status {status}")))?;
            tx.prepare_cached(
                "INSERT INTO case_sweeps (case_id, sweep_id, change, score, amount_at_risk_fen,
                   claims, claim_hash, rules, claim_ids, detail_json)
                 VALUES (?1, ?2, 'resolved', 0, 0, 0, '', '', '', ?3)",
            )?
            .execute(params![
                case_id,
                sweep_id,
                serde_json::json!({ "last_sweep_id": prev, "last_amount_fen": last_amount })
                    .to_string()
            ])?;
            append_history(
                &tx,
                case_id,
                &now,
                SYSTEM_ACTOR,
                "resolved",
                Some(status),
                Some(status),
                "本次筛查未再发现 / not found in this sweep",
                Some(sweep_id),
            )?;
            summary.resolved += 1;
        }
    }
    tx.execute(
        "INSERT INTO case_builds (sweep_id, built_at, summary_json) VALUES (?1, ?2, ?3)",
        params![
            sweep_id,
            now,
            serde_json::to_string(&summary).map_err(|e| CaseError::Malformed(e.to_string()))?
        ],
    )?;
    tx.commit()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_keeps_the_total_and_follows_payments() {
        assert_eq!(spread(300, &[100, 200]), vec![100, 200]);
        assert_eq!(spread(100, &[1, 1, 1]), vec![33, 33, 34]);
        assert_eq!(spread(90, &[0, 0, 0]), vec![30, 30, 30]);
        assert!(spread(5, &[]).is_empty());
    }

    #[test]
    fn score_weighs_severity_breadth_and_money() {
        let p = cases_policy(&PolicySet::embedded_default());
        let high = severity_weight(&p, "high");
        assert_eq!(score(&p, high, 1, 100_000), 3000.0);
        assert_eq!(score(&p, high, 3, 100_000), 4500.0);
        let medium = severity_weight(&p, "medium");
        assert!(score(&p, medium, 1, 100_000) < score(&p, high, 1, 100_000));
        assert_eq!(score(&p, high, 1, 0), 0.0);
        assert_eq!(severity_weight(&p, "unknown"), severity_weight(&p, "low"));
    }

    #[test]
    fn delta_describes_more_claims_and_money() {
        let a: BTreeSet<String> = ["c1".to_string()].into();
        let b: BTreeSet<String> = ["c1", "c2", "c3"].iter().map(|s| s.to_string()).collect();
        let r: BTreeSet<String> = ["over_cap".to_string()].into();
        let d = delta(&a, &r, 100_000, &b, &r, 220_000);
        assert!(d.has_new_evidence());
        assert_eq!(d.describe_zh(), "新增申领 2 笔，金额增加 1200.00 元");
        assert_eq!(d.describe_en(), "2 more claims, +1200.00 yuan");
        let fewer = delta(&b, &r, 220_000, &a, &r, 100_000);
        assert!(!fewer.has_new_evidence());
    }

    #[test]
    fn mode_prefers_frequent_then_smallest() {
        assert_eq!(mode(["b", "a", "b", ""].into_iter()), "b");
        assert_eq!(mode(["b", "a"].into_iter()), "a");
        assert_eq!(mode(std::iter::empty()), "");
    }
}
