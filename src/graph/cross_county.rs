//! Cross-county persons: a person claiming in at least `graph.cross_county_min_counties`
//! counties within one subsidy year (the calendar year of `claim_date`), with the path of
//! counties in date order. A stop is a run of consecutive claims in one county; a county
//! visited again later is a new stop.

use crate::dates::Date;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::PolicySet;
use crate::resolve::Resolved;
use crate::snapshot::DenseGroups;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

/// One stop of a person's path through counties.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountyStop {
    /// Interned county (see [`super::GraphFindings::county`]).
    pub county: u32,
    pub first_date: Date,
    pub last_date: Date,
    /// Claims of this stop: the next `len` claims of the path order.
    pub len: u32,
}

/// A person claiming in several counties in one year. Compact (integer ids, one claim
/// buffer): there can be a million of them; their texts are spelled when stored or shown
/// ([`super::GraphFindings::cross_county_explanation`]).
#[derive(Clone, Debug, PartialEq)]
pub struct CrossCountyPerson {
    pub person: u32,
    pub year: i32,
    /// Distinct counties.
    pub counties: u32,
    /// The policy judging the year: its index in the policy set (its clause is in
    /// [`super::GraphFindings::clauses`]).
    pub(crate) clause: u32,
    pub amount: Fen,
    /// The year's claims ascending, then the same claims in path order (date, then claim id).
    claim_buf: Box<[u32]>,
    pub path: Box<[CountyStop]>,
}

impl CrossCountyPerson {
    /// All claims of the person in the year, ascending.
    pub fn claims(&self) -> &[u32] {
        &self.claim_buf[..self.claim_buf.len() / 2]
    }

    /// The claims of each stop of the path, in date order (then claim id).
    pub fn stop_claims(&self) -> impl Iterator<Item = (&CountyStop, &[u32])> {
        let mut rest = &self.claim_buf[self.claim_buf.len() / 2..];
        self.path.iter().map(move |stop| {
            let (now, later) = rest.split_at(stop.len as usize);
            rest = later;
            (stop, now)
        })
    }
}

pub(crate) fn find(
    snap: &Snapshot,
    resolved: &Resolved,
    by_person: &DenseGroups,
    policies: &PolicySet,
) -> Vec<CrossCountyPerson> {
    let out: Vec<CrossCountyPerson> = (1..by_person.keys() as u32)
        .into_par_iter()
        .with_min_len(1024)
        .flat_map_iter(|p| of_person(snap, resolved, by_person.members(p), policies, p))
        .collect();
    // Person ids are interned in first-seen order, so sort by the ID number itself. Each
    // finding's key carries the first 16 bytes of its ID number: most comparisons end there,
    // without two random reads into the ID text (a million findings at national scale).
    // The keys are sorted beside the findings, which are then moved into place: findings
    // and keys held together, then collected again, took 0.17 GB at ten million claims,
    // against 0.11.
    let mut order: Vec<(u128, u32)> = out
        .par_iter()
        .enumerate()
        .map(|(k, c)| (text_prefix(&snap.ids.resolve(c.person)), k as u32))
        .collect();
    order.par_sort_unstable_by(|&(ka, ia), &(kb, ib)| {
        ka.cmp(&kb).then_with(|| {
            let (a, b) = (&out[ia as usize], &out[ib as usize]);
            if a.person == b.person {
                // One ID number (one text): most ties are a person's findings of two years.
                a.year.cmp(&b.year)
            } else {
                (snap.ids.resolve(a.person), a.year).cmp(&(snap.ids.resolve(b.person), b.year))
            }
        })
    });
    let mut out = out;
    permute(&mut out, order.into_iter().map(|(_, k)| k).collect());
    out
}

/// Reorders `items` in place so that position `k` holds the item that was at `from[k]`
/// (`from` a permutation of `0..items.len()`), following each cycle with swaps.
fn permute<T>(items: &mut [T], mut from: Vec<u32>) {
    const DONE: u32 = u32::MAX;
    for start in 0..items.len() {
        let mut k = start;
        while from[k] != DONE {
            let next = from[k] as usize;
            from[k] = DONE;
            if next == start {
                break;
            }
            items.swap(k, next);
            k = next;
        }
    }
}

/// The first 16 bytes of `s` as a big-endian number (zero-padded): ordered as the strings are
/// wherever two prefixes differ.
fn text_prefix(s: &str) -> u128 {
    let mut k = [0u8; 16];
    let n = s.len().min(16);
    k[..n].copy_from_slice(&s.as_bytes()[..n]);
    u128::from_be_bytes(k)
}

fn of_person(
    snap: &Snapshot,
    resolved: &Resolved,
    claims: &[u32],
    policies: &PolicySet,
    person: u32,
) -> Vec<CrossCountyPerson> {
    let mut found = Vec::new();
    if claims.len() < 2 {
        return found;
    }
    let first_county = snap.claims[claims[0] as usize].county;
    if claims
        .iter()
        .all(|&c| snap.claims[c as usize].county == first_county)
    {
        return found;
    }
    let mut dated: Vec<(i32, Date, u32)> = claims
        .iter()
        .filter(|&&c| snap.claims[c as usize].county != 0)
        .map(|&c| {
            let d = snap.claims[c as usize].date;
            (d.year(), d, c)
        })
        .collect();
    dated.sort_unstable();
    for year_claims in dated.chunk_by(|a, b| a.0 == b.0) {
        let year = year_claims[0].0;
        let mut in_year: Vec<u32> = year_claims.iter().map(|x| x.2).collect();
        in_year.sort_unstable();
        let Some(policy) = resolved.judging.policy_of_group(policies, &in_year) else {
            continue;
        };
        let mut distinct: Vec<u32> = in_year
            .iter()
            .map(|&c| snap.claims[c as usize].county)
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        if (distinct.len() as u32) < policy.graph.cross_county_min_counties {
            continue;
        }
        let mut path: Vec<CountyStop> = Vec::new();
        for &(_, d, c) in year_claims {
            let county = snap.claims[c as usize].county;
            match path.last_mut() {
                Some(stop) if stop.county == county => {
                    stop.last_date = d;
                    stop.len += 1;
                }
                _ => path.push(CountyStop {
                    county,
                    first_date: d,
                    last_date: d,
                    len: 1,
                }),
            }
        }
        let amount: Fen = in_year
            .iter()
            .map(|&c| snap.claims[c as usize].amount)
            .sum();
        let mut claim_buf = in_year;
        claim_buf.extend(year_claims.iter().map(|x| x.2));
        found.push(CrossCountyPerson {
            person,
            year,
            counties: distinct.len() as u32,
            clause: policies
                .policies
                .iter()
                .position(|p| std::ptr::eq(p, policy))
                .unwrap_or(0) as u32,
            amount,
            claim_buf: claim_buf.into_boxed_slice(),
            path: path.into_boxed_slice(),
        });
    }
    found
}

/// The stored texts of a cross-county finding, spelled into buffers reused finding after
/// finding; each claim id is looked up once.
#[derive(Default)]
pub(crate) struct CrossCountyTexts {
    /// `371302 → 371311 → 371302`
    pub path: String,
    /// Claim ids ascending, `;`-separated.
    pub claim_ids: String,
    /// `{ID} 在{year}年于{n}个县区申领{k}条、金额{yuan}元：{county}（{date}，{ids}） → …。依据：{clause}`
    pub zh: String,
    /// `{ID} claimed in {n} counties in {year}, {k} claims, {yuan} yuan: {county} ({date},
    /// {ids}) → …. Policy: {clause}`
    pub en: String,
}

impl CrossCountyTexts {
    /// Only what is stored: the path and the claim ids.
    pub(crate) fn fill_facts(&mut self, f: &super::GraphFindings, c: &CrossCountyPerson) {
        self.path.clear();
        self.claim_ids.clear();
        for (k, id) in f.claim_ids_of(c.claims()).enumerate() {
            if k > 0 {
                self.claim_ids.push(';');
            }
            self.claim_ids.push_str(id);
        }
        for (i, (stop, _)) in c.stop_claims().enumerate() {
            if i > 0 {
                self.path.push_str(" → ");
            }
            self.path.push_str(f.county(stop.county));
        }
    }

    /// The path, the claim ids and the explanations in both languages.
    pub(crate) fn fill(&mut self, f: &super::GraphFindings, c: &CrossCountyPerson) {
        use std::fmt::Write;
        for s in [
            &mut self.path,
            &mut self.claim_ids,
            &mut self.zh,
            &mut self.en,
        ] {
            s.clear();
        }
        let claims = c.claims();
        let ids: Vec<&str> = claims.iter().map(|&claim| f.claim_id(claim)).collect();
        let id_of = |claim: u32| claims.binary_search(&claim).map_or("", |k| ids[k]);
        for (k, id) in ids.iter().enumerate() {
            if k > 0 {
                self.claim_ids.push(';');
            }
            self.claim_ids.push_str(id);
        }
        let person = f.person_id(c.person);
        let yuan = fen_to_yuan(c.amount);
        let (n, k, year) = (c.counties, claims.len(), c.year);
        let _ = write!(
            self.en,
            "{person} claimed in {n} counties in {year}, {k} claims, {yuan} yuan: "
        );
        let _ = write!(
            self.zh,
            "{person} 在{year}年于{n}个县区申领{k}条、金额{yuan}元："
        );
        for (i, (stop, stop_claims)) in c.stop_claims().enumerate() {
            if i > 0 {
                for s in [&mut self.path, &mut self.zh, &mut self.en] {
                    s.push_str(" → ");
                }
            }
            let county = f.county(stop.county);
            self.path.push_str(county);
            let _ = write!(self.zh, "{county}（{}，", stop.first_date);
            let _ = write!(self.en, "{county} ({}, ", stop.first_date);
            for (j, &claim) in stop_claims.iter().enumerate() {
                if j > 0 {
                    self.zh.push('、');
                    self.en.push_str(", ");
                }
                let id = id_of(claim);
                self.zh.push_str(id);
                self.en.push_str(id);
            }
            self.zh.push('）');
            self.en.push(')');
        }
        let clause = f.clauses.get(c.clause as usize).map_or("", String::as_str);
        self.zh.push_str("。依据：");
        self.zh.push_str(clause);
        self.en.push_str(". Policy: ");
        self.en.push_str(clause);
    }
}

#[cfg(test)]
mod tests {
    use super::{permute, text_prefix};

    /// Position `k` gets the item that was at `from[k]`, for cycles of every length.
    #[test]
    fn permute_moves_each_item_where_the_order_says() {
        for from in [
            vec![],
            vec![0],
            vec![1, 0],
            vec![2, 0, 1],
            vec![0, 3, 1, 2, 5, 4],
            vec![4, 3, 2, 1, 0],
        ] {
            let items: Vec<String> = (0..from.len()).map(|k| format!("item{k}")).collect();
            let expected: Vec<String> = from.iter().map(|&k| items[k as usize].clone()).collect();
            let mut moved = items.clone();
            permute(&mut moved, from.clone());
            assert_eq!(moved, expected, "{from:?}");
        }
    }

    #[test]
    fn prefixes_order_as_the_strings_wherever_they_differ() {
        let texts = [
            "",
            "3",
            "37",
            "371302199001011234",
            "371302199001011235",
            "371302199001011",
            "37130219900101123X",
            "9",
            "a",
            "张三",
            "37130219900101123456789",
        ];
        for a in texts {
            for b in texts {
                let (pa, pb) = (text_prefix(a), text_prefix(b));
                if pa != pb {
                    assert_eq!(pa.cmp(&pb), a.cmp(b), "{a} vs {b}");
                }
            }
        }
        // Equal prefixes are left to the full comparison.
        assert_eq!(
            text_prefix("371302199001011234"),
            text_prefix("371302199001011235")
        );
    }
}
