//! Identity resolution: which ID numbers belong to one real person (docs/RULES.md, "Persons").
//!
//! Two ID numbers are **linked** when
//! 1. the birth dates in them (positions 7–14) exist and are equal,
//! 2. a claim under one and a claim under the other carry the same non-empty contact of a kind
//!    the policy names in `identity.merge_on` (phone, bank account), and
//! 3. the names on those two claims are spellings of one name ([`NameKey::same_person`]: width,
//!    inner spaces, traditional/simplified, pinyin-input homophones, one-character typing
//!    variants, pinyin in Latin letters), judged with the strictest `identity.min_jaro_winkler`
//!    of the policy set.
//!
//! A resolved person is a connected component of links. Never linked: ID numbers without a
//! readable birth date, different birth dates (a parent and child sharing a phone), names that
//! are not spellings of one name (a couple sharing a phone, born the same day), contacts that
//! are empty, and contacts of a kind the policy leaves out.
//!
//! Cost: claims are grouped by contact (CSR), and names are compared only between ID numbers of
//! one contact with one birth date: never all pairs. Deterministic: the links found do not
//! depend on the thread count or row order, and a person's representative is the member with
//! the smallest ID number.

use crate::dates::Date;
use crate::idcode::birth_date;
use crate::intern::Text;
use crate::names::NameKey;
use crate::policy::PolicySet;
use crate::snapshot::{DenseGroups, Snapshot};
use rayon::prelude::*;

/// The contact two claims of a link share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    Phone,
    Bank,
}

impl Via {
    pub fn code(self) -> &'static str {
        match self {
            Via::Phone => "phone",
            Via::Bank => "bank_account",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Via::Phone => "联系电话",
            Via::Bank => "银行账号",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Via::Phone => "phone",
            Via::Bank => "bank account",
        }
    }
}

/// How the two names of a link are one name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NameMatch {
    /// Written the same.
    Same,
    /// Equal after width folding, inner spaces and traditional→simplified.
    Spelling,
    /// Pinyin-input homophones.
    Homophone,
    /// One character different, Jaro-Winkler at least the policy's minimum.
    Typing,
    /// One is the other in pinyin.
    Romanised,
}

impl NameMatch {
    fn of(a: &str, ka: &NameKey, b: &str, kb: &NameKey, min_jw: f64) -> Option<NameMatch> {
        if ka.is_empty() || kb.is_empty() {
            None
        } else if a == b {
            Some(NameMatch::Same)
        } else if ka.normalized == kb.normalized {
            Some(NameMatch::Spelling)
        } else if ka.sounds_like(kb) {
            Some(NameMatch::Homophone)
        } else if ka.typing_variant_of(kb, min_jw) {
            Some(NameMatch::Typing)
        } else if ka.romanises(kb) || kb.romanises(ka) {
            Some(NameMatch::Romanised)
        } else {
            None
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            NameMatch::Same => "same",
            NameMatch::Spelling => "spelling",
            NameMatch::Homophone => "homophone",
            NameMatch::Typing => "typing",
            NameMatch::Romanised => "romanised",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            NameMatch::Same => "姓名相同",
            NameMatch::Spelling => "姓名为同一写法（全半角、空格或繁简）",
            NameMatch::Homophone => "姓名同音",
            NameMatch::Typing => "姓名仅一字笔误",
            NameMatch::Romanised => "姓名为拼音写法",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            NameMatch::Same => "same name",
            NameMatch::Spelling => "same name in another spelling (width, spaces or traditional)",
            NameMatch::Homophone => "homophone names",
            NameMatch::Typing => "names one typing slip apart",
            NameMatch::Romanised => "one name in pinyin",
        }
    }
}

/// Why two ID numbers are one person: the evidence of one link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    /// Snapshot person ids; the ID number of `a` sorts before that of `b`.
    pub a: u32,
    pub b: u32,
    pub via: Via,
    /// Phone or bank id in the snapshot.
    pub contact: u32,
    /// Name ids in the snapshot: the names on the two claims.
    pub name_a: u32,
    pub name_b: u32,
    pub how: NameMatch,
    pub birth: Date,
}

/// A resolved person with several ID numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The member with the smallest ID number.
    pub rep: u32,
    /// Its ID numbers (snapshot person ids), ascending by ID number.
    pub ids: Vec<u32>,
    /// The links that made it one person (a spanning set: one per merge, in the order found).
    pub links: Vec<Link>,
}

/// Every ID number's resolved person.
#[derive(Debug, Default)]
pub struct Persons {
    /// Snapshot person id → the representative of its resolved person.
    rep: Vec<u32>,
    /// Persons with two or more ID numbers, ascending by representative.
    groups: Vec<Group>,
}

/// What the resolution reads from the policy set: the strictest settings of its files.
#[derive(Clone, Debug)]
pub struct Evidence {
    pub min_jaro_winkler: f64,
    pub phone: bool,
    pub bank: bool,
}

impl Evidence {
    pub fn of(policies: &PolicySet) -> Evidence {
        let all = &policies.policies;
        let min_jaro_winkler = all
            .iter()
            .map(|p| p.identity.min_jaro_winkler)
            .fold(0.0, f64::max);
        let every = |c: &str| {
            all.iter()
                .all(|p| p.identity.merge_on.iter().any(|m| m == c))
        };
        Evidence {
            min_jaro_winkler,
            phone: !all.is_empty() && every("phone"),
            bank: !all.is_empty() && every("bank_account"),
        }
    }
}

impl Persons {
    /// Every ID number its own person (no resolution).
    pub fn unresolved(snap: &Snapshot) -> Persons {
        Persons {
            rep: (0..snap.ids.len() as u32).collect(),
            groups: Vec::new(),
        }
    }

    pub fn resolve(snap: &Snapshot, policies: &PolicySet) -> Persons {
        let ev = Evidence::of(policies);
        let births: Vec<Option<Date>> = (0..snap.ids.len() as u32)
            .into_par_iter()
            .map(|p| {
                if p == 0 {
                    None
                } else {
                    birth_date(&snap.ids.resolve(p))
                }
            })
            .collect();
        let mut links: Vec<Link> = Vec::new();
        if ev.phone {
            links.extend(contact_links(snap, &births, &ev, Via::Phone));
        }
        if ev.bank {
            links.extend(contact_links(snap, &births, &ev, Via::Bank));
        }
        // A total order on what the links say (ID numbers, contact, names), not on interning
        // order, so the evidence kept is the same for any row order.
        links.par_sort_unstable_by(|x, y| link_order(snap, x, y));
        Persons::from_links(snap, links)
    }

    fn from_links(snap: &Snapshot, links: Vec<Link>) -> Persons {
        let n = snap.ids.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                let up = parent[parent[x as usize] as usize];
                parent[x as usize] = up;
                x = up;
            }
            x
        }
        // Links in sorted order; those that join two components are the evidence kept.
        let mut kept: Vec<Link> = Vec::new();
        for l in links {
            let (ra, rb) = (find(&mut parent, l.a), find(&mut parent, l.b));
            if ra != rb {
                let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
                parent[hi as usize] = lo;
                kept.push(l);
            }
        }
        let mut rep: Vec<u32> = (0..n as u32).collect();
        if kept.is_empty() {
            return Persons {
                rep,
                groups: Vec::new(),
            };
        }
        // Members of each component, then the member with the smallest ID number as its
        // representative (independent of interning order).
        let mut members: Vec<(u32, u32)> = Vec::new();
        let mut touched: Vec<u32> = kept.iter().flat_map(|l| [l.a, l.b]).collect();
        touched.sort_unstable();
        touched.dedup();
        for &p in &touched {
            members.push((find(&mut parent, p), p));
        }
        members.sort_unstable();
        let mut groups: Vec<Group> = members
            .chunk_by(|x, y| x.0 == y.0)
            .map(|run| {
                let mut ids: Vec<u32> = run.iter().map(|m| m.1).collect();
                ids.sort_by(|&x, &y| snap.ids.resolve(x).cmp(&snap.ids.resolve(y)));
                Group {
                    rep: ids[0],
                    ids,
                    links: Vec::new(),
                }
            })
            .collect();
        for g in &groups {
            for &p in &g.ids {
                rep[p as usize] = g.rep;
            }
        }
        groups.sort_by_key(|g| g.rep);
        for l in kept {
            let r = rep[l.a as usize];
            if let Ok(i) = groups.binary_search_by_key(&r, |g| g.rep) {
                groups[i].links.push(l);
            }
        }
        Persons { rep, groups }
    }

    /// The resolved person (its representative) of a snapshot person id.
    #[inline]
    pub fn of(&self, person: u32) -> u32 {
        self.rep.get(person as usize).copied().unwrap_or(person)
    }

    /// Number of snapshot person ids (ID numbers), the range of [`Persons::of`].
    pub fn len(&self) -> usize {
        self.rep.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rep.is_empty()
    }

    /// Persons with several ID numbers, ascending by representative.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The group of a representative, when its person has several ID numbers.
    pub fn group(&self, rep: u32) -> Option<&Group> {
        self.groups
            .binary_search_by_key(&rep, |g| g.rep)
            .ok()
            .map(|i| &self.groups[i])
    }

    /// The ID numbers (snapshot person ids) of a resolved person, smallest ID number first.
    pub fn ids_of(&self, rep: u32) -> Vec<u32> {
        self.group(rep).map_or_else(|| vec![rep], |g| g.ids.clone())
    }

    /// ID numbers that belong to a person with several.
    pub fn merged_ids(&self) -> usize {
        self.groups.iter().map(|g| g.ids.len()).sum()
    }

    /// A person in an explanation: the ID number, and for a person with several ID numbers
    /// all of them and why they are one person.
    pub fn describe_zh(&self, snap: &Snapshot, rep: u32) -> String {
        let Some(g) = self.group(rep) else {
            return snap.ids.resolve(rep).to_string();
        };
        let ids: Vec<Text> = g.ids.iter().map(|&p| snap.ids.resolve(p)).collect();
        format!(
            "{}（同一人使用{}个身份证号 {}，按人合计：{}）",
            ids[0],
            ids.len(),
            ids.join("、"),
            self.why_zh(snap, g)
        )
    }

    pub fn describe_en(&self, snap: &Snapshot, rep: u32) -> String {
        let Some(g) = self.group(rep) else {
            return snap.ids.resolve(rep).to_string();
        };
        let ids: Vec<Text> = g.ids.iter().map(|&p| snap.ids.resolve(p)).collect();
        format!(
            "{} (one person under {} ID numbers {}, counted together: {})",
            ids[0],
            ids.len(),
            ids.join(", "),
            self.why_en(snap, g)
        )
    }

    /// The evidence of a group's links, in Chinese: `A 与 B：出生日期 1985-03-02 相同，姓名 杜明坤/杜鸣坤 同音，共用联系电话 138…`.
    pub fn why_zh(&self, snap: &Snapshot, g: &Group) -> String {
        g.links
            .iter()
            .map(|l| {
                format!(
                    "{} 与 {} 出生日期同为{}，{}（{}/{}），共用{} {}",
                    snap.ids.resolve(l.a),
                    snap.ids.resolve(l.b),
                    l.birth,
                    l.how.zh(),
                    snap.names.resolve(l.name_a),
                    snap.names.resolve(l.name_b),
                    l.via.zh(),
                    contact_value(snap, l.via, l.contact)
                )
            })
            .collect::<Vec<_>>()
            .join("；")
    }

    pub fn why_en(&self, snap: &Snapshot, g: &Group) -> String {
        g.links
            .iter()
            .map(|l| {
                format!(
                    "{} and {} born on {}, {} ({}/{}), sharing {} {}",
                    snap.ids.resolve(l.a),
                    snap.ids.resolve(l.b),
                    l.birth,
                    l.how.en(),
                    snap.names.resolve(l.name_a),
                    snap.names.resolve(l.name_b),
                    l.via.en(),
                    contact_value(snap, l.via, l.contact)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The order of links by what they say: ID numbers, how they are linked, the contact, the
/// names. Lazily, field by field: most links differ in their first ID number, and reading a
/// packed one unpacks it. The same interned id is the same text, so it is not read.
fn link_order(snap: &Snapshot, x: &Link, y: &Link) -> std::cmp::Ordering {
    let id = |p: u32, q: u32| {
        if p == q {
            std::cmp::Ordering::Equal
        } else {
            snap.ids.resolve(p).cmp(&snap.ids.resolve(q))
        }
    };
    let name = |p: u32, q: u32| snap.names.resolve(p).cmp(snap.names.resolve(q));
    id(x.a, y.a)
        .then_with(|| id(x.b, y.b))
        .then_with(|| x.via.cmp(&y.via))
        .then_with(|| {
            if x.contact == y.contact {
                std::cmp::Ordering::Equal
            } else {
                contact_value(snap, x.via, x.contact).cmp(&contact_value(snap, y.via, y.contact))
            }
        })
        .then_with(|| name(x.name_a, y.name_a))
        .then_with(|| name(x.name_b, y.name_b))
}

/// The phone or bank account of a link.
pub fn contact_value(snap: &Snapshot, via: Via, k: u32) -> Text<'_> {
    match via {
        Via::Phone => snap.phones.resolve(k),
        Via::Bank => snap.banks.resolve(k),
    }
}

/// The links found through one kind of contact.
fn contact_links(snap: &Snapshot, births: &[Option<Date>], ev: &Evidence, via: Via) -> Vec<Link> {
    let key = |i: usize| match via {
        Via::Phone => snap.claims[i].phone,
        Via::Bank => snap.claims[i].bank,
    };
    let n_keys = match via {
        Via::Phone => snap.phones.len(),
        Via::Bank => snap.banks.len(),
    };
    // Claims per contact (CSR). A contact seen on one claim links nothing.
    let by_contact = DenseGroups::build(
        n_keys,
        |i| Some(key(i)).filter(|&k| k != 0),
        snap.claims.len(),
    );
    (1..n_keys as u32)
        .into_par_iter()
        .flat_map_iter(|k| links_of_contact(snap, births, ev, via, k, by_contact.members(k)))
        .collect()
}

/// Links among the claims of one contact: ID numbers with one birth date and names that are
/// spellings of one name.
fn links_of_contact(
    snap: &Snapshot,
    births: &[Option<Date>],
    ev: &Evidence,
    via: Via,
    contact: u32,
    members: &[u32],
) -> Vec<Link> {
    if members.len() < 2 {
        return Vec::new();
    }
    let first = snap.claims[members[0] as usize].person;
    if members
        .iter()
        .all(|&i| snap.claims[i as usize].person == first)
    {
        return Vec::new();
    }
    // Distinct (birth, person, name) of claims with a birth date and a name.
    let mut seen: Vec<(Date, u32, u32)> = members
        .iter()
        .filter_map(|&i| {
            let c = &snap.claims[i as usize];
            let birth = births.get(c.person as usize).copied().flatten()?;
            (c.name != 0).then_some((birth, c.person, c.name))
        })
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let mut out = Vec::new();
    let mut keys: Vec<(u32, NameKey)> = Vec::new();
    for run in seen.chunk_by(|x, y| x.0 == y.0) {
        if run.iter().all(|x| x.1 == run[0].1) {
            continue;
        }
        for (x, &(birth, pa, na)) in run.iter().enumerate() {
            for &(_, pb, nb) in &run[x + 1..] {
                if pa == pb {
                    continue;
                }
                let a_first = snap.ids.resolve(pa) < snap.ids.resolve(pb);
                let (lo, hi) = if a_first { (pa, pb) } else { (pb, pa) };
                // One link per pair of ID numbers and contact is enough evidence.
                if out.iter().any(|l: &Link| l.a == lo && l.b == hi) {
                    continue;
                }
                let how = {
                    let ka = name_key(snap, &mut keys, na);
                    let kb = name_key(snap, &mut keys, nb);
                    let (ka, kb) = (&keys[ka].1, &keys[kb].1);
                    NameMatch::of(
                        snap.names.resolve(na),
                        ka,
                        snap.names.resolve(nb),
                        kb,
                        ev.min_jaro_winkler,
                    )
                };
                if let Some(how) = how {
                    let ((a, name_a), (b, name_b)) = if a_first {
                        ((pa, na), (pb, nb))
                    } else {
                        ((pb, nb), (pa, na))
                    };
                    out.push(Link {
                        a,
                        b,
                        via,
                        contact,
                        name_a,
                        name_b,
                        how,
                        birth,
                    });
                }
            }
        }
    }
    out
}

/// Index in `keys` of the key of name `n`, computed on first use.
fn name_key(snap: &Snapshot, keys: &mut Vec<(u32, NameKey)>, n: u32) -> usize {
    if let Some(i) = keys.iter().position(|(k, _)| *k == n) {
        return i;
    }
    keys.push((n, NameKey::new(snap.names.resolve(n))));
    keys.len() - 1
}
