//! Terminal text of the cases commands, Chinese by default, English on request. Plain text
//! with aligned fields: readable in any terminal and when piped into a file.

use super::query::{
    CaseDetail, CaseRow, DiffEntry, HistoryEntry, RegistryEvidence, SweepDiff, SweepRow,
};
use super::{family_label, subject_kind_label, Lang, Status};
use crate::model::fen_to_yuan;
use crate::money::CaseTotals;
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

/// `cases list`: one line per case. `whole`: the sweep's reconciled case totals when the rows
/// are every case of the sweep.
pub fn case_list(rows: &[CaseRow], lang: Lang, whole: Option<&CaseTotals>) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(lang.pick("没有符合条件的案件。\n", "No case matches.\n"));
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        lang.pick(
            "编号\t状态\t变化\t评分\t涉及金额(元)\t申领\t对象\t类别\t县区\t机构\t规则\t承办人",
            "id\tstatus\tchange\tscore\tat risk (yuan)\tclaims\tsubject\tfamily\tcounty\tinstitution\trules\tassignee"
        )
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{:.2}\t{}\t{}\t{} {}\t{}\t{}\t{}\t{}\t{}",
            r.case_id,
            r.status.label(lang),
            r.change.label(lang),
            r.score,
            fen_to_yuan(r.amount_at_risk_fen),
            r.claims,
            subject_kind_label(&r.subject_kind, lang),
            r.subject,
            family_label(&r.rule_family, lang),
            opt(&r.county_code),
            opt(&r.institution_id),
            r.rules.join(","),
            opt(&r.assignee)
        );
    }
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

/// `cases show`: the case, its sweeps, flags, claims, registry rows, neighbours and history.
pub fn case_detail(d: &CaseDetail, lang: Lang) -> String {
    let mut out = String::new();
    case_fields(&mut out, &d.case, lang);
    sweeps_part(&mut out, d, lang);
    flags_part(&mut out, d, lang);
    claims_part(&mut out, d, lang);
    registry_part(&mut out, d, lang);
    neighbours_part(&mut out, d, lang);
    graph_part(&mut out, d, lang);
    let _ = writeln!(out, "\n{}", lang.pick("处理记录", "History"));
    out.push_str(&history(&d.history, lang));
    out
}

/// The case's title line and its fields, one aligned line each.
fn case_fields(out: &mut String, c: &CaseRow, lang: Lang) {
    let _ = writeln!(
        out,
        "{} {}  {} {}  [{}]",
        lang.pick("案件", "Case"),
        c.case_id,
        subject_kind_label(&c.subject_kind, lang),
        c.subject,
        family_label(&c.rule_family, lang)
    );
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
            fen_to_yuan(c.amount_at_risk_fen),
            lang.pick("元", "yuan")
        ),
    );
    line(out, "申领笔数", "claims", c.claims.to_string());
    line(out, "规则", "rules", c.rules.join(", "));
    line(out, "县区", "county", opt(&c.county_code).to_string());
    line(
        out,
        "机构",
        "institution",
        opt(&c.institution_id).to_string(),
    );
    line(out, "案件键", "key", c.case_key.clone());
}

/// The case in each sweep that saw it.
fn sweeps_part(out: &mut String, d: &CaseDetail, lang: Lang) {
    let _ = writeln!(out, "\n{}", lang.pick("各次筛查", "Sweeps"));
    for s in &d.sweeps {
        let reason = lang.pick(&s.reason_zh, &s.reason_en);
        let _ = writeln!(
            out,
            "  #{}  {}  {} {}  {} {}  {}",
            s.sweep_id,
            s.change.label(lang),
            fen_to_yuan(s.amount_at_risk_fen),
            lang.pick("元", "yuan"),
            s.claims,
            lang.pick("笔", "claims"),
            reason
        );
    }
}

/// The flags of the case with their claims.
fn flags_part(out: &mut String, d: &CaseDetail, lang: Lang) {
    let _ = writeln!(out, "\n{} ({})", lang.pick("疑点", "Flags"), d.flags.len());
    for f in &d.flags {
        let _ = writeln!(
            out,
            "  [{}|{}] {}  {} {}",
            f.rule,
            f.severity,
            lang.pick(&f.explanation_zh, &f.explanation_en),
            fen_to_yuan(f.amount_at_risk_fen),
            lang.pick("元", "yuan")
        );
        let _ = writeln!(
            out,
            "      {}: {}",
            lang.pick("申领", "claims"),
            f.claim_ids.join(", ")
        );
    }
}

/// The claims of the case, two lines each.
fn claims_part(out: &mut String, d: &CaseDetail, lang: Lang) {
    let _ = writeln!(
        out,
        "\n{} ({})",
        lang.pick("申领记录", "Claims"),
        d.claims.len()
    );
    for cl in &d.claims {
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
            opt(&c.subsidy_type),
            fen_to_yuan(c.amount_fen),
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
            c.level.map(|l| format!("/L{l}")).unwrap_or_default(),
            lang.pick("证书", "cert"),
            opt(&c.cert_no),
            lang.pick("电话", "phone"),
            opt(&c.phone),
            lang.pick("账号", "bank"),
            opt(&c.bank_account),
            lang.pick("生活费", "living"),
            fen_to_yuan(c.living_amount_fen),
        );
        if let Some(change) = cl.since {
            let _ = writeln!(out, "      {}", since_note(change, lang));
        }
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
fn registry_part(out: &mut String, d: &CaseDetail, lang: Lang) {
    let _ = writeln!(out, "\n{}", lang.pick("登记信息", "Registry rows"));
    for r in &d.registry {
        let _ = writeln!(
            out,
            "  {}  {}",
            r.id_number,
            registry_facts(r, lang).join("；")
        );
    }
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
fn neighbours_part(out: &mut String, d: &CaseDetail, lang: Lang) {
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
    for n in &d.neighbours {
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
}

/// Rings and institution risk around the case.
fn graph_part(out: &mut String, d: &CaseDetail, lang: Lang) {
    if d.graph.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}", lang.pick("关联网络", "Graph"));
    for g in &d.graph {
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
            let members: Vec<String> = g.members.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let _ = writeln!(out, "      {}", members.join(", "));
        }
    }
}

/// `cases history`: one line per action, oldest first.
pub fn history(entries: &[HistoryEntry], lang: Lang) -> String {
    let mut out = String::new();
    for h in entries {
        let action = match (h.action.as_str(), lang) {
            (a, Lang::En) => a.to_string(),
            ("created", _) => "发现".into(),
            ("assign", _) => "指派".into(),
            ("start_review", _) => "开始复核".into(),
            ("review", _) => "复核结论".into(),
            ("reopen", _) => "重新打开".into(),
            ("keep_dismissed", _) => "保持排除".into(),
            ("resolved", _) => "未再发现".into(),
            ("reappeared", _) => "再次发现".into(),
            ("evidence_changed", _) => "证据变化".into(),
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
        let _ = writeln!(
            out,
            "  {}  {}  {}  {}{}  {}",
            h.at, h.actor, action, transition, sweep, h.note
        );
    }
    out
}

fn diff_line(out: &mut String, e: &DiffEntry, lang: Lang, with_reason: bool) {
    let _ = write!(
        out,
        "  {}  {} {}  [{}]  {}  {} → {} {}  {} → {} {}",
        e.case_id,
        subject_kind_label(&e.subject_kind, lang),
        e.subject,
        family_label(&e.rule_family, lang),
        e.status.label(lang),
        e.claims_a,
        e.claims_b,
        lang.pick("笔", "claims"),
        fen_to_yuan(e.amount_a_fen),
        fen_to_yuan(e.amount_b_fen),
        lang.pick("元", "yuan"),
    );
    if with_reason {
        let _ = write!(out, "  {}", lang.pick(&e.reason_zh, &e.reason_en));
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

/// `sweeps list`.
pub fn sweep_list(rows: &[SweepRow], lang: Lang) -> String {
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str(lang.pick("还没有筛查记录。\n", "No sweep yet.\n"));
        return out;
    }
    let _ = writeln!(
        out,
        "{}",
        lang.pick(
            "筛查\t开始时间\t申领数\t疑点数\t案件\t新发现\t持续\t重新打开\t已消失\t涉及金额(元)",
            "sweep\tstarted\tclaims\tflags\tcases\tnew\tpersisting\treopened\tresolved\tat risk (yuan)"
        )
    );
    for r in rows {
        match &r.cases {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.sweep_id,
                    r.started_at,
                    r.claims,
                    r.flags,
                    c.cases,
                    c.new,
                    c.persisting,
                    c.reopened,
                    c.resolved,
                    fen_to_yuan(c.amount_at_risk_fen)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    r.sweep_id,
                    r.started_at,
                    r.claims,
                    r.flags,
                    lang.pick("（未生成案件）", "(no cases built)")
                );
            }
        }
    }
    out
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
    use super::display_width;

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(display_width("status"), 6);
        assert_eq!(display_width("状态"), 4);
        assert_eq!(display_width("涉及金额 ９"), 11);
    }
}
