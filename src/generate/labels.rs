//! Ground truth of a block: docs/RULES.md applied to the block's final rows, written
//! independently of `src/rules` (plain maps and loops). `identity_conflict` and `multi_id`
//! come from what the generator knows (a borrowed ID; one person under several IDs), which the
//! data is built to make indistinguishable from their definitions. Persons are the real
//! persons the generator made (`Block::aliases`: one person's further ID numbers), not ID
//! numbers; a claim whose training no policy covers is judged by no rule.

use super::block::Block;
use super::world::World;
use crate::dates::Date;
use crate::idcode::{birth_date, id_check_char};
use crate::model::{Category, SubsidyType};
use crate::rules::RULE_IDS;
use hashbrown::{HashMap, HashSet};
use std::collections::BTreeMap;

/// (claim index in the block, rule index in `RULE_IDS`)
pub type Labels = Vec<(usize, usize)>;

fn rule(id: &str) -> usize {
    RULE_IDS
        .iter()
        .position(|r| *r == id)
        .expect("a rule id of rules::RULE_IDS")
}

pub fn compute(b: &Block, w: &World) -> Labels {
    let p = &w.policy;
    let mut out: Labels = Vec::new();
    let claims = &b.claims;
    let order_key = |i: usize| (claims[i].claim_date, claims[i].claim_id.as_str());
    let alias: HashMap<&str, &str> = b
        .aliases
        .iter()
        .map(|(id, first)| (id.as_str(), first.as_str()))
        .collect();
    // The real person behind a claim.
    let person = |i: usize| -> &str {
        let id = claims[i].id_number.as_str();
        alias.get(id).copied().unwrap_or(id)
    };
    let class_start: HashMap<&str, Date> = b
        .classes
        .iter()
        .map(|c| (c.class_id.as_str(), c.start_date))
        .collect();
    // Judged: a policy covers the training (the class's start, else the claim date).
    let (from, to) = (p.effective_from(), p.effective_to());
    let judged: Vec<bool> = claims
        .iter()
        .map(|c| {
            let d = class_start
                .get(c.class_id.as_str())
                .copied()
                .unwrap_or(c.claim_date);
            d >= from && to.is_none_or(|t| d <= t)
        })
        .collect();

    // over_cap: claims sorted by person, year, then claim order; ranks beyond the maximum.
    let mut by_person: Vec<usize> = (0..claims.len()).filter(|&i| judged[i]).collect();
    by_person.sort_unstable_by(|&x, &y| {
        let (cx, cy) = (&claims[x], &claims[y]);
        (person(x), cx.claim_date.year(), order_key(x)).cmp(&(
            person(y),
            cy.claim_date.year(),
            order_key(y),
        ))
    });
    let max = p.claims_per_year.max as usize;
    for group in groups(&by_person, |&i| (person(i), claims[i].claim_date.year())) {
        if group.len() > max {
            out.extend(group[max..].iter().map(|&i| (i, rule("over_cap"))));
        }
    }

    // repeated_level
    let mut leveled: Vec<usize> = (0..claims.len())
        .filter(|&i| {
            judged[i] && !claims[i].occupation_code.is_empty() && claims[i].level.is_some()
        })
        .collect();
    let level_key = |i: usize| {
        let c = &claims[i];
        (person(i), c.occupation_code.as_str(), c.level)
    };
    leveled
        .sort_unstable_by(|&x, &y| (level_key(x), order_key(x)).cmp(&(level_key(y), order_key(y))));
    for group in groups(&leveled, |&i| level_key(i)) {
        out.extend(group[1..].iter().map(|&i| (i, rule("repeated_level"))));
    }

    // Per-claim rules.
    let death: HashMap<&str, Date> = b
        .death
        .iter()
        .map(|d| (d.id_number.as_str(), d.death_date))
        .collect();
    let pension: HashMap<&str, Date> = b
        .pension
        .iter()
        .map(|d| (d.id_number.as_str(), d.start_date))
        .collect();
    let mut ui: HashMap<&str, Vec<(Option<Date>, i32)>> = HashMap::new();
    for u in &b.ui {
        ui.entry(u.id_number.as_str())
            .or_default()
            .push((u.as_of, u.months_paid));
    }
    let certs: HashMap<&str, usize> = b
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.cert_no.as_str(), i))
        .collect();
    let classes: HashMap<&str, usize> = b
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.class_id.as_str(), i))
        .collect();
    let block_staff: HashSet<(&str, &str)> = b
        .staff
        .iter()
        .map(|s| (s.institution_id.as_str(), s.id_number.as_str()))
        .collect();
    let floor = Date::from_ymd(1900, 1, 1).unwrap_or_default();
    for (i, c) in claims.iter().enumerate() {
        let t = c.subsidy_type.unwrap_or(SubsidyType::LevelCert);
        if let Some(cap) = w.cap(t, c.level) {
            if c.amount > cap {
                out.push((i, rule("amount_over_standard")));
            }
        }
        if c.living_days > 0 || c.living_amount > 0 {
            let la = &p.living_allowance;
            let too_long = c.living_days > la.max_days as i32;
            let over_line = w
                .living_line(&c.county_code, c.claim_date.year())
                .is_some_and(|m| {
                    c.living_amount * la.days_per_month as i64 > c.living_days as i64 * m
                });
            let ineligible = !c.category.is_some_and(|x: Category| w.living_eligible(x));
            if too_long || over_line || ineligible {
                out.push((i, rule("living_allowance_excess")));
            }
        }
        if t == SubsidyType::SkillUpgrade {
            let months = ui
                .get(c.id_number.as_str())
                .map(|rows| {
                    rows.iter()
                        .filter(|(as_of, _)| as_of.is_none_or(|d| d <= c.claim_date))
                        .map(|(_, m)| *m)
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0);
            if months < p.skill_upgrade.min_ui_months as i32 {
                out.push((i, rule("skill_upgrade_ineligible")));
            }
        }
        if !id_valid(&c.id_number, c.claim_date, floor, w) {
            out.push((i, rule("invalid_id")));
        }
        if death
            .get(c.id_number.as_str())
            .is_some_and(|&d| c.claim_date > d)
        {
            out.push((i, rule("deceased")));
        }
        if pension
            .get(c.id_number.as_str())
            .is_some_and(|&d| c.claim_date >= d)
        {
            out.push((i, rule("pensioner")));
        }
        if let Some(birth) = birth_date(&c.id_number) {
            let age = birth.age_on(c.claim_date);
            if age < p.age.min as i32 || age > p.age.max as i32 {
                out.push((i, rule("age_out_of_range")));
            }
        }
        if w.cert_required(t) {
            let bad = match certs
                .get(c.cert_no.as_str())
                .filter(|_| !c.cert_no.is_empty())
            {
                None => true,
                Some(&k) => {
                    let cert = &b.certificates[k];
                    let before_start = classes
                        .get(c.class_id.as_str())
                        .zip(cert.issue_date)
                        .is_some_and(|(&ci, issued)| issued < b.classes[ci].start_date);
                    cert.id_number != c.id_number
                        || (!c.occupation_code.is_empty()
                            && cert.occupation_code != c.occupation_code)
                        || (c.level.is_some() && cert.level != c.level)
                        || before_start
                }
            };
            if bad {
                out.push((i, rule("cert_mismatch")));
            }
        }
        let inst = c.institution_id.as_str();
        let is_staff = block_staff.contains(&(inst, c.id_number.as_str()))
            || w.is_staff(inst, &c.id_number)
            || w.orgs.get(inst).is_some_and(|(rep, _)| *rep == c.id_number);
        if is_staff {
            out.push((i, rule("staff_trainee")));
        }
    }

    // identity_conflict and multi_id: the generator's truth.
    out.extend(
        b.identity_truth
            .iter()
            .map(|&i| (i, rule("identity_conflict"))),
    );
    out.extend(b.multi_truth.iter().map(|&i| (i, rule("multi_id"))));

    // overlapping_training: pairs of one person's claims with known classes.
    for group in groups(&by_person, |&i| person(i)) {
        if group.len() < 2 {
            continue;
        }
        let known: Vec<(usize, usize)> = group
            .iter()
            .filter_map(|&i| classes.get(claims[i].class_id.as_str()).map(|&ci| (i, ci)))
            .collect();
        for (x, &(a, ka)) in known.iter().enumerate() {
            for &(bb, kb) in &known[x + 1..] {
                let (ca, cb) = (&b.classes[ka], &b.classes[kb]);
                let overlap = ca.start_date <= cb.end_date && cb.start_date <= ca.end_date;
                let differ =
                    ca.institution_id != cb.institution_id || ca.county_code != cb.county_code;
                if overlap && differ {
                    out.push((a, rule("overlapping_training")));
                    out.push((bb, rule("overlapping_training")));
                }
            }
        }
    }

    // shared_contact: distinct persons per phone and per bank account.
    let sc = &p.shared_contact;
    for (field, limit) in [
        (0, sc.max_persons_per_phone as usize),
        (1, sc.max_persons_per_bank_account as usize),
    ] {
        let contact = |i: usize| {
            if field == 0 {
                claims[i].phone.as_str()
            } else {
                claims[i].bank_account.as_str()
            }
        };
        let mut with: Vec<usize> = (0..claims.len())
            .filter(|&i| judged[i] && !contact(i).is_empty())
            .collect();
        with.sort_unstable_by(|&x, &y| (contact(x), person(x)).cmp(&(contact(y), person(y))));
        for group in groups(&with, |&i| contact(i)) {
            let persons = 1 + group
                .windows(2)
                .filter(|w| person(w[0]) != person(w[1]))
                .count();
            if persons > limit {
                out.extend(group.iter().map(|&i| (i, rule("shared_contact"))));
            }
        }
    }

    // Project rules.
    let mut class_claims: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in claims.iter().enumerate() {
        class_claims.entry(c.class_id.as_str()).or_default().push(i);
    }
    let mut spells: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, e) in b.employment.iter().enumerate() {
        spells.entry(e.id_number.as_str()).or_default().push(k);
    }
    let pr = &p.project;
    let es = &p.employment_sham;
    for proj in &b.projects {
        let Some(cl) = class_claims.get(proj.class_id.as_str()) else {
            continue;
        };
        if proj.prepaid_amount * 100 > proj.total_amount * pr.prepay_max_percent as i64 {
            out.extend(cl.iter().map(|&i| (i, rule("prepay_excess"))));
        }
        let trainees: Vec<&str> = {
            let mut t: Vec<&str> = cl.iter().map(|&i| claims[i].id_number.as_str()).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        // The covering spell with the latest start, per trainee.
        let covering: Vec<usize> = match proj.check_date {
            None => Vec::new(),
            Some(check) => trainees
                .iter()
                .filter_map(|id| {
                    spells
                        .get(id)?
                        .iter()
                        .copied()
                        .filter(|&k| {
                            let e = &b.employment[k];
                            e.start_date <= check && e.end_date.is_none_or(|end| check <= end)
                        })
                        .max_by_key(|&k| b.employment[k].start_date)
                })
                .collect(),
        };
        let n = trainees.len();
        if n > 0
            && proj.paid_amount * 100 > proj.total_amount * pr.prepay_max_percent as i64
            && covering.len() * 100 < n * pr.min_employment_rate_percent as usize
        {
            out.extend(cl.iter().map(|&i| (i, rule("employment_rate"))));
        }
        if let Some(check) = proj.check_date {
            let staged = covering
                .iter()
                .filter(|&&k| {
                    let e = &b.employment[k];
                    check.0 - e.start_date.0 <= es.start_window_days as i32
                        && e.end_date
                            .is_some_and(|end| end.0 - check.0 <= es.end_window_days as i32)
                })
                .count();
            let mut per_employer: HashMap<&str, usize> = HashMap::new();
            for &k in &covering {
                *per_employer
                    .entry(b.employment[k].employer_id.as_str())
                    .or_default() += 1;
            }
            let top = per_employer.values().copied().max().unwrap_or(0);
            let shares = n >= es.min_trainees as usize
                && (staged * 100 >= n * es.staged_min_percent as usize
                    || top * 100 >= n * es.single_employer_min_percent as usize);
            let inst_id = classes
                .get(proj.class_id.as_str())
                .map(|&ci| b.classes[ci].institution_id.as_str())
                .unwrap_or("");
            let linked = covering
                .iter()
                .any(|&k| employer_linked(b.employment[k].employer_id.as_str(), inst_id, b, w));
            if shares || linked {
                out.extend(cl.iter().map(|&i| (i, rule("employment_sham"))));
            }
        }
    }
    out.retain(|&(i, _)| judged[i]);
    out.sort_unstable();
    out.dedup();
    out
}

/// Runs of equal keys in a slice sorted by that key.
fn groups<'s, K: PartialEq>(
    sorted: &'s [usize],
    key: impl Fn(&usize) -> K + 's,
) -> impl Iterator<Item = &'s [usize]> + 's {
    sorted.chunk_by(move |a, b| key(a) == key(b))
}

/// The employer is the institution, or an organisation sharing its legal representative or
/// phone, or one whose legal representative is staff of the institution.
fn employer_linked(employer: &str, inst: &str, b: &Block, w: &World) -> bool {
    if employer == inst {
        return true;
    }
    let (Some((erep, ephone)), Some((irep, iphone))) = (w.orgs.get(employer), w.orgs.get(inst))
    else {
        return false;
    };
    (!erep.is_empty() && erep == irep)
        || (!ephone.is_empty() && ephone == iphone)
        || w.is_staff(inst, erep)
        || b.staff
            .iter()
            .any(|s| s.institution_id == inst && s.id_number == *erep)
}

/// docs/RULES.md `invalid_id`, on a normalised ID number.
fn id_valid(id: &str, claim_date: Date, floor: Date, w: &World) -> bool {
    let bytes = id.as_bytes();
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return false;
    }
    if id_check_char(&id[..17]).map(|c| c as u8) != Some(bytes[17]) {
        return false;
    }
    match birth_date(id) {
        Some(b) if b >= floor && b <= claim_date => {}
        _ => return false,
    }
    w.refdata.area_known(&id[..6])
}
