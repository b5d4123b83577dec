//! The report's one pass over the ledger: every claim is read once, in one statement, and
//! folded into what the report shows about all claims (breakdown totals, the progress counts,
//! distinct persons) while the few claims the flags name, and the claims of ring members,
//! keep their facts. Nothing holds a row per claim of the ledger: two million claims fit in a
//! few dozen MB (the persons' ID numbers, interned), where a map of claim ids took a GB.

use crate::model::Fen;
use crate::money::AtRisk;
use crate::store::read::{self, ClaimTies, LedgerState};
use crate::store::StoreError;
use rusqlite::Connection;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Strings interned to dense ids in first-seen order, in one arena (no allocation per string).
#[derive(Default)]
pub struct Interner {
    arena: String,
    spans: Vec<(u32, u32)>,
    table: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl Interner {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn str(&self, id: u32) -> &str {
        let (a, b) = self.spans[id as usize];
        &self.arena[a as usize..b as usize]
    }

    pub fn get(&self, s: &str) -> Option<u32> {
        let h = self.hasher.hash_one(s);
        self.table.find(h, |&i| self.str(i) == s).copied()
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        let h = self.hasher.hash_one(s);
        let Interner {
            arena,
            spans,
            table,
            hasher,
        } = self;
        let at = |i: u32| {
            let (a, b) = spans[i as usize];
            (a as usize, b as usize)
        };
        let entry = table.entry(
            h,
            |&i| {
                let (a, b) = at(i);
                &arena[a..b] == s
            },
            |&i| {
                let (a, b) = at(i);
                hasher.hash_one(&arena[a..b])
            },
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(e) => *e.get(),
            hashbrown::hash_table::Entry::Vacant(v) => {
                let id = spans.len() as u32;
                let start = arena.len() as u32;
                arena.push_str(s);
                spans.push((start, arena.len() as u32));
                v.insert(id);
                id
            }
        }
    }
}

/// The sweep's flags as money: rule, severity, claims (flagged-claim ids), amount.
#[derive(Default)]
pub struct FlagMoney {
    /// Every claim id a flag names, interned: the flagged-claim ids.
    pub claim_ids: Interner,
    pub rules: Interner,
    /// Per rule (by id): its flags, and the severity of its first flag.
    pub rule_flags: Vec<(i64, String)>,
    pub high_flags: i64,
    pub flag_rule: Vec<u32>,
    pub flag_amount: Vec<Fen>,
    /// Flag f names `claims[starts[f]..starts[f + 1]]`.
    pub starts: Vec<u32>,
    pub claims: Vec<u32>,
}

impl FlagMoney {
    pub fn load(conn: &Connection, sweep_id: i64) -> Result<FlagMoney, StoreError> {
        let mut m = FlagMoney {
            starts: vec![0],
            ..Default::default()
        };
        read::for_each_flag_money(conn, sweep_id, |f| {
            let rule = m.rules.intern(f.rule);
            if rule as usize == m.rule_flags.len() {
                m.rule_flags.push((0, f.severity.to_string()));
            }
            m.rule_flags[rule as usize].0 += 1;
            if f.severity == "high" {
                m.high_flags += 1;
            }
            m.flag_rule.push(rule);
            m.flag_amount.push(f.amount_at_risk_fen);
            if !f.claim_ids.is_empty() {
                for c in f.claim_ids.split(';') {
                    let id = m.claim_ids.intern(c);
                    m.claims.push(id);
                }
            }
            m.starts.push(m.claims.len() as u32);
        })?;
        Ok(m)
    }

    pub fn len(&self) -> usize {
        self.flag_rule.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flag_rule.is_empty()
    }

    pub fn claims_of(&self, flag: usize) -> &[u32] {
        &self.claims[self.starts[flag] as usize..self.starts[flag + 1] as usize]
    }
}

/// What a flagged claim adds to the breakdowns (indices into the pass's interners).
#[derive(Clone, Copy, Debug)]
pub struct Flagged {
    pub person: u32,
    pub county: u32,
    pub institution: u32,
    pub fund: u32,
    pub paid: Fen,
}

/// Claims and what they paid, of one group of a breakdown.
#[derive(Clone, Copy, Debug, Default)]
pub struct Totals {
    pub claims: i64,
    pub paid: Fen,
}

/// Counts of one year, and one county or the whole city (`county` None).
#[derive(Clone, Debug, Default)]
pub struct YearAgg {
    pub year: i32,
    pub county: Option<u32>,
    pub claims: i64,
    pub persons: i64,
    pub with_level: i64,
    pub high_skill: i64,
    pub paid: Fen,
}

/// Everything the pass keeps.
#[derive(Default)]
pub struct LedgerPass {
    pub claims: i64,
    pub paid: Fen,
    pub persons: Interner,
    pub counties: Interner,
    pub institutions: Interner,
    pub funds: Interner,
    pub county_totals: Vec<Totals>,
    pub institution_totals: Vec<Totals>,
    pub fund_totals: Vec<Totals>,
    /// By flagged-claim id: the claim's facts, None when the ledger does not have it.
    pub flagged: Vec<Option<Flagged>>,
    /// City rows and county rows per year, in no order.
    pub years: Vec<YearAgg>,
    /// The ties of the claims of each ID number asked for, in claim id order.
    pub ties: HashMap<String, Vec<ClaimTies>>,
    /// The claim ids of `ties`, while the pass runs (it reads claims in storage order).
    tie_claims: HashMap<String, Vec<String>>,
}

fn add(totals: &mut Vec<Totals>, i: u32, paid: Fen) {
    if i as usize == totals.len() {
        totals.push(Totals::default());
    }
    let t = &mut totals[i as usize];
    t.claims += 1;
    t.paid += paid;
}

impl LedgerPass {
    /// Reads every claim of the state once; `flags` says which claims keep their facts,
    /// `tie_ids` whose claims' ties are kept (ring members).
    pub fn run(
        conn: &Connection,
        state: &LedgerState,
        sweep_id: i64,
        flags: &FlagMoney,
        tie_ids: impl IntoIterator<Item = String>,
    ) -> Result<LedgerPass, StoreError> {
        let mut p = LedgerPass {
            flagged: vec![None; flags.claim_ids.len()],
            ties: tie_ids.into_iter().map(|id| (id, Vec::new())).collect(),
            ..Default::default()
        };
        let mut city_of_year: HashMap<i32, u32> = HashMap::new();
        let mut group_of: HashMap<(i32, u32), u32> = HashMap::new();
        // (year group, person) pairs: the distinct persons of each group, counted at the end.
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        read::for_each_claim_facts(conn, state, sweep_id, |c| {
            p.claims += 1;
            p.paid += c.paid_fen;
            let person = p.persons.intern(c.person);
            let county = p.counties.intern(c.county_code);
            let institution = p.institutions.intern(c.institution_id);
            let fund = p.funds.intern(c.fund);
            add(&mut p.county_totals, county, c.paid_fen);
            add(&mut p.institution_totals, institution, c.paid_fen);
            add(&mut p.fund_totals, fund, c.paid_fen);
            let years = &mut p.years;
            let mut group = |county: Option<u32>| -> u32 {
                let new = years.len() as u32;
                let g = match county {
                    None => *city_of_year.entry(c.year).or_insert(new),
                    Some(k) => *group_of.entry((c.year, k)).or_insert(new),
                };
                if g == new {
                    years.push(YearAgg {
                        year: c.year,
                        county,
                        ..Default::default()
                    });
                }
                g
            };
            for g in [group(None), group(Some(county))] {
                let y = &mut years[g as usize];
                y.claims += 1;
                y.paid += c.paid_fen;
                if matches!(c.level, Some(1..=5)) {
                    y.with_level += 1;
                }
                if matches!(c.level, Some(1..=3)) {
                    y.high_skill += 1;
                }
                pairs.push((g, person));
            }
            if let Some(i) = flags.claim_ids.get(c.claim_id) {
                p.flagged[i as usize] = Some(Flagged {
                    person,
                    county,
                    institution,
                    fund,
                    paid: c.paid_fen,
                });
            }
            if !p.ties.is_empty() {
                if let Some(t) = p.ties.get_mut(c.id_number) {
                    p.tie_claims
                        .entry(c.id_number.to_string())
                        .or_default()
                        .push(c.claim_id.to_string());
                    t.push(ClaimTies {
                        name: c.name.to_string(),
                        phone: c.phone.to_string(),
                        bank_account: c.bank_account.to_string(),
                        institution_id: c.institution_id.to_string(),
                        county_code: c.county_code.to_string(),
                    });
                }
            }
        })?;
        // Each person's ties in claim id order (the name shown is the first claim's).
        for (id, claims) in std::mem::take(&mut p.tie_claims) {
            if let Some(t) = p.ties.get_mut(&id) {
                let mut both: Vec<(String, ClaimTies)> =
                    claims.into_iter().zip(std::mem::take(t)).collect();
                both.sort_by(|a, b| a.0.cmp(&b.0));
                *t = both.into_iter().map(|(_, t)| t).collect();
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        for (g, _) in pairs {
            p.years[g as usize].persons += 1;
        }
        Ok(p)
    }
}

/// The flags' amount at risk on the flagged claims the ledger has, as [`crate::money`]
/// defines it: each claim's largest share, overall and per rule.
pub struct Risk {
    pub at_risk: AtRisk<u32>,
    /// Each flagged claim's amount at risk.
    pub of_claim: hashbrown::HashMap<u32, Fen>,
}

impl Risk {
    pub fn of(flags: &FlagMoney, pass: &LedgerPass) -> Risk {
        let mut at_risk = AtRisk::new();
        let (mut idx, mut paid) = (Vec::new(), Vec::new());
        for f in 0..flags.len() {
            idx.clear();
            paid.clear();
            for &c in flags.claims_of(f) {
                if let Some(fl) = &pass.flagged[c as usize] {
                    idx.push(c);
                    paid.push(fl.paid);
                }
            }
            let rule = flags.rules.str(flags.flag_rule[f]);
            at_risk.add_flag(rule, &idx, &paid, flags.flag_amount[f]);
        }
        let of_claim = at_risk.of_claims();
        Risk { at_risk, of_claim }
    }
}
