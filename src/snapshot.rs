//! The in-memory snapshot every rule and the graph read: the ledger as compact records of
//! integer ids (interned strings) and day numbers, built once per sweep.
//!
//! Invariants:
//! - Interned id 0 is the empty string (absent value) in every [`Interner`].
//! - `claims` are sorted by `claim_id`, whatever order the input had: rules that iterate claims
//!   in index order are deterministic.
//! - A person is their normalised ID number (`ids`); every table's ID numbers share it, as
//!   institutions and employers share `orgs`, so joins are integer comparisons.
//! - Per-person lookups (`pension_start`, `death_date`, `poverty`, spells) are dense by person id.

use crate::dates::Date;
use crate::model::*;
use hashbrown::HashTable;
use std::collections::{BTreeSet, HashMap};

/// "No such row" in index vectors.
pub const NONE: u32 = u32::MAX;

/// Strings appended into one buffer; item `i` is `buf[offsets[i]..offsets[i+1]]`.
#[derive(Clone, Debug, Default)]
pub struct StrColumn {
    buf: String,
    /// u32 halves the index memory (and cache misses on lookups); 4 GiB of text per column is
    /// far beyond any ledger.
    offsets: Vec<u32>,
}

impl StrColumn {
    pub fn new() -> Self {
        StrColumn {
            buf: String::new(),
            offsets: vec![0],
        }
    }
    pub fn push(&mut self, s: &str) -> u32 {
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        self.buf.push_str(s);
        let end = u32::try_from(self.buf.len()).expect("StrColumn text exceeds 4 GiB");
        self.offsets.push(end);
        (self.offsets.len() - 2) as u32
    }
    pub fn get(&self, i: u32) -> &str {
        let i = i as usize;
        &self.buf[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }
    /// Room for `items` strings of `bytes` total length.
    pub fn with_capacity(items: usize, bytes: usize) -> Self {
        let mut offsets = Vec::with_capacity(items + 1);
        offsets.push(0);
        StrColumn {
            buf: String::with_capacity(bytes),
            offsets,
        }
    }
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    /// Total bytes of text.
    pub fn text_len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One hash-table entry: the id plus the string's bytes when they fit, so a lookup of an ID
/// number, phone, bank account or name touches only the table (one cache line) instead of also
/// the offsets and the text buffer: on a million-person ledger each of those is a miss.
#[derive(Clone, Copy, Debug)]
struct Slot {
    id: u32,
    /// Byte length, or `LONG` when the text lives only in `strings` (`head` = its first bytes).
    len: u8,
    head: [u8; INLINE],
}

const INLINE: usize = 19;
const LONG: u8 = u8::MAX;

impl Slot {
    fn new(id: u32, s: &[u8]) -> Slot {
        let mut head = [0u8; INLINE];
        let n = s.len().min(INLINE);
        head[..n].copy_from_slice(&s[..n]);
        let len = if s.len() <= INLINE {
            s.len() as u8
        } else {
            LONG
        };
        Slot { id, len, head }
    }

    fn matches(&self, s: &[u8], strings: &StrColumn) -> bool {
        if s.len() <= INLINE {
            self.len as usize == s.len() && self.head[..s.len()] == *s
        } else {
            self.len == LONG && self.head == s[..INLINE] && strings.get(self.id).as_bytes() == s
        }
    }

    fn bytes<'a>(&'a self, strings: &'a StrColumn) -> &'a [u8] {
        if self.len == LONG {
            strings.get(self.id).as_bytes()
        } else {
            &self.head[..self.len as usize]
        }
    }
}

/// String ↔ dense u32 id. Id 0 is always the empty string.
#[derive(Clone, Debug)]
pub struct Interner {
    strings: StrColumn,
    table: HashTable<Slot>,
    /// foldhash: interning dominates snapshot loading, and SipHash's DoS resistance buys
    /// nothing for our own stored data. Ids follow insertion order, so the seed never shows.
    hasher: hashbrown::DefaultHashBuilder,
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner {
            strings: StrColumn::new(),
            table: HashTable::new(),
            hasher: hashbrown::DefaultHashBuilder::default(),
        };
        i.intern("");
        i
    }

    fn hash(&self, s: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(s)
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        let b = s.as_bytes();
        let h = self.hash(b);
        let strings = &self.strings;
        if let Some(slot) = self.table.find(h, |e| e.matches(b, strings)) {
            return slot.id;
        }
        let id = self.strings.push(s);
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.table.insert_unique(h, Slot::new(id, b), |e| {
            use std::hash::BuildHasher;
            hasher.hash_one(e.bytes(strings))
        });
        id
    }

    /// Room for `additional` more distinct strings without rehashing.
    pub fn reserve(&mut self, additional: usize) {
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.table.reserve(additional, |e| {
            use std::hash::BuildHasher;
            hasher.hash_one(e.bytes(strings))
        });
        self.strings.offsets.reserve(additional);
    }

    /// The id of a string already interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let b = s.as_bytes();
        let h = self.hash(b);
        self.table
            .find(h, |e| e.matches(b, &self.strings))
            .map(|e| e.id)
    }

    pub fn resolve(&self, id: u32) -> &str {
        self.strings.get(id)
    }

    /// Number of ids, including the empty string.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }
}

/// One claim, all fields as integer ids into the snapshot's interners.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Claim {
    /// Index into `Snapshot::claim_ids`.
    pub person: u32,
    pub name: u32,
    pub phone: u32,
    pub bank: u32,
    pub county: u32,
    pub institution: u32,
    pub class: u32,
    pub occupation: u32,
    pub cert: u32,
    pub date: Date,
    pub amount: Fen,
    pub living_amount: Fen,
    pub living_days: i32,
    pub category: Option<Category>,
    pub subsidy_type: Option<SubsidyType>,
    pub funding: Option<FundingSource>,
    /// 1..=5, 0 = none
    pub level: u8,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Class {
    pub key: u32,
    pub institution: u32,
    pub county: u32,
    pub occupation: u32,
    pub level: u8,
    pub training_type: Option<SubsidyType>,
    pub start: Date,
    pub end: Date,
    pub hours: i32,
    pub project_based: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Institution {
    pub org: u32,
    pub name: u32,
    pub county: u32,
    pub legal_rep: u32,
    pub phone: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Certificate {
    pub key: u32,
    pub person: u32,
    pub name: u32,
    pub occupation: u32,
    pub level: u8,
    pub issue_date: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Project {
    pub class: u32,
    pub trainees: i32,
    pub employed_claimed: i32,
    pub total: Fen,
    pub prepaid: Fen,
    pub paid: Fen,
    pub check_date: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spell {
    pub person: u32,
    pub employer: u32,
    pub start: Date,
    /// `None`: still employed.
    pub end: Option<Date>,
}

impl Spell {
    pub fn covers(&self, d: Date) -> bool {
        self.start <= d && self.end.is_none_or(|e| d <= e)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Staff {
    pub institution: u32,
    pub person: u32,
    pub role: u32,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UiRecord {
    pub person: u32,
    pub months_paid: i32,
    pub as_of: Option<Date>,
}

/// The whole ledger, compact. Build with [`SnapshotBuilder`] or [`Snapshot::from_ledger`].
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Input tables that were present (rules needing an absent table are skipped).
    pub tables: BTreeSet<&'static str>,
    pub claim_ids: StrColumn,
    /// Normalised ID numbers: the person ids.
    pub ids: Interner,
    pub names: Interner,
    pub phones: Interner,
    pub banks: Interner,
    /// Institution ids and employer ids (both credit codes or local codes).
    pub orgs: Interner,
    pub counties: Interner,
    pub class_keys: Interner,
    pub occupations: Interner,
    pub cert_keys: Interner,
    /// Free text fields (roles, institution names).
    pub texts: Interner,

    /// Sorted by claim id; `claims[i]` has id `claim_ids.get(i)`.
    pub claims: Vec<Claim>,
    pub classes: Vec<Class>,
    /// class key → index into `classes`, or NONE.
    pub class_of_key: Vec<u32>,
    pub institutions: Vec<Institution>,
    /// org id → index into `institutions`, or NONE.
    pub institution_of_org: Vec<u32>,
    pub certificates: Vec<Certificate>,
    /// cert key → index into `certificates`, or NONE.
    pub certificate_of_key: Vec<u32>,
    pub projects: Vec<Project>,
    /// Sorted by (person, start, employer).
    pub employment: Vec<Spell>,
    /// person → range start in `employment` (CSR, len = ids.len() + 1).
    pub employment_offsets: Vec<u32>,
    pub staff: Vec<Staff>,
    /// Sorted by (person, as_of).
    pub ui: Vec<UiRecord>,
    /// person → earliest pension start, if any.
    pub pension_start: Vec<Option<Date>>,
    /// person → earliest death date, if any.
    pub death_date: Vec<Option<Date>>,
    /// person → on the poverty register.
    pub poverty: Vec<bool>,
    /// (county, year) → monthly minimum-living line in fen.
    pub living_lines: HashMap<(u32, i32), Fen>,
}

impl Snapshot {
    pub fn claim_id(&self, i: usize) -> &str {
        self.claim_ids.get(i as u32)
    }

    pub fn has_table(&self, t: &str) -> bool {
        self.tables.contains(t)
    }

    /// The employment spells of a person.
    pub fn spells_of(&self, person: u32) -> &[Spell] {
        let p = person as usize;
        if p + 1 >= self.employment_offsets.len() {
            return &[];
        }
        &self.employment
            [self.employment_offsets[p] as usize..self.employment_offsets[p + 1] as usize]
    }

    pub fn class(&self, key: u32) -> Option<&Class> {
        match self.class_of_key.get(key as usize) {
            Some(&i) if i != NONE => Some(&self.classes[i as usize]),
            _ => None,
        }
    }

    pub fn institution(&self, org: u32) -> Option<&Institution> {
        match self.institution_of_org.get(org as usize) {
            Some(&i) if i != NONE => Some(&self.institutions[i as usize]),
            _ => None,
        }
    }

    pub fn certificate(&self, key: u32) -> Option<&Certificate> {
        match self.certificate_of_key.get(key as usize) {
            Some(&i) if i != NONE => Some(&self.certificates[i as usize]),
            _ => None,
        }
    }

    pub fn from_ledger(l: &Ledger) -> Snapshot {
        let mut b = SnapshotBuilder::new();
        for t in &l.present {
            b.table_present(t);
        }
        l.claims.iter().for_each(|r| b.add_claim(r));
        l.classes.iter().for_each(|r| b.add_class(r));
        l.institutions.iter().for_each(|r| b.add_institution(r));
        l.certificates.iter().for_each(|r| b.add_certificate(r));
        l.projects.iter().for_each(|r| b.add_project(r));
        l.employment.iter().for_each(|r| b.add_employment(r));
        l.staff.iter().for_each(|r| b.add_staff(r));
        l.registry_pension.iter().for_each(|r| b.add_pension(r));
        l.registry_death.iter().for_each(|r| b.add_death(r));
        l.registry_ui.iter().for_each(|r| b.add_ui(r));
        l.registry_poverty.iter().for_each(|r| b.add_poverty(r));
        l.living_standards
            .iter()
            .for_each(|r| b.add_living_standard(r));
        b.finish()
    }
}

/// Streams typed rows into a snapshot; `finish` sorts and indexes.
pub struct SnapshotBuilder {
    s: Snapshot,
    /// (claim, claim id) before sorting.
    pending_ids: StrColumn,
    pensions: Vec<(u32, Date)>,
    deaths: Vec<(u32, Date)>,
    poor: Vec<u32>,
}

impl Default for SnapshotBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SnapshotBuilder {
    pub fn new() -> Self {
        SnapshotBuilder {
            s: Snapshot::default(),
            pending_ids: StrColumn::new(),
            pensions: Vec::new(),
            deaths: Vec::new(),
            poor: Vec::new(),
        }
    }

    pub fn table_present(&mut self, name: &str) {
        if let Some(t) = TableSpec::by_name(name) {
            self.s.tables.insert(t.name);
        }
    }

    pub fn add_claim(&mut self, r: &ClaimRow) {
        let s = &mut self.s;
        self.pending_ids.push(&r.claim_id);
        s.claims.push(Claim {
            person: s.ids.intern(&r.id_number),
            name: s.names.intern(&r.name),
            phone: s.phones.intern(&r.phone),
            bank: s.banks.intern(&r.bank_account),
            county: s.counties.intern(&r.county_code),
            institution: s.orgs.intern(&r.institution_id),
            class: s.class_keys.intern(&r.class_id),
            occupation: s.occupations.intern(&r.occupation_code),
            cert: s.cert_keys.intern(&r.cert_no),
            date: r.claim_date,
            amount: r.amount,
            living_amount: r.living_amount,
            living_days: r.living_days,
            category: r.category,
            subsidy_type: r.subsidy_type,
            funding: r.funding_source,
            level: r.level.unwrap_or(0),
        });
    }

    pub fn add_class(&mut self, r: &ClassRow) {
        let s = &mut self.s;
        s.classes.push(Class {
            key: s.class_keys.intern(&r.class_id),
            institution: s.orgs.intern(&r.institution_id),
            county: s.counties.intern(&r.county_code),
            occupation: s.occupations.intern(&r.occupation_code),
            level: r.level.unwrap_or(0),
            training_type: r.training_type,
            start: r.start_date,
            end: r.end_date,
            hours: r.hours,
            project_based: r.project_based,
        });
    }

    pub fn add_institution(&mut self, r: &InstitutionRow) {
        let s = &mut self.s;
        s.institutions.push(Institution {
            org: s.orgs.intern(&r.institution_id),
            name: s.texts.intern(&r.name),
            county: s.counties.intern(&r.county_code),
            legal_rep: s.ids.intern(&r.legal_rep_id),
            phone: s.phones.intern(&r.phone),
        });
    }

    pub fn add_certificate(&mut self, r: &CertificateRow) {
        let s = &mut self.s;
        s.certificates.push(Certificate {
            key: s.cert_keys.intern(&r.cert_no),
            person: s.ids.intern(&r.id_number),
            name: s.names.intern(&r.name),
            occupation: s.occupations.intern(&r.occupation_code),
            level: r.level.unwrap_or(0),
            issue_date: r.issue_date,
        });
    }

    pub fn add_project(&mut self, r: &ProjectRow) {
        let s = &mut self.s;
        s.projects.push(Project {
            class: s.class_keys.intern(&r.class_id),
            trainees: r.trainees,
            employed_claimed: r.employed_claimed,
            total: r.total_amount,
            prepaid: r.prepaid_amount,
            paid: r.paid_amount,
            check_date: r.check_date,
        });
    }

    pub fn add_employment(&mut self, r: &EmploymentRow) {
        let s = &mut self.s;
        s.employment.push(Spell {
            person: s.ids.intern(&r.id_number),
            employer: s.orgs.intern(&r.employer_id),
            start: r.start_date,
            end: r.end_date,
        });
    }

    pub fn add_staff(&mut self, r: &StaffRow) {
        let s = &mut self.s;
        s.staff.push(Staff {
            institution: s.orgs.intern(&r.institution_id),
            person: s.ids.intern(&r.id_number),
            role: s.texts.intern(&r.role),
        });
    }

    pub fn add_pension(&mut self, r: &PensionRow) {
        let p = self.s.ids.intern(&r.id_number);
        self.pensions.push((p, r.start_date));
    }

    pub fn add_death(&mut self, r: &DeathRow) {
        let p = self.s.ids.intern(&r.id_number);
        self.deaths.push((p, r.death_date));
    }

    pub fn add_ui(&mut self, r: &UiRow) {
        let s = &mut self.s;
        s.ui.push(UiRecord {
            person: s.ids.intern(&r.id_number),
            months_paid: r.months_paid,
            as_of: r.as_of,
        });
    }

    pub fn add_poverty(&mut self, r: &PovertyRow) {
        let p = self.s.ids.intern(&r.id_number);
        self.poor.push(p);
    }

    pub fn add_living_standard(&mut self, r: &LivingStandardRow) {
        let c = self.s.counties.intern(&r.county_code);
        self.s.living_lines.insert((c, r.year), r.monthly_amount);
    }

    pub fn finish(self) -> Snapshot {
        let SnapshotBuilder {
            mut s,
            pending_ids,
            pensions,
            deaths,
            poor,
        } = self;
        // Claims in claim-id order: determinism does not depend on input order.
        // The store returns them in insertion order, which ingest makes claim-id order: check
        // that in one pass before paying for a sort.
        let n_claims = pending_ids.len() as u32;
        if (1..n_claims).all(|i| pending_ids.get(i - 1) <= pending_ids.get(i)) {
            s.claim_ids = pending_ids;
        } else {
            // Sort (id, row) pairs: one indirection per comparison; the row breaks ties.
            let mut order: Vec<(&str, u32)> =
                (0..n_claims).map(|i| (pending_ids.get(i), i)).collect();
            order.sort_unstable();
            let mut ids = StrColumn::with_capacity(order.len(), pending_ids.text_len());
            let mut claims = Vec::with_capacity(s.claims.len());
            for &(id, i) in &order {
                ids.push(id);
                claims.push(s.claims[i as usize]);
            }
            s.claims = claims;
            s.claim_ids = ids;
        }

        let index = |n: usize, keys: &mut dyn Iterator<Item = u32>| {
            let mut v = vec![NONE; n];
            for (row, k) in keys.enumerate() {
                // First row wins; ingest rejects duplicate keys, so this is only for hand-made input.
                if v[k as usize] == NONE {
                    v[k as usize] = row as u32;
                }
            }
            v
        };
        s.classes.sort_by_key(|c| c.key);
        s.class_of_key = index(s.class_keys.len(), &mut s.classes.iter().map(|c| c.key));
        s.institutions.sort_by_key(|c| c.org);
        s.institution_of_org = index(s.orgs.len(), &mut s.institutions.iter().map(|c| c.org));
        s.certificates.sort_by_key(|c| c.key);
        s.certificate_of_key = index(s.cert_keys.len(), &mut s.certificates.iter().map(|c| c.key));
        s.projects.sort_by_key(|p| p.class);
        s.staff.sort_by_key(|x| (x.institution, x.person));
        s.ui.sort_by_key(|u| (u.person, u.as_of));

        let n = s.ids.len();
        s.employment
            .sort_by_key(|e| (e.person, e.start, e.employer, e.end));
        let mut offsets = vec![0u32; n + 1];
        for e in &s.employment {
            offsets[e.person as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        s.employment_offsets = offsets;

        s.pension_start = vec![None; n];
        for (p, d) in pensions {
            let slot = &mut s.pension_start[p as usize];
            *slot = Some(slot.map_or(d, |x| x.min(d)));
        }
        s.death_date = vec![None; n];
        for (p, d) in deaths {
            let slot = &mut s.death_date[p as usize];
            *slot = Some(slot.map_or(d, |x| x.min(d)));
        }
        s.poverty = vec![false; n];
        for p in poor {
            s.poverty[p as usize] = true;
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_reserves_zero_for_empty() {
        let mut i = Interner::new();
        assert_eq!(i.intern(""), 0);
        let a = i.intern("张伟");
        assert_eq!(i.intern("张伟"), a);
        assert_eq!(i.resolve(a), "张伟");
        assert_eq!(i.get("李娜"), None);
    }

    #[test]
    fn claims_are_sorted_by_id_whatever_the_input_order() {
        let d = Date::from_ymd(2020, 1, 1).unwrap();
        let mk = |id: &str| ClaimRow {
            claim_id: id.into(),
            id_number: "X".into(),
            claim_date: d,
            ..Default::default()
        };
        let l = Ledger {
            claims: vec![mk("C3"), mk("C1"), mk("C2")],
            ..Default::default()
        };
        let s = Snapshot::from_ledger(&l);
        assert_eq!(
            (0..3).map(|i| s.claim_id(i)).collect::<Vec<_>>(),
            ["C1", "C2", "C3"]
        );
    }
}
