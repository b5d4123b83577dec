//! Entity graph benchmarks: graph build and ring detection (criterion, 100,000 claims), and a
//! one-shot measurement at scale with peak memory:
//!
//! ```text
//! cargo bench --bench graph                                  # criterion
//! GRAPH_BENCH_CLAIMS=10000000 cargo bench --bench graph      # one run: seconds, peak RSS
//! ```
//!
//! The ledger is synthetic and built straight into a snapshot: persons with one to three
//! claims at 40 institutions in 12 counties, own phones and accounts, families of two and
//! three sharing a phone (one per 50 persons), and a ring of five persons per 5,000 persons
//! sharing a phone across institutions and counties.

use claimsweep::dates::Date;
use claimsweep::graph;
use claimsweep::model::{ClaimRow, SubsidyType};
use claimsweep::policy::PolicySet;
use claimsweep::snapshot::{Snapshot, SnapshotBuilder};
use criterion::Criterion;
use std::time::Instant;

const COUNTIES: [&str; 12] = [
    "371302", "371311", "371312", "371321", "371322", "371323", "371324", "371325", "371326",
    "371327", "371328", "371329",
];

/// (snapshot, injected rings)
fn synthetic(n_claims: usize) -> (Snapshot, usize) {
    let mut b = SnapshotBuilder::new();
    b.table_present("claims");
    let base = Date::from_ymd(2020, 1, 1).unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut claims, mut person, mut rings) = (0usize, 0u64, 0usize);
    let mut row = ClaimRow {
        subsidy_type: Some(SubsidyType::LevelCert),
        level: Some(5),
        ..Default::default()
    };
    while claims < n_claims {
        person += 1;
        let p = person;
        let r = rnd();
        // Phone: own, a family's (every 50th person and the next one or two), or a ring's.
        let (phone, ring_member) = if p % 5000 < 5 {
            (format!("ring{}", p / 5000), true)
        } else if p % 50 < 2 || (p % 250 == 2) {
            (format!("fam{}", p / 50), false)
        } else {
            (format!("1{p:010}"), false)
        };
        if ring_member && p % 5000 == 1 {
            rings += 1;
        }
        let k = 1 + (r % 3) as usize;
        for j in 0..k.min(n_claims - claims) {
            claims += 1;
            row.claim_id = format!("C{claims:09}");
            row.id_number = format!("3713021990{p:08}");
            row.name = format!("N{}", p % 100_000);
            row.phone = phone.clone();
            row.bank_account = format!("6222{p:012}");
            let (inst, county) = if ring_member {
                ((p % 5000) as usize, (p % 5000) as usize)
            } else if phone.starts_with("fam") {
                ((p / 50) as usize % 40, (p / 50) as usize % 12)
            } else {
                (((r >> 8) as usize + j) % 40, (r >> 16) as usize % 12)
            };
            row.institution_id = format!("ORG{inst:03}");
            row.county_code = COUNTIES[county % 12].to_string();
            row.class_id = format!("CL{inst:03}-{}", (r >> 24) % 200);
            row.occupation_code = format!("4-01-0{}", (r >> 32) % 7);
            row.cert_no = format!("CERT{claims:09}");
            row.amount = 100_000 + ((r >> 40) % 3) as i64 * 20_000;
            row.claim_date = Date(base.0 + ((r >> 44) % 360) as i32);
            b.add_claim(&row);
        }
    }
    (b.finish(), rings)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn at_scale(n: usize) {
    let t = Instant::now();
    let (snap, injected) = synthetic(n);
    let snap_s = t.elapsed().as_secs_f64();
    let snap_rss = peak_rss_mib();
    let policies = PolicySet::embedded_default();
    // The sweep's path: findings straight from the snapshot, no graph built.
    let t = Instant::now();
    let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
    let f = graph::analyse(&snap, &resolved, &[], &policies);
    let analyse_s = t.elapsed().as_secs_f64();
    let analyse_rss = peak_rss_mib();
    // The petgraph, as `claimsweep graph neighbourhood` builds it.
    let t = Instant::now();
    let g = graph::build(&snap);
    let build_s = t.elapsed().as_secs_f64();
    assert_eq!((g.node_count(), g.edge_count()), (f.nodes, f.edges));
    println!(
        "claims {n}: snapshot {snap_s:.1} s (peak {snap_rss:.0} MiB); analyse {analyse_s:.2} s (peak {analyse_rss:.0} MiB), {} nodes, {} edges counted; rings {} (injected {injected}), cross-county {}, institutions {}; petgraph build {build_s:.2} s, {} claim refs (peak {:.0} MiB)",
        f.nodes,
        f.edges,
        f.rings.len(),
        f.cross_county.len(),
        f.institution_risk.len(),
        g.claim_ref_count(),
        peak_rss_mib(),
    );
}

fn main() {
    if let Some(n) = std::env::var("GRAPH_BENCH_CLAIMS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        at_scale(n);
        return;
    }
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let (snap, _) = synthetic(100_000);
    let policies = PolicySet::embedded_default();
    c.bench_function("graph build 100k claims", |b| {
        b.iter(|| graph::build(&snap).edge_count())
    });
    c.bench_function("graph analyse 100k claims", |b| {
        b.iter(|| {
            let resolved = claimsweep::resolve::Resolved::new(&snap, &policies);
            graph::analyse(&snap, &resolved, &[], &policies).rings.len()
        })
    });
    c.final_summary();
}
