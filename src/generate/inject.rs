//! The plan of a block and its rule injections: ordinary classes, project-based classes
//! (`projects.rs`), for each claim rule its breaches and their benign look-alikes, rings, then
//! ordinary persons up to the target (`BlockGen::fill`).
//!
//! Each claim rule has an injection, `inject_<rule>` (a person or group who breaks the rule
//! once), and most have a benign look-alike, `benign_<rule>` (as close to the rule as the data
//! can come without breaking it); `INJECTIONS` maps the rule id to both. `i` counts the
//! injections of a rule within the block and chooses among its kinds of breach. The order of
//! these calls, and so of the random draws, is part of the output: a seed's ledger changes
//! with it.

use super::block::{add_days, with_check, years_before, BlockGen};
use crate::dates::Date;
use crate::model::{Category, DeathRow, FundingSource, PensionRow, StaffRow, SubsidyType, UiRow};
use crate::rules::RULE_IDS;
use rand::Rng;

/// How one claim rule is injected: its breach and, if one is made, its benign look-alike.
/// Both get the number of the injection within the block.
struct Injection<'a> {
    /// A rule id of `rules::RULE_IDS`.
    rule: &'static str,
    breach: fn(&mut BlockGen<'a>, usize),
    benign: Option<fn(&mut BlockGen<'a>, usize)>,
}

impl<'a> BlockGen<'a> {
    /// Every claim rule of `RULE_IDS` with its injection, in `RULE_IDS` order. The project
    /// rules are injected by kind of project instead (`projects.rs`).
    const INJECTIONS: &'a [Injection<'a>] = &[
        Injection {
            rule: "over_cap",
            breach: Self::inject_over_cap,
            benign: Some(Self::benign_over_cap),
        },
        Injection {
            rule: "repeated_level",
            breach: Self::inject_repeated_level,
            benign: Some(Self::benign_repeated_level),
        },
        Injection {
            rule: "amount_over_standard",
            breach: Self::inject_amount_over_standard,
            benign: Some(Self::benign_amount_over_standard),
        },
        Injection {
            rule: "living_allowance_excess",
            breach: Self::inject_living_allowance_excess,
            benign: Some(Self::benign_living_allowance_excess),
        },
        Injection {
            rule: "skill_upgrade_ineligible",
            breach: Self::inject_skill_upgrade_ineligible,
            benign: Some(Self::benign_skill_upgrade_ineligible),
        },
        Injection {
            rule: "invalid_id",
            breach: Self::inject_invalid_id,
            benign: None,
        },
        Injection {
            rule: "deceased",
            breach: Self::inject_deceased,
            benign: Some(Self::benign_deceased),
        },
        Injection {
            rule: "pensioner",
            breach: Self::inject_pensioner,
            benign: Some(Self::benign_pensioner),
        },
        Injection {
            rule: "age_out_of_range",
            breach: Self::inject_age_out_of_range,
            benign: Some(Self::benign_age_out_of_range),
        },
        Injection {
            rule: "identity_conflict",
            breach: Self::inject_identity_conflict,
            benign: Some(Self::benign_identity_conflict),
        },
        Injection {
            rule: "multi_id",
            breach: Self::inject_multi_id,
            benign: Some(Self::benign_multi_id),
        },
        Injection {
            rule: "overlapping_training",
            breach: Self::inject_overlapping_training,
            benign: Some(Self::benign_overlapping_training),
        },
        Injection {
            rule: "cert_mismatch",
            breach: Self::inject_cert_mismatch,
            benign: Some(Self::benign_cert_mismatch),
        },
        Injection {
            rule: "staff_trainee",
            breach: Self::inject_staff_trainee,
            benign: Some(Self::benign_staff_trainee),
        },
        Injection {
            rule: "shared_contact",
            breach: Self::inject_shared_contact,
            benign: None,
        },
    ];

    /// Makes the block: see the module documentation for the order.
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
        self.projects(n_projects_base);

        // Project rules were injected per project above; the others per claim here, in
        // CONTRACT §2 order.
        for rule in RULE_IDS {
            let Some(injection) = Self::INJECTIONS.iter().find(|x| x.rule == *rule) else {
                continue; // a project rule
            };
            let n = self.count(target);
            for i in 0..n {
                (injection.breach)(self, i);
            }
            // The benign look-alike of each rule, about as often as the breach.
            if let Some(benign) = injection.benign {
                for i in 0..n {
                    benign(self, i);
                }
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

    // ---- claim rules ----------------------------------------------------------------------

    /// A person with one or two claims beyond the yearly maximum in one year.
    fn inject_over_cap(&mut self, i: usize) {
        let pi = self.new_person();
        let y = self.random_year();
        let max = self.w.rules().over_cap.claims_per_year.max as usize;
        // Lift the per-year limit of this person by placing beyond it.
        let extra = 1 + i % 2;
        for k in 0..max + extra {
            if k == max {
                self.persons[pi].years.retain(|(yy, _)| *yy != y);
            }
            self.place(pi, Some(y));
        }
    }

    /// Exactly the maximum in one year.
    fn benign_over_cap(&mut self, _i: usize) {
        let pi = self.new_person();
        let y = self.random_year();
        for _ in 0..self.w.rules().over_cap.claims_per_year.max {
            self.place(pi, Some(y));
        }
    }

    /// A second claim for the same occupation and level (every other one paid from
    /// unemployment insurance, across funds).
    fn inject_repeated_level(&mut self, i: usize) {
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
                if i.is_multiple_of(2) {
                    self.b.claims[c].funding_source = Some(FundingSource::UnemploymentInsurance);
                }
                break;
            }
        }
    }

    /// Same occupation, another level.
    fn benign_repeated_level(&mut self, _i: usize) {
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

    /// A claim paid above the cap of its type and level, by up to half the cap in whole
    /// yuan.
    fn inject_amount_over_standard(&mut self, _i: usize) {
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

    /// Exactly at the cap.
    fn benign_amount_over_standard(&mut self, _i: usize) {
        let pi = self.new_person();
        if let Some(c) = self.place(pi, None) {
            let ci = self.class_index(c);
            if let Some(cap) = self.cap_of(ci) {
                self.b.claims[c].amount = cap;
            }
        }
    }

    /// A living allowance for too many days, above the line, or for a category that may have
    /// none.
    fn inject_living_allowance_excess(&mut self, i: usize) {
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
        let max_days = self
            .w
            .rules()
            .living_allowance_excess
            .living_allowance
            .max_days as i32;
        let dpm = self
            .w
            .rules()
            .living_allowance_excess
            .living_allowance
            .days_per_month as i64;
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
                cl.living_amount = cl.living_days as i64 * line / dpm + 100 * (1 + i as i64 % 30);
            }
            _ => {
                cl.category = if i.is_multiple_of(2) {
                    Some(Category::Employee)
                } else {
                    None
                };
                cl.living_days = max_days.min(15);
                cl.living_amount = cl.living_days as i64 * line / dpm / 100 * 100;
            }
        }
    }

    /// Exactly the day limit at exactly the line.
    fn benign_living_allowance_excess(&mut self, _i: usize) {
        let pi = self.new_person();
        self.persons[pi].category = Some(Category::Hardship);
        if let Some(c) = self.place(pi, None) {
            let max_days = self
                .w
                .rules()
                .living_allowance_excess
                .living_allowance
                .max_days as i32;
            let dpm = self
                .w
                .rules()
                .living_allowance_excess
                .living_allowance
                .days_per_month as i64;
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

    /// A skill-upgrade claim without enough months of unemployment insurance: none, too few,
    /// or enough only by a statement dated after the claim.
    fn inject_skill_upgrade_ineligible(&mut self, i: usize) {
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
        let min = self
            .w
            .rules()
            .skill_upgrade_ineligible
            .skill_upgrade
            .min_ui_months as i32;
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

    /// Exactly the minimum months, stated before the claim.
    fn benign_skill_upgrade_ineligible(&mut self, i: usize) {
        let pi = self.new_person();
        self.persons[pi].auto_ui = false;
        if let Some(c) = self.place_where(pi, None, &|c| {
            c.training_type == Some(SubsidyType::SkillUpgrade)
        }) {
            let date = self.b.claims[c].claim_date;
            let id = self.persons[pi].id.clone();
            self.b.ui.push(UiRow {
                id_number: id,
                months_paid: self
                    .w
                    .rules()
                    .skill_upgrade_ineligible
                    .skill_upgrade
                    .min_ui_months as i32,
                as_of: if i.is_multiple_of(2) {
                    Some(date)
                } else {
                    None
                },
            });
        }
    }

    /// A claim under an ID number that cannot be valid: a wrong check character, a birth date
    /// that does not exist or lies after the claim, or an area code that was never issued.
    fn inject_invalid_id(&mut self, i: usize) {
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

    /// A claim filed after the claimant's death.
    fn inject_deceased(&mut self, _i: usize) {
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

    /// Claimed on the day of death, not after.
    fn benign_deceased(&mut self, _i: usize) {
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

    /// A claim filed on or after the start of the claimant's pension.
    fn inject_pensioner(&mut self, i: usize) {
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
        let back = if i.is_multiple_of(4) {
            0
        } else {
            self.rng.gen_range(1..500)
        };
        self.b.pension.push(PensionRow {
            id_number: id,
            start_date: add_days(date, -back),
        });
    }

    /// Pension starts the day after the claim.
    fn benign_pensioner(&mut self, _i: usize) {
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

    /// A claimant just below the minimum or above the maximum age on the claim date.
    fn inject_age_out_of_range(&mut self, i: usize) {
        let (ci, date) = self.random_slot();
        let min = self.w.rules().age_out_of_range.age.min as i32;
        let max = self.w.rules().age_out_of_range.age.max as i32;
        let age = if i.is_multiple_of(2) {
            min - 1 - (i as i32 / 2) % 2
        } else {
            max + 1 + (i as i32 / 2) % 5
        };
        let birth = add_days(years_before(date, age), -self.rng.gen_range(0..300));
        let pi = self.new_person_born(birth);
        self.claim_as(pi, ci, date, pi);
    }

    /// Exactly the minimum age (birthday today) or exactly the maximum (turning
    /// one year older tomorrow).
    fn benign_age_out_of_range(&mut self, i: usize) {
        let (ci, date) = self.random_slot();
        let birth = if i.is_multiple_of(2) {
            years_before(date, self.w.rules().age_out_of_range.age.min as i32)
        } else {
            add_days(
                years_before(date, self.w.rules().age_out_of_range.age.max as i32 + 1),
                1,
            )
        };
        let pi = self.new_person_born(birth);
        self.claim_as(pi, ci, date, pi);
    }

    /// Someone else claiming under a lender's ID number, with a name that is no spelling of
    /// the lender's.
    fn inject_identity_conflict(&mut self, i: usize) {
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
                let ci = self.normal_classes[self.rng.gen_range(0..self.normal_classes.len())];
                if let Some(date) = self.fits(lender, ci, None, false) {
                    self.claim_as(lender, ci, date, borrower);
                    break;
                }
            }
        }
        let claims = self.persons[lender].claims.clone();
        self.b.identity_truth.extend(claims);
    }

    /// Spelling variants of one person under one ID number.
    fn benign_identity_conflict(&mut self, _i: usize) {
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

    /// One real person under two or three ID numbers, linked as docs/RULES.md
    /// "Persons" says: one birth date, spellings of one name (the same, traditional,
    /// spaced or a pinyin-input homophone), one phone or one bank account.
    fn inject_multi_id(&mut self, i: usize) {
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
            let spelled = if i.is_multiple_of(4) {
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

    /// Two people alike in birth date: namesakes sharing no contact, or twins sharing a phone.
    fn benign_multi_id(&mut self, i: usize) {
        let first = self.new_person();
        let birth = self.persons[first].birth;
        let second = self.new_person_born(birth);
        if i.is_multiple_of(2) {
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

    /// Two classes of one person that overlap, at two institutions.
    fn inject_overlapping_training(&mut self, i: usize) {
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
        let start = if i.is_multiple_of(3) {
            a_end
        } else {
            Date(self.rng.gen_range(a_start.0..=a_end.0))
        };
        let t = SubsidyType::SpecialAbility;
        let cb = self.new_class(inst, t, Some(start), false);
        self.force_claim(pi, cb);
    }

    /// Two classes of one person that touch without overlapping, or overlap at one
    /// institution in one county.
    fn benign_overlapping_training(&mut self, i: usize) {
        let pi = self.new_person();
        let Some(a) = self.place(pi, None) else {
            return;
        };
        let ca = self.class_index(a);
        let (a_end, a_inst, a_start) = {
            let c = &self.b.classes[ca];
            (c.end_date, self.class_inst[ca], c.start_date)
        };
        if i.is_multiple_of(2) {
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
            let cb = self.new_class(a_inst, SubsidyType::SpecialAbility, Some(a_start), false);
            self.b.classes[cb].county_code = self.b.classes[ca].county_code.clone();
            self.force_claim(pi, cb);
        }
    }

    /// A claim of a type that needs a certificate without a fitting one; every fifth is a
    /// course or entrepreneurship claim without its training certificate.
    fn inject_cert_mismatch(&mut self, i: usize) {
        if i % 5 == 4 {
            self.cert_mismatch_without_training_cert(i)
        } else {
            self.cert_mismatch_on_file(i)
        }
    }

    /// A career-course or entrepreneurship claim without its 培训合格证书.
    fn cert_mismatch_without_training_cert(&mut self, i: usize) {
        let pi = self.new_person();
        let t = if i.is_multiple_of(2) {
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

    /// A level-certificate claim whose certificate does not fit: no number, an unknown number,
    /// someone else's, another occupation or level, or issued before the class started.
    fn cert_mismatch_on_file(&mut self, i: usize) {
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

    /// Certificate issued on the day the class started.
    fn benign_cert_mismatch(&mut self, _i: usize) {
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

    /// Staff of an institution (or its legal representative) trained at that institution.
    fn inject_staff_trainee(&mut self, i: usize) {
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
                role: if i.is_multiple_of(2) {
                    "教师"
                } else {
                    "招生专员"
                }
                .to_string(),
            });
            pi
        };
        self.force_claim(pi, ci);
    }

    /// Staff of one institution trained at another.
    fn benign_staff_trainee(&mut self, _i: usize) {
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

    /// Three or four persons sharing a phone, or two or three sharing a bank account.
    fn inject_shared_contact(&mut self, i: usize) {
        let group = if i.is_multiple_of(2) {
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
            if i.is_multiple_of(2) {
                self.persons[pi].phone = phone.clone();
            } else {
                self.persons[pi].bank = bank.clone();
            }
            self.place(pi, None);
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every claim rule has its injection (a rule without one would no longer draw its count).
    #[test]
    fn injections_follow_rule_ids() {
        const PROJECT_RULES: [&str; 3] = ["prepay_excess", "employment_rate", "employment_sham"];
        let claim_rules: Vec<&str> = RULE_IDS
            .iter()
            .copied()
            .filter(|r| !PROJECT_RULES.contains(r))
            .collect();
        let injected: Vec<&str> = BlockGen::INJECTIONS.iter().map(|x| x.rule).collect();
        assert_eq!(injected, claim_rules);
    }
}
