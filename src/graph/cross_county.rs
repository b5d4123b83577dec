//! Cross-county persons: a person claiming in at least `graph.cross_county_min_counties`
//! counties within one subsidy year (the calendar year of `claim_date`), with the path of
//! counties in date order. A stop is a run of consecutive claims in one county; a county
//! visited again later is a new stop.

use super::{policy_of_latest, ClaimGroups};
use crate::dates::Date;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::PolicySet;
use crate::snapshot::Snapshot;
use rayon::prelude::*;

/// One stop of a person's path through counties.
#[derive(Clone, Debug, PartialEq)]
pub struct CountyStop {
    pub county: String,
    pub first_date: Date,
    pub last_date: Date,
    /// Claims of this stop, in date order (then claim id).
    pub claims: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CrossCountyPerson {
    pub person: u32,
    pub id_number: String,
    pub year: i32,
    /// Distinct counties.
    pub counties: usize,
    pub path: Vec<CountyStop>,
    /// All claims of the person in the year, ascending.
    pub claims: Vec<u32>,
    pub amount: Fen,
    pub explanation_zh: String,
    pub explanation_en: String,
}

impl CrossCountyPerson {
    /// `371302 → 371311 → 371302`
    pub fn path_text(&self) -> String {
        self.path
            .iter()
            .map(|s| s.county.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

pub(crate) fn find(
    snap: &Snapshot,
    by_person: &ClaimGroups,
    policies: &PolicySet,
) -> Vec<CrossCountyPerson> {
    let mut out: Vec<CrossCountyPerson> = (1..by_person.keys() as u32)
        .into_par_iter()
        .flat_map_iter(|p| of_person(snap, by_person.members(p), policies, p))
        .collect();
    out.sort_by(|a, b| (&a.id_number, a.year).cmp(&(&b.id_number, b.year)));
    out
}

fn of_person(
    snap: &Snapshot,
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
        let Some(policy) = policy_of_latest(snap, policies, &in_year) else {
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
            let county = snap.counties.resolve(snap.claims[c as usize].county);
            match path.last_mut() {
                Some(stop) if stop.county == county => {
                    stop.last_date = d;
                    stop.claims.push(c);
                }
                _ => path.push(CountyStop {
                    county: county.to_string(),
                    first_date: d,
                    last_date: d,
                    claims: vec![c],
                }),
            }
        }
        let amount: Fen = in_year
            .iter()
            .map(|&c| snap.claims[c as usize].amount)
            .sum();
        let id_number = snap.ids.resolve(person).to_string();
        let steps_zh: Vec<String> = path
            .iter()
            .map(|s| {
                let ids: Vec<&str> = s
                    .claims
                    .iter()
                    .map(|&c| snap.claim_id(c as usize))
                    .collect();
                format!("{}（{}，{}）", s.county, s.first_date, ids.join("、"))
            })
            .collect();
        let steps_en: Vec<String> = path
            .iter()
            .map(|s| {
                let ids: Vec<&str> = s
                    .claims
                    .iter()
                    .map(|&c| snap.claim_id(c as usize))
                    .collect();
                format!("{} ({}, {})", s.county, s.first_date, ids.join(", "))
            })
            .collect();
        let explanation_zh = format!(
            "{id_number} 在{year}年于{}个县区申领{}条、金额{}元：{}。依据：{}",
            distinct.len(),
            in_year.len(),
            fen_to_yuan(amount),
            steps_zh.join(" → "),
            policy.graph.clause
        );
        let explanation_en = format!(
            "{id_number} claimed in {} counties in {year}, {} claims, {} yuan: {}. Policy: {}",
            distinct.len(),
            in_year.len(),
            fen_to_yuan(amount),
            steps_en.join(" → "),
            policy.graph.clause
        );
        found.push(CrossCountyPerson {
            person,
            id_number,
            year,
            counties: distinct.len(),
            path,
            claims: in_year,
            amount,
            explanation_zh,
            explanation_en,
        });
    }
    found
}
