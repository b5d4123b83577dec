//! The rows of the Parquet hand-off (`claimsweep export ledger`): claims with their resolved
//! person, flags one row per flagged claim, and cases, each read in the ledger state the sweep
//! judged and streamed in county order so the writer holds one county at a time.

use super::read::LedgerState;
use crate::model::Fen;
use rusqlite::Connection;

/// One claim as the hand-off writes it.
#[derive(Clone, Debug, Default)]
pub struct HandoffClaim {
    pub claim_id: String,
    pub id_number: String,
    /// The resolved person of the sweep: its smallest ID number (`person_ids`), else the
    /// claim's own ID number.
    pub person: String,
    pub name: String,
    pub phone: String,
    pub bank_account: String,
    pub category: String,
    pub county_code: String,
    pub institution_id: String,
    pub class_id: String,
    pub subsidy_type: String,
    pub occupation_code: String,
    pub level: Option<i64>,
    pub cert_no: String,
    pub funding_source: String,
    pub amount_fen: Fen,
    pub living_days: i64,
    pub living_amount_fen: Fen,
    pub claim_date: String,
}

/// Every claim of `state`, ordered by county then claim id, with its person of `sweep_id`.
pub fn for_each_claim<E: From<rusqlite::Error>>(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    mut f: impl FnMut(HandoffClaim) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!(
        "SELECT c.claim_id, c.id_number, COALESCE(p.person, c.id_number), c.name, c.phone,
                c.bank_account, COALESCE(c.category, ''), c.county_code, c.institution_id,
                c.class_id, COALESCE(c.subsidy_type, ''), c.occupation_code, c.level, c.cert_no,
                COALESCE(c.funding_source, ''), c.amount_fen, c.living_days, c.living_amount_fen,
                c.claim_date
         FROM {} c LEFT JOIN person_ids p ON p.sweep_id = ?1 AND p.id_number = c.id_number
         ORDER BY c.county_code, c.claim_id",
        state.table("claims")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([sweep_id])?;
    while let Some(r) = rows.next()? {
        f(HandoffClaim {
            claim_id: r.get(0)?,
            id_number: r.get(1)?,
            person: r.get(2)?,
            name: r.get(3)?,
            phone: r.get(4)?,
            bank_account: r.get(5)?,
            category: r.get(6)?,
            county_code: r.get(7)?,
            institution_id: r.get(8)?,
            class_id: r.get(9)?,
            subsidy_type: r.get(10)?,
            occupation_code: r.get(11)?,
            level: r.get(12)?,
            cert_no: r.get(13)?,
            funding_source: r.get(14)?,
            amount_fen: r.get(15)?,
            living_days: r.get(16)?,
            living_amount_fen: r.get(17)?,
            claim_date: r.get(18)?,
        })?;
    }
    Ok(())
}

/// One flagged claim: the flag's fields beside the claim, its county and person.
#[derive(Clone, Debug, Default)]
pub struct HandoffFlag {
    pub seq: i64,
    pub rule: String,
    pub subject_kind: String,
    pub subject: String,
    pub severity: String,
    /// The flag's whole amount at risk (not this claim's share).
    pub amount_at_risk_fen: Fen,
    pub claim_id: String,
    pub county_code: String,
    pub person: String,
}

/// Every (flag, claim) pair of `sweep_id`, ordered by county, flag and claim.
pub fn for_each_flagged_claim<E: From<rusqlite::Error>>(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    mut f: impl FnMut(HandoffFlag) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!(
        "SELECT f.seq, f.rule, f.subject_kind, f.subject, f.severity, f.amount_at_risk_fen,
                fc.claim_id, COALESCE(c.county_code, ''),
                COALESCE(p.person, c.id_number, '')
         FROM ({}) fc
         JOIN flags f ON f.sweep_id = ?1 AND f.seq = fc.seq
         LEFT JOIN {} c ON c.claim_id = fc.claim_id
         LEFT JOIN person_ids p ON p.sweep_id = ?1 AND p.id_number = c.id_number
         ORDER BY 8, f.seq, fc.claim_id",
        super::flags::flag_claim_pairs_sql(conn, sweep_id)?,
        state.table("claims")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([sweep_id])?;
    while let Some(r) = rows.next()? {
        f(HandoffFlag {
            seq: r.get(0)?,
            rule: r.get(1)?,
            subject_kind: r.get(2)?,
            subject: r.get(3)?,
            severity: r.get(4)?,
            amount_at_risk_fen: r.get(5)?,
            claim_id: r.get(6)?,
            county_code: r.get(7)?,
            person: r.get(8)?,
        })?;
    }
    Ok(())
}

/// One case of a sweep.
#[derive(Clone, Debug, Default)]
pub struct HandoffCase {
    pub case_id: i64,
    pub case_key: String,
    pub subject_kind: String,
    pub subject: String,
    pub rule_family: String,
    pub status: String,
    pub change: String,
    pub score: f64,
    pub amount_at_risk_fen: Fen,
    /// ';'-separated.
    pub rules: String,
    /// ';'-separated.
    pub claim_ids: String,
}

/// The cases of `sweep_id` (resolved ones included, with their change), ordered by subject
/// kind then case id.
pub fn for_each_case<E: From<rusqlite::Error>>(
    conn: &Connection,
    sweep_id: i64,
    mut f: impl FnMut(HandoffCase) -> Result<(), E>,
) -> Result<(), E> {
    let mut stmt = conn.prepare(
        "SELECT c.case_id, c.case_key, c.subject_kind, c.subject, c.rule_family, c.status,
                s.change, s.score, s.amount_at_risk_fen, s.rules, s.claim_ids
         FROM case_sweeps s JOIN cases c ON c.case_id = s.case_id
         WHERE s.sweep_id = ?1 ORDER BY c.subject_kind, c.case_id",
    )?;
    let mut rows = stmt.query([sweep_id])?;
    while let Some(r) = rows.next()? {
        f(HandoffCase {
            case_id: r.get(0)?,
            case_key: r.get(1)?,
            subject_kind: r.get(2)?,
            subject: r.get(3)?,
            rule_family: r.get(4)?,
            status: r.get(5)?,
            change: r.get(6)?,
            score: r.get(7)?,
            amount_at_risk_fen: r.get(8)?,
            rules: r.get(9)?,
            claim_ids: r.get(10)?,
        })?;
    }
    Ok(())
}
