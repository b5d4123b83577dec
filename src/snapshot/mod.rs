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

use crate::dates::{Date, OptDate};
use crate::model::*;
use std::collections::{BTreeSet, HashMap};

pub mod file;
pub mod load;

pub use crate::intern::{AsWritten, Interner, Packed, StoredColumn, StrColumn, Text, NONE};
pub use load::load_snapshot;

impl crate::store::flags::ClaimIds for Snapshot {
    fn claim_id(&self, claim: usize) -> Text<'_> {
        Snapshot::claim_id(self, claim)
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

impl Claim {
    /// What the claim paid: amount + living allowance (the weight of its share of a flag's
    /// amount at risk, `crate::money`).
    pub fn paid(&self) -> Fen {
        self.amount + self.living_amount
    }
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
    pub issue_date: OptDate,
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

/// A date for some persons (a register's earliest date per person), held sparsely: most
/// persons are on no register, and a dense `Option<Date>` per person cost 8 bytes each (at
/// ten million claims, 106 MB for the pension and death registers together).
///
/// Invariant: `persons` is sorted and unique, `dates[k]` is the date of `persons[k]`, and
/// `on[p]`'s bit is set exactly for the persons listed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PersonDates {
    /// Persons ids `0..len` (the number of persons the snapshot had).
    len: usize,
    /// One bit per person: a lookup of a person on no register reads one word.
    on: Vec<u64>,
    persons: Vec<u32>,
    dates: Vec<Date>,
}

impl PersonDates {
    /// The earliest date per person of `pairs` (person, date), for persons `0..len`.
    pub fn earliest(len: usize, pairs: impl IntoIterator<Item = (u32, Date)>) -> PersonDates {
        let mut pairs: Vec<(u32, Date)> = pairs.into_iter().collect();
        pairs.sort_unstable();
        pairs.dedup_by_key(|&mut (p, _)| p);
        let mut on = vec![0u64; len.div_ceil(64)];
        for &(p, _) in &pairs {
            assert!((p as usize) < len, "person {p} out of range {len}");
            on[p as usize / 64] |= 1 << (p % 64);
        }
        PersonDates {
            len,
            on,
            persons: pairs.iter().map(|&(p, _)| p).collect(),
            dates: pairs.iter().map(|&(_, d)| d).collect(),
        }
    }

    /// The date of `person`, if any.
    pub fn get(&self, person: u32) -> Option<Date> {
        let word = *self.on.get(person as usize / 64)?;
        if word & (1 << (person % 64)) == 0 {
            return None;
        }
        let k = self.persons.binary_search(&person).ok()?;
        Some(self.dates[k])
    }

    /// Number of persons covered (ids `0..len`), listed or not.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The listed persons with their dates, by person.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Date)> + '_ {
        self.persons.iter().copied().zip(self.dates.iter().copied())
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.on.len() * 8 + self.persons.len() * 4 + self.dates.len() * 4
    }
}

/// The snapshot a stage after the rules reads: the caller's, left whole (`Shared`), or the
/// sweep's own (`Owned`), whose tables the stage frees once it has read them for the last
/// time (the graph analysis, taking the case input out), to lower the sweep's peak.
pub enum SnapshotIn<'a> {
    Shared(&'a Snapshot),
    Owned(&'a mut Snapshot),
}

impl SnapshotIn<'_> {
    pub fn get(&self) -> &Snapshot {
        match self {
            SnapshotIn::Shared(s) => s,
            SnapshotIn::Owned(s) => s,
        }
    }

    /// Runs `free` on an owned snapshot; a shared one stays as it is.
    pub fn release(&mut self, free: impl FnOnce(&mut Snapshot)) {
        if let SnapshotIn::Owned(s) = self {
            free(s)
        }
    }
}

/// The whole ledger, compact. Build with [`SnapshotBuilder`] or [`Snapshot::from_ledger`].
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Input tables that were present (rules needing an absent table are skipped).
    pub tables: BTreeSet<&'static str>,
    pub claim_ids: StrColumn<Packed>,
    /// Normalised ID numbers: the person ids.
    pub ids: Interner<Packed>,
    pub names: Interner,
    pub phones: Interner<Packed>,
    pub banks: Interner<Packed>,
    /// Institution ids and employer ids (both credit codes or local codes).
    pub orgs: Interner,
    pub counties: Interner,
    pub class_keys: Interner,
    pub occupations: Interner,
    pub cert_keys: Interner<Packed>,
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
    pub pension_start: PersonDates,
    /// person → earliest death date, if any.
    pub death_date: PersonDates,
    /// person → on the poverty register.
    pub poverty: Vec<bool>,
    /// (county, year) → monthly minimum-living line in fen.
    pub living_lines: HashMap<(u32, i32), Fen>,
}

impl Snapshot {
    /// Frees what only the rules read, none of it the graph analysis (which reads contacts,
    /// certificates, free texts, occupations, projects and employment): names as written,
    /// certificate numbers, staff, unemployment-insurance records, the pension, death and
    /// poverty registers and the living lines. The graph's size is taken first
    /// (`graph::TableCounts`). At 10 M claims this lowers a sweep's peak, during the graph
    /// analysis, by about a quarter of a GiB.
    pub fn release_after_rules(&mut self) {
        self.names = Interner::new();
        self.cert_keys = Interner::new();
        self.staff = Vec::new();
        self.ui = Vec::new();
        self.pension_start = PersonDates::default();
        self.death_date = PersonDates::default();
        self.poverty = Vec::new();
        self.living_lines = HashMap::new();
    }

    /// Frees what, after the rules, only the graph analysis's finders read (rings,
    /// cross-county paths, staged employment): phones, bank accounts and employment spells.
    /// The institution risk ranking, naming the findings and building cases read none of them.
    pub fn release_graph_finder_tables(&mut self) {
        self.phones = Interner::new();
        self.banks = Interner::new();
        self.employment = Vec::new();
        self.employment_offsets = Vec::new();
    }

    /// Frees what only the rules and the graph analysis read: what [`release_after_rules`]
    /// and [`release_graph_finder_tables`] free, then occupations, certificates, free texts and
    /// projects. Kept: claims, claim ids, ID numbers, organisations, counties, classes and
    /// institutions, which is what building cases reads. A sweep calls it between those stages
    /// (`graph::analyse_releasing`) to lower its peak.
    ///
    /// [`release_after_rules`]: Snapshot::release_after_rules
    /// [`release_graph_finder_tables`]: Snapshot::release_graph_finder_tables
    pub fn release_rule_only_tables(&mut self) {
        self.release_after_rules();
        self.release_graph_finder_tables();
        self.occupations = Interner::new();
        self.texts = Interner::new();
        self.certificates = Vec::new();
        self.certificate_of_key = Vec::new();
        self.projects = Vec::new();
    }

    pub fn claim_id(&self, i: usize) -> Text<'_> {
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

    /// The stored text of the claim ids and of every interner, in the order the columnar
    /// file stores them (`file::STRING_COLUMNS` names them): one list for everything that
    /// walks them all.
    pub fn string_columns(&self) -> [&dyn StoredColumn; 11] {
        [
            &self.claim_ids,
            self.ids.strings(),
            self.names.strings(),
            self.phones.strings(),
            self.banks.strings(),
            self.orgs.strings(),
            self.counties.strings(),
            self.class_keys.strings(),
            self.occupations.strings(),
            self.cert_keys.strings(),
            self.texts.strings(),
        ]
    }

    /// Drops every interner's building table and spare room ([`Interner::seal`]).
    pub fn seal_interners(&mut self) {
        self.ids.seal();
        self.names.seal();
        self.phones.seal();
        self.banks.seal();
        self.orgs.seal();
        self.counties.seal();
        self.class_keys.seal();
        self.occupations.seal();
        self.cert_keys.seal();
        self.texts.seal();
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
    pending_ids: StrColumn<Packed>,
    pensions: Vec<(u32, Date)>,
    deaths: Vec<(u32, Date)>,
    poor: Vec<u32>,
    /// Per-column ids of the batch being added (kept to reuse their capacity).
    columns: Vec<Vec<u32>>,
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
            columns: Vec::new(),
        }
    }

    /// Room for about `claims` claims and `certificates` certificates (an estimate: a wrong
    /// one only costs memory or growth), so the big vectors are allocated once, not copied as
    /// they double. Interners grow as they go: how many values are distinct is unknown, and
    /// an over-sized table would be most of the memory of a load.
    pub fn reserve(&mut self, claims: usize, certificates: usize) {
        let s = &mut self.s;
        s.claims.reserve_exact(claims);
        s.certificates.reserve_exact(certificates);
    }

    /// `add_claim` for each row in order (the same snapshot), interning column by column.
    ///
    /// The interners are independent: one pool task per column, each interner fed in row
    /// order by its task, so the ids do not depend on the thread count.
    pub fn add_claims(&mut self, rows: &[ClaimRow]) {
        self.columns.resize_with(9, Vec::new);
        let (left, right) = self.columns.split_at_mut(5);
        let s = &mut self.s;
        let pending_ids = &mut self.pending_ids;
        let (ids, names, phones, counties, class_keys) = (
            &mut s.ids,
            &mut s.names,
            &mut s.phones,
            &mut s.counties,
            &mut s.class_keys,
        );
        let (banks, orgs, occupations, cert_keys) = (
            &mut s.banks,
            &mut s.orgs,
            &mut s.occupations,
            &mut s.cert_keys,
        );
        left.iter_mut().chain(right.iter_mut()).for_each(Vec::clear);
        // One task per column (each interner is fed in row order by one task, so its ids are
        // those of one thread), balanced over the pool's threads as they free up.
        let ([c0, c1, c2, c3, c4], [c5, c6, c7, c8]) = (&mut *left, &mut *right) else {
            unreachable!("nine columns")
        };
        let n = rows.len();
        rayon::scope(|sc| {
            sc.spawn(|_| ids.intern_each(n, |i| &rows[i].id_number, c0));
            sc.spawn(|_| names.intern_each(n, |i| &rows[i].name, c1));
            sc.spawn(|_| phones.intern_each(n, |i| &rows[i].phone, c2));
            sc.spawn(|_| counties.intern_each(n, |i| &rows[i].county_code, c3));
            sc.spawn(|_| class_keys.intern_each(n, |i| &rows[i].class_id, c4));
            sc.spawn(|_| banks.intern_each(n, |i| &rows[i].bank_account, c5));
            sc.spawn(|_| orgs.intern_each(n, |i| &rows[i].institution_id, c6));
            sc.spawn(|_| occupations.intern_each(n, |i| &rows[i].occupation_code, c7));
            sc.spawn(|_| cert_keys.intern_each(n, |i| &rows[i].cert_no, c8));
            sc.spawn(|_| {
                rows.iter().for_each(|r| {
                    pending_ids.push(&r.claim_id);
                })
            });
        });
        let (l, r) = (&*left, &*right);
        s.claims.reserve(rows.len());
        s.claims
            .extend(rows.iter().enumerate().map(|(i, row)| Claim {
                person: l[0][i],
                name: l[1][i],
                phone: l[2][i],
                county: l[3][i],
                class: l[4][i],
                bank: r[0][i],
                institution: r[1][i],
                occupation: r[2][i],
                cert: r[3][i],
                date: row.claim_date,
                amount: row.amount,
                living_amount: row.living_amount,
                living_days: row.living_days,
                category: row.category,
                subsidy_type: row.subsidy_type,
                funding: row.funding_source,
                level: row.level.unwrap_or(0),
            }));
    }

    /// `add_certificate` for each row in order, one pool task per column as
    /// `add_claims` does.
    pub fn add_certificates(&mut self, rows: &[CertificateRow]) {
        self.columns.resize_with(4, Vec::new);
        let (left, right) = self.columns.split_at_mut(2);
        let s = &mut self.s;
        let (cert_keys, names, ids, occupations) = (
            &mut s.cert_keys,
            &mut s.names,
            &mut s.ids,
            &mut s.occupations,
        );
        left.iter_mut().chain(right.iter_mut()).for_each(Vec::clear);
        let ([c0, c1], [c2, c3]) = (&mut *left, &mut *right) else {
            unreachable!("four columns")
        };
        let n = rows.len();
        rayon::scope(|sc| {
            sc.spawn(|_| cert_keys.intern_each(n, |i| &rows[i].cert_no, c0));
            sc.spawn(|_| names.intern_each(n, |i| &rows[i].name, c1));
            sc.spawn(|_| ids.intern_each(n, |i| &rows[i].id_number, c2));
            sc.spawn(|_| occupations.intern_each(n, |i| &rows[i].occupation_code, c3));
        });
        let (l, r) = (&*left, &*right);
        s.certificates.reserve(rows.len());
        s.certificates
            .extend(rows.iter().enumerate().map(|(i, row)| Certificate {
                key: l[0][i],
                name: l[1][i],
                person: r[0][i],
                occupation: r[1][i],
                level: row.level.unwrap_or(0),
                issue_date: row.issue_date.into(),
            }));
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
            issue_date: r.issue_date.into(),
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
            columns: _,
        } = self;
        // Claims in claim-id order: determinism does not depend on input order.
        // The store returns them in insertion order, which ingest makes claim-id order: count
        // the places that order breaks (up to FEW_RUNS) before paying for a sort.
        let n_claims = pending_ids.len() as u32;
        let descents = (1..n_claims)
            .filter(|&i| pending_ids.get(i - 1) > pending_ids.get(i))
            .take(FEW_RUNS)
            .count();
        if descents == 0 {
            s.claim_ids = pending_ids;
        } else {
            let order: Vec<u32> = if descents < FEW_RUNS {
                // A few sorted runs, as a re-ingest's stored rows and then its new ones are:
                // the stable sort finds the runs and merges them, one comparison a row or so,
                // over row numbers alone (ties keep row order).
                let mut order: Vec<u32> = (0..n_claims).collect();
                order.sort_by(|&a, &b| pending_ids.get(a).cmp(&pending_ids.get(b)));
                order
            } else {
                // Sort (id, row) pairs: one indirection per comparison; the row breaks ties.
                // Only the rows' order is kept, so the pairs (48 bytes a claim) are gone
                // before the ids are copied.
                let mut pairs: Vec<(Text, u32)> =
                    (0..n_claims).map(|i| (pending_ids.get(i), i)).collect();
                pairs.sort_unstable();
                pairs.into_iter().map(|(_, i)| i).collect()
            };
            let mut ids = StrColumn::with_capacity(pending_ids.text_len());
            for &i in &order {
                ids.push(&pending_ids.get(i));
            }
            drop(pending_ids);
            // In place: a re-ingest whose new claim ids sort among the stored ones would
            // otherwise hold the claims twice (0.7 GB at ten million).
            permute_in_place(&mut s.claims, order);
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
        sort_by_interned_key(&mut s.classes, s.class_keys.len(), |c| c.key);
        s.class_of_key = index(s.class_keys.len(), &mut s.classes.iter().map(|c| c.key));
        sort_by_interned_key(&mut s.institutions, s.orgs.len(), |c| c.org);
        s.institution_of_org = index(s.orgs.len(), &mut s.institutions.iter().map(|c| c.org));
        sort_by_interned_key(&mut s.certificates, s.cert_keys.len(), |c| c.key);
        s.certificate_of_key = index(s.cert_keys.len(), &mut s.certificates.iter().map(|c| c.key));
        sort_by_interned_key(&mut s.projects, s.class_keys.len(), |p| p.class);
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

        s.pension_start = PersonDates::earliest(n, pensions);
        s.death_date = PersonDates::earliest(n, deaths);
        s.poverty = vec![false; n];
        for p in poor {
            s.poverty[p as usize] = true;
        }
        s.seal_interners();
        s.claims.shrink_to_fit();
        s.certificates.shrink_to_fit();
        s.claim_ids.shrink_to_fit();
        s
    }
}

/// Sorts `rows` by `key`, an id interned among `keys` ids, as a stable sort would (rows of one
/// key in row order). When no key repeats — a table's key is its primary key, and ingest
/// rejects a second row of one — the sort is unstable, in place: the stable sort's scratch
/// copy of half the rows was the peak of an ingest (116 MB for ten million certificates). One
/// bit per id says whether a key repeats (hand-made ledgers may repeat one).
fn sort_by_interned_key<T>(rows: &mut [T], keys: usize, key: impl Fn(&T) -> u32) {
    let mut seen = vec![0u64; keys.div_ceil(64)];
    let unique = rows.iter().all(|r| {
        let k = key(r) as usize;
        match seen.get_mut(k / 64) {
            Some(word) if *word & (1 << (k % 64)) == 0 => {
                *word |= 1 << (k % 64);
                true
            }
            _ => false,
        }
    });
    if unique {
        rows.sort_unstable_by_key(key);
    } else {
        rows.sort_by_key(key);
    }
}

/// Below this many places where the claims' ids go down, [`SnapshotBuilder::finish`] merges
/// their sorted runs instead of sorting (id, row) pairs: at ten million claims the pairs
/// held 0.5 GB at the end of a re-ingest, the peak of its memory.
const FEW_RUNS: usize = 64;

/// Reorders `items` so that item `k` becomes the one at `order[k]` (`order` a permutation
/// of the positions), following each cycle of the permutation once: no second copy of
/// `items`. `order` is used up as the record of positions already placed.
fn permute_in_place<T: Copy>(items: &mut [T], mut order: Vec<u32>) {
    assert_eq!(items.len(), order.len(), "one position per item");
    for start in 0..items.len() {
        if order[start] as usize == start {
            continue;
        }
        let first = items[start];
        let mut at = start;
        loop {
            let from = order[at] as usize;
            order[at] = at as u32;
            if from == start {
                items[at] = first;
                break;
            }
            items[at] = items[from];
            at = from;
        }
    }
}

/// A set of dense indices (claims, persons) as one bit per index, with each member's rank (how
/// many members are below it) counted once the set is complete: a few megabytes at ten
/// million indices instead of a position per index, so rank lookups stay in cache.
#[derive(Clone, Debug, Default)]
pub struct IndexSet {
    words: Vec<u64>,
    /// Members before each word; filled by [`IndexSet::seal`].
    before: Vec<u32>,
}

impl IndexSet {
    /// An empty set of indices below `n`.
    pub fn new(n: usize) -> IndexSet {
        IndexSet {
            words: vec![0; n.div_ceil(64)],
            before: Vec::new(),
        }
    }

    /// Adds `i` (below the `n` the set was made for); ranks are counted again by `seal`.
    pub fn insert(&mut self, i: u32) {
        self.words[i as usize / 64] |= 1 << (i % 64);
    }

    pub fn contains(&self, i: u32) -> bool {
        self.words
            .get(i as usize / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Counts the ranks: call after the last `insert`, before `rank`.
    pub fn seal(&mut self) {
        self.before.clear();
        self.before.reserve(self.words.len());
        let mut count = 0u32;
        for w in &self.words {
            self.before.push(count);
            count += w.count_ones();
        }
    }

    /// Members below `i` (for a member: its position in ascending order). Needs [`seal`](Self::seal).
    pub fn rank(&self, i: u32) -> u32 {
        let (k, bit) = (i as usize / 64, i % 64);
        self.before[k] + (self.words[k] & ((1u64 << bit) - 1)).count_ones()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }

    /// Members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(k, &w)| {
            let mut bits = w;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let i = (k * 64) as u32 + bits.trailing_zeros();
                    bits &= bits - 1;
                    i
                })
            })
        })
    }
}

/// Claim indices grouped by a dense key (CSR): `members(k)` lists, ascending, the claims whose
/// key is `k`. Claims whose key is `None` are left out.
#[derive(Debug, Default)]
pub struct DenseGroups {
    offsets: Vec<u32>,
    claims: Vec<u32>,
}

impl DenseGroups {
    pub fn build(
        n_keys: usize,
        key_of: impl Fn(usize) -> Option<u32>,
        n_claims: usize,
    ) -> DenseGroups {
        let mut offsets = vec![0u32; n_keys + 1];
        for i in 0..n_claims {
            if let Some(k) = key_of(i) {
                offsets[k as usize + 1] += 1;
            }
        }
        for k in 0..n_keys {
            offsets[k + 1] += offsets[k];
        }
        let mut fill = offsets.clone();
        let mut claims = vec![0u32; offsets[n_keys] as usize];
        for i in 0..n_claims {
            if let Some(k) = key_of(i) {
                let slot = &mut fill[k as usize];
                claims[*slot as usize] = i as u32;
                *slot += 1;
            }
        }
        DenseGroups { offsets, claims }
    }

    /// Claims grouped by the key of each claim in order (`keys` yields one key per claim);
    /// every key is a group, key 0 (absent) too. At least one key.
    pub fn from_keys(n_keys: usize, keys: impl Iterator<Item = u32> + Clone) -> DenseGroups {
        let n_keys = n_keys.max(1);
        let mut offsets = vec![0u32; n_keys + 1];
        for k in keys.clone() {
            offsets[k as usize + 1] += 1;
        }
        for i in 0..n_keys {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut claims = vec![0u32; offsets[n_keys] as usize];
        for (i, k) in keys.enumerate() {
            let slot = &mut fill[k as usize];
            claims[*slot as usize] = i as u32;
            *slot += 1;
        }
        DenseGroups { offsets, claims }
    }

    /// Number of keys.
    pub fn keys(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Claims grouped by their class key (`class_keys` id), for the classes of `classes` only
    /// (class key ids, any order; claims without a class are left out): the other claims are
    /// passed over at the cost of one mask lookup, with no grouping writes.
    pub fn by_class_among(snap: &Snapshot, classes: impl Iterator<Item = u32>) -> DenseGroups {
        let mut wanted = vec![false; snap.class_keys.len()];
        for k in classes {
            if let Some(w) = wanted.get_mut(k as usize) {
                *w = true;
            }
        }
        DenseGroups::build(
            snap.class_keys.len(),
            |i| {
                let k = snap.claims[i].class;
                (k != 0 && wanted[k as usize]).then_some(k)
            },
            snap.claims.len(),
        )
    }

    pub fn members(&self, k: u32) -> &[u32] {
        let k = k as usize;
        if k + 1 >= self.offsets.len() {
            return &[];
        }
        &self.claims[self.offsets[k] as usize..self.offsets[k + 1] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intern::Storage;

    #[test]
    fn permuting_in_place_gives_what_a_copy_in_that_order_gives() {
        // Fixed points, a 2-cycle, a long cycle and the reversal; then pseudo-random orders.
        let mut orders: Vec<Vec<u32>> = vec![
            vec![],
            vec![0],
            vec![1, 0, 2],
            vec![3, 0, 1, 2, 4],
            (0..9).rev().collect(),
        ];
        let mut x = 12345u64;
        for n in [10u32, 100, 1000] {
            let mut order: Vec<u32> = (0..n).collect();
            for i in (1..order.len()).rev() {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                order.swap(i, (x >> 33) as usize % (i + 1));
            }
            orders.push(order);
        }
        for order in orders {
            let items: Vec<u64> = (0..order.len() as u64).map(|i| i * 7 + 1).collect();
            let copied: Vec<u64> = order.iter().map(|&i| items[i as usize]).collect();
            let mut permuted = items.clone();
            permute_in_place(&mut permuted, order.clone());
            assert_eq!(permuted, copied, "order {order:?}");
        }
    }

    /// Unique keys, sorted in place; a repeated key keeps its rows in row order, as the stable
    /// sort does (hand-made ledgers; the first row of a key is the one looked up).
    #[test]
    fn rows_sort_by_interned_key_as_a_stable_sort_would() {
        let stable = |rows: &[(u32, char)]| {
            let mut v = rows.to_vec();
            v.sort_by_key(|r| r.0);
            v
        };
        let cases: [&[(u32, char)]; 4] = [
            &[],
            &[(3, 'a'), (0, 'b'), (70, 'c'), (1, 'd'), (64, 'e')],
            &[(5, 'a'), (2, 'b'), (5, 'c'), (2, 'd'), (1, 'e'), (5, 'f')],
            &[(65, 'a'), (1, 'b'), (65, 'c')],
        ];
        for rows in cases {
            let mut sorted = rows.to_vec();
            sort_by_interned_key(&mut sorted, 71, |r| r.0);
            assert_eq!(sorted, stable(rows), "{rows:?}");
        }
    }

    #[test]
    fn person_dates_keep_each_persons_earliest_date_and_nothing_else() {
        let d = |n| Date(18_000 + n);
        // Person 64 twice (the earliest kept), 130 the last person, 0 the first.
        let dates = PersonDates::earliest(
            131,
            [(64, d(5)), (3, d(1)), (64, d(2)), (130, d(9)), (0, d(7))],
        );
        assert_eq!(dates.len(), 131);
        assert_eq!(dates.get(64), Some(d(2)));
        assert_eq!(dates.get(3), Some(d(1)));
        assert_eq!(dates.get(0), Some(d(7)));
        assert_eq!(dates.get(130), Some(d(9)));
        for p in [1, 2, 4, 63, 65, 127, 129] {
            assert_eq!(dates.get(p), None, "person {p}");
        }
        // Beyond the persons covered: none, not a panic.
        assert_eq!(dates.get(131), None);
        assert_eq!(dates.get(u32::MAX - 1), None);
        assert_eq!(
            dates.iter().collect::<Vec<_>>(),
            [(0, d(7)), (3, d(1)), (64, d(2)), (130, d(9))]
        );
        assert_eq!(PersonDates::default().get(0), None);
    }

    #[test]
    fn index_set_ranks_members_across_words() {
        let members = [0u32, 5, 63, 64, 65, 200, 511];
        let mut set = IndexSet::new(512);
        for &i in members.iter().rev() {
            set.insert(i);
        }
        set.insert(64); // again: still one member
        set.seal();
        assert_eq!(set.len(), members.len());
        assert_eq!(set.iter().collect::<Vec<_>>(), members);
        for (k, &i) in members.iter().enumerate() {
            assert!(set.contains(i));
            assert_eq!(set.rank(i), k as u32, "rank of {i}");
        }
        assert!(!set.contains(6) && !set.contains(512) && !set.contains(100_000));
        assert_eq!(set.rank(66), 5, "members below a non-member");
        assert!(IndexSet::new(10).is_empty() && !set.is_empty());
    }

    #[test]
    fn interner_reserves_zero_for_empty() {
        let mut i = Interner::<AsWritten>::new();
        assert_eq!(i.intern(""), 0);
        let a = i.intern("张伟");
        assert_eq!(i.intern("张伟"), a);
        assert_eq!(i.resolve(a), "张伟");
        assert_eq!(i.get("李娜"), None);
    }

    /// Values of every length around the inline limit, many repeated, some sharing their
    /// first `INLINE` bytes.
    fn mixed_values(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let k = (i * 7919) % (n / 3 + 1);
                match k % 4 {
                    0 => format!("{k}"),
                    1 => format!("3713021990030700{k:02}"),
                    2 if k % 8 == 2 => format!("{}{k}", "x".repeat(19)),
                    2 => format!("SQ{k:010}X"),
                    _ => format!("张{k}"),
                }
            })
            .collect()
    }

    #[test]
    fn interning_a_column_gives_the_ids_of_interning_one_by_one() {
        interning_a_column::<AsWritten>();
        interning_a_column::<Packed>();
    }

    fn interning_a_column<S: Storage>() {
        let values = mixed_values(50_000);
        let mut one = Interner::<S>::new();
        let expected: Vec<u32> = values.iter().map(|v| one.intern(v)).collect();
        let mut batch = Interner::<S>::new();
        let mut ids = Vec::new();
        // Uneven batches, including ones shorter than the prefetch distance.
        for part in values
            .chunks(4093)
            .flat_map(|c| c.chunks(c.len().max(3) / 3 + 5))
        {
            batch.intern_each(part.len(), |i| &part[i], &mut ids);
        }
        assert_eq!(ids, expected);
        assert_eq!(batch.len(), one.len());
        assert!(batch.len() > 10_000 && batch.len() < values.len());
        for (v, &id) in values.iter().zip(&ids) {
            let got = batch.resolve(id);
            assert_eq!(std::ops::Deref::deref(&got), v.as_str());
        }
    }

    #[test]
    fn a_sealed_interner_still_finds_and_interns() {
        a_sealed_interner::<AsWritten>();
        a_sealed_interner::<Packed>();
    }

    fn a_sealed_interner<S: Storage>() {
        let values = mixed_values(5_000);
        let mut i = Interner::<S>::new();
        let ids: Vec<u32> = values.iter().map(|v| i.intern(v)).collect();
        let n = i.len();
        i.seal();
        assert_eq!(i.len(), n);
        for (v, &id) in values.iter().zip(&ids) {
            assert_eq!(i.get(v), Some(id));
        }
        assert_eq!(i.get("not there"), None);
        assert_eq!(i.get(""), Some(0));
        // Interning after sealing rebuilds the table: old ids kept, a new string gets the next.
        assert_eq!(i.intern(&values[17]), ids[17]);
        assert_eq!(i.intern("new value"), n as u32);
        assert_eq!(i.get("new value"), Some(n as u32));
        i.seal();
        assert_eq!(i.intern("new value"), n as u32);
        assert_eq!(i.intern(&values[4_999]), ids[4_999]);
    }

    #[test]
    fn claims_in_a_few_sorted_runs_or_in_many_come_out_in_id_order_with_their_rows() {
        let d = Date::from_ymd(2020, 1, 1).unwrap();
        // The amount carries each row's place in the input, to follow it to the output.
        let ledger = |ids: &[String]| Ledger {
            claims: ids
                .iter()
                .enumerate()
                .map(|(row, id)| ClaimRow {
                    claim_id: id.clone(),
                    id_number: "X".into(),
                    claim_date: d,
                    amount: row as Fen,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let id = |prefix: &str, n: usize| format!("{prefix}{n:06}");
        // A re-ingest: stored rows in order, then new ids that sort among and before them,
        // and a repeated id (hand-made input) whose rows keep their input order.
        let mut few: Vec<String> = (0..300).map(|n| id("SQ", n * 2)).collect();
        few.extend((0..50).map(|n| id("SQ", n * 6 + 1)));
        few.extend((0..40).map(|n| id("SN", n)));
        few.push(id("SQ", 10));
        // Far more than FEW_RUNS descents: the pairs are sorted.
        let many: Vec<String> = (0..500).map(|n| id("SQ", (n * 7919) % 500)).collect();
        for ids in [few, many] {
            let s = Snapshot::from_ledger(&ledger(&ids));
            let mut expected: Vec<(&str, usize)> = ids
                .iter()
                .enumerate()
                .map(|(row, id)| (id.as_str(), row))
                .collect();
            expected.sort();
            let got: Vec<(String, usize)> = (0..ids.len())
                .map(|i| (s.claim_id(i).to_string(), s.claims[i].amount as usize))
                .collect();
            let expected: Vec<(String, usize)> = expected
                .into_iter()
                .map(|(id, row)| (id.to_string(), row))
                .collect();
            assert_eq!(got, expected);
        }
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
