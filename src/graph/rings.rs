//! Rings: persons tied together by shared identifiers across institutions or counties.
//!
//! Identifiers are read off the snapshot (the edges of the entity graph into them): a phone or bank-account node used by two or more
//! persons (or by a person and an institution, whose phone trainees should not carry), and an
//! institution's legal representative who claims subsidies himself (tying him to it). Persons
//! and institutions sharing identifiers are merged by union-find (weakly connected components
//! of the person–identifier–institution graph). A component is a ring when
//! - it has at least `graph.ring_min_persons` persons,
//! - their claims (and the tied institutions) span at least
//!   `graph.ring_min_institutions_or_counties` institutions or counties, and
//! - at least one of its ties is more than a family explains: a phone shared by at most
//!   `shared_contact.max_persons_per_phone` persons whose claims are all at one institution in
//!   one county is a family's phone (a bank account likewise within
//!   `max_persons_per_bank_account`); any other tie is not.
//!
//! A ring's claims are all claims of its persons; its score is a weighted sum of its size
//! (persons, institutions, counties, shared identifiers, amount per 10,000 yuan), with the
//! weights of `[graph]`, and each term is listed so the score can be recomputed by hand.

use super::shown_claims;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::{Policy, PolicySet};
use crate::resolve::Resolved;
use crate::rules::shared_contact;
use crate::snapshot::DenseGroups;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

/// What kind of identifier ties a ring together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdentifierKind {
    Phone,
    BankAccount,
    LegalRep,
}

impl IdentifierKind {
    pub fn code(self) -> &'static str {
        match self {
            IdentifierKind::Phone => "phone",
            IdentifierKind::BankAccount => "bank_account",
            IdentifierKind::LegalRep => "legal_rep",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            IdentifierKind::Phone => "联系电话",
            IdentifierKind::BankAccount => "银行账号",
            IdentifierKind::LegalRep => "法定代表人",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            IdentifierKind::Phone => "phone",
            IdentifierKind::BankAccount => "bank account",
            IdentifierKind::LegalRep => "legal representative",
        }
    }
}

/// One identifier shared inside a ring.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedIdentifier {
    pub kind: IdentifierKind,
    pub value: String,
    /// ID numbers of the persons using it, sorted.
    pub persons: Vec<String>,
    /// Institutions tied to it directly (their phone, or represented by it), sorted codes.
    pub institutions: Vec<String>,
    /// Claims carrying it (for a legal representative: his own claims), ascending.
    pub claims: Vec<u32>,
    /// Within what a family explains (see the module doc).
    pub family_like: bool,
}

/// One weighted term of a score: `value × weight = points`.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreTerm {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub value: f64,
    pub weight: f64,
    pub points: f64,
}

impl ScoreTerm {
    pub(crate) fn new(
        code: &'static str,
        zh: &'static str,
        en: &'static str,
        value: f64,
        weight: f64,
    ) -> ScoreTerm {
        ScoreTerm {
            code,
            zh,
            en,
            value,
            weight,
            points: value * weight,
        }
    }
}

/// A ring of persons and institutions.
#[derive(Clone, Debug, PartialEq)]
pub struct Ring {
    /// 1-based rank in the sweep's ring list.
    pub id: u32,
    pub score: f64,
    pub terms: Vec<ScoreTerm>,
    /// Person ids (snapshot), in the order of `persons`.
    pub person_ids: Vec<u32>,
    /// ID numbers, sorted.
    pub persons: Vec<String>,
    /// Institution codes (of the claims, and tied directly), sorted.
    pub institutions: Vec<String>,
    /// County codes of the claims, sorted.
    pub counties: Vec<String>,
    /// Sorted by kind, then value.
    pub shared: Vec<SharedIdentifier>,
    /// All claims of the persons, ascending.
    pub claims: Vec<u32>,
    pub amount: Fen,
    /// Index in the policy set of the policy in force for the ring's claims, whose `[graph]`
    /// clause its explanations cite ([`Ring::explanation_zh`]).
    pub policy: u16,
}

/// An identifier tying persons (and institutions) together, before components are formed.
struct Tie {
    kind: IdentifierKind,
    value: String,
    persons: Vec<u32>,
    orgs: Vec<u32>,
    claims: Vec<u32>,
    family_like: bool,
}

/// Who uses each identifier of one kind (phone or bank account), straight from the snapshot:
/// the claims (of a known person) carrying it, and for phones the institution rows declaring
/// it. These are exactly the `UsesPhone` / `UsesBank` / `OrgPhone` edges of the entity graph
/// into the identifier. One kind at a time, so that only one kind's groupings are held.
pub(crate) struct ContactUsers {
    kind: IdentifierKind,
    claims: DenseGroups,
    /// Rows of `snap.institutions` (with an organisation) by their phone, in table order;
    /// none for bank accounts.
    org_rows: DenseGroups,
}

impl ContactUsers {
    pub(crate) fn build(snap: &Snapshot, kind: IdentifierKind) -> ContactUsers {
        let phone = kind == IdentifierKind::Phone;
        let (n_keys, value): (usize, fn(&crate::snapshot::Claim) -> u32) = if phone {
            (snap.phones.len(), |c| c.phone)
        } else {
            (snap.banks.len(), |c| c.bank)
        };
        let claims = DenseGroups::from_keys(
            n_keys,
            snap.claims
                .iter()
                .map(move |c| if c.person != 0 { value(c) } else { 0 }),
        );
        let org_rows = if phone {
            DenseGroups::from_keys(
                n_keys,
                snap.institutions
                    .iter()
                    .map(|i| if i.org != 0 { i.phone } else { 0 }),
            )
        } else {
            DenseGroups::from_keys(0, std::iter::empty())
        };
        ContactUsers {
            kind,
            claims,
            org_rows,
        }
    }
}

/// A phone or bank account as a tie, if two or more persons (or a person and an institution)
/// use it and a policy judges its claims.
fn tie_of_contact(
    snap: &Snapshot,
    resolved: &Resolved,
    users: &ContactUsers,
    id: u32,
    policies: &PolicySet,
) -> Option<Tie> {
    let person_of = |c: u32| resolved.persons.of(snap.claims[c as usize].person);
    let kind = users.kind;
    let claims = users.claims.members(id);
    let org_rows = users.org_rows.members(id);
    let first = claims.first()?;
    // Most identifiers belong to one person and no institution: no tie, decided without
    // allocating.
    let first_person = person_of(*first);
    if org_rows.is_empty() && claims.iter().all(|&c| person_of(c) == first_person) {
        return None;
    }
    let orgs: Vec<u32> = org_rows
        .iter()
        .map(|&r| snap.institutions[r as usize].org)
        .collect();
    let mut persons: Vec<u32> = claims.iter().map(|&c| person_of(c)).collect();
    persons.sort_unstable();
    persons.dedup();
    if persons.len() + orgs.len() < 2 {
        return None;
    }
    let policy = resolved.judging.policy_of_group(policies, claims)?;
    let family = &shared_contact::Params::of(policy).shared_contact;
    let max = match kind {
        IdentifierKind::Phone => family.max_persons_per_phone,
        _ => family.max_persons_per_bank_account,
    } as usize;
    let first = &snap.claims[claims[0] as usize];
    let one_place = claims.iter().all(|&c| {
        let c = &snap.claims[c as usize];
        c.institution == first.institution && c.county == first.county
    });
    let family_like = orgs.is_empty() && persons.len() <= max && one_place;
    let value = match kind {
        IdentifierKind::Phone => snap.phones.resolve(id),
        _ => snap.banks.resolve(id),
    };
    Some(Tie {
        kind,
        value: value.to_string(),
        persons,
        orgs,
        claims: claims.to_vec(),
        family_like,
    })
}

/// Minimal union-find with path halving; the smaller index becomes the root.
struct UnionFind(Vec<u32>);

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind((0..n as u32).collect())
    }
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[self.0[x as usize] as usize];
            self.0[x as usize] = p;
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            let (lo, hi) = (a.min(b), a.max(b));
            self.0[hi as usize] = lo;
        }
    }
}

/// The rings of a snapshot; `by_person` groups every claim by resolved person.
pub(crate) fn find(
    snap: &Snapshot,
    resolved: &Resolved,
    by_person: &DenseGroups,
    policies: &PolicySet,
) -> Vec<Ring> {
    let ties = ties_of(snap, resolved, by_person, policies);
    let groups = components(snap, &ties);
    let mut rings: Vec<Ring> = groups
        .par_iter()
        .filter_map(|members| {
            ring_of(
                snap,
                resolved,
                by_person,
                policies,
                members.iter().map(|&i| &ties[i]).collect(),
            )
        })
        .collect();
    rings.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.claims.first().cmp(&b.claims.first()))
    });
    for (i, r) in rings.iter_mut().enumerate() {
        r.id = i as u32 + 1;
    }
    rings
}

/// Every tie of the snapshot: shared phones, then shared bank accounts (each by id), then
/// legal representatives who claim themselves (in the institutions' order).
fn ties_of(
    snap: &Snapshot,
    resolved: &Resolved,
    by_person: &DenseGroups,
    policies: &PolicySet,
) -> Vec<Tie> {
    let mut ties: Vec<Tie> = Vec::new();
    for (kind, n_ids) in [
        (IdentifierKind::Phone, snap.phones.len()),
        (IdentifierKind::BankAccount, snap.banks.len()),
    ] {
        let users = ContactUsers::build(snap, kind);
        ties.par_extend(
            (1..n_ids as u32)
                .into_par_iter()
                .with_min_len(1024)
                .filter_map(|id| tie_of_contact(snap, resolved, &users, id, policies)),
        );
    }
    // A legal representative who claims himself ties his claims to the institution.
    for inst in &snap.institutions {
        if inst.legal_rep == 0 || inst.org == 0 {
            continue;
        }
        let rep = resolved.persons.of(inst.legal_rep);
        let claims = by_person.members(rep);
        if claims.is_empty() || resolved.judging.policy_of_group(policies, claims).is_none() {
            continue;
        }
        ties.push(Tie {
            kind: IdentifierKind::LegalRep,
            value: snap.ids.resolve(inst.legal_rep).to_string(),
            persons: vec![rep],
            orgs: vec![inst.org],
            claims: claims.to_vec(),
            family_like: false,
        });
    }
    ties
}

/// The ties grouped by the component of persons and institutions they join, each group in
/// tie order, groups by their root.
fn components(snap: &Snapshot, ties: &[Tie]) -> Vec<Vec<usize>> {
    // Components over persons [0, P) and organisations [P, P + O).
    let n_persons = snap.ids.len() as u32;
    let mut uf = UnionFind::new(snap.ids.len() + snap.orgs.len());
    for t in ties {
        let mut members = t
            .persons
            .iter()
            .copied()
            .chain(t.orgs.iter().map(|&o| n_persons + o));
        if let Some(first) = members.next() {
            for m in members {
                uf.union(first, m);
            }
        }
    }
    let mut by_root: Vec<(u32, usize)> = ties
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let first = t
                .persons
                .first()
                .copied()
                .unwrap_or_else(|| n_persons + t.orgs[0]);
            (uf.find(first), i)
        })
        .collect();
    by_root.sort_unstable();
    by_root
        .chunk_by(|a, b| a.0 == b.0)
        .map(|c| c.iter().map(|&(_, i)| i).collect())
        .collect()
}

/// The ring formed by the ties of one component, if it is one (see the module doc).
fn ring_of(
    snap: &Snapshot,
    resolved: &Resolved,
    by_person: &DenseGroups,
    policies: &PolicySet,
    ties: Vec<&Tie>,
) -> Option<Ring> {
    let mut person_ids: Vec<u32> = ties
        .iter()
        .flat_map(|t| t.persons.iter().copied())
        .collect();
    person_ids.sort_unstable();
    person_ids.dedup();
    if person_ids.len() < 2 || ties.iter().all(|t| t.family_like) {
        return None;
    }
    let mut claims: Vec<u32> = person_ids
        .iter()
        .flat_map(|&p| by_person.members(p).iter().copied())
        .collect();
    claims.sort_unstable();
    let policy: &Policy = resolved.judging.policy_of_group(policies, &claims)?;
    let policy_index = policies
        .policies
        .iter()
        .position(|p| std::ptr::eq(p, policy))
        .and_then(|k| u16::try_from(k).ok())
        .expect("the policy in force is one of the set's, fewer than 65536");
    let gp = &policy.graph;
    if (person_ids.len() as u32) < gp.ring_min_persons {
        return None;
    }
    let (institutions, counties) = places(snap, &claims, &ties);
    let spread = institutions.len().max(counties.len()) as u32;
    if spread < gp.ring_min_institutions_or_counties {
        return None;
    }

    let (persons, person_ids) = by_id_number(snap, &person_ids);
    let shared = shared_identifiers(snap, &ties);
    let amount: Fen = claims.iter().map(|&c| snap.claims[c as usize].amount).sum();
    let terms = score_terms(
        gp,
        [
            persons.len(),
            institutions.len(),
            counties.len(),
            shared.len(),
        ],
        amount,
    );
    let score = terms.iter().map(|t| t.points).sum::<f64>();
    Some(Ring {
        id: 0,
        score,
        terms,
        person_ids,
        persons,
        institutions,
        counties,
        shared,
        claims,
        amount,
        policy: policy_index,
    })
}

/// The institution codes (of the claims, and tied directly) and the county codes (of the
/// claims) of a ring, each sorted and distinct.
fn places(snap: &Snapshot, claims: &[u32], ties: &[&Tie]) -> (Vec<String>, Vec<String>) {
    let mut orgs: Vec<u32> = claims
        .iter()
        .map(|&c| snap.claims[c as usize].institution)
        .collect();
    orgs.extend(ties.iter().flat_map(|t| t.orgs.iter().copied()));
    let mut institutions: Vec<String> = orgs
        .iter()
        .filter(|&&o| o != 0)
        .map(|&o| snap.orgs.resolve(o).to_string())
        .collect();
    institutions.sort();
    institutions.dedup();
    let mut counties: Vec<String> = claims
        .iter()
        .map(|&c| snap.claims[c as usize].county)
        .filter(|&c| c != 0)
        .map(|c| snap.counties.resolve(c).to_string())
        .collect();
    counties.sort();
    counties.dedup();
    (institutions, counties)
}

/// The persons' ID numbers, sorted, and their person ids in that order.
fn by_id_number(snap: &Snapshot, person_ids: &[u32]) -> (Vec<String>, Vec<u32>) {
    let mut persons_sorted: Vec<(String, u32)> = person_ids
        .iter()
        .map(|&p| (snap.ids.resolve(p).to_string(), p))
        .collect();
    persons_sorted.sort();
    let persons: Vec<String> = persons_sorted.iter().map(|(s, _)| s.clone()).collect();
    let person_ids: Vec<u32> = persons_sorted.iter().map(|&(_, p)| p).collect();
    (persons, person_ids)
}

/// The ties as shared identifiers, sorted by kind, value, then institutions.
fn shared_identifiers(snap: &Snapshot, ties: &[&Tie]) -> Vec<SharedIdentifier> {
    let mut shared: Vec<SharedIdentifier> = ties
        .iter()
        .map(|t| {
            let mut ps: Vec<String> = t
                .persons
                .iter()
                .map(|&p| snap.ids.resolve(p).to_string())
                .collect();
            ps.sort();
            let mut os: Vec<String> = t
                .orgs
                .iter()
                .map(|&o| snap.orgs.resolve(o).to_string())
                .collect();
            os.sort();
            os.dedup();
            SharedIdentifier {
                kind: t.kind,
                value: t.value.clone(),
                persons: ps,
                institutions: os,
                claims: t.claims.clone(),
                family_like: t.family_like,
            }
        })
        .collect();
    shared.sort_by(|a, b| {
        (a.kind, &a.value, &a.institutions).cmp(&(b.kind, &b.value, &b.institutions))
    });
    shared
}

/// The terms of a ring's score from its counts (persons, institutions, counties, shared
/// identifiers) and its amount, weighted by `[graph]`.
fn score_terms(gp: &crate::policy::GraphPolicy, counts: [usize; 4], amount: Fen) -> Vec<ScoreTerm> {
    let [persons, institutions, counties, identifiers] = counts;
    vec![
        ScoreTerm::new(
            "persons",
            "人数",
            "persons",
            persons as f64,
            gp.ring_weight_person,
        ),
        ScoreTerm::new(
            "institutions",
            "机构数",
            "institutions",
            institutions as f64,
            gp.ring_weight_institution,
        ),
        ScoreTerm::new(
            "counties",
            "县区数",
            "counties",
            counties as f64,
            gp.ring_weight_county,
        ),
        ScoreTerm::new(
            "identifiers",
            "共用标识数",
            "shared identifiers",
            identifiers as f64,
            gp.ring_weight_identifier,
        ),
        ScoreTerm::new(
            "amount_10k_yuan",
            "金额（万元）",
            "amount (10,000 yuan)",
            amount as f64 / 1_000_000.0,
            gp.ring_weight_per_10k_yuan,
        ),
    ]
}

/// Identifiers shown in an explanation; the rest are counted.
const SHOWN_IDENTIFIERS: usize = 6;

impl Ring {
    /// The ring's explanation in Chinese, citing `clause` (its policy's `[graph]` clause);
    /// `claim_ids` are those of its claims, in order (the first few are shown). Spelled when the
    /// ring is stored, not held beside the findings: at ten million claims the two texts of 76
    /// thousand rings took 0.15 GB through the graph analysis.
    pub fn explanation_zh<'a>(
        &self,
        claim_ids: impl Iterator<Item = &'a str>,
        clause: &str,
    ) -> String {
        let Ring {
            persons,
            institutions,
            counties,
            shared,
            claims,
            terms,
            amount,
            score,
            ..
        } = self;
        let ids: Vec<String> = shared
            .iter()
            .take(SHOWN_IDENTIFIERS)
            .map(|s| {
                let who = if s.institutions.is_empty() {
                    format!("{}人", s.persons.len())
                } else {
                    format!("{}人及机构{}", s.persons.len(), s.institutions.join("、"))
                };
                format!("{} {}（{who}）", s.kind.zh(), s.value)
            })
            .collect();
        let more = if shared.len() > SHOWN_IDENTIFIERS {
            format!("等{}个标识", shared.len())
        } else {
            String::new()
        };
        let formula = terms
            .iter()
            .map(|t| format!("{}{}×{}", t.zh, fmt_num(t.value), fmt_num(t.weight)))
            .collect::<Vec<_>>()
            .join("+");
        format!(
        "{}人（{}{}）跨{}家机构（{}）、{}个县区（{}），通过共用{}{}相互关联；涉及申领{}条（{}），金额{}元。团伙分{:.2}＝{}。依据：{}",
        persons.len(),
        persons.iter().take(5).cloned().collect::<Vec<_>>().join("、"),
        if persons.len() > 5 { "…" } else { "" },
        institutions.len(),
        institutions.join("、"),
        counties.len(),
        counties.join("、"),
        ids.join("、"),
        more,
        claims.len(),
        shown_claims(claim_ids, claims.len(), "、"),
        fen_to_yuan(*amount),
        score,
        formula,
        clause
    )
    }

    /// The ring's explanation in English (as [`Ring::explanation_zh`]).
    pub fn explanation_en<'a>(
        &self,
        claim_ids: impl Iterator<Item = &'a str>,
        clause: &str,
    ) -> String {
        let Ring {
            persons,
            institutions,
            counties,
            shared,
            claims,
            terms,
            amount,
            score,
            ..
        } = self;
        let ids: Vec<String> = shared
            .iter()
            .take(SHOWN_IDENTIFIERS)
            .map(|s| {
                let who = if s.institutions.is_empty() {
                    format!("{} persons", s.persons.len())
                } else {
                    format!(
                        "{} persons and institution {}",
                        s.persons.len(),
                        s.institutions.join(", ")
                    )
                };
                format!("{} {} ({who})", s.kind.en(), s.value)
            })
            .collect();
        let more = if shared.len() > SHOWN_IDENTIFIERS {
            format!(" and more ({} identifiers)", shared.len())
        } else {
            String::new()
        };
        let formula = terms
            .iter()
            .map(|t| format!("{} {} × {}", t.en, fmt_num(t.value), fmt_num(t.weight)))
            .collect::<Vec<_>>()
            .join(" + ");
        format!(
        "{} persons ({}{}) across {} institutions ({}) and {} counties ({}) are tied by shared {}{}; {} claims ({}), {} yuan. Score {:.2} = {}. Policy: {}",
        persons.len(),
        persons.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if persons.len() > 5 { "…" } else { "" },
        institutions.len(),
        institutions.join(", "),
        counties.len(),
        counties.join(", "),
        ids.join(", "),
        more,
        claims.len(),
        shown_claims(claim_ids, claims.len(), ", "),
        fen_to_yuan(*amount),
        score,
        formula,
        clause
    )
    }
}

/// A number without trailing zeros: 2, 0.5, 1.23.
pub(crate) fn fmt_num(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}
