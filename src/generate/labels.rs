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
use crate::model::{Category, ClaimRow, ProjectRow, SubsidyType};
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

/// What every rule's labelling needs: the block, the world, and each claim's real person and
/// whether a policy judges it.
struct Ledger<'b> {
    b: &'b Block,
    w: &'b World,
    claims: &'b [ClaimRow],
    /// Further ID number → the first ID number of the same real person.
    alias: HashMap<&'b str, &'b str>,
    /// Judged: a policy covers the training (the class's start, else the claim date).
    judged: Vec<bool>,
    /// Class index by class id.
    classes: HashMap<&'b str, usize>,
    /// Judged claims sorted by person, year, then claim order.
    by_person: Vec<usize>,
}

impl<'b> Ledger<'b> {
    fn new(b: &'b Block, w: &'b World) -> Ledger<'b> {
        let p = &w.policy;
        let claims = &b.claims[..];
        let alias: HashMap<&str, &str> = b
            .aliases
            .iter()
            .map(|(id, first)| (id.as_str(), first.as_str()))
            .collect();
        let classes: HashMap<&str, usize> = b
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.class_id.as_str(), i))
            .collect();
        let (from, to) = (p.effective_from(), p.effective_to());
        let judged: Vec<bool> = claims
            .iter()
            .map(|c| {
                let d = classes
                    .get(c.class_id.as_str())
                    .map(|&ci| b.classes[ci].start_date)
                    .unwrap_or(c.claim_date);
                d >= from && to.is_none_or(|t| d <= t)
            })
            .collect();
        let mut l = Ledger {
            b,
            w,
            claims,
            alias,
            judged,
            classes,
            by_person: Vec::new(),
        };
        let mut by_person: Vec<usize> = (0..claims.len()).filter(|&i| l.judged[i]).collect();
        by_person.sort_unstable_by(|&x, &y| {
            let (cx, cy) = (&claims[x], &claims[y]);
            (l.person(x), cx.claim_date.year(), l.order_key(x)).cmp(&(
                l.person(y),
                cy.claim_date.year(),
                l.order_key(y),
            ))
        });
        l.by_person = by_person;
        l
    }

    /// The real person behind a claim.
    fn person(&self, i: usize) -> &'b str {
        let id = self.claims[i].id_number.as_str();
        self.alias.get(id).copied().unwrap_or(id)
    }

    /// The order claims are made in.
    fn order_key(&self, i: usize) -> (Date, &'b str) {
        (self.claims[i].claim_date, self.claims[i].claim_id.as_str())
    }

    /// Labels `rule` on every claim that `breaks` it.
    fn flag_claims(&self, out: &mut Labels, rule_id: &str, breaks: impl Fn(&ClaimRow) -> bool) {
        let r = rule(rule_id);
        out.extend(
            self.claims
                .iter()
                .enumerate()
                .filter(|(_, c)| breaks(c))
                .map(|(i, _)| (i, r)),
        );
    }
}

pub fn compute(b: &Block, w: &World) -> Labels {
    let l = Ledger::new(b, w);
    let mut out: Labels = Vec::new();
    over_cap(&l, &mut out);
    repeated_level(&l, &mut out);
    amount_over_standard(&l, &mut out);
    living_allowance_excess(&l, &mut out);
    skill_upgrade_ineligible(&l, &mut out);
    invalid_id(&l, &mut out);
    deceased(&l, &mut out);
    pensioner(&l, &mut out);
    age_out_of_range(&l, &mut out);
    cert_mismatch(&l, &mut out);
    staff_trainee(&l, &mut out);
    // identity_conflict and multi_id: the generator's truth.
    out.extend(
        b.identity_truth
            .iter()
            .map(|&i| (i, rule("identity_conflict"))),
    );
    out.extend(b.multi_truth.iter().map(|&i| (i, rule("multi_id"))));
    overlapping_training(&l, &mut out);
    shared_contact(&l, &mut out);
    project_rules(&l, &mut out);
    out.retain(|&(i, _)| l.judged[i]);
    out.sort_unstable();
    out.dedup();
    out
}

/// A person's claims of one year ranked in claim order: the ranks beyond the maximum.
fn over_cap(l: &Ledger, out: &mut Labels) {
    let max = l.w.rules().over_cap.claims_per_year.max as usize;
    for group in groups(&l.by_person, |&i| {
        (l.person(i), l.claims[i].claim_date.year())
    }) {
        if group.len() > max {
            out.extend(group[max..].iter().map(|&i| (i, rule("over_cap"))));
        }
    }
}

/// A person's further claims for one occupation and level.
fn repeated_level(l: &Ledger, out: &mut Labels) {
    let claims = l.claims;
    let mut leveled: Vec<usize> = (0..claims.len())
        .filter(|&i| {
            l.judged[i] && !claims[i].occupation_code.is_empty() && claims[i].level.is_some()
        })
        .collect();
    let level_key = |i: usize| {
        let c = &claims[i];
        (l.person(i), c.occupation_code.as_str(), c.level)
    };
    leveled.sort_unstable_by(|&x, &y| {
        (level_key(x), l.order_key(x)).cmp(&(level_key(y), l.order_key(y)))
    });
    for group in groups(&leveled, |&i| level_key(i)) {
        out.extend(group[1..].iter().map(|&i| (i, rule("repeated_level"))));
    }
}

/// The claim's type (level certificate when unknown).
fn subsidy_type(c: &ClaimRow) -> SubsidyType {
    c.subsidy_type.unwrap_or(SubsidyType::LevelCert)
}

fn amount_over_standard(l: &Ledger, out: &mut Labels) {
    l.flag_claims(out, "amount_over_standard", |c| {
        l.w.cap(subsidy_type(c), c.level)
            .is_some_and(|cap| c.amount > cap)
    });
}

/// Too many days, above the living line, or a category that may have no allowance.
fn living_allowance_excess(l: &Ledger, out: &mut Labels) {
    let w = l.w;
    let la = &w.rules().living_allowance_excess.living_allowance;
    l.flag_claims(out, "living_allowance_excess", |c| {
        if c.living_days <= 0 && c.living_amount <= 0 {
            return false;
        }
        let too_long = c.living_days > la.max_days as i32;
        let over_line = w
            .living_line(&c.county_code, c.claim_date.year())
            .is_some_and(|m| c.living_amount * la.days_per_month as i64 > c.living_days as i64 * m);
        let ineligible = !c.category.is_some_and(|x: Category| w.living_eligible(x));
        too_long || over_line || ineligible
    });
}

/// A skill-upgrade claim without the minimum months of unemployment insurance stated on or
/// before the claim date.
fn skill_upgrade_ineligible(l: &Ledger, out: &mut Labels) {
    let mut ui: HashMap<&str, Vec<(Option<Date>, i32)>> = HashMap::new();
    for u in &l.b.ui {
        ui.entry(u.id_number.as_str())
            .or_default()
            .push((u.as_of, u.months_paid));
    }
    let min =
        l.w.rules()
            .skill_upgrade_ineligible
            .skill_upgrade
            .min_ui_months as i32;
    l.flag_claims(out, "skill_upgrade_ineligible", |c| {
        if subsidy_type(c) != SubsidyType::SkillUpgrade {
            return false;
        }
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
        months < min
    });
}

fn invalid_id(l: &Ledger, out: &mut Labels) {
    let floor = Date::from_ymd(1900, 1, 1).unwrap_or_default();
    l.flag_claims(out, "invalid_id", |c| {
        !id_valid(&c.id_number, c.claim_date, floor, l.w)
    });
}

/// Claimed after the death date.
fn deceased(l: &Ledger, out: &mut Labels) {
    let death: HashMap<&str, Date> =
        l.b.death
            .iter()
            .map(|d| (d.id_number.as_str(), d.death_date))
            .collect();
    l.flag_claims(out, "deceased", |c| {
        death
            .get(c.id_number.as_str())
            .is_some_and(|&d| c.claim_date > d)
    });
}

/// Claimed on or after the pension's start.
fn pensioner(l: &Ledger, out: &mut Labels) {
    let pension: HashMap<&str, Date> =
        l.b.pension
            .iter()
            .map(|d| (d.id_number.as_str(), d.start_date))
            .collect();
    l.flag_claims(out, "pensioner", |c| {
        pension
            .get(c.id_number.as_str())
            .is_some_and(|&d| c.claim_date >= d)
    });
}

fn age_out_of_range(l: &Ledger, out: &mut Labels) {
    let age = &l.w.rules().age_out_of_range.age;
    l.flag_claims(out, "age_out_of_range", |c| {
        birth_date(&c.id_number).is_some_and(|birth| {
            let a = birth.age_on(c.claim_date);
            a < age.min as i32 || a > age.max as i32
        })
    });
}

/// A type that needs a certificate, without one on file that is the claimant's, for the
/// claim's occupation and level, and issued no earlier than the class started.
fn cert_mismatch(l: &Ledger, out: &mut Labels) {
    let b = l.b;
    let certs: HashMap<&str, usize> = b
        .certificates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.cert_no.as_str(), i))
        .collect();
    l.flag_claims(out, "cert_mismatch", |c| {
        if !l.w.cert_required(subsidy_type(c)) {
            return false;
        }
        match certs
            .get(c.cert_no.as_str())
            .filter(|_| !c.cert_no.is_empty())
        {
            None => true,
            Some(&k) => {
                let cert = &b.certificates[k];
                let before_start = l
                    .classes
                    .get(c.class_id.as_str())
                    .zip(cert.issue_date)
                    .is_some_and(|(&ci, issued)| issued < b.classes[ci].start_date);
                cert.id_number != c.id_number
                    || (!c.occupation_code.is_empty() && cert.occupation_code != c.occupation_code)
                    || (c.level.is_some() && cert.level != c.level)
                    || before_start
            }
        }
    });
}

/// Staff (of this block or earlier ones) or the legal representative of the institution.
fn staff_trainee(l: &Ledger, out: &mut Labels) {
    let w = l.w;
    let block_staff: HashSet<(&str, &str)> =
        l.b.staff
            .iter()
            .map(|s| (s.institution_id.as_str(), s.id_number.as_str()))
            .collect();
    l.flag_claims(out, "staff_trainee", |c| {
        let inst = c.institution_id.as_str();
        block_staff.contains(&(inst, c.id_number.as_str()))
            || w.is_staff(inst, &c.id_number)
            || w.orgs.get(inst).is_some_and(|(rep, _)| *rep == c.id_number)
    });
}

/// Pairs of one person's claims whose known classes overlap at two institutions or counties.
fn overlapping_training(l: &Ledger, out: &mut Labels) {
    let (b, claims) = (l.b, l.claims);
    for group in groups(&l.by_person, |&i| l.person(i)) {
        if group.len() < 2 {
            continue;
        }
        let known: Vec<(usize, usize)> = group
            .iter()
            .filter_map(|&i| {
                l.classes
                    .get(claims[i].class_id.as_str())
                    .map(|&ci| (i, ci))
            })
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
}

/// Distinct persons per phone and per bank account above the policy's limits.
fn shared_contact(l: &Ledger, out: &mut Labels) {
    let claims = l.claims;
    let sc = &l.w.rules().shared_contact.shared_contact;
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
            .filter(|&i| l.judged[i] && !contact(i).is_empty())
            .collect();
        with.sort_unstable_by(|&x, &y| (contact(x), l.person(x)).cmp(&(contact(y), l.person(y))));
        for group in groups(&with, |&i| contact(i)) {
            let persons = 1 + group
                .windows(2)
                .filter(|w| l.person(w[0]) != l.person(w[1]))
                .count();
            if persons > limit {
                out.extend(group.iter().map(|&i| (i, rule("shared_contact"))));
            }
        }
    }
}

/// `prepay_excess`, `employment_rate` and `employment_sham`, on every claim of the project.
fn project_rules(l: &Ledger, out: &mut Labels) {
    let (b, claims) = (l.b, l.claims);
    let mut class_claims: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, c) in claims.iter().enumerate() {
        class_claims.entry(c.class_id.as_str()).or_default().push(i);
    }
    let mut spells: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, e) in b.employment.iter().enumerate() {
        spells.entry(e.id_number.as_str()).or_default().push(k);
    }
    let pr = &l.w.policy.project;
    for proj in &b.projects {
        let Some(cl) = class_claims.get(proj.class_id.as_str()) else {
            continue;
        };
        let mut flag = |rule_id: &str| {
            let r = rule(rule_id);
            out.extend(cl.iter().map(|&i| (i, r)));
        };
        if proj.prepaid_amount * 100 > proj.total_amount * pr.prepay_max_percent as i64 {
            flag("prepay_excess");
        }
        let trainees: Vec<&str> = {
            let mut t: Vec<&str> = cl.iter().map(|&i| claims[i].id_number.as_str()).collect();
            t.sort_unstable();
            t.dedup();
            t
        };
        let covering = covering_spells(b, &spells, &trainees, proj.check_date);
        let n = trainees.len();
        if n > 0
            && proj.paid_amount * 100 > proj.total_amount * pr.prepay_max_percent as i64
            && covering.len() * 100 < n * pr.min_employment_rate_percent as usize
        {
            flag("employment_rate");
        }
        if employment_sham(l, proj, n, &covering) {
            flag("employment_sham");
        }
    }
}

/// Per trainee, the spell covering the check date with the latest start (none without a check
/// date).
fn covering_spells(
    b: &Block,
    spells: &HashMap<&str, Vec<usize>>,
    trainees: &[&str],
    check_date: Option<Date>,
) -> Vec<usize> {
    let Some(check) = check_date else {
        return Vec::new();
    };
    trainees
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
        .collect()
}

/// Whether the employment of a project's `n` trainees (`covering`: their spells on the check
/// date) is staged, shared by one employer, or with an employer linked to the institution.
fn employment_sham(l: &Ledger, proj: &ProjectRow, n: usize, covering: &[usize]) -> bool {
    let (b, w) = (l.b, l.w);
    let es = &w.rules().employment_sham.employment_sham;
    let Some(check) = proj.check_date else {
        return false;
    };
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
    for &k in covering {
        *per_employer
            .entry(b.employment[k].employer_id.as_str())
            .or_default() += 1;
    }
    let top = per_employer.values().copied().max().unwrap_or(0);
    let shares = n >= es.min_trainees as usize
        && (staged * 100 >= n * es.staged_min_percent as usize
            || top * 100 >= n * es.single_employer_min_percent as usize);
    let inst_id = l
        .classes
        .get(proj.class_id.as_str())
        .map(|&ci| b.classes[ci].institution_id.as_str())
        .unwrap_or("");
    let linked = covering
        .iter()
        .any(|&k| employer_linked(b.employment[k].employer_id.as_str(), inst_id, b, w));
    shares || linked
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
