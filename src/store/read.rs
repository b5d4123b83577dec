//! Typed reads of the ledger for the readers downstream (the report, `cases show`): each
//! function runs one statement against the ledger tables (`claims`, `institutions`, `staff`,
//! `registry_*`, …) or the ingest bookkeeping and hands back small row structs, so no reader
//! writes SQL against the ledger. Every query orders its rows explicitly where order matters.
//!
//! Statements run per row of a caller's loop (a ring member, a claim id) are prepared cached:
//! the first call prepares them, later calls reuse them.
//!
//! Every reader of ledger rows takes the [`LedgerState`] to read: a report or a case page of a
//! sweep reads the ledger as that sweep judged it (`LedgerState::of_sweep`), not as later
//! ingests left it.

pub use super::history::LedgerState;
use super::lookup;
use super::StoreError;
use crate::model::Fen;
use rusqlite::{params, Connection, OptionalExtension};

/// A JSON array of strings, for `IN (SELECT value FROM json_each(?))`: one query per table
/// however many values a caller asks about.
pub fn json_list<'a>(values: impl Iterator<Item = &'a str>) -> String {
    serde_json::Value::from(values.collect::<Vec<_>>()).to_string()
}

/// What one claim adds to the report's breakdowns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimPaid {
    pub claim_id: String,
    /// The resolved person of the sweep (`person_ids`), else the claim's ID number.
    pub person: String,
    pub county_code: String,
    pub institution_id: String,
    /// `funding_source`, empty when the ledger has none.
    pub fund: String,
    /// Amount + living allowance.
    pub paid_fen: Fen,
}

/// Every claim with what it paid, in claim id order, each handed to `f`. A person is a
/// resolved person of `sweep_id`: one person under several ID numbers is one person.
pub fn for_each_claim_paid(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    mut f: impl FnMut(ClaimPaid),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT c.claim_id, coalesce(p.person, c.id_number), c.county_code, c.institution_id,
                coalesce(c.funding_source, ''), c.amount_fen + c.living_amount_fen
         FROM {} c
         LEFT JOIN person_ids p ON p.sweep_id = ?1 AND p.id_number = c.id_number
         ORDER BY c.claim_id",
        state.table("claims")
    ))?;
    let rows = stmt.query_map([sweep_id], |r| {
        Ok(ClaimPaid {
            claim_id: r.get(0)?,
            person: r.get(1)?,
            county_code: r.get(2)?,
            institution_id: r.get(3)?,
            fund: r.get(4)?,
            paid_fen: r.get(5)?,
        })
    })?;
    for row in rows {
        f(row?);
    }
    Ok(())
}

/// A text column borrowed from its row; NULL reads as empty (history rows may hold NULL
/// where the current table has a default).
fn text<'r>(r: &'r rusqlite::Row, i: usize) -> rusqlite::Result<&'r str> {
    use rusqlite::types::{Type, ValueRef};
    match r.get_ref(i)? {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(rusqlite::Error::Utf8Error),
        ValueRef::Null => Ok(""),
        other => Err(rusqlite::Error::InvalidColumnType(
            i,
            String::new(),
            match other {
                ValueRef::Integer(_) => Type::Integer,
                ValueRef::Real(_) => Type::Real,
                _ => Type::Blob,
            },
        )),
    }
}

/// One claim as the report's single pass over the ledger sees it, borrowed from the row (no
/// allocation per claim: two million claims are read in one statement).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClaimFacts<'r> {
    pub claim_id: &'r str,
    pub id_number: &'r str,
    /// The resolved person of the sweep (`person_ids`), else the claim's ID number.
    pub person: &'r str,
    pub name: &'r str,
    pub phone: &'r str,
    pub bank_account: &'r str,
    pub county_code: &'r str,
    pub institution_id: &'r str,
    /// `funding_source`, empty when the ledger has none.
    pub fund: &'r str,
    /// Amount + living allowance.
    pub paid_fen: Fen,
    /// The year of the claim date (as [`year_counts`] reads it).
    pub year: i32,
    pub level: Option<i64>,
}

/// Every claim of the ledger state with its person, ties, what it paid, year and level, in
/// storage order (not claim id order: walking the claim id index costs a random read per
/// claim), each handed to `f`: what [`for_each_claim_paid`], [`year_counts`] and
/// [`claim_ties_of_person`] give, in one pass.
pub fn for_each_claim_facts(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    mut f: impl FnMut(&ClaimFacts),
) -> Result<(), StoreError> {
    // The sweep's merged ID numbers (few) in memory: a join would look each claim up.
    let mut person_of: hashbrown::HashMap<String, String> = hashbrown::HashMap::new();
    let mut stmt = conn.prepare("SELECT id_number, person FROM person_ids WHERE sweep_id = ?1")?;
    let mut rows = stmt.query([sweep_id])?;
    while let Some(r) = rows.next()? {
        person_of.insert(text(r, 0)?.to_string(), text(r, 1)?.to_string());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT c.claim_id, c.id_number, c.name, c.phone,
                c.bank_account, c.county_code, c.institution_id, coalesce(c.funding_source, ''),
                c.amount_fen + c.living_amount_fen, CAST(substr(c.claim_date, 1, 4) AS INTEGER),
                c.level
         FROM {} c",
        state.table("claims")
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id_number = text(r, 1)?;
        f(&ClaimFacts {
            claim_id: text(r, 0)?,
            id_number,
            person: person_of.get(id_number).map_or(id_number, String::as_str),
            name: text(r, 2)?,
            phone: text(r, 3)?,
            bank_account: text(r, 4)?,
            county_code: text(r, 5)?,
            institution_id: text(r, 6)?,
            fund: text(r, 7)?,
            paid_fen: r.get::<_, Option<Fen>>(8)?.unwrap_or(0),
            year: r.get::<_, Option<i32>>(9)?.unwrap_or(0),
            level: r.get(10)?,
        });
    }
    Ok(())
}

/// What a flag puts at risk, borrowed from the row: its rule, severity, `;`-separated claim
/// ids and amount.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlagMoney<'r> {
    pub rule: &'r str,
    pub severity: &'r str,
    pub claim_ids: &'r str,
    pub amount_at_risk_fen: Fen,
}

/// Every flag of a sweep in flag order, without its explanations (the report's totals need
/// only the money).
pub fn for_each_flag_money(
    conn: &Connection,
    sweep_id: i64,
    mut f: impl FnMut(&FlagMoney),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(
        "SELECT rule, severity, claim_ids, amount_at_risk_fen FROM flags
         WHERE sweep_id = ?1 ORDER BY seq",
    )?;
    let mut rows = stmt.query([sweep_id])?;
    while let Some(r) = rows.next()? {
        f(&FlagMoney {
            rule: text(r, 0)?,
            severity: text(r, 1)?,
            claim_ids: text(r, 2)?,
            amount_at_risk_fen: r.get(3)?,
        });
    }
    Ok(())
}

/// Claim counts of one year (and one county, or the whole city).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YearCounts {
    /// Empty for the city-wide counts.
    pub county_code: String,
    /// The year of the claim date.
    pub year: i32,
    pub claims: i64,
    /// Distinct resolved persons of the sweep.
    pub persons: i64,
    /// Claims with a skill level (1–5).
    pub with_level: i64,
    /// Claims with a high skill level (1–3).
    pub high_skill: i64,
    /// Amount + living allowance.
    pub paid_fen: Fen,
}

/// Claims counted per year of their claim date, per county when `by_county` (else one
/// city-wide row per year), ordered by year then county.
pub fn year_counts(
    conn: &Connection,
    state: &LedgerState,
    sweep_id: i64,
    by_county: bool,
) -> Result<Vec<YearCounts>, StoreError> {
    let county = if by_county { "c.county_code" } else { "''" };
    let claims = state.table("claims");
    let mut stmt = conn.prepare(&format!(
        "SELECT {county}, CAST(substr(c.claim_date, 1, 4) AS INTEGER) AS y, count(*),
                count(DISTINCT coalesce(p.person, c.id_number)),
                sum(CASE WHEN c.level BETWEEN 1 AND 5 THEN 1 ELSE 0 END),
                sum(CASE WHEN c.level BETWEEN 1 AND 3 THEN 1 ELSE 0 END),
                sum(c.amount_fen + c.living_amount_fen)
         FROM {claims} c
         LEFT JOIN person_ids p ON p.sweep_id = ?1 AND p.id_number = c.id_number
         GROUP BY 1, 2 ORDER BY 2, 1"
    ))?;
    let rows = stmt.query_map([sweep_id], |r| {
        Ok(YearCounts {
            county_code: r.get(0)?,
            year: r.get(1)?,
            claims: r.get(2)?,
            persons: r.get(3)?,
            with_level: r.get(4)?,
            high_skill: r.get(5)?,
            paid_fen: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An institution's name and county.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstitutionName {
    pub institution_id: String,
    pub name: String,
    pub county_code: String,
}

/// Every institution's name and county (no particular order).
pub fn institution_names(
    conn: &Connection,
    state: &LedgerState,
) -> Result<Vec<InstitutionName>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT institution_id, name, county_code FROM {}",
        state.table("institutions")
    ))?;
    let rows = stmt.query_map([], |r| {
        Ok(InstitutionName {
            institution_id: r.get(0)?,
            name: r.get(1)?,
            county_code: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What ties one claim to others: who claimed, through which phone, account, institution
/// and county.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClaimTies {
    pub name: String,
    pub phone: String,
    pub bank_account: String,
    pub institution_id: String,
    pub county_code: String,
}

/// The ties of every claim under one ID number, in claim id order.
pub fn claim_ties_of_person(
    conn: &Connection,
    state: &LedgerState,
    id_number: &str,
) -> Result<Vec<ClaimTies>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT name, phone, bank_account, institution_id, county_code
         FROM {} WHERE {} ORDER BY claim_id",
        state.table("claims"),
        lookup::ID_NUMBER.equals("", "?1")
    ))?;
    let rows = stmt.query_map([id_number], |r| {
        Ok(ClaimTies {
            name: r.get(0)?,
            phone: r.get(1)?,
            bank_account: r.get(2)?,
            institution_id: r.get(3)?,
            county_code: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What ties an institution to others: its phone, legal representative and county.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InstitutionTies {
    pub phone: String,
    pub legal_rep_id: String,
    pub county_code: String,
}

/// The ties of one institution; None when the ledger does not have it.
pub fn institution_ties(
    conn: &Connection,
    state: &LedgerState,
    institution_id: &str,
) -> Result<Option<InstitutionTies>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT phone, legal_rep_id, county_code FROM {} WHERE institution_id = ?1",
        state.table("institutions")
    ))?;
    Ok(stmt
        .query_row([institution_id], |r| {
            Ok(InstitutionTies {
                phone: r.get(0)?,
                legal_rep_id: r.get(1)?,
                county_code: r.get(2)?,
            })
        })
        .optional()?)
}

/// Rows the ingests rejected, over all ingests.
pub fn rejected_rows(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT count(*) FROM rejects", [], |r| r.get(0))?)
}

/// The key fields of one claim of the ledger.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ClaimRecord {
    pub claim_id: String,
    pub id_number: String,
    pub name: String,
    pub phone: String,
    pub bank_account: String,
    /// Empty when the ledger has none.
    pub category: String,
    pub county_code: String,
    pub institution_id: String,
    pub class_id: String,
    /// Empty when the ledger has none.
    pub subsidy_type: String,
    pub occupation_code: String,
    pub level: Option<i64>,
    pub cert_no: String,
    pub amount_fen: Fen,
    pub living_amount_fen: Fen,
    pub claim_date: String,
}

/// The claims with these ids, one entry per id in the order given: None where the ledger has
/// no such claim.
pub fn claims_by_ids<S: AsRef<str>>(
    conn: &Connection,
    state: &LedgerState,
    ids: &[S],
) -> Result<Vec<Option<ClaimRecord>>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id_number, name, phone, bank_account, coalesce(category, ''), county_code,
                institution_id, class_id, coalesce(subsidy_type, ''), occupation_code, level,
                cert_no, amount_fen, living_amount_fen, claim_date
         FROM {} WHERE claim_id = ?1",
        state.table("claims")
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id.as_ref();
        let found = stmt
            .query_row([id], |r| {
                Ok(ClaimRecord {
                    claim_id: id.to_string(),
                    id_number: r.get(0)?,
                    name: r.get(1)?,
                    phone: r.get(2)?,
                    bank_account: r.get(3)?,
                    category: r.get(4)?,
                    county_code: r.get(5)?,
                    institution_id: r.get(6)?,
                    class_id: r.get(7)?,
                    subsidy_type: r.get(8)?,
                    occupation_code: r.get(9)?,
                    level: r.get(10)?,
                    cert_no: r.get(11)?,
                    amount_fen: r.get(12)?,
                    living_amount_fen: r.get(13)?,
                    claim_date: r.get(14)?,
                })
            })
            .optional()?;
        out.push(found);
    }
    Ok(out)
}

/// A row of `registry_ui`: contributions paid as of a date.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UiRow {
    pub id_number: String,
    pub months_paid: i64,
    pub as_of: String,
}

/// A row of `staff`: the person works at the institution.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StaffRow {
    pub id_number: String,
    pub institution_id: String,
    pub role: String,
}

/// What the registers and the institution tables hold about a set of persons.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PersonRegisters {
    /// (ID number, death date), `registry_death`.
    pub deaths: Vec<(String, String)>,
    /// (ID number, pension start date), `registry_pension`.
    pub pensions: Vec<(String, String)>,
    /// By ID number, latest first.
    pub ui: Vec<UiRow>,
    /// ID numbers in `registry_poverty`.
    pub poverty: Vec<String>,
    /// By ID number, then institution.
    pub staff: Vec<StaffRow>,
    /// (legal representative's ID number, institution id), by ID number then institution.
    pub legal_reps: Vec<(String, String)>,
}

/// The register rows of these ID numbers: one query per table.
pub fn registers_of<'a>(
    conn: &Connection,
    state: &LedgerState,
    id_numbers: impl Iterator<Item = &'a str>,
) -> Result<PersonRegisters, StoreError> {
    let death = state.table("registry_death");
    let pension = state.table("registry_pension");
    let ui = state.table("registry_ui");
    let poverty = state.table("registry_poverty");
    let staff = state.table("staff");
    let institutions = state.table("institutions");
    let ids = json_list(id_numbers);
    const IN_IDS: &str = "IN (SELECT value FROM json_each(?1))";
    let pairs = |sql: &str| -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map([&ids], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let deaths = pairs(&format!(
        "SELECT id_number, death_date FROM {death} WHERE id_number {IN_IDS}"
    ))?;
    let pensions = pairs(&format!(
        "SELECT id_number, start_date FROM {pension} WHERE id_number {IN_IDS}"
    ))?;
    let ui = {
        let mut stmt = conn.prepare(&format!(
            "SELECT id_number, as_of, months_paid FROM {ui} WHERE id_number {IN_IDS}
             ORDER BY id_number, as_of DESC"
        ))?;
        let rows = stmt.query_map([&ids], |r| {
            Ok(UiRow {
                id_number: r.get(0)?,
                as_of: r.get(1)?,
                months_paid: r.get(2)?,
            })
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let poverty = {
        let mut stmt = conn.prepare(&format!(
            "SELECT id_number FROM {poverty} WHERE id_number {IN_IDS}"
        ))?;
        let rows = stmt.query_map([&ids], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let staff = {
        let mut stmt = conn.prepare(&format!(
            "SELECT id_number, institution_id, role FROM {staff} WHERE id_number {IN_IDS}
             ORDER BY id_number, institution_id"
        ))?;
        let rows = stmt.query_map([&ids], |r| {
            Ok(StaffRow {
                id_number: r.get(0)?,
                institution_id: r.get(1)?,
                role: r.get(2)?,
            })
        })?;
        rows.collect::<Result<_, _>>()?
    };
    let legal_reps = pairs(&format!(
        "SELECT legal_rep_id, institution_id FROM {institutions} WHERE legal_rep_id {IN_IDS}
         ORDER BY legal_rep_id, institution_id"
    ))?;
    Ok(PersonRegisters {
        deaths,
        pensions,
        ui,
        poverty,
        staff,
        legal_reps,
    })
}

/// An identifier claims can share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contact {
    Phone,
    BankAccount,
}

impl Contact {
    /// The `claims` column, and the code readers show (`phone` | `bank_account`).
    pub fn column(self) -> &'static str {
        self.lookup().column
    }

    /// How claims are looked up by it.
    fn lookup(self) -> lookup::LookupKey {
        match self {
            Contact::Phone => lookup::PHONE,
            Contact::BankAccount => lookup::BANK_ACCOUNT,
        }
    }
}

/// A person whose claims used a shared phone or account.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContactHolder {
    /// The phone or account.
    pub value: String,
    pub id_number: String,
    /// The smallest name the person claimed under with it.
    pub name: String,
    /// The person's claims with it.
    pub claims: i64,
}

/// Everyone who claimed with one of these phones (or accounts), by value then ID number.
pub fn contact_holders<'a>(
    conn: &Connection,
    state: &LedgerState,
    via: Contact,
    values: impl Iterator<Item = &'a str>,
) -> Result<Vec<ContactHolder>, StoreError> {
    // The column is one of two fixed names, never input.
    let col = via.column();
    let claims = state.table("claims");
    let within = via.lookup().within("", "value", "json_each(?1)");
    let mut stmt = conn.prepare(&format!(
        "SELECT {col}, id_number, min(name), count(*) FROM {claims}
         WHERE {within}
         GROUP BY {col}, id_number ORDER BY {col}, id_number"
    ))?;
    let rows = stmt.query_map(params![json_list(values)], |r| {
        Ok(ContactHolder {
            value: r.get(0)?,
            id_number: r.get(1)?,
            name: r.get(2)?,
            claims: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
