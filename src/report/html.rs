//! The report as one self-contained HTML file: inline CSS, inline SVG charts and ring
//! pictures, a small inline script for sorting and filtering tables, and a Content Security
//! Policy that forbids loading anything: the file works offline and leaks nothing when
//! opened. Every piece of data is HTML-escaped.

use super::data::{Breakdown, ReportData, ReportOptions, Ring, RingMember};
use super::labels::{rule_name, severity_name, L};
use super::tables::{self, member_kind_label, Cell, Sheet};
use crate::cases::{
    family_label, subject_kind_label, CaseDetail, CaseRow, ClaimEvidence, Lang, Status,
};
use crate::finding::CaseSubject;
use crate::model::{
    fen_to_wan, fen_to_yuan_grouped as yuan, group_thousands, level, Category, SubsidyType,
};
use std::collections::BTreeSet;
use std::fmt::Write;

/// Rows of a table shown in the HTML; the workbook has them all.
pub const HTML_MAX_ROWS: usize = 2000;
/// Identifiers of a list cell shown before it folds into a count that opens on demand.
const LIST_INLINE: usize = 6;
/// Identifiers a folded list cell holds at most (an institution's case may have thousands).
const LIST_MAX: usize = 1000;
/// Rows of each table inside a case's drill-down (an institution's case has every claim).
const DRILL_MAX_ROWS: usize = 100;
/// Ring pictures inside one ring case.
const RINGS_PER_CASE: usize = 5;
/// Ring references listed beside a ring case in "where to start".
const START_RING_REFS: usize = 12;
/// Bars in a chart.
const CHART_MAX_BARS: usize = 20;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
:root{--ink:#1d2733;--muted:#5b6b7c;--line:#d5dde6;--accent:#1f5f99;--bad:#b3261e;--warn:#b06f00;--ok:#2e7d32;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 "PingFang SC","Hiragino Sans GB","Microsoft YaHei","微软雅黑","Noto Sans CJK SC","Noto Sans SC","Source Han Sans SC","Source Han Sans CN","WenQuanYi Micro Hei","WenQuanYi Zen Hei",sans-serif;color:var(--ink);background:#fff;line-break:strict;overflow-wrap:break-word}
header{background:var(--accent);color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.9}
nav{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:6px 28px;z-index:2}
nav a{margin-right:14px;color:var(--accent);text-decoration:none;white-space:nowrap}
main{padding:0 28px 40px;max-width:1400px}
section{margin-top:28px}
h2{font-size:18px;border-left:4px solid var(--accent);padding-left:8px}
h3{font-size:15px;margin:18px 0 6px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:12px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 14px;background:var(--bg)}
.card .label{display:block;color:var(--muted);font-size:12px}
.card b{font-size:22px;font-variant-numeric:tabular-nums;white-space:nowrap}
.card .unit{margin-left:4px;color:var(--muted);font-size:13px;white-space:nowrap}
.card .exact{display:block;color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums;white-space:nowrap}
.start ol{margin:4px 0 12px;padding-left:24px}
.start li{margin:3px 0}
.start .amt{font-variant-numeric:tabular-nums;white-space:nowrap;font-weight:600}
.start .sub{color:var(--muted);font-size:12px}
.note{color:var(--muted);font-size:12px}
.nodata{color:var(--muted);font-style:italic;padding:8px 0}
.masknote{display:inline-block;margin-top:6px;padding:2px 8px;border-radius:3px;background:rgba(255,255,255,.18)}
.unmasked{background:var(--bad)}
.tablewrap{overflow-x:auto;max-height:640px;overflow-y:auto;border:1px solid var(--line)}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);position:sticky;top:0;cursor:pointer;white-space:nowrap}
th[data-dir=asc]::after{content:" \25B2"}
th[data-dir=desc]::after{content:" \25BC"}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.k{white-space:nowrap}
td.x{min-width:22em;word-break:normal}
details.ids>summary{cursor:pointer;color:var(--accent);white-space:nowrap}
details.ids>div{max-height:14em;overflow:auto;min-width:18em;font-size:12px}
input.filter{margin:6px 0;padding:4px 8px;width:280px;border:1px solid var(--line);border-radius:4px}
details.case{border:1px solid var(--line);border-radius:6px;margin:8px 0;padding:6px 10px}
details.case>summary{cursor:pointer;font-weight:600}
details.case[open]{background:#fcfdfe}
.sev-high{color:var(--bad);font-weight:600}
.sev-medium{color:var(--warn)}
.met{color:var(--ok)}
.notmet{color:var(--bad)}
svg text{font-family:inherit}
.rings{display:flex;flex-wrap:wrap;gap:16px}
.ring{border:1px solid var(--line);border-radius:6px;padding:8px;max-width:580px}
.legend span{margin-right:12px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px}
@media print{nav{display:none}.tablewrap{max-height:none;overflow:visible}details.case{break-inside:avoid}}
"#;

const SCRIPT: &str = r#"
(function(){
  function each(list, f){ Array.prototype.forEach.call(list, f); }
  each(document.querySelectorAll('table.data'), function(t){
    if(!t.tHead || !t.tBodies.length){ return; }
    var heads = t.tHead.rows[0].cells;
    each(heads, function(th, i){
      th.addEventListener('click', function(){
        var asc = th.getAttribute('data-dir') !== 'asc';
        each(heads, function(h){ h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', asc ? 'asc' : 'desc');
        var body = t.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(a, b){
          var x = a.cells[i], y = b.cells[i];
          var xv = x ? x.getAttribute('data-v') : null, yv = y ? y.getAttribute('data-v') : null;
          var c;
          if(xv !== null && yv !== null){ c = parseFloat(xv) - parseFloat(yv); }
          else { c = (x ? x.textContent : '').localeCompare(y ? y.textContent : ''); }
          return asc ? c : -c;
        });
        each(rows, function(r){ body.appendChild(r); });
      });
    });
  });
  each(document.querySelectorAll('input.filter'), function(inp){
    var t = document.getElementById(inp.getAttribute('data-table'));
    if(!t || !t.tBodies.length){ return; }
    inp.addEventListener('input', function(){
      var q = inp.value.toLowerCase();
      each(t.tBodies[0].rows, function(r){
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  function openHash(){
    var id = decodeURIComponent(location.hash.slice(1));
    var e = id ? document.getElementById(id) : null;
    if(e && e.tagName === 'DETAILS'){ e.open = true; }
  }
  window.addEventListener('hashchange', openHash);
  openHash();
  // Marks that the script ran to its end (the browser test checks it).
  document.documentElement.setAttribute('data-ready', '1');
})();
"#;

/// Writes the whole report.
pub fn write(
    w: &mut impl std::io::Write,
    d: &ReportData,
    opts: &ReportOptions,
) -> std::io::Result<()> {
    w.write_all(render(d, opts).as_bytes())
}

/// Where each ring can be linked to: its picture, else its first row in the rings table.
struct RingTargets {
    pictured: BTreeSet<i64>,
    in_table: BTreeSet<i64>,
}

impl RingTargets {
    fn of(d: &ReportData, opts: &ReportOptions) -> RingTargets {
        let rings = d.rings.as_deref().unwrap_or_default();
        let pictured: BTreeSet<i64> = rings
            .iter()
            .take(opts.ring_pictures)
            .map(|r| r.ring_id)
            .collect();
        let mut in_table = BTreeSet::new();
        let mut rows = 0;
        for r in rings {
            if rows >= HTML_MAX_ROWS {
                break;
            }
            in_table.insert(r.ring_id);
            rows += r.members.len();
        }
        RingTargets { pictured, in_table }
    }

    fn has(&self, ring: i64) -> bool {
        self.pictured.contains(&ring) || self.in_table.contains(&ring)
    }
}

/// Escaped text with every ring reference (`#12`) that has a target turned into a link.
fn ring_refs(text: &str, rings: &RingTargets) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(i) = rest.find('#') {
        out.push_str(&esc(&rest[..i]));
        let after = &rest[i + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        match after[..digits].parse::<i64>() {
            Ok(id) if rings.has(id) => {
                let _ = write!(out, "<a href=\"#ring-{id}\">#{id}</a>");
            }
            _ => {
                out.push('#');
                out.push_str(&after[..digits]);
            }
        }
        rest = &after[digits..];
    }
    out.push_str(&esc(rest));
    out
}

/// Renders the whole report.
pub fn render(d: &ReportData, opts: &ReportOptions) -> String {
    let lang = d.lang;
    let parts = tables::sheets(d);
    let rings = RingTargets::of(d, opts);
    let mut o = String::with_capacity(1 << 20);
    let title = L::Title.get(lang);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · {} {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        lang.pick("zh-CN", "en"),
        esc(title),
        esc(L::Sweep.get(lang)),
        d.sweep.sweep_id
    );
    let _ = writeln!(
        o,
        "<header><h1>{}</h1><p>{} {} · {} {} · {} {}</p><span class=\"masknote{}\">{}</span></header>",
        esc(title),
        esc(L::Sweep.get(lang)),
        d.sweep.sweep_id,
        esc(L::SweepFinished.get(lang)),
        esc(d.sweep.finished_at.as_deref().unwrap_or("-")),
        esc(L::Policy.get(lang)),
        esc(&d.sweep.policy),
        if d.masked { "" } else { " unmasked" },
        esc(if d.masked { L::Masked.get(lang) } else { L::Unmasked.get(lang) })
    );
    let _ = write!(
        o,
        "<nav><a href=\"#start\">{}</a>",
        esc(L::SecStart.get(lang))
    );
    for p in &parts {
        let _ = write!(o, "<a href=\"#{}\">{}</a>", p.id, esc(&p.title));
    }
    o.push_str("</nav>\n<main>\n");
    start_here(&mut o, d, &rings);

    let detailed: BTreeSet<i64> = d.case_details.iter().map(|c| c.case.case_id).collect();
    for p in &parts {
        let _ = writeln!(o, "<section id=\"{}\">\n<h2>{}</h2>", p.id, esc(&p.title));
        match p.id {
            "county" => bar_chart(&mut o, &d.by_county, lang),
            "rule" => bar_chart(&mut o, &d.by_rule, lang),
            "fund" => bar_chart(&mut o, &d.by_fund, lang),
            "institution" => bar_chart(&mut o, &d.by_institution, lang),
            "new" if d.new_since_last.is_some() && d.sweep.previous_sweep.is_none() => {
                let _ = write!(o, "<p class=\"note\">{}</p>", esc(L::FirstSweep.get(lang)));
            }
            "evidence" if p.available && p.total > p.rows.len() => {
                let _ = write!(
                    o,
                    "<p class=\"note\">{}</p>",
                    esc(L::EvidenceOfShown.get(lang))
                );
            }
            "progress" => progress_header(&mut o, d),
            _ => {}
        }
        if !p.available {
            let _ = writeln!(o, "<p class=\"nodata\">{}</p>", esc(L::NoData.get(lang)));
        } else if p.id == "cases" {
            let link = |col: usize, cell: &Cell| match (col, cell) {
                (0, Cell::Int(id)) if detailed.contains(id) => {
                    Some(format!("<a href=\"#case-{id}\">{id}</a>"))
                }
                _ => None,
            };
            table(&mut o, p, lang, Some(&link), None);
            case_details(&mut o, d, &rings);
        } else if p.id == "risk" {
            // Ring references link to the ring's picture or rows.
            let link = |col: usize, cell: &Cell| match (col, cell) {
                (9, Cell::Text(t)) => Some(
                    t.split("; ")
                        .map(|r| match r.parse::<i64>() {
                            Ok(id) if rings.has(id) => format!("<a href=\"#ring-{id}\">{id}</a>"),
                            _ => esc(r),
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                (10, Cell::Text(t)) => Some(ring_refs(t, &rings)),
                _ => None,
            };
            table(&mut o, p, lang, Some(&link), None);
        } else if p.id == "rings" {
            ring_pictures(&mut o, d, opts);
            // The first row of a ring without a picture is where its references lead.
            let mut anchored = BTreeSet::new();
            let row_id = |row: &[Cell]| match row.first() {
                Some(Cell::Int(id)) if !rings.pictured.contains(id) && anchored.insert(*id) => {
                    Some(format!("ring-{id}"))
                }
                _ => None,
            };
            let mut row_id = row_id;
            table(&mut o, p, lang, None, Some(&mut row_id));
        } else {
            table(&mut o, p, lang, None, None);
        }
        o.push_str("</section>\n");
    }
    let _ = writeln!(o, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>");
    o
}

/// An amount as people read it in a summary: 万元 in large figures, the exact yuan beside.
fn wan_with_exact(o: &mut String, fen: crate::model::Fen, lang: Lang) {
    let exact = format!("{} {}", yuan(fen), L::UnitYuan.get(lang));
    let _ = write!(
        o,
        "<b title=\"{}\">{}</b><span class=\"unit\">{}</span><span class=\"exact\">{} {}</span>",
        esc(&exact),
        esc(&fen_to_wan(fen)),
        esc(L::UnitWan.get(lang)),
        esc(L::Exactly.get(lang)),
        esc(&exact)
    );
}

fn count_card(o: &mut String, label: L, n: Option<i64>, unit: L, lang: Lang) {
    let _ = write!(
        o,
        "<div class=\"card\"><span class=\"label\">{}</span>",
        esc(label.get(lang))
    );
    match n {
        Some(n) => {
            let grouped = if n < 0 {
                format!("-{}", group_thousands(n.unsigned_abs()))
            } else {
                group_thousands(n as u64)
            };
            let _ = write!(
                o,
                "<b>{}</b><span class=\"unit\">{}</span>",
                esc(&grouped),
                esc(unit.get(lang))
            );
        }
        None => {
            let _ = write!(o, "<b class=\"nodata\">{}</b>", esc(L::NoData.get(lang)));
        }
    }
    o.push_str("</div>");
}

/// The eight figures of the sweep, each with its label and unit.
fn summary_cards(o: &mut String, d: &ReportData) {
    let lang = d.lang;
    let s = &d.summary;
    o.push_str("<div class=\"cards\">");
    count_card(o, L::CardClaims, Some(s.claims), L::UnitClaims, lang);
    let _ = write!(
        o,
        "<div class=\"card\"><span class=\"label\">{}</span>",
        esc(L::CardAmountPaid.get(lang))
    );
    wan_with_exact(o, s.amount_paid_fen, lang);
    o.push_str("</div>");
    count_card(o, L::CardFlags, Some(s.flags), L::UnitFlags, lang);
    count_card(
        o,
        L::CardFlaggedClaims,
        Some(s.flagged_claims),
        L::UnitClaims,
        lang,
    );
    let _ = write!(
        o,
        "<div class=\"card\"><span class=\"label\">{}</span>",
        esc(L::CardAtRisk.get(lang))
    );
    wan_with_exact(o, s.amount_at_risk_fen, lang);
    o.push_str("</div>");
    count_card(o, L::CardCases, s.cases, L::UnitCases, lang);
    count_card(o, L::CardNewCases, s.new_cases, L::UnitCases, lang);
    count_card(o, L::CardRings, s.rings, L::UnitRings, lang);
    o.push_str("</div>\n");
}

/// "Where to start": the eight figures, then the institution and ring cases with the most
/// money at risk, then the largest person cases, each linked to its evidence.
fn start_here(o: &mut String, d: &ReportData, rings: &RingTargets) {
    let lang = d.lang;
    let _ = writeln!(
        o,
        "<section id=\"start\" class=\"start\">\n<h2>{}</h2>",
        esc(L::SecStart.get(lang))
    );
    summary_cards(o, d);
    let Some(sh) = &d.start_here else {
        o.push_str("</section>\n");
        return;
    };
    let _ = write!(o, "<p class=\"note\">{}</p>", esc(L::StartNote.get(lang)));
    let names: std::collections::HashMap<&str, &str> = d
        .by_institution
        .iter()
        .map(|b| (b.key.as_str(), b.label.as_str()))
        .collect();
    let detailed: BTreeSet<i64> = d.case_details.iter().map(|c| c.case.case_id).collect();
    let list = |o: &mut String, heading: L, rows: &[CaseRow]| {
        if rows.is_empty() {
            return;
        }
        let _ = write!(o, "<h3>{}</h3><ol>", esc(heading.get(lang)));
        for c in rows {
            let subject = match (
                CaseSubject::parse(&c.subject_kind),
                names.get(c.subject.as_str()),
            ) {
                (Some(CaseSubject::Institution), Some(name)) if !name.is_empty() => {
                    named(name, &c.subject, lang)
                }
                _ => format!(
                    "{} {}",
                    subject_kind_label(&c.subject_kind, lang),
                    c.subject
                ),
            };
            let name = if detailed.contains(&c.case_id) {
                format!(
                    "<a href=\"#case-{}\">#{} {}</a>",
                    c.case_id,
                    c.case_id,
                    esc(&subject)
                )
            } else {
                format!("#{} {}", c.case_id, esc(&subject))
            };
            let _ = write!(
                o,
                "<li>{name} — <span class=\"amt\" title=\"{} {}\">{} {}</span> \
                 <span class=\"sub\">· {} {} · {} · {} {:.2}</span>",
                esc(&yuan(c.amount_at_risk_fen)),
                esc(L::UnitYuan.get(lang)),
                esc(&fen_to_wan(c.amount_at_risk_fen)),
                esc(L::UnitWan.get(lang)),
                esc(&group_thousands(c.claims.max(0) as u64)),
                esc(L::UnitClaims.get(lang)),
                esc(&family_label(&c.rule_family, lang)),
                esc(L::Score.get(lang)),
                c.score
            );
            if CaseSubject::parse(&c.subject_kind) == Some(CaseSubject::Ring) {
                let ids: Vec<String> = d
                    .rings
                    .iter()
                    .flatten()
                    .filter(|r| r.anchor() == Some(c.subject.as_str()))
                    .map(|r| format!("#{}", r.ring_id))
                    .collect();
                if !ids.is_empty() {
                    let more = if ids.len() > START_RING_REFS {
                        format!(
                            "{}{}{}",
                            lang.pick("…（", "… ("),
                            ids.len(),
                            lang.pick("）", ")")
                        )
                    } else {
                        String::new()
                    };
                    let _ = write!(
                        o,
                        " <span class=\"sub\">{} {}{}</span>",
                        esc(L::RingsOfCase.get(lang)),
                        ring_refs(
                            &ids[..ids.len().min(START_RING_REFS)].join(lang.pick("、", ", ")),
                            rings
                        ),
                        esc(&more)
                    );
                }
            }
            o.push_str("</li>");
        }
        o.push_str("</ol>\n");
    };
    list(o, L::StartInstitutions, &sh.institutions);
    list(o, L::StartRings, &sh.rings);
    list(o, L::StartPersons, &sh.persons);
    o.push_str("</section>\n");
}

fn progress_header(o: &mut String, d: &ReportData) {
    let lang = d.lang;
    let _ = write!(
        o,
        "<p class=\"note\">{}</p>",
        esc(L::ProgressNote.get(lang))
    );
    if let Some(t) = &d.person_times_target {
        let met = t.actual >= t.target as i64;
        let _ = write!(
            o,
            "<p>{} {}: {} {} / {} {} — <span class=\"{}\">{}</span><br><span class=\"note\">{}</span></p>",
            esc(L::PersonTimesTarget.get(lang)),
            t.year,
            esc(L::Actual.get(lang)),
            t.actual,
            esc(L::Target.get(lang)),
            t.target,
            if met { "met" } else { "notmet" },
            esc(if met { L::Met.get(lang) } else { L::NotMet.get(lang) }),
            esc(&t.clause)
        );
    }
}

/// Turns a cell (by column) into its HTML (escaped), e.g. an in-page link.
type CellHtml<'a> = &'a dyn Fn(usize, &Cell) -> Option<String>;
/// Gives a row an id (an anchor) by its cells.
type RowId<'a> = &'a mut dyn FnMut(&[Cell]) -> Option<String>;

/// A text cell's class: short tokens (codes, ids, dates) never wrap; long text gets room
/// so that sentences are not broken into a narrow column.
fn text_class(s: &str) -> &'static str {
    // In columns of Latin width: a Chinese character counts two.
    let n = crate::text::display_width(s);
    if n <= 24 && !s.contains(char::is_whitespace) {
        " class=\"k\""
    } else if n > 40 {
        " class=\"x\""
    } else {
        ""
    }
}

/// A list of identifiers: inline when short, else a count that opens to the list (no
/// script needed), at most `LIST_MAX` of them with a note on where the rest are.
fn list_cell(o: &mut String, items: &[String], lang: Lang) {
    if items.len() <= LIST_INLINE {
        o.push_str(&esc(&items.join("; ")));
        return;
    }
    let _ = write!(
        o,
        "<details class=\"ids\"><summary>{} {} · {}</summary><div>",
        esc(&group_thousands(items.len() as u64)),
        esc(L::UnitClaims.get(lang)),
        esc(L::ShowIds.get(lang))
    );
    for (i, id) in items.iter().take(LIST_MAX).enumerate() {
        if i > 0 {
            o.push_str("; ");
        }
        o.push_str(&esc(id));
    }
    if items.len() > LIST_MAX {
        let _ = write!(
            o,
            "<p class=\"note\">{}</p>",
            esc(&L::IdsCapped.get(lang).replace("{n}", &LIST_MAX.to_string()))
        );
    }
    o.push_str("</div></details>");
}

/// A sortable, filterable table of a sheet; `cell` may give a cell its own HTML, `row_id`
/// a row its id.
fn table(o: &mut String, s: &Sheet, lang: Lang, cell: Option<CellHtml>, mut row_id: Option<RowId>) {
    if s.rows.is_empty() {
        let _ = writeln!(o, "<p class=\"nodata\">{}</p>", esc(L::Nothing.get(lang)));
        return;
    }
    let table_id = format!("t-{}", s.id);
    if s.rows.len() > 10 {
        let _ = writeln!(
            o,
            "<input class=\"filter\" type=\"search\" data-table=\"{table_id}\" placeholder=\"{}\">",
            esc(L::Filter.get(lang))
        );
    }
    let _ = write!(
        o,
        "<div class=\"tablewrap\"><table class=\"data\" id=\"{table_id}\"><thead><tr>"
    );
    for c in &s.columns {
        let _ = write!(o, "<th>{}</th>", esc(&c.label));
    }
    o.push_str("</tr></thead><tbody>\n");
    for row in s.rows.iter().take(HTML_MAX_ROWS) {
        match row_id.as_mut().and_then(|f| f(row)) {
            Some(id) => {
                let _ = write!(o, "<tr id=\"{}\">", esc(&id));
            }
            None => o.push_str("<tr>"),
        }
        for (ci, c) in row.iter().enumerate() {
            let own = cell.and_then(|f| f(ci, c));
            match (c.sort_key(), c) {
                (Some(v), _) => {
                    let shown = own.unwrap_or_else(|| esc(&c.display()));
                    let _ = write!(o, "<td class=\"n\" data-v=\"{v}\">{shown}</td>");
                }
                (None, Cell::List(items)) => {
                    o.push_str("<td>");
                    match own {
                        Some(h) => o.push_str(&h),
                        None => list_cell(o, items, lang),
                    }
                    o.push_str("</td>");
                }
                (None, Cell::Text(t)) => {
                    let shown = own.unwrap_or_else(|| esc(t));
                    let _ = write!(o, "<td{}>{shown}</td>", text_class(t));
                }
                (None, _) => {
                    let shown = own.unwrap_or_else(|| esc(&c.display()));
                    let _ = write!(o, "<td>{shown}</td>");
                }
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table></div>\n");
    let total = s.total.max(s.rows.len());
    let shown = s.rows.len().min(HTML_MAX_ROWS);
    if total > shown {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} {} {} {}{}</p>",
            esc(L::ShowingFirst.get(lang)),
            shown,
            esc(L::RowsOf.get(lang)),
            total,
            esc(L::RowsFullInWorkbook.get(lang))
        );
    }
}

/// Cuts a label to `n` characters for a chart axis.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// Horizontal bars of the amount at risk of the largest rows of a breakdown.
fn bar_chart(o: &mut String, rows: &[Breakdown], lang: Lang) {
    let rows: Vec<&Breakdown> = rows
        .iter()
        .filter(|b| b.amount_at_risk_fen > 0)
        .take(CHART_MAX_BARS)
        .collect();
    if rows.is_empty() {
        return;
    }
    let max = rows
        .iter()
        .map(|b| b.amount_at_risk_fen)
        .max()
        .unwrap_or(1)
        .max(1);
    let (label_w, bar_w, row_h) = (220.0, 460.0, 22.0);
    let width = label_w + bar_w + 110.0;
    let height = rows.len() as f64 * row_h + 28.0;
    let _ = write!(
        o,
        "<div class=\"chart\"><svg role=\"img\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\
         <title>{}</title>\
         <text x=\"0\" y=\"14\" font-size=\"12\" fill=\"#5b6b7c\">{}</text>",
        esc(L::AmountChartTitle.get(lang)),
        esc(L::AmountChartTitle.get(lang))
    );
    for (i, b) in rows.iter().enumerate() {
        let y = 24.0 + i as f64 * row_h;
        let w = (b.amount_at_risk_fen as f64 / max as f64 * bar_w).max(1.0);
        let name = if b.label.is_empty() { &b.key } else { &b.label };
        let _ = write!(
            o,
            "<g><title>{} {}</title><text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"{}\" fill=\"#1f5f99\"></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#1d2733\">{}</text></g>",
            esc(name),
            esc(&yuan(b.amount_at_risk_fen)),
            label_w - 6.0,
            y + 14.0,
            esc(&short(name, 16)),
            y + 3.0,
            row_h - 6.0,
            label_w + w + 4.0,
            y + 14.0,
            esc(&yuan(b.amount_at_risk_fen))
        );
    }
    o.push_str("</svg></div>\n");
}

fn subsidy_label(code: &str, lang: Lang) -> String {
    match SubsidyType::parse(code) {
        Some(t) => lang.pick(t.zh(), t.code()).to_string(),
        None => code.to_string(),
    }
}

fn category_label(code: &str, lang: Lang) -> String {
    match Category::parse(code) {
        Some(c) => lang.pick(c.zh(), c.code()).to_string(),
        None => code.to_string(),
    }
}

fn status_label(code: &str, lang: Lang) -> String {
    Status::parse(code).map_or_else(|| code.to_string(), |s| s.label(lang).to_string())
}

/// A small table inside a case's drill-down.
fn mini_table(o: &mut String, heads: &[L], rows: &[Vec<String>], lang: Lang) {
    o.push_str("<div class=\"tablewrap\"><table><thead><tr>");
    for h in heads {
        let _ = write!(o, "<th>{}</th>", esc(h.get(lang)));
    }
    o.push_str("</tr></thead><tbody>");
    for r in rows.iter().take(DRILL_MAX_ROWS) {
        o.push_str("<tr>");
        for c in r {
            let _ = write!(o, "<td{}>{}</td>", text_class(c), esc(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table></div>\n");
    if rows.len() > DRILL_MAX_ROWS {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} {} {} {}{}</p>",
            esc(L::ShowingFirst.get(lang)),
            DRILL_MAX_ROWS,
            esc(L::RowsOf.get(lang)),
            rows.len(),
            esc(L::RowsFullInWorkbook.get(lang))
        );
    }
}

/// The highest-scoring cases, each a `<details>` with its flags, claims, registers,
/// neighbours and history.
fn case_details(o: &mut String, d: &ReportData, rings: &RingTargets) {
    let lang = d.lang;
    if d.case_details.is_empty() {
        return;
    }
    let _ = writeln!(o, "<h3>{}</h3>", esc(L::CaseDrill.get(lang)));
    let total = d.row_totals.cases;
    if total > d.case_details.len() {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} {} {} {}{}</p>",
            esc(L::ShowingFirst.get(lang)),
            d.case_details.len(),
            esc(L::RowsOf.get(lang)),
            total,
            esc(L::RowsFullInWorkbook.get(lang))
        );
    }
    for cd in &d.case_details {
        case_detail(o, cd, d, rings);
    }
}

fn case_detail(o: &mut String, cd: &CaseDetail, d: &ReportData, rings: &RingTargets) {
    let lang = d.lang;
    let c = &cd.case;
    case_heading(o, c, institution_name(d, c), lang);
    let _ = write!(o, "<h3>{}</h3>", esc(L::SecEvidence.get(lang)));
    case_graph(o, c, d, rings);
    case_flags(o, cd, lang);
    case_claims(o, cd, lang);
    case_registry(o, cd, lang);
    case_neighbours(o, cd, lang);
    case_history(o, cd, lang);
    o.push_str("</details>\n");
}

/// The drill-down's summary line, its status line and what changed.
/// A name with its identifier: `名称（代码）`, `name (code)`.
fn named(name: &str, id: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{name}（{id}）"),
        Lang::En => format!("{name} ({id})"),
    }
}

/// An institution case's institution name, when the ledger has it.
fn institution_name<'d>(d: &'d ReportData, c: &CaseRow) -> Option<&'d str> {
    if CaseSubject::parse(&c.subject_kind) != Some(CaseSubject::Institution) {
        return None;
    }
    d.by_institution
        .iter()
        .find(|b| b.key == c.subject && !b.label.is_empty())
        .map(|b| b.label.as_str())
}

fn case_heading(o: &mut String, c: &CaseRow, name: Option<&str>, lang: Lang) {
    let rules: Vec<String> = c.rules.iter().map(|r| rule_name(r, lang)).collect();
    let subject = match name {
        Some(name) => named(name, &c.subject, lang),
        None => c.subject.clone(),
    };
    let _ = writeln!(
        o,
        "<details class=\"case\" id=\"case-{}\"><summary>#{} · {} {} · {} · {} · {} {} · {} {:.2}</summary>",
        c.case_id,
        c.case_id,
        esc(&subject_kind_label(&c.subject_kind, lang)),
        esc(&subject),
        esc(&family_label(&c.rule_family, lang)),
        esc(&rules.join("、")),
        esc(L::AmountAtRisk.get(lang)),
        esc(&yuan(c.amount_at_risk_fen)),
        esc(L::Score.get(lang)),
        c.score
    );
    let _ = writeln!(
        o,
        "<p>{}: {} · {}: {} · {}: {} · {}: {}</p>",
        esc(L::Status.get(lang)),
        esc(c.status.label(lang)),
        esc(L::Change.get(lang)),
        esc(c.change.label(lang)),
        esc(L::CountyCode.get(lang)),
        esc(if c.county_code.is_empty() {
            "-"
        } else {
            &c.county_code
        }),
        esc(L::InstitutionId.get(lang)),
        esc(if c.institution_id.is_empty() {
            "-"
        } else {
            &c.institution_id
        }),
    );
    let reason = lang.pick(&c.reason_zh, &c.reason_en);
    if !reason.is_empty() {
        let _ = write!(o, "<p class=\"note\">{}</p>", esc(reason));
    }
}

/// The graph's evidence: the institution's risk terms, the ring's picture.
fn case_graph(o: &mut String, c: &CaseRow, d: &ReportData, rings: &RingTargets) {
    let lang = d.lang;
    if CaseSubject::parse(&c.subject_kind) == Some(CaseSubject::Institution) {
        let risk = d
            .institution_risk
            .iter()
            .flatten()
            .find(|r| r.institution_id == c.subject);
        if let Some(r) = risk {
            let _ = write!(
                o,
                "<p>{} {} · {} {:.2} · {}</p><ul>",
                esc(L::Rank.get(lang)),
                r.rank,
                esc(L::RiskScore.get(lang)),
                r.score,
                esc(&r.name)
            );
            for term in &r.evidence {
                let _ = write!(o, "<li>{}</li>", ring_refs(term, rings));
            }
            o.push_str("</ul>\n");
        }
    }
    if CaseSubject::parse(&c.subject_kind) == Some(CaseSubject::Ring) {
        // The rings this case stands for: those anchored on its subject, as cases are built.
        let of_case = d
            .rings
            .iter()
            .flatten()
            .filter(|r| r.anchor() == Some(c.subject.as_str()));
        for r in of_case.take(RINGS_PER_CASE) {
            ring_svg(o, r, lang, false);
        }
    }
}

/// Flags: what the rules found.
fn case_flags(o: &mut String, cd: &CaseDetail, lang: Lang) {
    if cd.flags.is_empty() {
        return;
    }
    o.push_str("<div class=\"tablewrap\"><table><thead><tr>");
    for h in [
        L::Rule,
        L::Severity,
        L::Subject,
        L::AmountAtRisk,
        L::Explanation,
    ] {
        let _ = write!(o, "<th>{}</th>", esc(h.get(lang)));
    }
    o.push_str("</tr></thead><tbody>");
    for f in &cd.flags {
        let _ = write!(
            o,
            "<tr><td class=\"k\">{}</td><td class=\"sev-{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"x\">{}</td></tr>",
            esc(&rule_name(&f.rule, lang)),
            esc(&f.severity),
            esc(&severity_name(&f.severity, lang)),
            esc(&f.subject),
            esc(&yuan(f.amount_at_risk_fen)),
            esc(lang.pick(&f.explanation_zh, &f.explanation_en))
        );
    }
    o.push_str("</tbody></table></div>\n");
}

/// One claim of a drill-down as table cells (a claim the ledger no longer has: its id and
/// a note).
fn claim_cells(evidence: &ClaimEvidence, lang: Lang) -> Vec<String> {
    let e = &evidence.claim;
    if !evidence.found {
        return vec![e.claim_id.clone(), L::NotInLedger.get(lang).to_string()];
    }
    vec![
        e.claim_id.clone(),
        e.claim_date.clone(),
        e.id_number.clone(),
        e.name.clone(),
        e.phone.clone(),
        e.bank_account.clone(),
        category_label(&e.category, lang),
        e.county_code.clone(),
        e.institution_id.clone(),
        e.class_id.clone(),
        subsidy_label(&e.subsidy_type, lang),
        e.occupation_code.clone(),
        e.level.map_or(String::new(), |l| {
            let l = u8::try_from(l).unwrap_or(0);
            if lang == Lang::Zh {
                level::zh(l).to_string()
            } else {
                l.to_string()
            }
        }),
        e.cert_no.clone(),
        yuan(e.amount_fen),
        yuan(e.living_amount_fen),
    ]
}

/// The case's claims (a large case: its first claims, with a note).
fn case_claims(o: &mut String, cd: &CaseDetail, lang: Lang) {
    let c = &cd.case;
    let claim_rows: Vec<Vec<String>> = cd.claims.iter().map(|e| claim_cells(e, lang)).collect();
    let _ = write!(o, "<h3>{}</h3>", esc(L::Claims.get(lang)));
    if (cd.claims.len() as i64) < c.claims {
        let _ = write!(
            o,
            "<p class=\"note\">{} {} {} {}{}</p>",
            esc(L::ShowingFirst.get(lang)),
            cd.claims.len(),
            esc(L::RowsOf.get(lang)),
            c.claims,
            esc(&L::LargeCaseNote
                .get(lang)
                .replace("{id}", &c.case_id.to_string()))
        );
    }
    mini_table(
        o,
        &[
            L::ClaimId,
            L::ClaimDate,
            L::IdNumber,
            L::Name,
            L::Phone,
            L::BankAccount,
            L::Category,
            L::CountyCode,
            L::InstitutionId,
            L::Class,
            L::SubsidyType,
            L::Occupation,
            L::Level,
            L::Certificate,
            L::Amount,
            L::LivingAmount,
        ],
        &claim_rows,
        lang,
    );
    // Claims a later ingest changed or removed: the table shows what the sweep judged.
    for e in &cd.claims {
        if let Some(change) = e.since {
            let _ = write!(
                o,
                "<p class=\"note\">{}: {}</p>",
                esc(&e.claim.claim_id),
                esc(&crate::cases::render::since_note(change, lang))
            );
        }
    }
}

/// Registers: only persons with something on record.
fn case_registry(o: &mut String, cd: &CaseDetail, lang: Lang) {
    let reg_rows: Vec<Vec<String>> = cd
        .registry
        .iter()
        .filter(|r| {
            r.death_date.is_some()
                || r.pension_start.is_some()
                || !r.ui.is_empty()
                || r.poverty
                || !r.staff_of.is_empty()
                || !r.legal_rep_of.is_empty()
        })
        .map(|r| {
            vec![
                r.id_number.clone(),
                r.death_date.clone().unwrap_or_default(),
                r.pension_start.clone().unwrap_or_default(),
                r.ui.iter()
                    .map(|(m, at)| format!("{m} ({at})"))
                    .collect::<Vec<_>>()
                    .join("; "),
                if r.poverty {
                    L::Yes.get(lang).to_string()
                } else {
                    String::new()
                },
                r.staff_of
                    .iter()
                    .map(|(i, role)| format!("{i} {role}"))
                    .collect::<Vec<_>>()
                    .join("; "),
                r.legal_rep_of.join("; "),
            ]
        })
        .collect();
    if reg_rows.is_empty() {
        return;
    }
    let _ = write!(o, "<h3>{}</h3>", esc(L::Registry.get(lang)));
    mini_table(
        o,
        &[
            L::IdNumber,
            L::DeathDate,
            L::PensionStart,
            L::UiMonths,
            L::Poverty,
            L::StaffOf,
            L::LegalRepOf,
        ],
        &reg_rows,
        lang,
    );
}

/// Persons sharing a phone or account with the case's claims.
fn case_neighbours(o: &mut String, cd: &CaseDetail, lang: Lang) {
    if cd.neighbours.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = cd
        .neighbours
        .iter()
        .map(|n| {
            let via = if n.via == "phone" {
                L::Phone
            } else {
                L::BankAccount
            };
            vec![
                format!("{} {}", via.get(lang), n.value),
                n.id_number.clone(),
                n.name.clone(),
                n.claims.to_string(),
            ]
        })
        .collect();
    let _ = write!(o, "<h3>{}</h3>", esc(L::Neighbours.get(lang)));
    mini_table(o, &[L::Via, L::IdNumber, L::Name, L::Claims], &rows, lang);
}

/// The case's history, oldest first.
fn case_history(o: &mut String, cd: &CaseDetail, lang: Lang) {
    if cd.history.is_empty() {
        return;
    }
    let rows: Vec<Vec<String>> = cd
        .history
        .iter()
        .map(|h| {
            vec![
                crate::dates::display_time(&h.at, false),
                h.actor.clone(),
                h.action.clone(),
                format!(
                    "{} → {}",
                    h.from_status
                        .as_deref()
                        .map_or(String::new(), |s| status_label(s, lang)),
                    h.to_status
                        .as_deref()
                        .map_or(String::new(), |s| status_label(s, lang))
                ),
                h.note.clone(),
            ]
        })
        .collect();
    let _ = write!(o, "<h3>{}</h3>", esc(L::History.get(lang)));
    mini_table(
        o,
        &[
            L::SweepStarted,
            L::Assignee,
            L::Change,
            L::Status,
            L::Explanation,
        ],
        &rows,
        lang,
    );
}

fn kind_colour(kind: &str) -> &'static str {
    match kind {
        "person" => "#1f5f99",
        "institution" => "#b3261e",
        "phone" => "#2e7d32",
        "bank_account" => "#b06f00",
        "legal_rep" => "#00838f",
        "county" => "#6a1b9a",
        _ => "#5b6b7c",
    }
}

/// Pictures of the highest-scoring rings: persons and institutions on an outer circle, the
/// identifiers that tie them (phones, accounts, counties) on an inner circle, a line for each
/// tie. No force layout: the same ring is always drawn the same way.
fn ring_pictures(o: &mut String, d: &ReportData, opts: &ReportOptions) {
    let lang = d.lang;
    let Some(rings) = &d.rings else { return };
    if rings.is_empty() {
        return;
    }
    o.push_str("<p class=\"legend\">");
    for k in [
        "person",
        "institution",
        "phone",
        "bank_account",
        "legal_rep",
        "county",
    ] {
        let _ = write!(
            o,
            "<span><i style=\"background:{}\"></i>{}</span>",
            kind_colour(k),
            esc(member_kind_label(k, lang))
        );
    }
    o.push_str("</p>\n<div class=\"rings\">\n");
    for r in rings.iter().take(opts.ring_pictures) {
        ring_svg(o, r, lang, true);
    }
    o.push_str("</div>\n");
    if rings.len() > opts.ring_pictures {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} {} {} {}{}</p>",
            esc(L::ShowingFirst.get(lang)),
            opts.ring_pictures,
            esc(L::RowsOf.get(lang)),
            rings.len(),
            esc(L::RowsFullInWorkbook.get(lang))
        );
    }
}

/// Where each member of a ring is drawn around (cx, cy), and which members are the ring's
/// core (the identifiers that tie it). Persons and institutions outside, counties between,
/// the identifiers that tie the ring (phones, accounts, legal representatives) at the centre.
fn ring_layout(r: &Ring, cx: f64, cy: f64) -> (Vec<(f64, f64)>, Vec<usize>) {
    let of_kind = |kinds: &[&str]| -> Vec<usize> {
        (0..r.members.len())
            .filter(|&i| kinds.contains(&r.members[i].kind.as_str()))
            .collect()
    };
    let outer = of_kind(&["person", "institution"]);
    let middle: Vec<usize> = (0..r.members.len())
        .filter(|&i| {
            !matches!(
                r.members[i].kind.as_str(),
                "person" | "institution" | "phone" | "bank_account" | "legal_rep"
            )
        })
        .collect();
    let core = of_kind(&["phone", "bank_account", "legal_rep"]);
    let mut pos = vec![(cx, cy); r.members.len()];
    let place = |idx: &[usize], radius: f64, offset: f64, pos: &mut Vec<(f64, f64)>| {
        let n = idx.len().max(1) as f64;
        for (k, &i) in idx.iter().enumerate() {
            let a = offset + std::f64::consts::TAU * k as f64 / n - std::f64::consts::FRAC_PI_2;
            pos[i] = (cx + radius * a.cos(), cy + radius * a.sin());
        }
    };
    place(&outer, 170.0, 0.0, &mut pos);
    place(&middle, 110.0, 0.15, &mut pos);
    place(
        &core,
        if core.len() <= 1 { 0.0 } else { 45.0 },
        0.3,
        &mut pos,
    );
    (pos, core)
}

/// One ring's picture; `anchor` gives it an id to link to (once per page).
fn ring_svg(o: &mut String, r: &Ring, lang: Lang, anchor: bool) {
    let (w, h) = (560.0f64, 440.0f64);
    let (pos, core) = ring_layout(r, w / 2.0, h / 2.0 + 8.0);
    let is_core = |i: usize| core.contains(&i);
    let labels = r.members.len() <= 30;
    let title = format!(
        "{} {} · {} {} · {} {} · {} {:.2}",
        L::RingId.get(lang),
        r.ring_id,
        L::Claims.get(lang),
        r.claims,
        L::Amount.get(lang),
        yuan(r.amount_fen),
        L::RingScore.get(lang),
        r.score
    );
    let _ = write!(
        o,
        "<div class=\"ring\"{}><svg role=\"img\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <title>{}</title>\
         <text x=\"8\" y=\"16\" font-size=\"13\" font-weight=\"600\">{}</text>",
        if anchor { format!(" id=\"ring-{}\"", r.ring_id) } else { String::new() },
        esc(&title),
        esc(&title)
    );
    for &(a, b) in &r.edges {
        let ((x1, y1), (x2, y2)) = (pos[a], pos[b]);
        // Ties through a shared identifier are the ring; county ties are background.
        let style = if is_core(a) || is_core(b) {
            "stroke=\"#5b6b7c\" stroke-width=\"1.4\""
        } else {
            "stroke=\"#c9d3dd\" stroke-width=\"1\" stroke-dasharray=\"3 3\""
        };
        let _ = write!(
            o,
            "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" {style}></line>"
        );
    }
    for (i, m) in r.members.iter().enumerate() {
        ring_node(o, m, pos[i], labels || is_core(i), lang);
    }
    let _ = writeln!(
        o,
        "</svg><p class=\"note\">{}</p></div>",
        esc(&r.explanation)
    );
}

/// One member of a ring picture at (x, y): a dot with a tooltip, and a label under it when
/// `labelled`.
fn ring_node(o: &mut String, m: &RingMember, (x, y): (f64, f64), labelled: bool, lang: Lang) {
    let radius = if m.kind == "institution" { 9.0 } else { 6.5 };
    let name = if m.label.is_empty() {
        m.value.clone()
    } else {
        format!("{} {}", m.label, m.value)
    };
    let _ = write!(
        o,
        "<g><title>{}: {}</title><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius}\" fill=\"{}\"></circle>",
        esc(member_kind_label(&m.kind, lang)),
        esc(&name),
        kind_colour(&m.kind)
    );
    if labelled {
        // The name, and under it the identifier as the report shows it (masked unless
        // --unmask): two people of one name stay apart.
        let (first, second) = if m.label.is_empty() {
            (short(&m.value, 18), None)
        } else {
            (short(&m.label, 8), Some(short(&m.value, 18)))
        };
        let _ = write!(
            o,
            "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            y + radius + 11.0,
            esc(&first)
        );
        if let Some(second) = second {
            let _ = write!(
                o,
                "<text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"8.5\" fill=\"#5b6b7c\" text-anchor=\"middle\">{}</text>",
                y + radius + 21.0,
                esc(&second)
            );
        }
    }
    o.push_str("</g>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_markup_character() {
        assert_eq!(
            esc("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(esc("张伟"), "张伟");
    }

    #[test]
    fn long_id_lists_fold_into_a_count() {
        let ids = |n: usize| (0..n).map(|i| format!("C{i:05}")).collect::<Vec<_>>();
        let mut o = String::new();
        list_cell(&mut o, &ids(LIST_INLINE), Lang::Zh);
        assert_eq!(o, ids(LIST_INLINE).join("; "), "short lists stay inline");
        let mut o = String::new();
        list_cell(&mut o, &ids(300), Lang::Zh);
        assert!(
            o.starts_with("<details class=\"ids\"><summary>300 笔 · 展开</summary>"),
            "{o}"
        );
        assert!(o.contains("C00299") && !o.contains("仅列出"));
        let mut o = String::new();
        list_cell(&mut o, &ids(LIST_MAX + 5), Lang::Zh);
        assert!(o.contains("1,005 笔") && !o.contains(&format!("C{:05}", LIST_MAX)));
        assert!(
            o.contains("claimsweep cases show"),
            "says where the rest are"
        );
        let mut o = String::new();
        list_cell(&mut o, &vec!["<x>".to_string(); 7], Lang::En);
        assert!(o.contains("&lt;x&gt;") && !o.contains("<x>"), "escaped");
    }

    #[test]
    fn ring_references_link_to_rings_with_a_target() {
        let rings = RingTargets {
            pictured: [1].into_iter().collect(),
            in_table: [2].into_iter().collect(),
        };
        assert_eq!(
            ring_refs("属于3个团伙（#1、#2、#99）<b>&#39;", &rings),
            "属于3个团伙（<a href=\"#ring-1\">#1</a>、<a href=\"#ring-2\">#2</a>、#99）\
             &lt;b&gt;&amp;#39;"
        );
        assert_eq!(ring_refs("# #x 100%", &rings), "# #x 100%");
    }

    #[test]
    fn codes_do_not_wrap_and_sentences_get_room() {
        assert_eq!(text_class("4-01-02-05"), " class=\"k\"");
        assert_eq!(text_class("张伟 李娜"), "");
        assert_eq!(
            text_class("同一人在同一年度内申领职业培训补贴超过规定次数，超出部分不予补贴。"),
            " class=\"x\""
        );
    }

    #[test]
    fn ring_members_are_labelled_with_name_and_shown_identifier() {
        let m = RingMember {
            kind: "person".into(),
            value: "371***********1234".into(),
            label: "张<伟>".into(),
        };
        let mut o = String::new();
        ring_node(&mut o, &m, (10.0, 10.0), true, Lang::Zh);
        assert!(o.contains(">张&lt;伟&gt;</text>"), "{o}");
        assert!(o.contains(">371***********1234</text>"), "{o}");
    }

    #[test]
    fn short_labels_keep_their_start() {
        assert_eq!(short("临沂市兰山区职业培训学校", 6), "临沂市兰山…");
        assert_eq!(short("兰山区", 6), "兰山区");
    }
}

#[cfg(test)]
mod render_tests {
    use super::*;
    use crate::report::data::{ReportData, ReportOptions, Summary, SweepInfo};

    /// A report whose cases were not built and whose sweep stored no graph findings.
    fn bare(lang: Lang) -> ReportData {
        ReportData {
            lang,
            masked: true,
            sweep: SweepInfo {
                sweep_id: 3,
                started_at: "2020-06-01T00:00:00Z".into(),
                finished_at: Some("2020-06-01T00:01:00Z".into()),
                policy: "rules/linyi-2019.toml@<x>".into(),
                previous_sweep: None,
            },
            summary: Summary::default(),
            by_county: Vec::new(),
            by_rule: Vec::new(),
            by_fund: Vec::new(),
            by_institution: Vec::new(),
            new_since_last: None,
            progress: Vec::new(),
            person_times_target: None,
            institution_risk: None,
            cases: None,
            case_details: Vec::new(),
            evidence: Vec::new(),
            rings: None,
            not_judged: Vec::new(),
            scope: crate::report::Scope::Full,
            start_here: None,
            row_totals: Default::default(),
        }
    }

    fn section<'a>(page: &'a str, id: &str) -> &'a str {
        let start = page
            .find(&format!("<section id=\"{id}\">"))
            .expect("section");
        let end = page[start..].find("</section>").expect("end") + start;
        &page[start..end]
    }

    #[test]
    fn missing_parts_say_no_data() {
        let page = render(&bare(Lang::Zh), &ReportOptions::default());
        for id in ["new", "risk", "cases", "evidence", "rings"] {
            assert!(section(&page, id).contains("无数据"), "{id} says 无数据");
        }
        assert!(
            section(&page, "summary").contains("申领笔数"),
            "the summary has its figures"
        );
        // Stored text is escaped even in the header.
        assert!(page.contains("linyi-2019.toml@&lt;x&gt;"));
        let en = render(&bare(Lang::En), &ReportOptions::default());
        assert!(section(&en, "rings").contains("no data"));
    }
}
