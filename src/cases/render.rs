//! Terminal text of the cases commands, Chinese by default, English on request. Plain text
//! with aligned fields: readable in any terminal and when piped into a file.

use super::query::rule_label;
use super::query::{
    CaseDetail, CaseRow, DiffEntry, HistoryEntry, RegistryEvidence, SweepDiff, SweepRow,
};
use super::{family_label, subject_kind_label, Lang, Status};
use crate::model::{fen_to_yuan, fen_to_yuan_grouped};
use crate::money::CaseTotals;
use crate::output::{Table, TableFormat};
use crate::store::history::ClaimChange;
use crate::text::display_width;
use std::fmt::Write;

fn status_label(code: &str, lang: Lang) -> String {
    Status::parse(code).map_or_else(|| code.to_string(), |s| s.label(lang).to_string())
}

fn opt(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

/// A county for people: its name (`兰山区`) in Chinese, its code in English or when the
/// reference data lacks it.
pub fn county_text(code: &str, lang: Lang) -> String {
    match (lang, super::query::county_name(code)) {
        (Lang::Zh, Some(name)) => name.to_string(),
        _ => opt(code).to_string(),
    }
}

/// A case's subject for people: its kind and value; a contact's stored `phone:…` or
/// `bank_account:…` is given its label (`电话 …`, `账号 …`).
pub fn subject_text(kind: &str, subject: &str, lang: Lang) -> String {
    let value = match subject.split_once(':') {
        Some((via @ ("phone" | "bank_account"), v)) if kind == "contact" => {
            let via = match (via, lang) {
                ("phone", Lang::Zh) => "电话",
                (_, Lang::Zh) => "账号",
                ("phone", Lang::En) => "phone",
                (_, Lang::En) => "bank account",
            };
            format!("{via} {v}")
        }
        _ => subject.to_string(),
    };
    format!("{} {value}", subject_kind_label(kind, lang))
}

/// A case's rules for people: their titles, in the case's order.
pub fn rules_text(rules: &[String], lang: Lang) -> String {
    rules
        .iter()
        .map(|r| rule_label(r, lang))
        .collect::<Vec<_>>()
        .join(lang.pick("、", ", "))
}

/// A case's rules in a terminal row: the first title and how many rules in all, so a row fits
/// the screen (`cases show` and the other formats list them all).
fn rules_short(rules: &[String], lang: Lang) -> String {
    const SHOWN: usize = 1;
    if rules.len() <= SHOWN {
        return rules_text(rules, lang);
    }
    let head = rules_text(&rules[..SHOWN], lang);
    let more = rules.len() - SHOWN;
    match lang {
        Lang::Zh => format!("{head} 等{}条", rules.len()),
        Lang::En => format!("{head} +{more}"),
    }
}

/// The cases as a table. `wide` adds the columns a program wants and a terminal has no room
/// for (institution, case key).
pub fn case_table(rows: &[CaseRow], lang: Lang, wide: bool) -> Table {
    let mut cols: Vec<(&str, &'static str, bool)> = vec![
        (lang.pick("编号", "id"), "case_id", true),
        (lang.pick("状态", "status"), "status", false),
        (lang.pick("变化", "change"), "change", false),
        (lang.pick("评分", "score"), "score", true),
        (
            lang.pick("涉及金额(元)", "at risk (yuan)"),
            "amount_at_risk",
            true,
        ),
        (lang.pick("申领", "claims"), "claims", true),
        (lang.pick("对象", "subject"), "subject", false),
    ];
    // The family is in the rules' titles; a terminal row has no room for both.
    if wide {
        cols.push((lang.pick("类别", "family"), "family", false));
    }
    cols.push((lang.pick("县区", "county"), "county", false));
    if wide {
        cols.push((lang.pick("机构", "institution"), "institution_id", false));
    }
    cols.push((lang.pick("规则", "rules"), "rules", false));
    cols.push((lang.pick("承办人", "assignee"), "assignee", false));
    if wide {
        cols.push((lang.pick("案件键", "key"), "case_key", false));
    }
    let mut t = Table::new(&cols);
    for r in rows {
        let mut row = vec![
            r.case_id.to_string(),
            r.status.label(lang).to_string(),
            r.change.label(lang).to_string(),
            format!("{:.2}", r.score),
            if wide {
                fen_to_yuan(r.amount_at_risk_fen)
            } else {
                fen_to_yuan_grouped(r.amount_at_risk_fen)
            },
            r.claims.to_string(),
            subject_text(&r.subject_kind, &r.subject, lang),
        ];
        if wide {
            row.push(family_label(&r.rule_family, lang));
        }
        row.push(county_text(&r.county_code, lang));
        if wide {
            row.push(r.institution_id.clone());
        }
        row.push(if wide {
            rules_text(&r.rules, lang)
        } else {
            rules_short(&r.rules, lang)
        });
        // "-" marks an empty cell for people; a program gets the empty cell.
        row.push(if wide {
            r.assignee.clone()
        } else {
            opt(&r.assignee).to_string()
        });
        if wide {
            row.push(r.case_key.clone());
        }
        t.push(row);
    }
    t
}

/// `cases list`: an aligned table of the cases, then their count and money. `whole`: the
/// sweep's reconciled case totals when the rows are every case of the sweep.
pub fn case_list(rows: &[CaseRow], lang: Lang, whole: Option<&CaseTotals>) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(lang.pick("没有符合条件的案件。\n", "No case matches.\n"));
        return out;
    }
    out.push_str(&case_table(rows, lang, false).render(TableFormat::Table));
    let total: i64 = rows.iter().map(|r| r.amount_at_risk_fen).sum();
    let y = fen_to_yuan;
    let _ = writeln!(
        out,
        "{}",
        match (lang, whole) {
            (Lang::Zh, Some(m)) if m.cases_sum_fen == total => {
                format!("共 {} 件，{}", rows.len(), m.reconciliation(lang))
            }
            (Lang::En, Some(m)) if m.cases_sum_fen == total => {
                format!("{} cases, {}", rows.len(), m.reconciliation(lang))
            }
            (Lang::Zh, _) => format!(
                "共 {} 件，案件金额合计 {} 元（同一申领在多件案件中各计一次）",
                rows.len(),
                y(total)
            ),
            (Lang::En, _) => format!(
                "{} cases, cases' sum {} yuan (a claim in several cases counts in each)",
                rows.len(),
                y(total)
            ),
        }
    );
    out
}

/// How much of a case `cases show` prints.
#[derive(Clone, Debug)]
pub struct ShowOptions {
    /// Most items of each evidence list (flags, claims, a flag's claim ids, members,
    /// neighbours); None shows everything.
    pub limit: Option<usize>,
    /// The name of the case's institution, when the ledger has one.
    pub institution_name: Option<String>,
}

/// Evidence items shown per list unless `--limit` says otherwise: a page of a terminal.
pub const DEFAULT_SHOW_LIMIT: usize = 20;

impl Default for ShowOptions {
    fn default() -> Self {
        ShowOptions {
            limit: Some(DEFAULT_SHOW_LIMIT),
            institution_name: None,
        }
    }
}

impl ShowOptions {
    /// How many of `n` items to show.
    fn shown(&self, n: usize) -> usize {
        self.limit.map_or(n, |l| l.min(n))
    }
}

/// The line under a cut list: how many more and how to see them.
fn more_line(
    out: &mut String,
    indent: &str,
    more: usize,
    what_zh: &str,
    what_en: &str,
    lang: Lang,
) {
    if more == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "{indent}{}",
        match lang {
            Lang::Zh => format!("……另有 {more} {what_zh}未显示（--limit 0 或 --all 显示全部）"),
            Lang::En => format!("… {more} more {what_en} not shown (--limit 0 or --all shows all)"),
        }
    );
}

/// `cases show` with the default page of evidence.
pub fn case_detail(d: &CaseDetail, lang: Lang) -> String {
    case_detail_with(d, lang, &ShowOptions::default())
}

/// `cases show`: the summary, the case's fields, its sweeps, flags, claims, registry rows,
/// neighbours, graph findings and history; long evidence lists are cut at `opts.limit`.
pub fn case_detail_with(d: &CaseDetail, lang: Lang, opts: &ShowOptions) -> String {
    let mut out = String::new();
    summary_part(&mut out, d, lang, opts);
    case_fields(&mut out, &d.case, lang, opts);
    sweeps_part(&mut out, d, lang);
    flags_part(&mut out, d, lang, opts);
    claims_part(&mut out, d, lang, opts);
    registry_part(&mut out, d, lang, opts);
    names_part(&mut out, d, lang, opts);
    neighbours_part(&mut out, d, lang, opts);
    graph_part(&mut out, d, lang, opts);
    let _ = writeln!(out, "\n{}", lang.pick("处理记录", "History"));
    out.push_str(&history(&d.history, lang));
    out
}

/// A member kind of a ring for people.
fn member_kind(kind: &str, lang: Lang) -> &str {
    match (kind, lang) {
        ("person", Lang::Zh) => "人员",
        ("institution", Lang::Zh) => "机构",
        ("phone", Lang::Zh) => "电话",
        ("bank_account", Lang::Zh) => "账号",
        ("county", Lang::Zh) => "县区",
        ("employer", Lang::Zh) => "就业单位",
        ("legal_rep", Lang::Zh) => "法定代表人",
        ("bank_account", Lang::En) => "bank account",
        (k, _) => k,
    }
}

/// The case in a few lines, before its evidence: what it is, who, how much and why. Ring and
/// institution cases gather hundreds of claims; this is what an inspector reads first.
fn summary_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    let c = &d.case;
    let _ = writeln!(
        out,
        "{} {}  {}  [{}]",
        lang.pick("案件", "Case"),
        c.case_id,
        subject_text(&c.subject_kind, &c.subject, lang),
        family_label(&c.rule_family, lang)
    );
    let kind = c.subject_kind.as_str();
    // A person's or class's case reads well from its fields and flags; a ring or an
    // institution gathers hundreds of claims, so it starts with what it is and why.
    if kind != "ring" && kind != "institution" {
        return;
    }
    let name = opts.institution_name.as_deref().unwrap_or("");
    let line = |out: &mut String, k_zh: &str, k_en: &str, v: &str| {
        let label = lang.pick(k_zh, k_en);
        let pad = " ".repeat(14usize.saturating_sub(display_width(label)));
        let _ = writeln!(out, "  {label}{pad}{v}");
    };
    if !name.is_empty() {
        line(
            out,
            "机构名称",
            "institution",
            &format!("{name}（{}）", opt(&c.institution_id)),
        );
    }
    if kind == "ring" {
        if let Some(ring) = d.graph.iter().find(|g| g.kind == "ring") {
            let mut counts: Vec<(String, usize)> = Vec::new();
            for (k, _) in &ring.members {
                match counts.iter_mut().find(|(x, _)| x == k) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((k.clone(), 1)),
                }
            }
            let members = counts
                .iter()
                .map(|(k, n)| format!("{} {n}", member_kind(k, lang)))
                .collect::<Vec<_>>()
                .join(lang.pick("，", ", "));
            line(out, "成员", "members", &members);
        }
    }
    line(
        out,
        "涉及金额",
        "at risk",
        &format!(
            "{} {}{}{} {}",
            fen_to_yuan_grouped(c.amount_at_risk_fen),
            lang.pick("元", "yuan"),
            lang.pick("，", ", "),
            c.claims,
            lang.pick("笔申领", "claims")
        ),
    );
    // Why: a graph case's own finding, else its first flag.
    let why = match kind {
        "ring" => d
            .graph
            .iter()
            .find(|g| g.kind == "ring")
            .map(|g| lang.pick(&g.explanation_zh, &g.explanation_en)),
        "institution" => d
            .graph
            .iter()
            .find(|g| g.kind == "institution_risk")
            .map(|g| lang.pick(&g.explanation_zh, &g.explanation_en)),
        _ => None,
    }
    .or_else(|| {
        d.flags
            .first()
            .map(|f| lang.pick(&f.explanation_zh, &f.explanation_en))
    });
    if let Some(why) = why {
        line(out, "原因", "why", why);
    }
}

/// The case's fields, one aligned line each.
fn case_fields(out: &mut String, c: &CaseRow, lang: Lang, opts: &ShowOptions) {
    let line = |out: &mut String, k_zh: &str, k_en: &str, v: String| {
        let label = lang.pick(k_zh, k_en);
        let pad = " ".repeat(14usize.saturating_sub(display_width(label)));
        let _ = writeln!(out, "  {label}{pad}{v}");
    };
    line(out, "状态", "status", c.status.label(lang).to_string());
    line(out, "承办人", "assignee", opt(&c.assignee).to_string());
    line(out, "评分", "score", format!("{:.2}", c.score));
    line(
        out,
        "涉及金额",
        "at risk",
        format!(
            "{} {}",
            fen_to_yuan_grouped(c.amount_at_risk_fen),
            lang.pick("元", "yuan")
        ),
    );
    line(out, "申领笔数", "claims", c.claims.to_string());
    line(out, "规则", "rules", rules_text(&c.rules, lang));
    let county = match (lang, super::query::county_name(&c.county_code)) {
        (Lang::Zh, Some(n)) => format!("{n}（{}）", c.county_code),
        _ => opt(&c.county_code).to_string(),
    };
    line(out, "县区", "county", county);
    let inst = match opts.institution_name.as_deref() {
        Some(n) if !n.is_empty() => format!("{}  {n}", opt(&c.institution_id)),
        _ => opt(&c.institution_id).to_string(),
    };
    line(out, "机构", "institution", inst);
    line(out, "案件键", "key", c.case_key.clone());
}

/// What changed in a case, as stored with its sweep; in Chinese the rule ids it names
/// (`新增规则 deceased`) are given their titles (`新增规则 死亡后申领`).
fn reason_text(zh: &str, en: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return en.to_string();
    }
    zh.split('，')
        .map(|part| {
            for lead in ["新增规则 ", "不再触发规则 "] {
                if let Some(ids) = part.strip_prefix(lead) {
                    let titles: Vec<String> =
                        ids.split('、').map(|id| rule_label(id, lang)).collect();
                    return format!("{lead}{}", titles.join("、"));
                }
            }
            part.to_string()
        })
        .collect::<Vec<_>>()
        .join("，")
}

/// The case in each sweep that saw it.
fn sweeps_part(out: &mut String, d: &CaseDetail, lang: Lang) {
    let _ = writeln!(out, "\n{}", lang.pick("各次筛查", "Sweeps"));
    for s in &d.sweeps {
        let reason = reason_text(&s.reason_zh, &s.reason_en, lang);
        let _ = writeln!(
            out,
            "  #{}  {}  {} {}  {} {}  {}",
            s.sweep_id,
            s.change.label(lang),
            fen_to_yuan_grouped(s.amount_at_risk_fen),
            lang.pick("元", "yuan"),
            s.claims,
            lang.pick("笔", "claims"),
            reason
        );
    }
}

/// The flags of the case with their claims.
fn flags_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    let _ = writeln!(out, "\n{} ({})", lang.pick("疑点", "Flags"), d.flags.len());
    let shown = opts.shown(d.flags.len());
    for f in &d.flags[..shown] {
        let _ = writeln!(
            out,
            "  [{}|{}] {}  {} {}",
            rule_label(&f.rule, lang),
            severity_label(&f.severity, lang),
            lang.pick(&f.explanation_zh, &f.explanation_en),
            fen_to_yuan_grouped(f.amount_at_risk_fen),
            lang.pick("元", "yuan")
        );
        let ids = opts.shown(f.claim_ids.len());
        let more = f.claim_ids.len() - ids;
        let tail = match (more, lang) {
            (0, _) => String::new(),
            (n, Lang::Zh) => format!(" 等，另 {n} 笔"),
            (n, Lang::En) => format!(" and {n} more"),
        };
        let _ = writeln!(
            out,
            "      {}: {}{tail}",
            lang.pick("申领", "claims"),
            f.claim_ids[..ids].join(", ")
        );
    }
    more_line(out, "  ", d.flags.len() - shown, "条疑点", "flags", lang);
}

/// A flag's severity for people (`高`, or `high` in English).
fn severity_label(code: &str, lang: Lang) -> String {
    let zh = match code {
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        other => other,
    };
    lang.pick(zh, code).to_string()
}

/// The claims of the case, two lines each.
fn claims_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    let _ = writeln!(
        out,
        "\n{} ({})",
        lang.pick("申领记录", "Claims"),
        d.claims.len()
    );
    let shown = opts.shown(d.claims.len());
    for cl in &d.claims[..shown] {
        if !cl.found {
            let c = &cl.claim;
            let _ = writeln!(
                out,
                "  {}  {}",
                c.claim_id,
                lang.pick("（台账中已无此申领）", "(no longer in the ledger)")
            );
            continue;
        }
        let c = &cl.claim;
        let _ = writeln!(
            out,
            "  {}  {}  {} {}  {}  {} {}",
            c.claim_id,
            c.claim_date,
            c.name,
            c.id_number,
            subsidy_text(&c.subsidy_type, lang),
            fen_to_yuan_grouped(c.amount_fen),
            lang.pick("元", "yuan"),
        );
        let _ = writeln!(
            out,
            "      {} {}  {} {}  {} {}  {} {}{}  {} {}  {} {}  {} {}  {} {}",
            lang.pick("机构", "inst"),
            opt(&c.institution_id),
            lang.pick("班级", "class"),
            opt(&c.class_id),
            lang.pick("县区", "county"),
            opt(&c.county_code),
            lang.pick("职业", "occupation"),
            opt(&c.occupation_code),
            level_text(c.level, lang),
            lang.pick("证书", "cert"),
            opt(&c.cert_no),
            lang.pick("电话", "phone"),
            opt(&c.phone),
            lang.pick("账号", "bank"),
            opt(&c.bank_account),
            lang.pick("生活费", "living"),
            fen_to_yuan_grouped(c.living_amount_fen),
        );
        if let Some(change) = cl.since {
            let _ = writeln!(out, "      {}", since_note(change, lang));
        }
    }
    more_line(out, "  ", d.claims.len() - shown, "笔申领", "claims", lang);
}

/// A stored subsidy type for people (`专项能力`, or the code in English).
fn subsidy_text(code: &str, lang: Lang) -> String {
    match (lang, crate::model::SubsidyType::parse(code)) {
        (Lang::Zh, Some(t)) => t.zh().to_string(),
        _ => opt(code).to_string(),
    }
}

/// A claim's level after its occupation (`/五级`, `/L5`).
fn level_text(level: Option<i64>, lang: Lang) -> String {
    match (level, lang) {
        (Some(l), Lang::Zh) if (1..=5).contains(&l) => {
            format!("/{}", crate::model::level::zh(l as u8))
        }
        (Some(l), _) => format!("/L{l}"),
        (None, _) => String::new(),
    }
}

/// What a later ingest did to a claim whose judged record the page shows.
pub fn since_note(change: ClaimChange, lang: Lang) -> String {
    match change {
        ClaimChange::Changed { ingest_id } => match lang {
            Lang::Zh => format!("注意：第 {ingest_id} 次导入已变更此申领，以上为筛查时的记录"),
            Lang::En => format!(
                "note: ingest {ingest_id} changed this claim; the record above is the one judged"
            ),
        },
        ClaimChange::Absent { ingest_id } => match lang {
            Lang::Zh => format!("注意：第 {ingest_id} 次导入的台账中已无此申领，以上为筛查时的记录"),
            Lang::En => format!(
                "note: the ledger of ingest {ingest_id} no longer has this claim; the record above is the one judged"
            ),
        },
    }
}

/// What the registers hold on each person of the case, one line per person.
fn registry_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    let _ = writeln!(out, "\n{}", lang.pick("登记信息", "Registry rows"));
    let shown = opts.shown(d.registry.len());
    for r in &d.registry[..shown] {
        let _ = writeln!(
            out,
            "  {}  {}",
            r.id_number,
            registry_facts(r, lang).join("；")
        );
    }
    more_line(
        out,
        "  ",
        d.registry.len() - shown,
        "人的登记信息",
        "persons' rows",
        lang,
    );
}

/// Why spellings of a name are one name or not, field by field.
fn names_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    if d.names.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", lang.pick("姓名比对", "Names compared"));
    let shown = opts.shown(d.names.len());
    for n in &d.names[..shown] {
        let head = n.heading(lang);
        let _ = writeln!(out, "  {head}");
        for line in n.explained.lines(lang == Lang::En) {
            let _ = writeln!(out, "    {line}");
        }
    }
    more_line(
        out,
        "  ",
        d.names.len() - shown,
        "组姓名比对",
        "name comparisons",
        lang,
    );
}

/// One person's register facts ("no registry row" when there are none).
fn registry_facts(r: &RegistryEvidence, lang: Lang) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(dd) = &r.death_date {
        facts.push(format!("{} {dd}", lang.pick("死亡注销", "died")));
    }
    if let Some(p) = &r.pension_start {
        facts.push(format!(
            "{} {p}",
            lang.pick("领取养老金自", "pension since")
        ));
    }
    for (months, as_of) in &r.ui {
        facts.push(match lang {
            Lang::Zh => format!("失业保险累计缴费 {months} 个月（截至 {}）", opt(as_of)),
            Lang::En => format!("UI contributions {months} months (as of {})", opt(as_of)),
        });
    }
    if r.poverty {
        facts.push(lang.pick("建档立卡贫困人口", "registered poor").to_string());
    }
    for (inst, role) in &r.staff_of {
        facts.push(format!(
            "{} {inst} {}",
            lang.pick("机构人员", "staff of"),
            opt(role)
        ));
    }
    for inst in &r.legal_rep_of {
        facts.push(format!(
            "{} {inst}",
            lang.pick("法定代表人", "legal representative of")
        ));
    }
    if facts.is_empty() {
        facts.push(lang.pick("无登记记录", "no registry row").to_string());
    }
    facts
}

/// Persons sharing a phone or account with the case's claims.
fn neighbours_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    if d.neighbours.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{} ({})",
        lang.pick(
            "关联人员（共用电话或账号）",
            "Linked persons (shared phone or account)"
        ),
        d.neighbours.len()
    );
    let shown = opts.shown(d.neighbours.len());
    for n in &d.neighbours[..shown] {
        let via = match (n.via.as_str(), lang) {
            ("phone", Lang::Zh) => "电话",
            ("bank_account", Lang::Zh) => "账号",
            ("bank_account", Lang::En) => "bank",
            (v, _) => v,
        };
        let _ = writeln!(
            out,
            "  {via} {}  →  {} {}  {} {}",
            n.value,
            n.name,
            n.id_number,
            n.claims,
            lang.pick("笔申领", "claims")
        );
    }
    more_line(
        out,
        "  ",
        d.neighbours.len() - shown,
        "名关联人员",
        "linked persons",
        lang,
    );
}

/// Rings and institution risk around the case.
fn graph_part(out: &mut String, d: &CaseDetail, lang: Lang, opts: &ShowOptions) {
    if d.graph.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", lang.pick("关联网络", "Graph"));
    let shown_graph = opts.shown(d.graph.len());
    for g in &d.graph[..shown_graph] {
        let label = match (g.kind.as_str(), lang) {
            ("ring", Lang::Zh) => format!("团伙 #{}", g.id),
            ("ring", Lang::En) => format!("ring #{}", g.id),
            (_, Lang::Zh) => "机构风险".to_string(),
            (_, Lang::En) => "institution risk".to_string(),
        };
        // A ring's and an institution's scores are their own measures, never the case's 评分.
        let score = match (g.kind.as_str(), lang) {
            ("ring", Lang::Zh) => "团伙分",
            ("ring", Lang::En) => "ring score",
            (_, Lang::Zh) => "风险分",
            (_, Lang::En) => "risk score",
        };
        let _ = writeln!(
            out,
            "  {label}  {score} {:.2}  {}",
            g.score,
            lang.pick(&g.explanation_zh, &g.explanation_en)
        );
        if !g.members.is_empty() {
            let shown = opts.shown(g.members.len());
            let members: Vec<String> = g.members[..shown]
                .iter()
                .map(|(k, v)| format!("{} {v}", member_kind(k, lang)))
                .collect();
            let _ = writeln!(out, "      {}", members.join(lang.pick("，", ", ")));
            more_line(
                out,
                "      ",
                g.members.len() - shown,
                "个成员",
                "members",
                lang,
            );
        }
    }
    more_line(
        out,
        "  ",
        d.graph.len() - shown_graph,
        "项关联发现",
        "graph findings",
        lang,
    );
}

/// `cases history`: one line per action, oldest first.
pub fn history(entries: &[HistoryEntry], lang: Lang) -> String {
    let mut out = String::new();
    for h in entries {
        let action = match (h.action.as_str(), lang) {
            (a, Lang::En) => a.replace('_', " "),
            ("created", _) => "发现".into(),
            ("assign", _) => "指派".into(),
            ("start_review", _) => "开始复核".into(),
            ("review", _) => "复核结论".into(),
            ("reopen", _) => "重新打开".into(),
            ("keep_dismissed", _) => "保持排除".into(),
            ("resolved", _) => "未再发现".into(),
            ("reappeared", _) => "再次发现".into(),
            ("evidence_changed", _) => "证据变化".into(),
            ("take", _) => "领取".into(),
            ("propose_confirm", _) => "提请确认".into(),
            ("approve", _) => "审批通过".into(),
            ("return", _) => "退回".into(),
            ("comment", _) => "备注".into(),
            ("correction", _) => "更正".into(),
            ("snooze", _) => "暂缓".into(),
            ("unmask", _) => "查看完整信息".into(),
            (a, _) => a.to_string(),
        };
        let transition = match (&h.from_status, &h.to_status) {
            (Some(f), Some(t)) if f != t => {
                format!("{} → {}", status_label(f, lang), status_label(t, lang))
            }
            (_, Some(t)) => status_label(t, lang),
            _ => String::new(),
        };
        let sweep = h
            .sweep_id
            .map(|s| format!(" [{}#{s}]", lang.pick("筛查", "sweep ")))
            .unwrap_or_default();
        // What the system wrote is stored in both languages (`中文 / English`); an
        // inspector's review note is shown as written.
        let note = match h.note.split_once(" / ") {
            Some((zh, en)) if h.action != "review" => lang.pick(zh, en),
            _ => h.note.as_str(),
        };
        let actor = match (h.actor.as_str(), lang) {
            ("system", Lang::Zh) => "系统",
            (a, _) => a,
        };
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}{}  {}",
            crate::dates::display_time(&h.at, false),
            actor,
            action,
            transition,
            sweep,
            note
        );
    }
    out
}

fn diff_line(out: &mut String, e: &DiffEntry, lang: Lang, with_reason: bool) {
    let _ = write!(
        out,
        "  {}  {}  [{}]  {}  {} → {} {}  {} → {} {}",
        e.case_id,
        subject_text(&e.subject_kind, &e.subject, lang),
        family_label(&e.rule_family, lang),
        e.status.label(lang),
        e.claims_a,
        e.claims_b,
        lang.pick("笔", "claims"),
        fen_to_yuan_grouped(e.amount_a_fen),
        fen_to_yuan_grouped(e.amount_b_fen),
        lang.pick("元", "yuan"),
    );
    if with_reason {
        let _ = write!(out, "  {}", reason_text(&e.reason_zh, &e.reason_en, lang));
    }
    out.push('\n');
}

/// `sweeps diff`: new, persisting and resolved cases. Persisting cases whose evidence did not
/// change are only counted unless `all`: after a monthly sweep they are most of the list.
pub fn sweep_diff(d: &SweepDiff, lang: Lang, all: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        match lang {
            Lang::Zh => format!(
                "筛查 #{} → #{}：新发现 {} 件，持续 {} 件（其中证据增加 {} 件），已消失 {} 件",
                d.a,
                d.b,
                d.new.len(),
                d.persisting.len(),
                d.grown().count(),
                d.resolved.len()
            ),
            Lang::En => format!(
                "sweep #{} → #{}: {} new, {} persisting ({} with more evidence), {} resolved",
                d.a,
                d.b,
                d.new.len(),
                d.persisting.len(),
                d.grown().count(),
                d.resolved.len()
            ),
        }
    );
    let _ = writeln!(out, "\n{} ({})", lang.pick("新发现", "New"), d.new.len());
    for e in &d.new {
        diff_line(&mut out, e, lang, false);
    }
    let _ = writeln!(
        out,
        "\n{} ({})",
        lang.pick("持续存在", "Persisting"),
        d.persisting.len()
    );
    let mut unchanged = 0;
    for e in &d.persisting {
        let changed = e.added_claims > 0
            || e.removed_claims > 0
            || !e.new_rules.is_empty()
            || e.amount_a_fen != e.amount_b_fen;
        if changed || all {
            diff_line(&mut out, e, lang, true);
        } else {
            unchanged += 1;
        }
    }
    if unchanged > 0 {
        let _ = writeln!(
            out,
            "  {}",
            match lang {
                Lang::Zh => format!("另有 {unchanged} 件证据未变（--all 列出）"),
                Lang::En => format!("{unchanged} more with unchanged evidence (--all lists them)"),
            }
        );
    }
    let _ = writeln!(
        out,
        "\n{} ({})",
        lang.pick("已消失", "Resolved"),
        d.resolved.len()
    );
    for e in &d.resolved {
        diff_line(&mut out, e, lang, false);
    }
    out
}

/// The sweeps as a table: start time in display time (Beijing unless `CLAIMSWEEP_TZ_OFFSET`).
pub fn sweep_table(rows: &[SweepRow], lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("筛查", "sweep"), "sweep_id", true),
        (lang.pick("开始时间", "started"), "started_at", false),
        (lang.pick("结束时间", "finished"), "finished_at", false),
        (lang.pick("申领数", "claims"), "claims", true),
        (lang.pick("疑点数", "flags"), "flags", true),
        (lang.pick("案件", "cases"), "cases", true),
        (lang.pick("新发现", "new"), "new", true),
        (lang.pick("持续", "persisting"), "persisting", true),
        (lang.pick("重新打开", "reopened"), "reopened", true),
        (lang.pick("已消失", "resolved"), "resolved", true),
        (
            lang.pick("涉及金额(元)", "at risk (yuan)"),
            "amount_at_risk",
            true,
        ),
    ]);
    for r in rows {
        let mut row = vec![
            r.sweep_id.to_string(),
            crate::dates::display_time(&r.started_at, false),
            // A sweep that stopped before its end (out of disk, killed) has no cases; its flags
            // and findings stay until `gc`. It must not read as a finished one.
            match &r.finished_at {
                Some(t) => crate::dates::display_time(t, false),
                None => lang
                    .pick(
                        "未完成（进行中或已中断）",
                        "not finished (running, or stopped)",
                    )
                    .to_string(),
            },
            r.claims.to_string(),
            r.flags.to_string(),
        ];
        match &r.cases {
            Some(c) => row.extend([
                c.cases.to_string(),
                c.new.to_string(),
                c.persisting.to_string(),
                c.reopened.to_string(),
                c.resolved.to_string(),
                fen_to_yuan_grouped(c.amount_at_risk_fen),
            ]),
            None => row.push(lang.pick("（未生成案件）", "(no cases built)").to_string()),
        }
        t.push(row);
    }
    t
}

/// `sweeps list`.
pub fn sweep_list(rows: &[SweepRow], lang: Lang) -> String {
    if rows.is_empty() {
        return lang
            .pick("还没有筛查记录。\n", "No sweep yet.\n")
            .to_string();
    }
    sweep_table(rows, lang).render(TableFormat::Table)
}

/// Claims listed in a case list without appearing in any case: those no policy covers, each
/// with its dates (the first fifty; `export no-policy` has them all). Empty when there are none.
pub fn not_judged(claims: &[crate::store::flags::NotJudged], lang: Lang) -> String {
    use std::fmt::Write;
    const SHOWN: usize = 50;
    if claims.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n{}",
        lang.pick(
            &format!(
                "另有 {} 条申领未判定：没有政策文件覆盖其培训日期（全部清单：claimsweep export no-policy）",
                claims.len()
            ),
            &format!(
                "{} more claims were not judged: no policy file covers their training date (all of them: claimsweep export no-policy)",
                claims.len()
            ),
        )
    );
    out.push_str(&not_judged_items(
        &claims[..claims.len().min(SHOWN)],
        claims.len(),
        lang,
    ));
    out
}

/// One line per claim no policy covers (`shown`, the first of `total`), then how many more:
/// the list the sweep summary and `cases list` both print.
pub fn not_judged_items(
    shown: &[crate::store::flags::NotJudged],
    total: usize,
    lang: Lang,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for n in shown {
        let _ = writeln!(
            out,
            "  {}",
            lang.pick(
                &format!(
                    "申领 {}：培训日期 {}，申领日期 {}",
                    n.claim_id, n.training_date, n.claim_date
                ),
                &format!(
                    "claim {}: training {}, claimed {}",
                    n.claim_id, n.training_date, n.claim_date
                ),
            )
        );
    }
    if total > shown.len() {
        let more = total - shown.len();
        let _ = writeln!(
            out,
            "  {}",
            lang.pick(&format!("……另{more}条"), &format!("… and {more} more"))
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_codes_are_shown_with_their_labels() {
        assert_eq!(
            reason_text("新增申领 2 笔，新增规则 deceased、over_cap", "", Lang::Zh),
            "新增申领 2 笔，新增规则 死亡后申领、超过每人每年补贴次数"
        );
        assert_eq!(reason_text("x", "2 more claims", Lang::En), "2 more claims");
        assert_eq!(
            subject_text("contact", "phone:13800000000", Lang::Zh),
            "联系方式 电话 13800000000"
        );
        assert_eq!(
            subject_text("contact", "bank_account:6222", Lang::En),
            "contact bank account 6222"
        );
        assert_eq!(subject_text("person", "P1", Lang::Zh), "人员 P1");
        assert_eq!(rules_short(&["deceased".into()], Lang::Zh), "死亡后申领");
        assert_eq!(
            rules_short(
                &["deceased".into(), "ring".into(), "pensioner".into()],
                Lang::Zh
            ),
            "死亡后申领 等3条"
        );
        assert_eq!(severity_label("high", Lang::Zh), "高");
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("status"), 6);
        assert_eq!(display_width("状态"), 4);
        assert_eq!(display_width("涉及金额 ９"), 11);
    }
}
