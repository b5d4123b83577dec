//! `claimsweep graph [--db FILE] [--rules DIR] rings|institutions|cross-county|staged|
//! neighbourhood NODE [--depth K] [--format dot|json|text] [-o FILE] [--lang zh|en] [--unmask]`: the
//! entity graph of the stored ledger, computed afresh from the database (the graph is
//! deterministic, so it is what the latest sweep saw if the ledger has not changed since).
//! Institution risk uses the flags of the latest sweep, if any.

use super::sweep::Lang;
use crate::graph::NodeKind;
use crate::graph::{self, GraphFindings, Subgraph};
use crate::model::fen_to_yuan;
use crate::output::{Table, TableFormat};
use crate::rules::Flag;
use crate::snapshot::Snapshot;
use crate::store::open_existing;
use crate::sweep::load_policies;
use anyhow::Context;
use serde_json::json;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    claimsweep graph rings --db audit.db\n  \
    claimsweep graph institutions --top 10\n  \
    claimsweep graph neighbourhood 临沂市兰山区某职业培训学校 --depth 1\n  \
    claimsweep graph neighbourhood phone:13800000000 --format dot -o n.dot")]
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
    /// Graphviz DOT (neighbourhood only)
    Dot,
    /// JSON with every field (never masked)
    Json,
    /// Aligned text for a terminal (masked unless --unmask)
    #[value(alias = "table")]
    Text,
    /// Tab-separated table (masked unless --unmask)
    Tsv,
    /// CSV table (masked unless --unmask)
    Csv,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Rings: persons tied by shared phones, bank accounts, legal representatives across
    /// institutions or counties (团伙)
    #[command(after_help = "Examples:\n  \
        claimsweep graph rings --db audit.db\n  \
        claimsweep graph rings --format csv -o rings.csv")]
    Rings,
    /// Institutions ranked by risk, with the evidence of each score (机构风险排名)
    #[command(after_help = "Example:\n  claimsweep graph institutions --top 10")]
    Institutions {
        /// Show only the first N institutions
        #[arg(long)]
        top: Option<usize>,
    },
    /// Persons claiming in several counties in one year, with their path (跨县区申领)
    #[command(after_help = "Example:\n  claimsweep graph cross-county --lang en")]
    CrossCounty,
    /// Employers that "hire" a project class for the employment check (突击就业单位)
    #[command(after_help = "Example:\n  claimsweep graph staged --format json")]
    Staged,
    /// A node's neighbourhood: NODE is `kind:value` (person, phone, bank_account, org, class,
    /// certificate, county, name), a bare ID number, phone, account, code …, or an
    /// institution's name (or a unique part of it)
    #[command(
        alias = "neighborhood",
        after_help = "Examples:\n  \
            claimsweep graph neighbourhood 371302199001011234\n  \
            claimsweep graph neighbourhood 兰山区某职业培训学校 --depth 1\n  \
            claimsweep graph neighbourhood org:JG001 --format dot -o jg001.dot"
    )]
    Neighbourhood {
        /// The node: kind:value, a bare value, or an institution's name
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
            let n = match g.find(node) {
                Some(n) => n,
                None => institution_by_name(&g, &snap, node)?,
            };
            let sub = g.neighbourhood_limited(n, *depth, *max_nodes);
            match args.format {
                Format::Dot => sub.to_dot(),
                Format::Json => serde_json::to_string_pretty(&sub.to_json())?,
                Format::Text | Format::Tsv | Format::Csv => {
                    neighbourhood_text(&sub, args.lang == Lang::En)
                }
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
            let table = match args.format {
                Format::Tsv => TableFormat::Tsv,
                Format::Csv => TableFormat::Csv,
                _ => TableFormat::Table,
            };
            match what {
                What::Rings => rings(&f, json, en, table),
                What::Institutions { top } => institutions(&f, *top, json, en, table),
                What::CrossCounty => cross_county(&f, json, en, table),
                What::Staged => staged(&f, json, en, table),
                What::Neighbourhood { .. } => unreachable!("handled above"),
            }
        }
    };
    // Text is for people: identifiers masked unless --unmask (on a terminal, after its escapes
    // are removed, so that an escape inside a number cannot hide it from the masker).
    let for_people = matches!(args.format, Format::Text | Format::Tsv | Format::Csv);
    let out = match (&args.output, for_people) {
        (None, true) => super::cases::masked_text(&out, args.unmask),
        (Some(_), true) if !args.unmask => crate::report::mask::mask_tokens(&out).into_owned(),
        _ => out,
    };
    match &args.output {
        Some(p) => crate::output::write_output(p, &args.db, |tmp| {
            std::fs::write(tmp, &out).map_err(anyhow::Error::from)
        })
        .with_context(|| format!("{}: 无法写入 / cannot write", p.display()))?,
        None => super::out(&out)?,
    }
    Ok(())
}

/// The institution whose name is `text` (exactly, else the one whose name contains it): a
/// name shared by several is an error listing them with their codes.
fn institution_by_name(
    g: &graph::EntityGraph,
    snap: &Snapshot,
    text: &str,
) -> anyhow::Result<petgraph::graph::NodeIndex> {
    let text = text.trim();
    let text = text.strip_prefix("org:").unwrap_or(text).trim();
    let named: Vec<(petgraph::graph::NodeIndex, String)> = snap
        .institutions
        .iter()
        .map(|i| {
            (
                g.node(NodeKind::Org, i.org),
                snap.texts.resolve(i.name).to_string(),
            )
        })
        .filter(|(_, name)| !name.is_empty())
        .collect();
    let exact: Vec<_> = named.iter().filter(|(_, n)| n == text).collect();
    let part: Vec<_> = named
        .iter()
        .filter(|(_, n)| !text.is_empty() && n.contains(text))
        .collect();
    let mut found = if exact.is_empty() { part } else { exact };
    found.sort_by_key(|(n, _)| g.value(*n).to_string());
    match found.as_slice() {
        [(n, _)] => Ok(*n),
        [] => anyhow::bail!("{text}: 图中没有该节点，也没有此名称的机构 / no such node in the graph, and no institution of that name"),
        many => {
            let listed: Vec<String> = many
                .iter()
                .take(12)
                .map(|(n, name)| format!("{} {name}", g.value(*n)))
                .collect();
            let more = many.len().saturating_sub(12);
            anyhow::bail!(
                "{text}: 多个机构名称相符，请用机构代码 / several institutions match, use the code: {}{}",
                listed.join(", "),
                if more > 0 { format!(" … (+{more})") } else { String::new() }
            )
        }
    }
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
            match (*snap.claim_id(mid)).cmp(id) {
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

fn rings(f: &GraphFindings, json: bool, en: bool, table: TableFormat) -> String {
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
                "explanation_zh": f.ring_explanation_zh(r),
                "explanation_en": f.ring_explanation_en(r),
            }))
            .collect::<Vec<_>>()));
    }
    let pick = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut t = Table::new(&[
        (pick("团伙", "ring"), "ring_id", true),
        (pick("团伙分", "score"), "score", true),
        (pick("人数", "persons"), "persons", true),
        (pick("机构", "institutions"), "institutions", true),
        (pick("县区", "counties"), "counties", true),
        (pick("申领", "claims"), "claims", true),
        (pick("金额(元)", "amount (yuan)"), "amount", true),
        (pick("说明", "why"), "explanation", false),
    ]);
    for r in &f.rings {
        t.push(vec![
            format!("#{}", r.id),
            format!("{:.2}", r.score),
            r.persons.len().to_string(),
            r.institutions.len().to_string(),
            r.counties.len().to_string(),
            r.claims.len().to_string(),
            amount_text(r.amount, table),
            if en {
                f.ring_explanation_en(r)
            } else {
                f.ring_explanation_zh(r)
            },
        ]);
    }
    titled(pick("团伙", "rings"), f.rings.len(), None, &t, table)
}

/// Amounts grouped for people, plain for programs.
fn amount_text(fen: i64, table: TableFormat) -> String {
    if table == TableFormat::Table {
        crate::model::fen_to_yuan_grouped(fen)
    } else {
        fen_to_yuan(fen)
    }
}

/// A table with its title line (`团伙：12`) for a terminal; the bare table for programs.
fn titled(title: &str, n: usize, of: Option<usize>, t: &Table, table: TableFormat) -> String {
    if table != TableFormat::Table {
        return t.render(table);
    }
    let count = match of {
        Some(total) => format!("{n} / {total}"),
        None => n.to_string(),
    };
    format!("{title}: {count}\n{}", t.render(table))
}

fn institutions(
    f: &GraphFindings,
    top: Option<usize>,
    json: bool,
    en: bool,
    table: TableFormat,
) -> String {
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
    let pick = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut t = Table::new(&[
        (pick("名次", "rank"), "rank", true),
        (pick("风险分", "risk score"), "score", true),
        (pick("机构代码", "institution"), "institution_id", false),
        (pick("名称", "name"), "name", false),
        (pick("申领", "claims"), "claims", true),
        (pick("被标记", "flagged"), "flagged_claims", true),
        (
            pick("风险金额(元)", "at risk (yuan)"),
            "amount_at_risk",
            true,
        ),
    ]);
    for r in list {
        t.push(vec![
            r.rank.to_string(),
            format!("{:.2}", r.score),
            r.code.clone(),
            r.name.clone(),
            r.claims.to_string(),
            r.flagged_claims.to_string(),
            amount_text(r.amount_at_risk, table),
        ]);
    }
    let mut s = titled(
        pick("机构风险排名", "institution risk"),
        list.len(),
        Some(f.institution_risk.len()),
        &t,
        table,
    );
    if table != TableFormat::Table {
        return s;
    }
    // How each score is made: points = value × weight, per term.
    s.push_str(pick(
        "\n风险分构成（分值 = 数值 × 权重）\n",
        "\nHow each score is made (points = value × weight)\n",
    ));
    for r in list {
        s.push_str(&format!("  {} {} {}\n", r.rank, r.code, r.name));
        for e in &r.evidence {
            s.push_str(&format!(
                "    {:>7.2} = {} × {}  {}\n",
                e.points,
                crate::graph::rings::fmt_num(e.value),
                crate::graph::rings::fmt_num(e.weight),
                if en { &e.en } else { &e.zh }
            ));
        }
    }
    s
}

fn cross_county(f: &GraphFindings, json: bool, en: bool, table: TableFormat) -> String {
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
    let pick = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut t = Table::new(&[
        (pick("身份证号", "ID number"), "id_number", false),
        (pick("年度", "year"), "year", true),
        (pick("县区数", "counties"), "counties", true),
        (pick("路径", "path"), "path", false),
        (pick("说明", "why"), "explanation", false),
    ]);
    for c in &f.cross_county {
        t.push(vec![
            f.person_id(c.person).to_string(),
            c.year.to_string(),
            c.counties.to_string(),
            if en {
                f.path_text(c)
            } else {
                // County names read better than codes; a code the reference data lacks stays.
                c.stop_claims()
                    .map(|(p, _)| {
                        let code = f.county(p.county);
                        crate::cases::query::county_name(code)
                            .unwrap_or(code)
                            .to_string()
                    })
                    .collect::<Vec<_>>()
                    .join(" → ")
            },
            f.cross_county_explanation(c, en),
        ]);
    }
    titled(
        pick("跨县区申领人员", "cross-county persons"),
        f.cross_county.len(),
        None,
        &t,
        table,
    )
}

fn staged(f: &GraphFindings, json: bool, en: bool, table: TableFormat) -> String {
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
    let pick = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut t = Table::new(&[
        (pick("单位代码", "employer"), "employer_id", false),
        (pick("班级", "classes"), "classes", true),
        (pick("申领", "claims"), "claims", true),
        (pick("金额(元)", "amount (yuan)"), "amount", true),
        (pick("说明", "why"), "explanation", false),
    ]);
    for e in &f.staged_employers {
        t.push(vec![
            e.code.clone(),
            e.classes.len().to_string(),
            e.claims.len().to_string(),
            amount_text(e.amount, table),
            if en {
                &e.explanation_en
            } else {
                &e.explanation_zh
            }
            .clone(),
        ]);
    }
    titled(
        pick("突击就业单位", "staged employers"),
        f.staged_employers.len(),
        None,
        &t,
        table,
    )
}

fn neighbourhood_text(sub: &Subgraph, en: bool) -> String {
    let kind = |k: NodeKind| if en { k.code() } else { k.zh() };
    let mut s = if en {
        format!(
            "neighbourhood of {} (depth {}, {} nodes, {} edges{})\n",
            sub.nodes[0].key,
            sub.depth,
            sub.nodes.len(),
            sub.edges.len(),
            if sub.truncated { ", truncated" } else { "" }
        )
    } else {
        format!(
            "{} 的邻域（深度 {}，节点 {} 个，边 {} 条{}）\n",
            sub.nodes[0].key,
            sub.depth,
            sub.nodes.len(),
            sub.edges.len(),
            if sub.truncated { "，已截断" } else { "" }
        )
    };
    for n in &sub.nodes {
        s.push_str(&format!("  [{}] {} {}\n", n.depth, kind(n.kind), n.label));
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
            if en { e.kind.code() } else { e.kind.zh() },
            sub.nodes[e.to].key
        ));
    }
    s
}
