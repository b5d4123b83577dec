//! One self-contained block of the ledger: classes, persons and their claims, the injected
//! rule breaches with their benign look-alikes, rings, and project-based classes.
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

struct Person {
    id: String,
    name: String,
    birth: Date,
    male: bool,
    phone: String,
    bank: String,
    category: Option<Category>,
    /// Class intervals of this ID's claims.
    intervals: Vec<(Date, Date)>,
    occ_levels: Vec<(String, u8)>,
    years: Vec<(i32, u8)>,
    claims: Vec<usize>,
    /// Ordinary skill_upgrade claimants get a registry_ui row with enough months.
    auto_ui: bool,
    /// The registry_ui row made for this person's skill_upgrade claims.
    ui_row: Option<usize>,
}

/// Kinds of project-based class.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ProjectKind {
    Normal,
    PrepayExcess,
    LowEmployment,
    ShamStaged,
    ShamSingle,
    ShamLinked,
    /// Benign look-alikes.
    ExactPrepay,
    ExactEmployment,
    SmallSingle,
    FewStaged,
}

pub struct BlockGen<'a> {
    w: &'a mut World,
    rng: &'a mut ChaCha8Rng,
    target: usize,
    rate: f64,
    b: Block,
    persons: Vec<Person>,
    /// Institution number of each class.
    class_inst: Vec<usize>,
    normal_classes: Vec<usize>,
    claim_cert: Vec<Option<usize>>,
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

fn add_days(d: Date, n: i32) -> Date {
    Date(d.0 + n)
}

/// `d` moved by whole years (Feb 29 becomes Feb 28).
fn years_before(d: Date, years: i32) -> Date {
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
    fn count(&mut self, base: f64) -> usize {
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

    pub fn run(&mut self) {
        let n_classes = (self.target / 30).max(6);
        for _ in 0..n_classes {
            let inst = self.rng.gen_range(0..self.w.institutions.len());
            let t = self.random_type();
            self.new_class(inst, t, None, false);
        }
        let target = self.target as f64;
        let n_projects_base = (n_classes as f64 * 0.10).max(1.0);

        // Project-based classes: one per tenth of the classes, some of them injected.
        let mut kinds = Vec::new();
        for kind in [ProjectKind::PrepayExcess, ProjectKind::LowEmployment] {
            for _ in 0..self.count(n_projects_base) {
                kinds.push(kind);
            }
        }
        let sham = self.count(n_projects_base);
        // Each of the three kinds of staged employment at least once when injecting at all.
        let sham = if self.rate > 0.0 && self.target >= 2_000 {
            sham.max(3)
        } else {
            sham
        };
        for i in 0..sham {
            kinds.push(
                [
                    ProjectKind::ShamStaged,
                    ProjectKind::ShamSingle,
                    ProjectKind::ShamLinked,
                ][i % 3],
            );
        }
        if self.target >= 2_000 {
            kinds.extend([
                ProjectKind::ExactPrepay,
                ProjectKind::ExactEmployment,
                ProjectKind::SmallSingle,
                ProjectKind::FewStaged,
            ]);
        }
        while kinds.len() < n_projects_base as usize {
            kinds.push(ProjectKind::Normal);
        }
        for kind in kinds {
            self.project(kind);
        }

        // Project rules were injected per project above; the others per claim here, in
        // CONTRACT §2 order.
        const PROJECT_RULES: [&str; 3] = ["prepay_excess", "employment_rate", "employment_sham"];
        let rules = crate::rules::RULE_IDS
            .iter()
            .copied()
            .filter(|r| !PROJECT_RULES.contains(r));
        for rule in rules {
            let n = self.count(target);
            for i in 0..n {
                self.inject(rule, i);
            }
            // The benign look-alike of each rule, about as often as the breach.
            for i in 0..n {
                self.benign(rule, i);
            }
        }
        let rings = if self.target >= 2_000 && self.rate > 0.0 {
            ((target * self.rate / 100.0).round() as usize).max(1)
        } else {
            0
        };
        for _ in 0..rings {
            self.ring();
        }
        self.fill();
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

    fn random_type(&mut self) -> SubsidyType {
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

    fn new_class(
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

    fn new_class_with(
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
        let max = self.w.policy.age.max as i32;
        let min = self.w.policy.age.min as i32;
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

    fn new_person_born(&mut self, birth: Date) -> usize {
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

    fn new_person(&mut self) -> usize {
        let birth = self.safe_birth();
        self.new_person_born(birth)
    }

    /// A name for person `pi` that is not a spelling of any name in `others`.
    fn rename_apart(&mut self, pi: usize, others: &[String]) {
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
    fn fits(&mut self, pi: usize, ci: usize, year: Option<i32>, same_level: bool) -> Option<Date> {
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
        let max = self.w.policy.claims_per_year.max as u8;
        let p = &self.persons[pi];
        if p.years.iter().any(|&(y, n)| y == date.year() && n >= max) {
            return None;
        }
        let age = p.birth.age_on(date);
        if age < self.w.policy.age.min as i32 || age > self.w.policy.age.max as i32 {
            return None;
        }
        Some(date)
    }

    /// Places a claim of person `pi` in an existing ordinary class accepted by `filter`.
    fn place_where(
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
    fn place(&mut self, pi: usize, year: Option<i32>) -> Option<usize> {
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
    fn claim_as(&mut self, pi: usize, ci: usize, date: Date, who: usize) -> usize {
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
        let mut cert_idx = None;
        let mut cert_no = String::new();
        if self.w.cert_required(t) {
            let gap = (date.0 - class.end_date.0).clamp(0, 10);
            let issue = add_days(class.end_date, self.rng.gen_range(0..=gap));
            self.w.cert_no += 1;
            cert_no = format!("Z{}{:09}", issue.year(), self.w.cert_no);
            let cert_type = match t {
                SubsidyType::SpecialAbility => "专项职业能力证书",
                SubsidyType::NoLevelCert | SubsidyType::CareerCourse => "培训合格证书",
                SubsidyType::Entrepreneurship => "创业培训合格证书",
                _ => "职业技能等级证书",
            };
            self.b.certificates.push(CertificateRow {
                cert_no: cert_no.clone(),
                id_number: id.clone(),
                name: name.clone(),
                occupation_code: class.occupation_code.clone(),
                level: class.level,
                cert_type: cert_type.to_string(),
                issue_date: Some(issue),
            });
            cert_idx = Some(self.b.certificates.len() - 1);
        }
        let (living_days, living_amount) = match category {
            Some(c) if self.w.living_eligible(c) && self.rng.gen_bool(0.6) => {
                let max_days = self.w.policy.living_allowance.max_days as i32;
                let class_days = class.end_date.0 - class.start_date.0 + 1;
                let days = self.rng.gen_range(1..=class_days.min(max_days).max(1));
                let line = self
                    .w
                    .living_line(&class.county_code, date.year())
                    .unwrap_or(0);
                let dpm = self.w.policy.living_allowance.days_per_month as i64;
                let at_line = days as i64 * line / dpm;
                let amount = if self.rng.gen_bool(0.3) {
                    at_line
                } else {
                    (at_line / 100 - self.rng.gen_range(0..20)).max(0) * 100
                };
                (days, amount)
            }
            _ => (0, 0),
        };
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
                    let min = self.w.policy.skill_upgrade.min_ui_months as i32;
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
                let floor = self.w.policy.apprenticeship.floor_per_year as i64 * 100;
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

    fn cap_of(&self, ci: usize) -> Option<Fen> {
        let c = &self.b.classes[ci];
        self.w.cap(c.training_type?, c.level)
    }

    fn spell(&mut self, id: &str, employer: &str, start: Date, end: Option<Date>) {
        self.b.employment.push(EmploymentRow {
            id_number: id.to_string(),
            employer_id: employer.to_string(),
            start_date: start,
            end_date: end,
        });
    }

    fn random_employer(&mut self) -> String {
        self.w.employers[self.rng.gen_range(0..self.w.employers.len())].clone()
    }

    // ---- ordinary persons -----------------------------------------------------------------

    fn fill(&mut self) {
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
    fn variant(&mut self, name: &str) -> Option<String> {
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

    // ---- injections -----------------------------------------------------------------------

    fn random_year(&mut self) -> i32 {
        self.rng
            .gen_range(self.w.range_start.year()..=self.w.range_end.year())
    }

    fn inject(&mut self, rule: &str, i: usize) {
        match rule {
            "over_cap" => {
                let pi = self.new_person();
                let y = self.random_year();
                let max = self.w.policy.claims_per_year.max as usize;
                // Lift the per-year limit of this person by placing beyond it.
                let extra = 1 + i % 2;
                for k in 0..max + extra {
                    if k == max {
                        self.persons[pi].years.retain(|(yy, _)| *yy != y);
                    }
                    self.place(pi, Some(y));
                }
            }
            "repeated_level" => {
                let pi = self.new_person();
                let Some(first) = self.place_where(pi, None, &|c| {
                    c.level.is_some() && !c.occupation_code.is_empty()
                }) else {
                    return;
                };
                let (occ, level, t) = {
                    let c = &self.b.claims[first];
                    (
                        c.occupation_code.clone(),
                        c.level,
                        c.subsidy_type.unwrap_or(SubsidyType::LevelCert),
                    )
                };
                let inst = self.rng.gen_range(0..self.w.institutions.len());
                for _ in 0..10 {
                    let ci = self.new_class_with(inst, t, occ.clone(), level, None, false);
                    if let Some(date) = self.fits(pi, ci, None, true) {
                        let c = self.claim_as(pi, ci, date, pi);
                        // Across funds: the repeat is paid from unemployment insurance.
                        if i % 2 == 0 {
                            self.b.claims[c].funding_source =
                                Some(FundingSource::UnemploymentInsurance);
                        }
                        break;
                    }
                }
            }
            "amount_over_standard" => {
                let pi = self.new_person();
                for _ in 0..5 {
                    let Some(c) = self.place(pi, None) else {
                        return;
                    };
                    let class_ix = self.class_index(c);
                    if let Some(cap) = self.cap_of(class_ix) {
                        // Up to half the cap above it, in whole yuan.
                        let over = self.rng.gen_range(1..=(cap / 200).max(1)) * 100;
                        self.b.claims[c].amount = cap + over;
                        return;
                    }
                }
            }
            "living_allowance_excess" => {
                let pi = self.new_person();
                let eligible = [
                    Category::Poor,
                    Category::Hardship,
                    Category::ZeroEmploymentFamily,
                ];
                self.persons[pi].category = Some(eligible[i % 3]);
                let Some(c) = self.place(pi, None) else {
                    return;
                };
                let max_days = self.w.policy.living_allowance.max_days as i32;
                let dpm = self.w.policy.living_allowance.days_per_month as i64;
                let (county, year) = {
                    let cl = &self.b.claims[c];
                    (cl.county_code.clone(), cl.claim_date.year())
                };
                let line = self.w.living_line(&county, year).unwrap_or(60_000);
                let cl = &mut self.b.claims[c];
                match i % 3 {
                    0 => {
                        cl.living_days = max_days + 1 + (i as i32 % 10);
                        cl.living_amount = cl.living_days as i64 * line / dpm;
                    }
                    1 => {
                        cl.living_days = max_days.min(10 + i as i32 % 20);
                        cl.living_amount =
                            cl.living_days as i64 * line / dpm + 100 * (1 + i as i64 % 30);
                    }
                    _ => {
                        cl.category = if i % 2 == 0 {
                            Some(Category::Employee)
                        } else {
                            None
                        };
                        cl.living_days = max_days.min(15);
                        cl.living_amount = cl.living_days as i64 * line / dpm / 100 * 100;
                    }
                }
            }
            "skill_upgrade_ineligible" => {
                let pi = self.new_person();
                self.persons[pi].auto_ui = false;
                let c = self.place_where(pi, None, &|c| {
                    c.training_type == Some(SubsidyType::SkillUpgrade)
                });
                let c = match c {
                    Some(c) => c,
                    None => {
                        let inst = self.rng.gen_range(0..self.w.institutions.len());
                        let ci = self.new_class(inst, SubsidyType::SkillUpgrade, None, false);
                        let Some(d) = self.fits(pi, ci, None, false) else {
                            return;
                        };
                        self.claim_as(pi, ci, d, pi)
                    }
                };
                let date = self.b.claims[c].claim_date;
                let id = self.persons[pi].id.clone();
                let min = self.w.policy.skill_upgrade.min_ui_months as i32;
                match i % 3 {
                    0 => {} // no contributions at all
                    1 => self.b.ui.push(UiRow {
                        id_number: id,
                        months_paid: self.rng.gen_range(1..min.max(2)),
                        as_of: Some(add_days(date, -self.rng.gen_range(0..60))),
                    }),
                    _ => {
                        // Enough months only by a statement dated after the claim.
                        self.b.ui.push(UiRow {
                            id_number: id.clone(),
                            months_paid: (min - 1).max(0),
                            as_of: Some(add_days(date, -30)),
                        });
                        self.b.ui.push(UiRow {
                            id_number: id,
                            months_paid: min + 6,
                            as_of: Some(add_days(date, self.rng.gen_range(1..200))),
                        });
                    }
                }
            }
            "invalid_id" => {
                let pi = self.new_person();
                let mut id = self.persons[pi].id.clone();
                let bad = loop {
                    let first17 = &id[..17];
                    let bad = match i % 4 {
                        0 => {
                            // Wrong check character: unique, as its first 17 digits are.
                            let good = id.as_bytes()[17];
                            let wrong = if good == b'0' {
                                '1'
                            } else if good == b'X' {
                                '2'
                            } else {
                                '0'
                            };
                            break format!("{first17}{wrong}");
                        }
                        1 => {
                            // A birth date that does not exist (Feb 30 or month 13).
                            let y = &id[6..10];
                            let md = if i % 8 == 1 { "0230" } else { "1315" };
                            with_check(&format!("{}{y}{md}{}", &id[..6], &id[14..17]))
                        }
                        2 => {
                            // Born after the claim: a typo in the year.
                            let y = self.w.range_end.year() + 1 + (i as i32 % 3);
                            with_check(&format!("{}{y}{}", &id[..6], &id[10..17]))
                        }
                        _ => {
                            let area = super::pools::NEVER_AREAS
                                .iter()
                                .find(|a| !self.w.refdata.area_known(a))
                                .copied()
                                .unwrap_or("999999");
                            with_check(&format!("{area}{}", &id[6..17]))
                        }
                    };
                    // Derived numbers of two people may coincide: take another sequence number.
                    if self.w.reserve_id(&bad) {
                        break bad;
                    }
                    let parity = (id.as_bytes()[16] - b'0') % 2;
                    let seq = self.rng.gen_range(0..500u32) * 2 + parity as u32;
                    id = format!("{}{seq:03}{}", &id[..14], &id[17..]);
                };
                self.persons[pi].id = bad;
                self.place(pi, None);
            }
            "deceased" => {
                let pi = self.new_person();
                let Some(c) = self.place(pi, None) else {
                    return;
                };
                let date = self.b.claims[c].claim_date;
                let id = self.persons[pi].id.clone();
                self.b.death.push(DeathRow {
                    id_number: id,
                    death_date: add_days(date, -self.rng.gen_range(1..400)),
                });
            }
            "pensioner" => {
                let birth = {
                    let a = years_before(self.w.range_start, 56).0;
                    let b = years_before(self.w.range_start, 52).0;
                    Date(self.rng.gen_range(a..=b))
                };
                let pi = self.new_person_born(birth);
                let Some(c) = self.place(pi, None) else {
                    return;
                };
                let date = self.b.claims[c].claim_date;
                let id = self.persons[pi].id.clone();
                let back = if i % 4 == 0 {
                    0
                } else {
                    self.rng.gen_range(1..500)
                };
                self.b.pension.push(PensionRow {
                    id_number: id,
                    start_date: add_days(date, -back),
                });
            }
            "age_out_of_range" => {
                let (ci, date) = self.random_slot();
                let min = self.w.policy.age.min as i32;
                let max = self.w.policy.age.max as i32;
                let age = if i % 2 == 0 {
                    min - 1 - (i as i32 / 2) % 2
                } else {
                    max + 1 + (i as i32 / 2) % 5
                };
                let birth = add_days(years_before(date, age), -self.rng.gen_range(0..300));
                let pi = self.new_person_born(birth);
                self.claim_as(pi, ci, date, pi);
            }
            "identity_conflict" => {
                let lender = self.new_person();
                let k = 1 + i % 2;
                for _ in 0..k {
                    self.place(lender, None);
                }
                // The borrower: someone else, under the lender's ID number.
                let borrower = self.new_person();
                let lender_name = self.persons[lender].name.clone();
                self.rename_apart(borrower, &[lender_name]);
                for _ in 0..1 + i % 2 {
                    for _ in 0..30 {
                        let ci =
                            self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
                        if let Some(date) = self.fits(lender, ci, None, false) {
                            self.claim_as(lender, ci, date, borrower);
                            break;
                        }
                    }
                }
                let claims = self.persons[lender].claims.clone();
                self.b.identity_truth.extend(claims);
            }
            "multi_id" => {
                // One real person under two or three ID numbers, linked as docs/RULES.md
                // "Persons" says: one birth date, spellings of one name (the same, traditional,
                // spaced or a pinyin-input homophone), one phone or one bank account.
                let first = self.new_person();
                let (birth, male, name, phone, bank) = {
                    let p = &self.persons[first];
                    (
                        p.birth,
                        p.male,
                        p.name.clone(),
                        p.phone.clone(),
                        p.bank.clone(),
                    )
                };
                let n_ids = if i % 4 == 2 { 3 } else { 2 };
                let mut ids = vec![first];
                for _ in 1..n_ids {
                    let other = self.new_person_born(birth);
                    let area = self.w.pick_area(self.rng, birth);
                    let id = self.w.make_id(self.rng, &area, birth, male);
                    let spelled = if i % 4 == 0 {
                        None
                    } else {
                        self.variant(&name)
                    };
                    let p = &mut self.persons[other];
                    p.id = id;
                    p.male = male;
                    p.name = spelled.unwrap_or_else(|| name.clone());
                    match i % 4 {
                        // Only the bank account is shared.
                        3 => p.bank = bank.clone(),
                        0 => {
                            p.phone = phone.clone();
                            p.bank = bank.clone();
                        }
                        _ => p.phone = phone.clone(),
                    }
                    ids.push(other);
                    self.b.aliases.push((
                        self.persons[other].id.clone(),
                        self.persons[first].id.clone(),
                    ));
                }
                if i % 4 == 3 {
                    // Two claims a year under each ID number: within the limit per ID number,
                    // over it per person.
                    let y = self.random_year();
                    for &pi in &ids {
                        for _ in 0..2 {
                            self.place(pi, Some(y));
                        }
                    }
                } else {
                    for &pi in &ids {
                        for _ in 0..1 + i % 2 {
                            self.place(pi, None);
                        }
                    }
                }
                for &pi in &ids {
                    let claims = self.persons[pi].claims.clone();
                    self.b.multi_truth.extend(claims);
                }
            }
            "overlapping_training" => {
                let pi = self.new_person();
                let Some(a) = self.place(pi, None) else {
                    return;
                };
                let ca = self.class_index(a);
                let (a_start, a_end, a_inst) = {
                    let c = &self.b.classes[ca];
                    (c.start_date, c.end_date, self.class_inst[ca])
                };
                let mut inst = self.rng.gen_range(0..self.w.institutions.len());
                if inst == a_inst {
                    inst = (inst + 1) % self.w.institutions.len();
                }
                // Starts within the first class; sometimes on its very last day (inclusive).
                let start = if i % 3 == 0 {
                    a_end
                } else {
                    Date(self.rng.gen_range(a_start.0..=a_end.0))
                };
                let t = SubsidyType::SpecialAbility;
                let cb = self.new_class(inst, t, Some(start), false);
                self.force_claim(pi, cb);
            }
            "cert_mismatch" if i % 5 == 4 => {
                // A career-course or entrepreneurship claim without its 培训合格证书.
                let pi = self.new_person();
                let t = if i % 2 == 0 {
                    SubsidyType::CareerCourse
                } else {
                    SubsidyType::Entrepreneurship
                };
                let c = match self.place_where(pi, None, &|c| c.training_type == Some(t)) {
                    Some(c) => c,
                    None => {
                        let inst = self.rng.gen_range(0..self.w.institutions.len());
                        let ci = self.new_class(inst, t, None, false);
                        let Some(d) = self.fits(pi, ci, None, false) else {
                            return;
                        };
                        self.claim_as(pi, ci, d, pi)
                    }
                };
                self.b.claims[c].cert_no = String::new();
            }
            "cert_mismatch" => {
                let pi = self.new_person();
                let Some(c) = self.place_where(pi, None, &|c| {
                    c.training_type == Some(SubsidyType::LevelCert)
                }) else {
                    return;
                };
                let Some(cert) = self.claim_cert[c] else {
                    return;
                };
                let ci = self.class_index(c);
                match i % 6 {
                    0 => self.b.claims[c].cert_no = String::new(),
                    1 => {
                        self.w.cert_no += 1;
                        self.b.claims[c].cert_no = format!("Z{}{:09}", 2000, self.w.cert_no);
                    }
                    2 => {
                        // The certificate on file belongs to someone else.
                        let other = self.new_person();
                        let (oid, oname) = (
                            self.persons[other].id.clone(),
                            self.persons[other].name.clone(),
                        );
                        self.b.certificates[cert].id_number = oid;
                        self.b.certificates[cert].name = oname;
                    }
                    3 => {
                        let occ = self.b.certificates[cert].occupation_code.clone();
                        let mut other = self.w.pick_occupation(self.rng);
                        while other == occ {
                            other = self.w.pick_occupation(self.rng);
                        }
                        self.b.certificates[cert].occupation_code = other;
                    }
                    4 => {
                        let l = self.b.certificates[cert].level.unwrap_or(5);
                        self.b.certificates[cert].level = Some(if l == 5 { 4 } else { l + 1 });
                    }
                    _ => {
                        let start = self.b.classes[ci].start_date;
                        self.b.certificates[cert].issue_date =
                            Some(add_days(start, -self.rng.gen_range(1..200)));
                    }
                }
            }
            "staff_trainee" => {
                let ci = self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
                let inst = self.class_inst[ci];
                let pi = if i % 4 == 3 && !self.w.rep_used[inst] {
                    self.w.rep_used[inst] = true;
                    self.person_from_rep(inst)
                } else {
                    let pi = self.new_person();
                    let id = self.persons[pi].id.clone();
                    self.b.staff.push(StaffRow {
                        institution_id: self.w.institutions[inst].institution_id.clone(),
                        id_number: id,
                        role: if i % 2 == 0 { "教师" } else { "招生专员" }.to_string(),
                    });
                    pi
                };
                self.force_claim(pi, ci);
            }
            "shared_contact" => {
                let group = if i % 2 == 0 {
                    3 + i % 2 + (i / 2) % 2
                } else {
                    2 + (i / 2) % 2
                };
                let mut members: Vec<usize> = Vec::new();
                let mut names_so_far: Vec<String> = Vec::new();
                for _ in 0..group {
                    let pi = self.new_person();
                    self.rename_apart(pi, &names_so_far);
                    names_so_far.push(self.persons[pi].name.clone());
                    members.push(pi);
                }
                let (phone, bank) = (
                    self.persons[members[0]].phone.clone(),
                    self.persons[members[0]].bank.clone(),
                );
                for &pi in &members {
                    if i % 2 == 0 {
                        self.persons[pi].phone = phone.clone();
                    } else {
                        self.persons[pi].bank = bank.clone();
                    }
                    self.place(pi, None);
                }
            }
            _ => {}
        }
    }

    fn benign(&mut self, rule: &str, i: usize) {
        match rule {
            "over_cap" => {
                // Exactly the maximum in one year.
                let pi = self.new_person();
                let y = self.random_year();
                for _ in 0..self.w.policy.claims_per_year.max {
                    self.place(pi, Some(y));
                }
            }
            "repeated_level" => {
                // Same occupation, another level.
                let pi = self.new_person();
                let Some(first) = self.place_where(pi, None, &|c| {
                    c.training_type == Some(SubsidyType::LevelCert) && c.level.is_some()
                }) else {
                    return;
                };
                let (occ, level) = {
                    let c = &self.b.claims[first];
                    (c.occupation_code.clone(), c.level.unwrap_or(5))
                };
                let other = if level == 5 { 4 } else { level + 1 };
                let inst = self.rng.gen_range(0..self.w.institutions.len());
                for _ in 0..10 {
                    let ci = self.new_class_with(
                        inst,
                        SubsidyType::LevelCert,
                        occ.clone(),
                        Some(other),
                        None,
                        false,
                    );
                    if let Some(date) = self.fits(pi, ci, None, false) {
                        self.claim_as(pi, ci, date, pi);
                        break;
                    }
                }
            }
            "amount_over_standard" => {
                // Exactly at the cap.
                let pi = self.new_person();
                if let Some(c) = self.place(pi, None) {
                    let ci = self.class_index(c);
                    if let Some(cap) = self.cap_of(ci) {
                        self.b.claims[c].amount = cap;
                    }
                }
            }
            "living_allowance_excess" => {
                // Exactly the day limit at exactly the line.
                let pi = self.new_person();
                self.persons[pi].category = Some(Category::Hardship);
                if let Some(c) = self.place(pi, None) {
                    let max_days = self.w.policy.living_allowance.max_days as i32;
                    let dpm = self.w.policy.living_allowance.days_per_month as i64;
                    let (county, year) = (
                        self.b.claims[c].county_code.clone(),
                        self.b.claims[c].claim_date.year(),
                    );
                    if let Some(line) = self.w.living_line(&county, year) {
                        let cl = &mut self.b.claims[c];
                        cl.living_days = max_days;
                        cl.living_amount = max_days as i64 * line / dpm;
                    }
                }
            }
            "skill_upgrade_ineligible" => {
                // Exactly the minimum months, stated before the claim.
                let pi = self.new_person();
                self.persons[pi].auto_ui = false;
                if let Some(c) = self.place_where(pi, None, &|c| {
                    c.training_type == Some(SubsidyType::SkillUpgrade)
                }) {
                    let date = self.b.claims[c].claim_date;
                    let id = self.persons[pi].id.clone();
                    self.b.ui.push(UiRow {
                        id_number: id,
                        months_paid: self.w.policy.skill_upgrade.min_ui_months as i32,
                        as_of: if i % 2 == 0 { Some(date) } else { None },
                    });
                }
            }
            "deceased" => {
                // Claimed on the day of death, not after.
                let pi = self.new_person();
                if let Some(c) = self.place(pi, None) {
                    let date = self.b.claims[c].claim_date;
                    let id = self.persons[pi].id.clone();
                    self.b.death.push(DeathRow {
                        id_number: id,
                        death_date: date,
                    });
                }
            }
            "pensioner" => {
                // Pension starts the day after the claim.
                let pi = self.new_person();
                if let Some(c) = self.place(pi, None) {
                    let date = self.b.claims[c].claim_date;
                    let id = self.persons[pi].id.clone();
                    self.b.pension.push(PensionRow {
                        id_number: id,
                        start_date: add_days(date, 1),
                    });
                }
            }
            "age_out_of_range" => {
                // Exactly the minimum age (birthday today) or exactly the maximum (turning
                // one year older tomorrow).
                let (ci, date) = self.random_slot();
                let birth = if i % 2 == 0 {
                    years_before(date, self.w.policy.age.min as i32)
                } else {
                    add_days(years_before(date, self.w.policy.age.max as i32 + 1), 1)
                };
                let pi = self.new_person_born(birth);
                self.claim_as(pi, ci, date, pi);
            }
            "overlapping_training" => {
                let pi = self.new_person();
                let Some(a) = self.place(pi, None) else {
                    return;
                };
                let ca = self.class_index(a);
                let (a_end, a_inst, a_start) = {
                    let c = &self.b.classes[ca];
                    (c.end_date, self.class_inst[ca], c.start_date)
                };
                if i % 2 == 0 {
                    // Another institution, starting the day after the first class ends.
                    let inst = (a_inst + 1) % self.w.institutions.len();
                    let cb = self.new_class(
                        inst,
                        SubsidyType::SpecialAbility,
                        Some(add_days(a_end, 1)),
                        false,
                    );
                    self.force_claim(pi, cb);
                } else {
                    // Overlapping, but the same institution in the same county.
                    let cb =
                        self.new_class(a_inst, SubsidyType::SpecialAbility, Some(a_start), false);
                    self.b.classes[cb].county_code = self.b.classes[ca].county_code.clone();
                    self.force_claim(pi, cb);
                }
            }
            "cert_mismatch" => {
                // Certificate issued on the day the class started.
                let pi = self.new_person();
                if let Some(c) = self.place_where(pi, None, &|c| {
                    c.training_type == Some(SubsidyType::LevelCert)
                }) {
                    if let Some(cert) = self.claim_cert[c] {
                        let ci = self.class_index(c);
                        self.b.certificates[cert].issue_date = Some(self.b.classes[ci].start_date);
                    }
                }
            }
            "staff_trainee" => {
                // Staff of one institution trained at another.
                let ci = self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
                let inst = (self.class_inst[ci] + 1) % self.w.institutions.len();
                let pi = self.new_person();
                let id = self.persons[pi].id.clone();
                self.b.staff.push(StaffRow {
                    institution_id: self.w.institutions[inst].institution_id.clone(),
                    id_number: id,
                    role: "教师".to_string(),
                });
                self.force_claim(pi, ci);
            }
            "multi_id" => {
                let first = self.new_person();
                let birth = self.persons[first].birth;
                let second = self.new_person_born(birth);
                if i % 2 == 0 {
                    // Namesakes born the same day, sharing no phone or account: two people.
                    let name = self.persons[first].name.clone();
                    self.persons[second].name = name;
                } else {
                    // Twins sharing a phone: one birth date, different names: two people.
                    let n0 = self.persons[first].name.clone();
                    self.rename_apart(second, &[n0]);
                    let phone = self.persons[first].phone.clone();
                    self.persons[second].phone = phone;
                }
                for pi in [first, second] {
                    self.place(pi, None);
                }
            }
            "identity_conflict" => {
                // Spelling variants of one person under one ID number.
                let pi = self.new_person();
                self.place(pi, None);
                self.place(pi, None);
                let name = self.persons[pi].name.clone();
                if let Some(v) = self.variant(&name) {
                    if let Some(&c) = self.persons[pi].claims.last() {
                        self.b.claims[c].name = v;
                    }
                }
            }
            _ => {}
        }
    }

    /// Claim of a fresh (or freshly assigned) person in class `ci`, whatever else they have.
    fn force_claim(&mut self, pi: usize, ci: usize) -> usize {
        let (lo, hi) = self.window(ci);
        let date = Date(self.rng.gen_range(lo.0..=hi.0.max(lo.0)));
        self.claim_as(pi, ci, date, pi)
    }

    /// A random ordinary class and a claim date for it.
    fn random_slot(&mut self) -> (usize, Date) {
        let ci = self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
        let (lo, hi) = self.window(ci);
        (ci, Date(self.rng.gen_range(lo.0..=hi.0.max(lo.0))))
    }

    fn class_index(&self, claim: usize) -> usize {
        self.claim_class[claim]
    }

    fn person_from_rep(&mut self, inst: usize) -> usize {
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

    // ---- rings ----------------------------------------------------------------------------

    /// 5–12 persons sharing a phone and/or a bank account, each claiming at two institutions
    /// in two counties.
    fn ring(&mut self) {
        self.w.ring_no += 1;
        let ring = self.w.ring_no;
        let size = self.rng.gen_range(5..=12);
        let share = self.rng.gen_range(0..3);
        let mut members = Vec::new();
        let mut names_so_far: Vec<String> = Vec::new();
        for _ in 0..size {
            let pi = self.new_person();
            self.rename_apart(pi, &names_so_far);
            names_so_far.push(self.persons[pi].name.clone());
            members.push(pi);
        }
        let phone = self.persons[members[0]].phone.clone();
        let bank = self.persons[members[0]].bank.clone();
        for &pi in &members {
            if share != 1 {
                self.persons[pi].phone = phone.clone();
            }
            if share != 0 {
                self.persons[pi].bank = bank.clone();
            }
            let Some(a) = self.place(pi, None) else {
                continue;
            };
            self.b.rings.push((ring, a));
            let (county, inst) = {
                let c = &self.b.claims[a];
                (c.county_code.clone(), c.institution_id.clone())
            };
            let second = self.place_where(pi, None, &|c| {
                c.county_code != county && c.institution_id != inst
            });
            if let Some(b) = second {
                self.b.rings.push((ring, b));
            }
        }
    }

    // ---- project-based classes -----------------------------------------------------------

    fn project(&mut self, kind: ProjectKind) {
        let inst = self.rng.gen_range(0..self.w.institutions.len());
        let t = [
            SubsidyType::LevelCert,
            SubsidyType::SpecialAbility,
            SubsidyType::NoLevelCert,
        ][self.rng.gen_range(0..3)];
        let ci = self.new_class(inst, t, None, true);
        let n: usize = match kind {
            ProjectKind::ExactEmployment => 20,
            ProjectKind::SmallSingle => 4,
            ProjectKind::FewStaged => 10,
            ProjectKind::ShamLinked => self.rng.gen_range(3..=20),
            _ => self.rng.gen_range(8..=30),
        };
        let mut trainees = Vec::with_capacity(n);
        let mut total: Fen = 0;
        let mut last_claim = self.b.classes[ci].end_date;
        for _ in 0..n {
            let pi = self.new_person();
            let end = self.b.classes[ci].end_date;
            let date = add_days(end, self.rng.gen_range(3..30)).min(self.w.range_end);
            let c = self.claim_as(pi, ci, date, pi);
            if let Some(cap) = self.cap_of(ci) {
                self.b.claims[c].amount = cap;
            }
            total += self.b.claims[c].amount;
            last_claim = last_claim.max(date);
            trainees.push(pi);
        }
        let end = self.b.classes[ci].end_date;
        // Checks of classes ending late fall after the policy period: the class's start
        // decides the policy.
        let check = add_days(end, self.rng.gen_range(20..60));
        let pct: i64 = self.w.policy.project.prepay_max_percent as i64;
        let min_rate = self.w.policy.project.min_employment_rate_percent as usize;
        let staged_pct = self.w.policy.employment_sham.staged_min_percent as usize;
        let single_pct = self.w.policy.employment_sham.single_employer_min_percent as usize;
        // Smallest counts that reach each share.
        let need = |share: usize| (n * share).div_ceil(100);
        let prepaid_pct = match kind {
            ProjectKind::PrepayExcess => pct + self.rng.gen_range(1..=25),
            ProjectKind::ExactPrepay => pct,
            _ => pct - self.rng.gen_range(0..=15),
        };
        let prepaid = total * prepaid_pct / 100;
        let full = match kind {
            ProjectKind::PrepayExcess | ProjectKind::ExactPrepay => false,
            ProjectKind::Normal => self.rng.gen_bool(0.5),
            _ => true,
        };
        let employed = match kind {
            ProjectKind::LowEmployment => self.rng.gen_range(n * 3 / 10..need(min_rate)),
            ProjectKind::ExactEmployment => need(min_rate),
            _ => self.rng.gen_range(need(min_rate)..=n),
        };
        let staged = match kind {
            ProjectKind::ShamStaged => self
                .rng
                .gen_range(need(staged_pct)..=employed.max(need(staged_pct))),
            ProjectKind::FewStaged => need(staged_pct) - 1,
            ProjectKind::SmallSingle => employed,
            ProjectKind::ShamSingle => need(single_pct),
            _ => 0,
        };
        let single_employer = match kind {
            ProjectKind::ShamSingle | ProjectKind::SmallSingle => Some(self.random_employer()),
            _ => None,
        };
        let linked = if kind == ProjectKind::ShamLinked {
            Some(if self.rng.gen_bool(0.25) {
                self.w.institutions[inst].institution_id.clone()
            } else {
                self.w.linked_enterprise(inst, self.rng)
            })
        } else {
            None
        };
        let single_count = match kind {
            ProjectKind::ShamSingle => self
                .rng
                .gen_range(need(single_pct)..=employed.max(need(single_pct))),
            ProjectKind::SmallSingle => employed,
            _ => 0,
        };
        let linked_count = if linked.is_some() {
            1 + employed.min(3).saturating_sub(1)
        } else {
            0
        };
        let sw = self.w.policy.employment_sham.start_window_days as i32;
        let ew = self.w.policy.employment_sham.end_window_days as i32;
        // Distinct employers for everyone else: no employer takes a share.
        let offset = self.rng.gen_range(0..self.w.employers.len());
        for (k, &pi) in trainees.iter().enumerate() {
            let id = self.persons[pi].id.clone();
            if k < employed {
                let employer = if k < linked_count {
                    linked.clone().unwrap_or_default()
                } else if k < single_count {
                    single_employer.clone().unwrap_or_default()
                } else {
                    let e = (offset + k * 7) % self.w.employers.len();
                    self.w.employers[e].clone()
                };
                if k < staged {
                    let start = add_days(check, -self.rng.gen_range(0..=sw));
                    let end = add_days(check, self.rng.gen_range(0..=ew));
                    self.spell(&id, &employer, start, Some(end));
                } else {
                    let start = add_days(check, -self.rng.gen_range(sw + 30..900));
                    let end = if self.rng.gen_bool(0.6) {
                        None
                    } else {
                        Some(add_days(check, self.rng.gen_range(ew + 30..900)))
                    };
                    self.spell(&id, &employer, start, end);
                }
            } else if self.rng.gen_bool(0.3) {
                // Worked once, but not on the check date.
                let employer = self.random_employer();
                let start = add_days(check, -self.rng.gen_range(400..900));
                let end = add_days(check, -self.rng.gen_range(1..200));
                self.spell(&id, &employer, start, Some(end));
            }
        }
        let class_id = self.b.classes[ci].class_id.clone();
        if let Some(e) = &single_employer {
            if kind == ProjectKind::ShamSingle {
                self.b.staged.push((e.clone(), class_id.clone()));
            }
        }
        if let Some(e) = &linked {
            self.b.staged.push((e.clone(), class_id.clone()));
        }
        self.b.projects.push(ProjectRow {
            class_id,
            trainees: n as i32,
            employed_claimed: employed.max(need(min_rate)) as i32,
            total_amount: total,
            prepaid_amount: prepaid,
            paid_amount: if full { total } else { prepaid },
            check_date: Some(check),
        });
        let _ = last_claim;
    }
}

/// Appends the correct check character to 17 digits (the rest of the number may be wrong).
fn with_check(first17: &str) -> String {
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
