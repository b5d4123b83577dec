//! Institution risk: every institution that has claims, ranked by an explainable score.
//!
//! Score = Σ value × weight over these terms (weights from `[graph]`), each with the claims it
//! rests on:
//! - `flagged_share`: percent of the institution's claims in any flag of the sweep (the amount
//!   at risk is the sum of those claims' amounts);
//! - `rings`: rings the institution is part of;
//! - `cert_burst`: bursts of certificates of its trainees (at least `burst_min_certs` issued
//!   within `burst_days` days);
//! - `unusual_occupation`: percent of its claims in occupations that make up less than
//!   `unusual_occupation_max_percent` of them (from `unusual_occupation_min_claims` claims on);
//! - `bunching`: its projects' declared employment rates bunch just above
//!   `project.min_employment_rate_percent` (see [`super::stats::bunching`]);
//! - `benford`: its varying amounts (claim and living-allowance amounts) do not conform to
//!   Benford's law (MAD above `benford_mad_nonconformity`), tested from `benford_min_amounts`
//!   amounts with `benford_min_distinct` distinct values on.

use super::rings::{fmt_num, Ring};
use super::stats::{benford, bunching, BenfordTest, BunchingTest, Conformity};
use crate::finding::Flags;
use crate::model::{fen_to_yuan, Fen};
use crate::policy::{Policy, PolicySet};
use crate::resolve::Resolved;
use crate::snapshot::DenseGroups;
use crate::snapshot::Snapshot;
use rayon::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// One term of an institution's score, with what it rests on.
#[derive(Clone, Debug, PartialEq)]
pub struct Evidence {
    pub code: &'static str,
    pub zh: String,
    pub en: String,
    pub value: f64,
    pub weight: f64,
    pub points: f64,
    /// Claims behind the term, ascending (Benford: empty, as it rests on every amount of the
    /// institution; its digit counts are in `detail`).
    pub claims: Vec<u32>,
    pub detail: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstitutionRisk {
    /// 1-based.
    pub rank: u32,
    pub institution: u32,
    pub code: String,
    pub name: String,
    pub score: f64,
    pub claims: u32,
    pub amount: Fen,
    pub flagged_claims: u32,
    pub amount_at_risk: Fen,
    /// Ids of the rings it is part of.
    pub rings: Vec<u32>,
    pub evidence: Vec<Evidence>,
}

type RankResult = (
    Vec<InstitutionRisk>,
    Option<BunchingTest>,
    Option<BenfordTest>,
);

pub(crate) fn rank(
    snap: &Snapshot,
    resolved: &Resolved,
    flags: &(impl Flags + ?Sized),
    rings: &[Ring],
    by_inst: &DenseGroups,
    by_class: &DenseGroups,
    policies: &PolicySet,
) -> RankResult {
    let flagged = flagged_mask(snap, flags);
    let rings_of = rings_per_institution(rings);
    let (projects_of, all_rates) = projects_per_institution(snap, by_class);

    let latest = snap.claims.iter().map(|c| c.date).max();
    let overall: Option<&Policy> = latest
        .and_then(|d| policies.for_date(d))
        .or(policies.policies.last());
    let ledger_bunching = overall.filter(|_| !all_rates.is_empty()).map(|p| {
        bunching(
            &all_rates,
            p.project.min_employment_rate_percent,
            p.graph.bunching_window_percent,
            p.graph.bunching_min_projects,
            p.graph.bunching_min_z,
        )
    });
    let ledger_benford = || {
        overall.and_then(|p| {
            let g = &p.graph;
            benford(
                snap.claims.iter().flat_map(|c| [c.amount, c.living_amount]),
                g.benford_mad_close,
                g.benford_mad_acceptable,
                g.benford_mad_nonconformity,
            )
            .filter(|t| {
                t.n >= g.benford_min_amounts as u64 && t.distinct >= g.benford_min_distinct as u64
            })
        })
    };

    // The ledger's Benford test (one pass over every amount) beside the institutions.
    let (ledger_benford, mut ranked) = rayon::join(ledger_benford, || -> Vec<InstitutionRisk> {
        (1..by_inst.keys() as u32)
            .into_par_iter()
            .filter_map(|org| {
                let claims = by_inst.members(org);
                let policy = resolved.judging.policy_of_group(policies, claims)?;
                let code = snap.orgs.resolve(org);
                let projects = projects_of.get(&org).map(Vec::as_slice).unwrap_or(&[]);
                let rs = rings_of.get(code).map(Vec::as_slice).unwrap_or(&[]);
                Some(assess(
                    snap, org, claims, &flagged, rs, projects, by_class, policy,
                ))
            })
            .collect()
    });
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.amount_at_risk.cmp(&a.amount_at_risk))
            .then_with(|| a.code.cmp(&b.code))
    });
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
    }
    (ranked, ledger_bunching, ledger_benford)
}

/// Whether each claim of the snapshot is in any flag.
fn flagged_mask(snap: &Snapshot, flags: &(impl Flags + ?Sized)) -> Vec<bool> {
    let mut flagged = vec![false; snap.claims.len()];
    for f in flags.each() {
        for &c in f.claims {
            if let Some(x) = flagged.get_mut(c as usize) {
                *x = true;
            }
        }
    }
    flagged
}

/// Rings per institution code.
fn rings_per_institution(rings: &[Ring]) -> BTreeMap<&str, Vec<&Ring>> {
    let mut rings_of: BTreeMap<&str, Vec<&Ring>> = BTreeMap::new();
    for r in rings {
        for i in &r.institutions {
            rings_of.entry(i.as_str()).or_default().push(r);
        }
    }
    rings_of
}

/// Projects per institution (org id) and the rates of every project of the ledger.
type ProjectsOf = (BTreeMap<u32, Vec<(i64, i64, u32)>>, Vec<(i64, i64)>);

/// Projects per institution: (declared employed, declared trainees, class), and the declared
/// (employed, trainees) of every project of the ledger. The first project row of a class wins.
fn projects_per_institution(snap: &Snapshot, by_class: &DenseGroups) -> ProjectsOf {
    let mut projects_of: BTreeMap<u32, Vec<(i64, i64, u32)>> = BTreeMap::new();
    let mut all_rates: Vec<(i64, i64)> = Vec::new();
    for (k, p) in snap.projects.iter().enumerate() {
        if p.class == 0 || (k > 0 && snap.projects[k - 1].class == p.class) {
            continue;
        }
        let members = by_class.members(p.class);
        let inst = snap
            .class(p.class)
            .map(|c| c.institution)
            .filter(|&o| o != 0)
            .or_else(|| {
                members
                    .first()
                    .map(|&c| snap.claims[c as usize].institution)
            })
            .unwrap_or(0);
        all_rates.push((p.employed_claimed as i64, p.trainees as i64));
        if inst != 0 {
            projects_of.entry(inst).or_default().push((
                p.employed_claimed as i64,
                p.trainees as i64,
                p.class,
            ));
        }
    }
    (projects_of, all_rates)
}

/// What one institution's terms are computed over.
struct Institution<'a> {
    snap: &'a Snapshot,
    org: u32,
    /// Its claims, ascending.
    claims: &'a [u32],
    policy: &'a Policy,
}

#[allow(clippy::too_many_arguments)]
fn assess(
    snap: &Snapshot,
    org: u32,
    claims: &[u32],
    flagged: &[bool],
    rings: &[&Ring],
    projects: &[(i64, i64, u32)],
    by_class: &DenseGroups,
    policy: &Policy,
) -> InstitutionRisk {
    let inst = Institution {
        snap,
        org,
        claims,
        policy,
    };
    let code = snap.orgs.resolve(org).to_string();
    let name = snap
        .institution(org)
        .map(|i| snap.texts.resolve(i.name).to_string())
        .unwrap_or_default();
    let n = claims.len();
    let amount: Fen = claims.iter().map(|&c| snap.claims[c as usize].amount).sum();
    let (flagged_share, flagged_claims, amount_at_risk) = flagged_share_term(&inst, flagged);
    let evidence: Vec<Evidence> = [
        Some(flagged_share),
        rings_term(&inst, rings),
        cert_burst_term(&inst),
        unusual_occupation_term(&inst),
        bunching_term(&inst, projects, by_class),
        benford_term(&inst),
    ]
    .into_iter()
    .flatten()
    .collect();
    let score = evidence.iter().map(|e| e.points).sum();
    InstitutionRisk {
        rank: 0,
        institution: org,
        code,
        name,
        score,
        claims: n as u32,
        amount,
        flagged_claims: flagged_claims as u32,
        amount_at_risk,
        rings: rings.iter().map(|r| r.id).collect(),
        evidence,
    }
}

/// `flagged_share`: percent of the claims in any flag of the sweep; also the number of those
/// claims and their amount (the amount at risk).
fn flagged_share_term(inst: &Institution, flagged: &[bool]) -> (Evidence, usize, Fen) {
    let (snap, claims, g) = (inst.snap, inst.claims, &inst.policy.graph);
    let n = claims.len();
    let flagged_claims: Vec<u32> = claims
        .iter()
        .copied()
        .filter(|&c| flagged[c as usize])
        .collect();
    let amount_at_risk: Fen = flagged_claims
        .iter()
        .map(|&c| snap.claims[c as usize].amount)
        .sum();
    let share = flagged_claims.len() as f64 * 100.0 / n as f64;
    let k = flagged_claims.len();
    let evidence = Evidence {
        code: "flagged_share",
        zh: format!(
            "{}条申领中{}条被规则标记（{}%），涉及金额{}元",
            n,
            k,
            fmt_num(share),
            fen_to_yuan(amount_at_risk)
        ),
        en: format!(
            "{} of {} claims flagged by rules ({}%), {} yuan at risk",
            k,
            n,
            fmt_num(share),
            fen_to_yuan(amount_at_risk)
        ),
        value: share,
        weight: g.risk_weight_flagged_share,
        points: share * g.risk_weight_flagged_share,
        claims: flagged_claims,
        detail: json!({"claims": n, "flagged": k, "amount_at_risk_fen": amount_at_risk}),
    };
    (evidence, k, amount_at_risk)
}

/// `rings`: the rings the institution is part of, resting on their claims made here.
fn rings_term(inst: &Institution, rings: &[&Ring]) -> Option<Evidence> {
    if rings.is_empty() {
        return None;
    }
    let (snap, g) = (inst.snap, &inst.policy.graph);
    let own: Vec<u32> = rings
        .iter()
        .flat_map(|r| r.claims.iter().copied())
        .filter(|&c| snap.claims[c as usize].institution == inst.org)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let ids: Vec<String> = rings.iter().map(|r| format!("#{}", r.id)).collect();
    Some(Evidence {
        code: "rings",
        zh: format!(
            "属于{}个团伙（{}），本机构涉及其申领{}条",
            rings.len(),
            ids.join("、"),
            own.len()
        ),
        en: format!(
            "part of {} rings ({}), {} of their claims here",
            rings.len(),
            ids.join(", "),
            own.len()
        ),
        value: rings.len() as f64,
        weight: g.risk_weight_ring,
        points: rings.len() as f64 * g.risk_weight_ring,
        claims: own,
        detail: json!({"rings": rings.iter().map(|r| r.id).collect::<Vec<_>>()}),
    })
}

/// The distinct certificates of the claims with an issue date, as (certificate, issue date,
/// first claim citing it), sorted by date then claim.
fn dated_certificates(inst: &Institution) -> Vec<(u32, crate::dates::Date, u32)> {
    let snap = inst.snap;
    let mut certs: Vec<(u32, crate::dates::Date, u32)> = inst
        .claims
        .iter()
        .filter_map(|&c| {
            let cl = &snap.claims[c as usize];
            let cert = snap.certificate(cl.cert)?;
            Some((cl.cert, cert.issue_date.get()?, c))
        })
        .collect();
    certs.sort_unstable_by_key(|x| (x.0, x.2));
    certs.dedup_by_key(|x| x.0);
    certs.sort_unstable_by_key(|x| (x.1, x.2));
    certs
}

/// Bursts as (first, last) positions in `certs` (sorted by date): greedily from the earliest,
/// at least `burst_min_certs` certificates issued within `burst_days` days, not overlapping.
fn bursts_of(
    certs: &[(u32, crate::dates::Date, u32)],
    burst_days: u32,
    burst_min_certs: u32,
) -> Vec<(usize, usize)> {
    let mut bursts: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < certs.len() {
        let mut j = i;
        while j + 1 < certs.len() && certs[j + 1].1 .0 - certs[i].1 .0 < burst_days as i32 {
            j += 1;
        }
        if (j - i + 1) as u32 >= burst_min_certs {
            bursts.push((i, j));
            i = j + 1;
        } else {
            i += 1;
        }
    }
    bursts
}

/// `cert_burst`: bursts of certificates of the institution's trainees.
fn cert_burst_term(inst: &Institution) -> Option<Evidence> {
    let g = &inst.policy.graph;
    let certs = dated_certificates(inst);
    let bursts = bursts_of(&certs, g.burst_days, g.burst_min_certs);
    if bursts.is_empty() {
        return None;
    }
    let mut bc: Vec<u32> = bursts
        .iter()
        .flat_map(|&(a, b)| certs[a..=b].iter().map(|x| x.2))
        .collect();
    bc.sort_unstable();
    let windows: Vec<String> = bursts
        .iter()
        .map(|&(a, b)| format!("{}~{} {}本", certs[a].1, certs[b].1, b - a + 1))
        .collect();
    let windows_en: Vec<String> = bursts
        .iter()
        .map(|&(a, b)| format!("{}..{} {} certificates", certs[a].1, certs[b].1, b - a + 1))
        .collect();
    Some(Evidence {
        code: "cert_burst",
        zh: format!(
            "学员证书集中发放{}次（{}；标准为{}天内不少于{}本）",
            bursts.len(),
            windows.join("、"),
            g.burst_days,
            g.burst_min_certs
        ),
        en: format!(
            "{} bursts of certificates ({}; a burst is at least {} within {} days)",
            bursts.len(),
            windows_en.join(", "),
            g.burst_min_certs,
            g.burst_days
        ),
        value: bursts.len() as f64,
        weight: g.risk_weight_burst,
        points: bursts.len() as f64 * g.risk_weight_burst,
        claims: bc,
        detail: json!({"bursts": bursts.iter().map(|&(a, b)| json!({
            "from": certs[a].1.to_string(), "to": certs[b].1.to_string(), "certificates": b - a + 1
        })).collect::<Vec<_>>()}),
    })
}

/// `unusual_occupation`: claims outside the institution's usual occupations.
fn unusual_occupation_term(inst: &Institution) -> Option<Evidence> {
    let (snap, claims, g) = (inst.snap, inst.claims, &inst.policy.graph);
    let n = claims.len();
    if (n as u32) < g.unusual_occupation_min_claims {
        return None;
    }
    let mut per_occ: BTreeMap<u32, u64> = BTreeMap::new();
    for &c in claims {
        let o = snap.claims[c as usize].occupation;
        if o != 0 {
            *per_occ.entry(o).or_default() += 1;
        }
    }
    let unusual_occ: Vec<u32> = per_occ
        .iter()
        .filter(|&(_, &k)| k * 100 < n as u64 * g.unusual_occupation_max_percent as u64)
        .map(|(&o, _)| o)
        .collect();
    let unusual: Vec<u32> = claims
        .iter()
        .copied()
        .filter(|&c| {
            unusual_occ
                .binary_search(&snap.claims[c as usize].occupation)
                .is_ok()
        })
        .collect();
    if unusual.is_empty() {
        return None;
    }
    let pct = unusual.len() as f64 * 100.0 / n as f64;
    let mut occ_codes: Vec<&str> = unusual_occ
        .iter()
        .map(|&o| snap.occupations.resolve(o))
        .collect();
    occ_codes.sort();
    Some(Evidence {
        code: "unusual_occupation",
        zh: format!(
            "{}条申领（{}%）属于本机构不常见的职业（{}；各占不足{}%）",
            unusual.len(),
            fmt_num(pct),
            occ_codes.join("、"),
            g.unusual_occupation_max_percent
        ),
        en: format!(
            "{} claims ({}%) in occupations unusual for the institution ({}; each under {}%)",
            unusual.len(),
            fmt_num(pct),
            occ_codes.join(", "),
            g.unusual_occupation_max_percent
        ),
        value: pct,
        weight: g.risk_weight_unusual_share,
        points: pct * g.risk_weight_unusual_share,
        claims: unusual,
        detail: json!({"occupations": occ_codes}),
    })
}

/// `bunching`: the declared employment rates of the institution's projects (declared employed,
/// declared trainees, class) bunch just above the threshold.
fn bunching_term(
    inst: &Institution,
    projects: &[(i64, i64, u32)],
    by_class: &DenseGroups,
) -> Option<Evidence> {
    if projects.is_empty() {
        return None;
    }
    let (snap, policy) = (inst.snap, inst.policy);
    let g = &policy.graph;
    let rates: Vec<(i64, i64)> = projects.iter().map(|&(e, t, _)| (e, t)).collect();
    let t = policy.project.min_employment_rate_percent;
    let b = bunching(
        &rates,
        t,
        g.bunching_window_percent,
        g.bunching_min_projects,
        g.bunching_min_z,
    );
    if b.above + b.below == 0 {
        return None;
    }
    let mut above_claims: Vec<u32> = b
        .above_items
        .iter()
        .flat_map(|&i| by_class.members(projects[i].2).iter().copied())
        .collect();
    above_claims.sort_unstable();
    let classes: Vec<&str> = b
        .above_items
        .iter()
        .map(|&i| snap.class_keys.resolve(projects[i].2))
        .collect();
    let verdict_zh = if b.significant {
        "存在堆积"
    } else {
        "未见显著堆积"
    };
    let verdict_en = if b.significant {
        "bunching"
    } else {
        "no significant bunching"
    };
    Some(Evidence {
        code: "bunching",
        zh: format!(
            "项目制申报就业率在[{t}%,{}%)有{}个、在[{}%,{t}%)有{}个，z={:.2}（标准z≥{}且不少于{}个项目）：{verdict_zh}；阈值之上的班级：{}",
            t + g.bunching_window_percent,
            b.above,
            t.saturating_sub(g.bunching_window_percent),
            b.below,
            b.z,
            fmt_num(g.bunching_min_z),
            g.bunching_min_projects,
            classes.join("、")
        ),
        en: format!(
            "declared project employment rates: {} in [{t}%, {}%), {} in [{}%, {t}%), z = {:.2} (threshold z ≥ {} with at least {} projects): {verdict_en}; classes above: {}",
            b.above,
            t + g.bunching_window_percent,
            b.below,
            t.saturating_sub(g.bunching_window_percent),
            b.z,
            fmt_num(g.bunching_min_z),
            g.bunching_min_projects,
            classes.join(", ")
        ),
        value: b.significant as u8 as f64,
        weight: g.risk_weight_bunching,
        points: if b.significant { g.risk_weight_bunching } else { 0.0 },
        claims: above_claims,
        detail: serde_json::to_value(&b).unwrap_or_default(),
    })
}

/// `benford`: the institution's varying amounts (claim and living-allowance amounts).
fn benford_term(inst: &Institution) -> Option<Evidence> {
    let (snap, g) = (inst.snap, &inst.policy.graph);
    let t = benford(
        inst.claims.iter().flat_map(|&c| {
            let c = &snap.claims[c as usize];
            [c.amount, c.living_amount]
        }),
        g.benford_mad_close,
        g.benford_mad_acceptable,
        g.benford_mad_nonconformity,
    )
    .filter(|t| {
        t.n >= g.benford_min_amounts as u64 && t.distinct >= g.benford_min_distinct as u64
    })?;
    let bad = t.conformity == Conformity::Nonconformity;
    Some(Evidence {
        code: "benford",
        zh: format!(
            "本机构{}个金额（申领金额及生活费金额，{}个不同值）首位数字MAD={:.4}，{}（尼格里尼标准：>{}为不符合）",
            t.n,
            t.distinct,
            t.mad,
            t.conformity.zh(),
            g.benford_mad_nonconformity
        ),
        en: format!(
            "{} amounts of the institution (claim and living-allowance amounts, {} distinct): first-digit MAD = {:.4}, {} (Nigrini: nonconformity above {})",
            t.n,
            t.distinct,
            t.mad,
            t.conformity.code(),
            g.benford_mad_nonconformity
        ),
        value: bad as u8 as f64,
        weight: g.risk_weight_benford,
        points: if bad { g.risk_weight_benford } else { 0.0 },
        claims: Vec::new(),
        detail: serde_json::to_value(&t).unwrap_or_default(),
    })
}
