//! Hand-made ledgers for the rule tests: valid ID numbers, claim rows with sensible defaults,
//! and a runner that builds the snapshot, runs one rule with the embedded policy and checks
//! the invariants every flag must keep.
#![allow(dead_code)]

use claimsweep::dates::Date;
use claimsweep::idcode::id_check_char;
use claimsweep::model::*;
use claimsweep::policy::PolicySet;
use claimsweep::refdata::RefData;
use claimsweep::rules::{Flag, RuleContext};
use claimsweep::snapshot::Snapshot;

/// `2020-03-05` → Date.
pub fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap_or_else(|| panic!("bad test date {s}"))
}

/// A valid 18-digit ID number: area code, birth date `YYYYMMDD`, sequence, computed check digit.
pub fn id_in(area: &str, birth: &str, seq: u32) -> String {
    let first17 = format!("{area}{birth}{seq:03}");
    format!("{first17}{}", id_check_char(&first17).expect("17 digits"))
}

/// A valid ID number of Lanshan district (371302), born 1990-01-01, told apart by `seq`.
pub fn person(seq: u32) -> String {
    id_in("371302", "19900101", seq)
}

/// A level-certificate claim (level 5, 1000 yuan, employment fund) of `id_number` on `date`.
pub fn claim(claim_id: &str, id_number: &str, date: &str) -> ClaimRow {
    ClaimRow {
        claim_id: claim_id.into(),
        id_number: id_number.into(),
        name: "张伟".into(),
        category: Some(Category::Employee),
        county_code: "371302".into(),
        institution_id: "ORG1".into(),
        subsidy_type: Some(SubsidyType::LevelCert),
        occupation_code: "4-01-02-01".into(),
        level: Some(5),
        funding_source: Some(FundingSource::EmploymentFund),
        amount: 100_000,
        claim_date: d(date),
        ..Default::default()
    }
}

/// A class of `institution` in `county`, running from `start` to `end` (inclusive).
pub fn class(class_id: &str, institution: &str, county: &str, start: &str, end: &str) -> ClassRow {
    ClassRow {
        class_id: class_id.into(),
        institution_id: institution.into(),
        county_code: county.into(),
        occupation_code: "4-01-02-01".into(),
        level: Some(5),
        training_type: Some(SubsidyType::LevelCert),
        start_date: d(start),
        end_date: d(end),
        hours: 80,
        project_based: false,
    }
}

/// A ledger of these claims, with every table marked present (a table without rows is an
/// empty table, not a missing one).
pub fn ledger(claims: Vec<ClaimRow>) -> Ledger {
    Ledger {
        present: TABLES.iter().map(|t| t.name).collect(),
        claims,
        ..Default::default()
    }
}

/// The result of one rule on one ledger.
pub struct Run {
    pub snap: Snapshot,
    pub flags: Vec<Flag>,
}

impl Run {
    /// The claim ids of one flag.
    pub fn claim_ids(&self, f: &Flag) -> Vec<String> {
        f.claims
            .iter()
            .map(|&i| self.snap.claim_id(i as usize).to_string())
            .collect()
    }

    /// The claim ids of every flag, one list per flag, in output order.
    pub fn flagged(&self) -> Vec<Vec<String>> {
        self.flags.iter().map(|f| self.claim_ids(f)).collect()
    }

    /// All flagged claim ids, flattened.
    pub fn all_claims(&self) -> Vec<String> {
        self.flagged().into_iter().flatten().collect()
    }

    /// The one flag whose claims include `claim_id`; panics if none or several.
    pub fn flag_of(&self, claim_id: &str) -> &Flag {
        let hits: Vec<&Flag> = self
            .flags
            .iter()
            .filter(|f| self.claim_ids(f).iter().any(|c| c == claim_id))
            .collect();
        assert_eq!(
            hits.len(),
            1,
            "expected one flag with {claim_id}: {:#?}",
            self.flags
        );
        hits[0]
    }
}

/// Runs `rule` on `ledger` with the embedded Linyi policy and reference data, and checks the
/// invariants every flag keeps: its rule id, sorted unique claims, the policy's severity,
/// non-empty explanations in both languages, and the same output on a second run.
pub fn run(rule_id: &str, rule: fn(&RuleContext) -> Vec<Flag>, ledger: &Ledger) -> Run {
    let snap = Snapshot::from_ledger(ledger);
    let policies = PolicySet::embedded_default();
    let refdata = RefData::embedded();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let ctx = RuleContext {
        snap: &snap,
        policies: &policies,
        refdata,
        resolved: &resolved,
    };
    let flags = rule(&ctx);
    let policy = &policies.policies[0];
    for f in &flags {
        assert_eq!(f.rule, rule_id);
        assert!(
            f.claims.windows(2).all(|w| w[0] < w[1]),
            "claims sorted and unique: {f:?}"
        );
        assert!(!f.claims.is_empty(), "a flag names claims: {f:?}");
        assert_eq!(f.severity, policy.severity_of(rule_id));
        assert!(!f.explanation_zh.is_empty() && !f.explanation_en.is_empty());
        assert!(
            f.explanation_zh.contains(&policy.policy.document),
            "zh cites the document: {}",
            f.explanation_zh
        );
    }
    assert_eq!(rule(&ctx), flags, "the same snapshot gives the same flags");
    // Order invariant of group rules: by first claim index, then subject.
    assert!(
        flags
            .windows(2)
            .all(|w| (w[0].claims[0], &w[0].subject) <= (w[1].claims[0], &w[1].subject)),
        "flags ordered by first claim: {flags:?}"
    );
    Run { snap, flags }
}

/// Runs the real binary in `cwd`; panics with its stderr unless it succeeds; returns stdout.
pub fn claimsweep(cwd: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_claimsweep"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "claimsweep {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Every row of `sql` on the database file `db`, mapped by `row`.
pub fn query_all<T>(
    db: &std::path::Path,
    sql: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Vec<T> {
    let conn = rusqlite::Connection::open(db).expect("open the database");
    let mut stmt = conn.prepare(sql).expect("prepare");
    let rows = stmt.query_map([], row).expect("query");
    rows.collect::<Result<Vec<T>, _>>().expect("rows")
}

/// Per-table counts of the latest ingest, from `ingests.counts_json`, checked: read = loaded +
/// rejected and loaded = new + changed + unchanged.
pub fn ingest_counts(db: &std::path::Path, table: &str) -> serde_json::Value {
    let json: String = rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT counts_json FROM ingests ORDER BY ingest_id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let t = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == table)
        .cloned();
    let t = t.unwrap_or_else(|| panic!("no counts for {table} in {json}"));
    assert_eq!(
        t["read"].as_u64().unwrap(),
        t["loaded"].as_u64().unwrap() + t["rejected"].as_u64().unwrap(),
        "read = loaded + rejected for {table}"
    );
    assert_eq!(
        t["loaded"].as_u64().unwrap(),
        t["new"].as_u64().unwrap()
            + t["changed"].as_u64().unwrap()
            + t["unchanged"].as_u64().unwrap()
    );
    t
}
