//! One self-contained block of the ledger (`Block`) and its generator (`BlockGen`): classes,
//! persons and their claims, ordinary persons up to the target, and the building blocks the
//! rule injections (`inject.rs`) and project-based classes (`projects.rs`) are made of. The
//! plan of a block, `BlockGen::run`, is in `inject.rs`.
//!
//! Ordinary persons are generated so that they break no rule (no overlapping classes, at most
//! `claims_per_year.max` claims a year, one claim per occupation and level, certificates that
//! match, amounts within caps, living allowances within the line). Injections then break one
//! rule each, at the configured rate; their labels (and any overlap) come from `labels.rs`.

use super::world::World;
use crate::dates::Date;
use crate::model::{
    Category, CertificateRow, ClaimRow, ClassRow, DeathRow, EmploymentRow, Fen, FundingSource,
    PensionRow, PovertyRow, ProjectRow, StaffRow, SubsidyType, UiRow,
};
use crate::names;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The rows of one block and the ground truth only the generator knows.
#[derive(Default)]
pub struct Block {
    pub claims: Vec<ClaimRow>,
    pub classes: Vec<ClassRow>,
    pub certificates: Vec<CertificateRow>,
    pub projects: Vec<ProjectRow>,
    pub employment: Vec<EmploymentRow>,
    pub staff: Vec<StaffRow>,
    pub pension: Vec<PensionRow>,
    pub death: Vec<DeathRow>,
    pub ui: Vec<UiRow>,
    pub poverty: Vec<PovertyRow>,
    /// Claims under an ID number also used by a genuinely different person.
    pub identity_truth: Vec<usize>,
    /// Claims of one real person made under several ID numbers.
    pub multi_truth: Vec<usize>,
    /// (ID number, the first ID number of the same real person) for every further ID number
    /// of a person with several: the persons docs/RULES.md "Persons" resolves.
    pub aliases: Vec<(String, String)>,
    /// (ring number, claim index)
    pub rings: Vec<(u64, usize)>,
    /// (employer id, class id) of staged employment.
    pub staged: Vec<(String, String)>,
}

/// A person under one ID number, and what the generator tracks to keep their claims apart.
pub(super) struct Person {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) birth: Date,
    pub(super) male: bool,
    pub(super) phone: String,
    pub(super) bank: String,
    pub(super) category: Option<Category>,
    /// Class intervals of this ID's claims.
    intervals: Vec<(Date, Date)>,
    occ_levels: Vec<(String, u8)>,
    pub(super) years: Vec<(i32, u8)>,
    pub(super) claims: Vec<usize>,
    /// Ordinary skill_upgrade claimants get a registry_ui row with enough months.
    pub(super) auto_ui: bool,
    /// The registry_ui row made for this person's skill_upgrade claims.
    ui_row: Option<usize>,
}

/// Makes one block from the world's random number generator.
pub struct BlockGen<'a> {
    pub(super) w: &'a mut World,
    pub(super) rng: &'a mut ChaCha8Rng,
    pub(super) target: usize,
    pub(super) rate: f64,
    pub(super) b: Block,
    pub(super) persons: Vec<Person>,
    /// Institution number of each class.
    pub(super) class_inst: Vec<usize>,
    pub(super) normal_classes: Vec<usize>,
    pub(super) claim_cert: Vec<Option<usize>>,
    /// Class index of each claim.
    claim_class: Vec<usize>,
}

const TYPE_WEIGHTS: &[(SubsidyType, u32)] = &[
    (SubsidyType::LevelCert, 40),
    (SubsidyType::NoLevelCert, 9),
    (SubsidyType::SpecialAbility, 12),
    (SubsidyType::CareerCourse, 7),
    (SubsidyType::Entrepreneurship, 8),
    (SubsidyType::SkillUpgrade, 13),
    (SubsidyType::Apprenticeship, 5),
    (SubsidyType::GoldenBlueCollar, 6),
];

const CATEGORY_WEIGHTS: &[(Category, u32)] = &[
    (Category::Employee, 25),
    (Category::MigrantWorker, 20),
    (Category::Unemployed, 12),
    (Category::Poor, 8),
    (Category::Hardship, 7),
    (Category::ZeroEmploymentFamily, 3),
    (Category::Veteran, 3),
    (Category::Graduate, 8),
    (Category::Student, 4),
    (Category::Disabled, 3),
    (Category::Other, 3),
];

pub(super) fn add_days(d: Date, n: i32) -> Date {
    Date(d.0 + n)
}

/// `d` moved by whole years (Feb 29 becomes Feb 28).
pub(super) fn years_before(d: Date, years: i32) -> Date {
    let (y, m, dd) = d.ymd();
    Date::from_ymd(y - years, m, dd)
        .or_else(|| Date::from_ymd(y - years, m, dd - 1))
        .unwrap_or(d)
}

impl<'a> BlockGen<'a> {
    pub fn new(
        w: &'a mut World,
        rng: &'a mut ChaCha8Rng,
        target: u64,
        rate: f64,
        _block_no: u64,
    ) -> BlockGen<'a> {
        BlockGen {
            w,
            rng,
            target: target as usize,
            rate,
            b: Block {
                claims: Vec::with_capacity(target as usize + target as usize / 8),
                certificates: Vec::with_capacity(target as usize),
                ..Block::default()
            },
            persons: Vec::with_capacity(target as usize),
            class_inst: Vec::new(),
            normal_classes: Vec::new(),
            claim_cert: Vec::with_capacity(target as usize + target as usize / 8),
            claim_class: Vec::with_capacity(target as usize + target as usize / 8),
        }
    }

    /// Injections of one kind for a base count (claims or projects): the rate applied with
    /// stochastic rounding, and at least one per block of a realistic size.
    pub(super) fn count(&mut self, base: f64) -> usize {
        if self.rate <= 0.0 {
            return 0;
        }
        let x = base * self.rate;
        let mut n = x.floor() as usize;
        if self.rng.gen_bool((x - x.floor()).clamp(0.0, 1.0)) {
            n += 1;
        }
        if self.target >= 2_000 {
            n = n.max(1);
        }
        n
    }

    pub fn finish(mut self) -> Block {
        let n = self.b.claims.len();
        let mut perm: Vec<u64> = (0..n as u64).collect();
        perm.shuffle(self.rng);
        let base = self.w.claim_no;
        for (c, p) in self.b.claims.iter_mut().zip(&perm) {
            c.claim_id = format!("SQ{:010}", base + p + 1);
        }
        self.w.claim_no += n as u64;
        self.b
    }

    // ---- building blocks ------------------------------------------------------------------

    pub(super) fn random_type(&mut self) -> SubsidyType {
        weighted_pick(self.rng, TYPE_WEIGHTS)
    }

    fn random_category(&mut self) -> Category {
        weighted_pick(self.rng, CATEGORY_WEIGHTS)
    }

    fn duration(&mut self, t: SubsidyType) -> i32 {
        let (a, b) = match t {
            SubsidyType::LevelCert => (10, 45),
            SubsidyType::NoLevelCert => (7, 30),
            SubsidyType::CareerCourse => (2, 6),
            SubsidyType::SpecialAbility => (5, 20),
            SubsidyType::Entrepreneurship => (10, 15),
            SubsidyType::Apprenticeship => (60, 180),
            SubsidyType::GoldenBlueCollar => (20, 60),
            SubsidyType::SkillUpgrade => (7, 30),
        };
        self.rng.gen_range(a..=b)
    }

    fn level_for(&mut self, t: SubsidyType) -> Option<u8> {
        let x: u32 = self.rng.gen_range(0..100);
        match t {
            SubsidyType::LevelCert | SubsidyType::SkillUpgrade => Some(if x < 60 {
                5
            } else if x < 90 {
                4
            } else {
                3
            }),
            SubsidyType::Apprenticeship => Some(if x < 70 { 4 } else { 3 }),
            SubsidyType::GoldenBlueCollar => Some(if x < 70 { 2 } else { 1 }),
            _ => None,
        }
    }

    /// Latest class end that still leaves room for a claim (and, for projects, a check date).
    fn last_end(&self, project: bool) -> Date {
        add_days(self.w.range_end, if project { -45 } else { -5 })
    }

    /// A class start inside the policy period (the policy judging a claim is the one covering
    /// its training).
    fn random_start(&mut self, dur: i32, project: bool) -> Date {
        let lo = self.w.range_start.0;
        let hi = self.last_end(project).0 - dur;
        Date(self.rng.gen_range(lo..=hi.max(lo)))
    }

    pub(super) fn new_class(
        &mut self,
        inst: usize,
        t: SubsidyType,
        start: Option<Date>,
        project: bool,
    ) -> usize {
        let occupation = match t {
            SubsidyType::CareerCourse | SubsidyType::Entrepreneurship => String::new(),
            _ => self.w.pick_occupation(self.rng),
        };
        let level = self.level_for(t);
        self.new_class_with(inst, t, occupation, level, start, project)
    }

    pub(super) fn new_class_with(
        &mut self,
        inst: usize,
        t: SubsidyType,
        occupation: String,
        level: Option<u8>,
        start: Option<Date>,
        project: bool,
    ) -> usize {
        let dur = self.duration(t);
        let mut start = start
            .unwrap_or_else(|| self.random_start(dur, project))
            .max(self.w.range_start);
        let last_end = self.last_end(project);
        if add_days(start, dur) > last_end {
            start = add_days(last_end, -dur);
        }
        let end = add_days(start, dur);
        let home = self.w.county_index[&self.w.institutions[inst].county_code];
        // Some classes are held off-site in another county.
        let county = if self.rng.gen_bool(0.08) {
            self.rng.gen_range(0..self.w.counties.len())
        } else {
            home
        };
        self.w.class_no += 1;
        let row = ClassRow {
            class_id: format!("PX{}{:07}", start.year(), self.w.class_no),
            institution_id: self.w.institutions[inst].institution_id.clone(),
            county_code: self.w.counties[county].0.clone(),
            occupation_code: occupation,
            level,
            training_type: Some(t),
            start_date: start,
            end_date: end,
            hours: ((dur + 1) * 6).min(600),
            project_based: project,
        };
        self.b.classes.push(row);
        self.class_inst.push(inst);
        let ci = self.b.classes.len() - 1;
        if !project {
            self.normal_classes.push(ci);
        }
        ci
    }

    /// The person's birth range that keeps every claim date within the policy's ages.
    fn safe_birth(&mut self) -> Date {
        let max = self.w.rules().age_out_of_range.age.max as i32;
        let min = self.w.rules().age_out_of_range.age.min as i32;
        let lo = add_days(years_before(self.w.range_end, max + 1), 1).0;
        let hi = years_before(self.w.range_start, min).0;
        // Most trainees are 20–50.
        let x = if self.rng.gen_bool(0.7) {
            let a = years_before(self.w.range_start, 50).0.max(lo);
            let b = years_before(self.w.range_end, 20).0.min(hi);
            self.rng.gen_range(a..=b.max(a))
        } else {
            self.rng.gen_range(lo..=hi)
        };
        Date(x)
    }

    pub(super) fn new_person_born(&mut self, birth: Date) -> usize {
        let male = self.rng.gen_bool(0.5);
        let area = self.w.pick_area(self.rng, birth);
        let id = self.w.make_id(self.rng, &area, birth, male);
        let name = self.w.make_name(self.rng, male);
        let category = if self.rng.gen_bool(0.01) {
            None
        } else {
            Some(self.random_category())
        };
        if category == Some(Category::Poor) {
            self.b.poverty.push(PovertyRow {
                id_number: id.clone(),
            });
        }
        let phone = self.w.new_phone();
        let bank = self.w.new_bank(self.rng);
        self.persons.push(Person {
            id,
            name,
            birth,
            male,
            phone,
            bank,
            category,
            intervals: Vec::new(),
            occ_levels: Vec::new(),
            years: Vec::new(),
            claims: Vec::new(),
            auto_ui: true,
            ui_row: None,
        });
        self.persons.len() - 1
    }

    pub(super) fn new_person(&mut self) -> usize {
        let birth = self.safe_birth();
        self.new_person_born(birth)
    }

    /// A name for person `pi` that is not a spelling of any name in `others`.
    pub(super) fn rename_apart(&mut self, pi: usize, others: &[String]) {
        let min_jw = self.w.policy.identity.min_jaro_winkler;
        for _ in 0..50 {
            let name = self.w.make_name(self.rng, self.persons[pi].male);
            if others
                .iter()
                .all(|o| !names::same_person_name(o, &name, min_jw))
            {
                self.persons[pi].name = name;
                return;
            }
        }
    }

    /// Claim window of a class: dates a claim of it may carry. A class ending late in the
    /// policy period is claimed in the next year too (filed after the policy ended, judged by
    /// it: the training falls inside).
    fn window(&self, ci: usize) -> (Date, Date) {
        let c = &self.b.classes[ci];
        let lo = add_days(c.end_date, 3).max(self.w.range_start);
        let hi = add_days(c.end_date, 45);
        (lo, hi)
    }

    /// A claim date for person `pi` in class `ci` that breaks nothing, if there is one.
    pub(super) fn fits(
        &mut self,
        pi: usize,
        ci: usize,
        year: Option<i32>,
        same_level: bool,
    ) -> Option<Date> {
        let c = &self.b.classes[ci];
        let p = &self.persons[pi];
        if p.intervals
            .iter()
            .any(|&(s, e)| s <= c.end_date && c.start_date <= e)
        {
            return None;
        }
        if !same_level {
            if let Some(l) = c.level {
                if !c.occupation_code.is_empty()
                    && p.occ_levels
                        .iter()
                        .any(|(o, x)| *o == c.occupation_code && *x == l)
                {
                    return None;
                }
            }
        }
        let (mut lo, mut hi) = self.window(ci);
        if let Some(y) = year {
            lo = lo.max(Date::from_ymd(y, 1, 1)?);
            hi = hi.min(Date::from_ymd(y, 12, 31)?);
        }
        if lo > hi {
            return None;
        }
        let date = Date(self.rng.gen_range(lo.0..=hi.0));
        let max = self.w.rules().over_cap.claims_per_year.max as u8;
        let p = &self.persons[pi];
        if p.years.iter().any(|&(y, n)| y == date.year() && n >= max) {
            return None;
        }
        let age = p.birth.age_on(date);
        if age < self.w.rules().age_out_of_range.age.min as i32
            || age > self.w.rules().age_out_of_range.age.max as i32
        {
            return None;
        }
        Some(date)
    }

    /// Places a claim of person `pi` in an existing ordinary class accepted by `filter`.
    pub(super) fn place_where(
        &mut self,
        pi: usize,
        year: Option<i32>,
        filter: &dyn Fn(&ClassRow) -> bool,
    ) -> Option<usize> {
        if self.normal_classes.is_empty() {
            return None;
        }
        for _ in 0..60 {
            let ci = self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
            if !filter(&self.b.classes[ci]) {
                continue;
            }
            if let Some(date) = self.fits(pi, ci, year, false) {
                return Some(self.claim_as(pi, ci, date, pi));
            }
        }
        None
    }

    /// Places a claim of person `pi`, making a new class if no existing one fits.
    pub(super) fn place(&mut self, pi: usize, year: Option<i32>) -> Option<usize> {
        if let Some(c) = self.place_where(pi, year, &|_| true) {
            return Some(c);
        }
        for _ in 0..20 {
            let inst = self.rng.gen_range(0..self.w.institutions.len());
            let t = self.random_type();
            let start = year.and_then(|y| {
                let d = Date::from_ymd(y, 1, 1)?;
                Some(Date(d.0 + self.rng.gen_range(-30..300)))
            });
            let ci = self.new_class(inst, t, start, false);
            if let Some(date) = self.fits(pi, ci, year, false) {
                return Some(self.claim_as(pi, ci, date, pi));
            }
        }
        None
    }

    /// A claim in class `ci` on `date` under the ID of `pi`, by person `who` (name, phone,
    /// bank and category; `who == pi` except for borrowed IDs).
    pub(super) fn claim_as(&mut self, pi: usize, ci: usize, date: Date, who: usize) -> usize {
        let class = {
            let c = &self.b.classes[ci];
            // Only the scalar fields and the strings a claim carries; the strings move into it.
            ClassRow {
                class_id: c.class_id.clone(),
                institution_id: c.institution_id.clone(),
                county_code: c.county_code.clone(),
                occupation_code: c.occupation_code.clone(),
                level: c.level,
                training_type: c.training_type,
                start_date: c.start_date,
                end_date: c.end_date,
                hours: c.hours,
                project_based: c.project_based,
            }
        };
        let t = class.training_type.unwrap_or(SubsidyType::LevelCert);
        let amount = self.standard_amount(t, class.level);
        let funding = match t {
            SubsidyType::SkillUpgrade => FundingSource::UnemploymentInsurance,
            SubsidyType::Apprenticeship if self.rng.gen_bool(0.5) => FundingSource::Enterprise,
            _ => match self.rng.gen_range(0..100) {
                0..=84 => FundingSource::EmploymentFund,
                85..=94 => FundingSource::SpecialFund,
                _ => FundingSource::UnemploymentInsurance,
            },
        };
        let id = self.persons[pi].id.clone();
        let (name, phone, bank, category) = {
            let p = &self.persons[who];
            (p.name.clone(), p.phone.clone(), p.bank.clone(), p.category)
        };
        let ci_claim = self.b.claims.len();
        let (cert_idx, cert_no) = match self.certificate(t, &class, date, &id, &name) {
            Some((k, no)) => (Some(k), no),
            None => (None, String::new()),
        };
        let (living_days, living_amount) = self.living_allowance(category, &class, date);
        let occ_level = match class.level {
            Some(l) if !class.occupation_code.is_empty() => {
                Some((class.occupation_code.clone(), l))
            }
            _ => None,
        };
        let interval = (class.start_date, class.end_date);
        self.b.claims.push(ClaimRow {
            claim_id: String::new(),
            id_number: id.clone(),
            name,
            phone,
            bank_account: bank,
            category,
            county_code: class.county_code,
            institution_id: class.institution_id,
            class_id: class.class_id,
            subsidy_type: Some(t),
            occupation_code: class.occupation_code,
            level: class.level,
            cert_no,
            funding_source: Some(funding),
            amount,
            living_days,
            living_amount,
            claim_date: date,
        });
        self.claim_cert.push(cert_idx);
        self.claim_class.push(ci);
        let p = &mut self.persons[pi];
        p.intervals.push(interval);
        if let Some(ol) = occ_level {
            p.occ_levels.push(ol);
        }
        match p.years.iter_mut().find(|(y, _)| *y == date.year()) {
            Some((_, n)) => *n += 1,
            None => p.years.push((date.year(), 1)),
        }
        p.claims.push(ci_claim);
        if t == SubsidyType::SkillUpgrade && p.auto_ui {
            let as_of = add_days(date, -self.rng.gen_range(0..90));
            match p.ui_row {
                // Claims are placed in no date order: the statement must precede every one.
                Some(r) => {
                    let row = &mut self.b.ui[r];
                    row.as_of = row.as_of.map(|d| d.min(as_of));
                }
                None => {
                    p.ui_row = Some(self.b.ui.len());
                    let min = self
                        .w
                        .rules()
                        .skill_upgrade_ineligible
                        .skill_upgrade
                        .min_ui_months as i32;
                    // Some exactly at the minimum: the boundary that must not fire.
                    let months = if self.rng.gen_bool(0.15) {
                        min
                    } else {
                        min + self.rng.gen_range(1..120)
                    };
                    self.b.ui.push(UiRow {
                        id_number: id,
                        months_paid: months,
                        as_of: Some(as_of),
                    });
                }
            }
        }
        ci_claim
    }

    /// The certificate of a claim of type `t` in `class` on `date` under ID `id` by `name`,
    /// if the type needs one: (index in the block's certificates, certificate number).
    fn certificate(
        &mut self,
        t: SubsidyType,
        class: &ClassRow,
        date: Date,
        id: &str,
        name: &str,
    ) -> Option<(usize, String)> {
        if !self.w.cert_required(t) {
            return None;
        }
        let gap = (date.0 - class.end_date.0).clamp(0, 10);
        let issue = add_days(class.end_date, self.rng.gen_range(0..=gap));
        self.w.cert_no += 1;
        let cert_no = format!("Z{}{:09}", issue.year(), self.w.cert_no);
        let cert_type = match t {
            SubsidyType::SpecialAbility => "专项职业能力证书",
            SubsidyType::NoLevelCert | SubsidyType::CareerCourse => "培训合格证书",
            SubsidyType::Entrepreneurship => "创业培训合格证书",
            _ => "职业技能等级证书",
        };
        self.b.certificates.push(CertificateRow {
            cert_no: cert_no.clone(),
            id_number: id.to_string(),
            name: name.to_string(),
            occupation_code: class.occupation_code.clone(),
            level: class.level,
            cert_type: cert_type.to_string(),
            issue_date: Some(issue),
        });
        Some((self.b.certificates.len() - 1, cert_no))
    }

    /// Living allowance (days, amount) of a claim in `class` on `date`: for some eligible
    /// claimants, at or below the line.
    fn living_allowance(
        &mut self,
        category: Option<Category>,
        class: &ClassRow,
        date: Date,
    ) -> (i32, Fen) {
        match category {
            Some(c) if self.w.living_eligible(c) && self.rng.gen_bool(0.6) => {
                let max_days = self
                    .w
                    .rules()
                    .living_allowance_excess
                    .living_allowance
                    .max_days as i32;
                let class_days = class.end_date.0 - class.start_date.0 + 1;
                let days = self.rng.gen_range(1..=class_days.min(max_days).max(1));
                let line = self
                    .w
                    .living_line(&class.county_code, date.year())
                    .unwrap_or(0);
                let dpm = self
                    .w
                    .rules()
                    .living_allowance_excess
                    .living_allowance
                    .days_per_month as i64;
                let at_line = days as i64 * line / dpm;
                let amount = if self.rng.gen_bool(0.3) {
                    at_line
                } else {
                    (at_line / 100 - self.rng.gen_range(0..20)).max(0) * 100
                };
                (days, amount)
            }
            _ => (0, 0),
        }
    }

    /// The standard amount of a type and level: the policy cap mostly, sometimes less.
    fn standard_amount(&mut self, t: SubsidyType, level: Option<u8>) -> Fen {
        if let Some(cap) = self.w.cap(t, level) {
            if self.rng.gen_bool(0.8) {
                return cap;
            }
            let pct = self.rng.gen_range(60..100);
            return (cap * pct / 100 / 1000) * 1000;
        }
        match t {
            SubsidyType::Apprenticeship => {
                let floor = self
                    .w
                    .rules()
                    .amount_over_standard
                    .apprenticeship
                    .floor_per_year as i64
                    * 100;
                floor + self.rng.gen_range(0..=20) * 10_000
            }
            SubsidyType::SkillUpgrade => match level {
                Some(3) => 200_000,
                Some(4) => 150_000,
                _ => 100_000,
            },
            _ => 50_000,
        }
    }

    pub(super) fn cap_of(&self, ci: usize) -> Option<Fen> {
        let c = &self.b.classes[ci];
        self.w.cap(c.training_type?, c.level)
    }

    pub(super) fn spell(&mut self, id: &str, employer: &str, start: Date, end: Option<Date>) {
        self.b.employment.push(EmploymentRow {
            id_number: id.to_string(),
            employer_id: employer.to_string(),
            start_date: start,
            end_date: end,
        });
    }

    pub(super) fn random_employer(&mut self) -> String {
        self.w.employers[self.rng.gen_range(0..self.w.employers.len())].clone()
    }

    // ---- ordinary persons -----------------------------------------------------------------

    pub(super) fn fill(&mut self) {
        while self.b.claims.len() < self.target {
            let left = self.target - self.b.claims.len();
            let family = left >= 2 && self.rng.gen_bool(0.05);
            let first = self.new_person();
            let mut members = vec![first];
            if family {
                // A couple or parent and child sharing one phone: two persons, the maximum.
                let second = self.new_person();
                let n0 = self.persons[first].name.clone();
                self.rename_apart(second, &[n0]);
                self.persons[second].phone = self.persons[first].phone.clone();
                members.push(second);
            }
            for pi in members {
                let k = match self.rng.gen_range(0..100) {
                    0..=54 => 1,
                    55..=79 => 2,
                    80..=91 => 3,
                    92..=97 => 4,
                    _ => 5,
                };
                let left = self.target.saturating_sub(self.b.claims.len());
                for _ in 0..k.min(left) {
                    if self.place(pi, None).is_none() {
                        break;
                    }
                }
                self.decorate(pi);
            }
        }
    }

    /// Benign extras of an ordinary person: a spelling variant of the name on one claim, an
    /// employment spell, a pension that starts after the last claim.
    fn decorate(&mut self, pi: usize) {
        if self.persons[pi].claims.len() >= 2 && self.rng.gen_bool(0.05) {
            let name = self.persons[pi].name.clone();
            if let Some(v) = self.variant(&name) {
                let ci = *self.persons[pi].claims.last().unwrap_or(&0);
                self.b.claims[ci].name = v;
            }
        }
        if self.rng.gen_bool(0.15) {
            let id = self.persons[pi].id.clone();
            let employer = self.random_employer();
            let start = Date(self.w.range_start.0 - self.rng.gen_range(-300..2000));
            let end = if self.rng.gen_bool(0.5) {
                None
            } else {
                Some(add_days(start, self.rng.gen_range(30..1500)))
            };
            self.spell(&id, &employer, start, end);
        }
        let p = &self.persons[pi];
        if p.birth.year() < 1966 && !p.claims.is_empty() && self.rng.gen_bool(0.3) {
            let last = p.claims.iter().map(|&c| self.b.claims[c].claim_date).max();
            if let Some(last) = last {
                let start = add_days(last, self.rng.gen_range(1..700));
                let id = p.id.clone();
                self.b.pension.push(PensionRow {
                    id_number: id,
                    start_date: start,
                });
            }
        }
    }

    /// A spelling of `name` that names the same person: traditional characters, an inner
    /// ideographic space, or a pinyin-input homophone (checked with `names::same_person_name`).
    pub(super) fn variant(&mut self, name: &str) -> Option<String> {
        let chars: Vec<char> = name.chars().collect();
        let kind = self.rng.gen_range(0..3);
        let candidate: String = match kind {
            0 => {
                let mut changed = false;
                let s: String = chars
                    .iter()
                    .map(|c| match self.w.traditional.get(c) {
                        Some(&t) => {
                            changed = true;
                            t
                        }
                        None => *c,
                    })
                    .collect();
                if !changed {
                    return None;
                }
                s
            }
            1 if chars.len() == 2 => format!("{}\u{3000}{}", chars[0], chars[1]),
            _ => {
                let positions: Vec<usize> = (1..chars.len())
                    .filter(|i| self.w.homophones.contains_key(&chars[*i]))
                    .collect();
                let &pos = positions.choose(self.rng)?;
                let alike = &self.w.homophones[&chars[pos]];
                let replacement = alike[self.rng.gen_range(0..alike.len())];
                let mut c2 = chars.clone();
                c2[pos] = replacement;
                c2.into_iter().collect()
            }
        };
        let min_jw = self.w.policy.identity.min_jaro_winkler;
        if names::same_person_name(name, &candidate, min_jw) {
            Some(candidate)
        } else {
            None
        }
    }

    // ---- helpers of injections ----------------------------------------------------------

    pub(super) fn random_year(&mut self) -> i32 {
        self.rng
            .gen_range(self.w.range_start.year()..=self.w.range_end.year())
    }

    /// Claim of a fresh (or freshly assigned) person in class `ci`, whatever else they have.
    pub(super) fn force_claim(&mut self, pi: usize, ci: usize) -> usize {
        let (lo, hi) = self.window(ci);
        let date = Date(self.rng.gen_range(lo.0..=hi.0.max(lo.0)));
        self.claim_as(pi, ci, date, pi)
    }

    /// A random ordinary class and a claim date for it.
    pub(super) fn random_slot(&mut self) -> (usize, Date) {
        let ci = self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
        let (lo, hi) = self.window(ci);
        (ci, Date(self.rng.gen_range(lo.0..=hi.0.max(lo.0))))
    }

    pub(super) fn class_index(&self, claim: usize) -> usize {
        self.claim_class[claim]
    }

    pub(super) fn person_from_rep(&mut self, inst: usize) -> usize {
        let rep = self.w.reps[inst].clone();
        self.persons.push(Person {
            male: crate::idcode::sex_of(&rep.id) == Some(crate::idcode::Sex::Male),
            id: rep.id,
            name: rep.name,
            birth: rep.birth,
            phone: rep.phone,
            bank: rep.bank,
            category: Some(Category::Other),
            intervals: Vec::new(),
            occ_levels: Vec::new(),
            years: Vec::new(),
            claims: Vec::new(),
            auto_ui: true,
            ui_row: None,
        });
        self.persons.len() - 1
    }
}
/// Appends the correct check character to 17 digits (the rest of the number may be wrong).
pub(super) fn with_check(first17: &str) -> String {
    let c = crate::idcode::id_check_char(first17).unwrap_or('0');
    format!("{first17}{c}")
}

/// One item of a non-empty weighted table, in proportion to its weight.
fn weighted_pick<T: Copy, R: Rng + ?Sized>(rng: &mut R, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for &(item, w) in table {
        if x < w {
            return item;
        }
        x -= w;
    }
    table[table.len() - 1].0
}
