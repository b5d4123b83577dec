//! `claimsweep graph [--db FILE] [--rules DIR] rings|institutions|cross-county|staged|
//! neighbourhood NODE [--depth K] [--format dot|json|text] [-o FILE] [--lang zh|en] [--unmask]`: the
//! entity graph of the stored ledger, computed afresh from the database (the graph is
//! deterministic, so it is what the latest sweep saw if the ledger has not changed since).
//! Institution risk uses the flags of the latest sweep, if any.

use super::sweep::Lang;
use crate::graph::{self, GraphFindings, Subgraph};
use crate::model::fen_to_yuan;
use crate::rules::Flag;
use crate::snapshot::Snapshot;
use crate::store::open_existing;
use crate::sweep::load_policies;
use anyhow::Context;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Database file
    #[arg(long, default_value = "claimsweep.db", global = true)]
    pub db: PathBuf,
    /// Policy folder (or one .toml file); default: ./rules if it exists, else the built-in policy
    #[arg(long, global = true)]
    pub rules: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub format: Format,
    /// Output file (default: standard output)
    #[arg(short = 'o', long = "output", global = true)]
    pub output: Option<PathBuf>,
    /// Language of explanations
    #[arg(long, value_enum, default_value = "zh", global = true)]
    pub lang: Lang,
    /// Show ID numbers, phones and bank accounts in full in `--format text` output (for
    /// entitled staff only). Text output masks every identifier-like digit run by default;
    /// `--format json` and `dot` are for scripts and are never masked.
    #[arg(long, global = true)]
    pub unmask: bool,
    #[command(subcommand)]
    pub what: What,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Dot,
    Json,
    Text,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Rings: persons tied by shared phones, bank accounts, legal representatives across
    /// institutions or counties (团伙)
    Rings,
    /// Institutions ranked by risk, with the evidence of each score (机构风险排名)
    Institutions {
        /// Show only the first N institutions
        #[arg(long)]
        top: Option<usize>,
    },
    /// Persons claiming in several counties in one year, with their path (跨县区申领)
    CrossCounty,
    /// Employers that "hire" a project class for the employment check (突击就业单位)
    Staged,
    /// A node's neighbourhood: NODE is `kind:value` (person, phone, bank_account, org, class,
    /// certificate, county, name) or a bare ID number, phone, account, code …
    #[command(alias = "neighborhood")]
    Neighbourhood {
        node: String,
        /// Edges away from the node
        #[arg(long, default_value_t = 2)]
        depth: u32,
        /// Keep at most this many nodes (nearest first)
        #[arg(long, default_value_t = 2000)]
        max_nodes: usize,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let conn = open_existing(&args.db)?;
    let policies = load_policies(args.rules.as_deref())?;
    let snap = crate::snapshot::load_snapshot(&conn)
        .with_context(|| format!("{}: 读取账本 / loading the ledger", args.db.display()))?;
    let out = match &args.what {
        What::Neighbourhood {
            node,
            depth,
            max_nodes,
        } => {
            let g = graph::build(&snap);
            let Some(n) = g.find(node) else {
                anyhow::bail!("{node}: 图中没有该节点 / no such node in the graph");
            };
            let sub = g.neighbourhood_limited(n, *depth, *max_nodes);
            match args.format {
                Format::Dot => sub.to_dot(),
                Format::Json => serde_json::to_string_pretty(&sub.to_json())?,
                Format::Text => neighbourhood_text(&sub),
            }
        }
        what => {
            if args.format == Format::Dot {
                anyhow::bail!(
                    "--format dot 仅用于 neighbourhood / --format dot is for neighbourhood only"
                );
            }
            let flags = match what {
                What::Institutions { .. } => latest_flags(&conn, &snap)?,
                _ => Vec::new(),
            };
            let resolved = crate::resolve::Resolved::new(&snap, &policies);
            let f = graph::analyse(&snap, &resolved, &flags, &policies);
            let json = args.format == Format::Json;
            let en = args.lang == Lang::En;
            match what {
                What::Rings => rings(&f, json, en),
                What::Institutions { top } => institutions(&f, *top, json, en),
                What::CrossCounty => cross_county(&f, json, en),
                What::Staged => staged(&f, json, en),
                What::Neighbourhood { .. } => unreachable!("handled above"),
            }
        }
    };
    // Text is for people: identifiers masked unless --unmask (on a terminal, after its escapes
    // are removed, so that an escape inside a number cannot hide it from the masker).
    let out = match (&args.output, args.format) {
        (None, Format::Text) => super::cases::masked_text(&out, args.unmask),
        (Some(_), Format::Text) if !args.unmask => {
            crate::report::mask::mask_tokens(&out).into_owned()
        }
        _ => out,
    };
    match &args.output {
        Some(p) => crate::output::write_output(p, &args.db, |tmp| {
            std::fs::write(tmp, &out).map_err(anyhow::Error::from)
        })
        .with_context(|| format!("{}: 无法写入 / cannot write", p.display()))?,
        None => std::io::stdout().write_all(out.as_bytes())?,
    }
    Ok(())
}

/// The flags of the latest sweep, as snapshot claim indices (claims are sorted by claim id, so
/// an id is found by binary search). Claims no longer in the ledger are left out.
fn latest_flags(conn: &rusqlite::Connection, snap: &Snapshot) -> anyhow::Result<Vec<Flag>> {
    use crate::store::flags as flag_store;
    let Some(sweep) = flag_store::latest_sweep_id(conn)? else {
        return Ok(Vec::new());
    };
    let n = snap.claims.len();
    let index_of = |id: &str| -> Option<u32> {
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match snap.claim_id(mid).cmp(id) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    };
    Ok(flag_store::load_flags(conn, sweep)?
        .into_iter()
        .map(|s| {
            let mut claims: Vec<u32> = s.claim_ids.iter().filter_map(|c| index_of(c)).collect();
            claims.sort_unstable();
            claims.dedup();
            Flag {
                rule: "stored",
                // Only the claims and amounts matter to the graph; the kind is kept as stored.
                subject_kind: crate::finding::FlagSubject::parse(&s.subject_kind)
                    .unwrap_or(crate::finding::FlagSubject::Claim),
                subject: s.subject,
                claims,
                amount_at_risk: s.amount_at_risk_fen,
                severity: crate::policy::Severity::Medium,
                explanation_zh: String::new(),
                explanation_en: String::new(),
            }
        })
        .collect())
}

fn pretty(v: serde_json::Value) -> String {
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn rings(f: &GraphFindings, json: bool, en: bool) -> String {
    if json {
        return pretty(json!(f
            .rings
            .iter()
            .map(|r| json!({
                "ring_id": r.id,
                "score": r.score,
                "terms": r.terms.iter().map(|t| json!({"term": t.code, "value": t.value, "weight": t.weight, "points": t.points})).collect::<Vec<_>>(),
                "persons": r.persons,
                "institutions": r.institutions,
                "counties": r.counties,
                "shared": r.shared.iter().map(|s| json!({
                    "kind": s.kind.code(), "value": s.value, "persons": s.persons,
                    "institutions": s.institutions, "family_like": s.family_like,
                    "claim_ids": f.claim_ids(&s.claims),
                })).collect::<Vec<_>>(),
                "claim_ids": f.claim_ids(&r.claims),
                "amount": fen_to_yuan(r.amount),
                "explanation_zh": r.explanation_zh,
                "explanation_en": r.explanation_en,
            }))
            .collect::<Vec<_>>()));
    }
    let mut s = format!("团伙 rings: {}\n", f.rings.len());
    s.push_str("序号 #  评分 score  人数 persons  机构 inst.  县区 counties  申领 claims  金额(元) amount\n");
    for r in &f.rings {
        s.push_str(&format!(
            "#{:<6} {:>10.2}  {:>12}  {:>11}  {:>14}  {:>11}  {:>15}\n",
            r.id,
            r.score,
            r.persons.len(),
            r.institutions.len(),
            r.counties.len(),
            r.claims.len(),
            fen_to_yuan(r.amount)
        ));
        s.push_str(&format!(
            "        {}\n",
            if en {
                &r.explanation_en
            } else {
                &r.explanation_zh
            }
        ));
    }
    s
}

fn institutions(f: &GraphFindings, top: Option<usize>, json: bool, en: bool) -> String {
    let list = &f.institution_risk[..top.unwrap_or(usize::MAX).min(f.institution_risk.len())];
    if json {
        return pretty(json!(list
            .iter()
            .map(|r| json!({
                "rank": r.rank,
                "institution_id": r.code,
                "name": r.name,
                "score": r.score,
                "claims": r.claims,
                "amount": fen_to_yuan(r.amount),
                "flagged_claims": r.flagged_claims,
                "amount_at_risk": fen_to_yuan(r.amount_at_risk),
                "rings": r.rings,
                "evidence": r.evidence.iter().map(|e| json!({
                    "term": e.code, "zh": e.zh, "en": e.en, "value": e.value, "weight": e.weight,
                    "points": e.points, "claim_ids": f.claim_ids(&e.claims), "detail": e.detail,
                })).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>()));
    }
    let mut s = format!(
        "机构风险排名 institution risk: {} / {}\n",
        list.len(),
        f.institution_risk.len()
    );
    s.push_str("名次 rank  评分 score  机构 institution  申领 claims  被标记 flagged  风险金额(元) at risk\n");
    for r in list {
        s.push_str(&format!(
            "{:>9}  {:>10.2}  {} {}  {:>11}  {:>14}  {:>20}\n",
            r.rank,
            r.score,
            r.code,
            r.name,
            r.claims,
            r.flagged_claims,
            fen_to_yuan(r.amount_at_risk)
        ));
        for e in &r.evidence {
            s.push_str(&format!(
                "           {:>7.2} = {} × {}  {}\n",
                e.points,
                crate::graph::rings::fmt_num(e.value),
                crate::graph::rings::fmt_num(e.weight),
                if en { &e.en } else { &e.zh }
            ));
        }
    }
    s
}

fn cross_county(f: &GraphFindings, json: bool, en: bool) -> String {
    if json {
        return pretty(json!(f
            .cross_county
            .iter()
            .map(|c| json!({
                "id_number": f.person_id(c.person),
                "year": c.year,
                "counties": c.counties,
                "path": c.stop_claims().map(|(p, claims)| json!({
                    "county": f.county(p.county), "from": p.first_date.to_string(), "to": p.last_date.to_string(),
                    "claim_ids": f.claim_ids(claims),
                })).collect::<Vec<_>>(),
                "claim_ids": f.claim_ids(c.claims()),
                "amount": fen_to_yuan(c.amount),
                "explanation_zh": f.cross_county_explanation(c, false),
                "explanation_en": f.cross_county_explanation(c, true),
            }))
            .collect::<Vec<_>>()));
    }
    let mut s = format!(
        "跨县区申领 cross-county persons: {}\n",
        f.cross_county.len()
    );
    s.push_str("身份证号 ID number      年度 year  县区数 counties  路径 path\n");
    for c in &f.cross_county {
        s.push_str(&format!(
            "{}  {}  {:>15}  {}\n",
            f.person_id(c.person),
            c.year,
            c.counties,
            f.path_text(c)
        ));
        s.push_str(&format!("        {}\n", f.cross_county_explanation(c, en)));
    }
    s
}

fn staged(f: &GraphFindings, json: bool, en: bool) -> String {
    if json {
        return pretty(json!(f
            .staged_employers
            .iter()
            .map(|e| json!({
                "employer_id": e.code,
                "classes": e.classes.iter().map(|c| json!({
                    "class_id": c.class_id, "institution_id": c.institution,
                    "check_date": c.check_date.to_string(), "trainees": c.trainees,
                    "employed_here": c.employed_here, "staged_here": c.staged_here,
                    "link_zh": c.link_zh, "link_en": c.link_en, "claim_ids": f.claim_ids(&c.claims),
                })).collect::<Vec<_>>(),
                "claim_ids": f.claim_ids(&e.claims),
                "amount": fen_to_yuan(e.amount),
                "explanation_zh": e.explanation_zh,
                "explanation_en": e.explanation_en,
            }))
            .collect::<Vec<_>>()));
    }
    let mut s = format!(
        "突击就业单位 staged employers: {}\n",
        f.staged_employers.len()
    );
    for e in &f.staged_employers {
        s.push_str(&format!(
            "{}  班级 classes {}  申领 claims {}  金额 {} 元\n        {}\n",
            e.code,
            e.classes.len(),
            e.claims.len(),
            fen_to_yuan(e.amount),
            if en {
                &e.explanation_en
            } else {
                &e.explanation_zh
            }
        ));
    }
    s
}

fn neighbourhood_text(sub: &Subgraph) -> String {
    let mut s = format!(
        "邻域 neighbourhood of {}（深度 depth {}，节点 nodes {}，边 edges {}{}）\n",
        sub.nodes[0].key,
        sub.depth,
        sub.nodes.len(),
        sub.edges.len(),
        if sub.truncated {
            "，已截断 truncated"
        } else {
            ""
        }
    );
    for n in &sub.nodes {
        s.push_str(&format!("  [{}] {} {}\n", n.depth, n.kind.zh(), n.label));
    }
    for e in &sub.edges {
        let evidence = if e.claims.is_empty() {
            format!("{}#{}", e.table, e.row.unwrap_or(0))
        } else {
            e.claims.join(";")
        };
        s.push_str(&format!(
            "  {} -{}-> {}  ({evidence})\n",
            sub.nodes[e.from].key,
            e.kind.zh(),
            sub.nodes[e.to].key
        ));
    }
    s
}
