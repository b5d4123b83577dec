//! `staff_trainee`: the trainee is staff (`staff`) or the legal representative (`institutions`)
//! of the very institution that trained them and claimed for them — a self-dealing subsidy.
//! Staff of another institution are not flagged. Real-name management, 临政办发〔2019〕13号 十二.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext};

pub const RULE_ID: &str = "staff_trainee";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "机构人员参训",
    title_en: "institution staff as trainee",
    family: Family::Identity,
    subject: FlagSubject::Claim,
    needs: &["staff", "institutions"],
    run,
};

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    // Persons on some institution's staff or representing one: only their claims are looked
    // up, so the search in `staff` is not paid for every claim (a few per cent of persons).
    let mut insider = vec![false; snap.ids.len()];
    let persons = snap
        .staff
        .iter()
        .map(|s| s.person)
        .chain(snap.institutions.iter().map(|x| x.legal_rep));
    for p in persons {
        if let Some(slot) = insider.get_mut(p as usize) {
            *slot = true;
        }
    }
    per_claim(ctx, |i, policy| {
        let c = &snap.claims[i];
        if c.institution == 0 || c.person == 0 || !insider[c.person as usize] {
            return None;
        }
        let mut zh = Vec::new();
        let mut en = Vec::new();
        // `staff` is sorted by (institution, person).
        if let Ok(pos) = snap
            .staff
            .binary_search_by_key(&(c.institution, c.person), |s| (s.institution, s.person))
        {
            let role = snap.texts.resolve(snap.staff[pos].role);
            if role.is_empty() {
                zh.push("是该机构在册人员".to_string());
                en.push("is on the institution's staff".to_string());
            } else {
                zh.push(format!("是该机构在册人员（岗位：{role}）"));
                en.push(format!("is on the institution's staff (role: {role})"));
            }
        }
        if let Some(inst) = snap.institution(c.institution) {
            if inst.legal_rep == c.person {
                zh.push("是该机构的法定代表人".to_string());
                en.push("is the institution's legal representative".to_string());
            }
        }
        if zh.is_empty() {
            return None;
        }
        let org = snap.orgs.resolve(c.institution);
        let org_name = snap
            .institution(c.institution)
            .map(|x| snap.texts.resolve(x.name))
            .unwrap_or("");
        let org_zh = if org_name.is_empty() {
            org.to_string()
        } else {
            format!("{org}（{org_name}）")
        };
        let cite = cite(policy, &policy.identity.clause);
        let explanation_zh = format!(
            "申领编号 {cid}（{date}，{amt}）：学员 {id} {reasons}，机构 {org_zh} 为本机构人员申领培训补贴（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_zh(c.amount),
            reasons = zh.join("，且"),
        );
        let explanation_en = format!(
            "claim {cid} ({date}, {amt}): trainee {id} {reasons} of {org_zh}, which claimed the subsidy for its own person ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            amt = yuan_en(c.amount),
            reasons = en.join(" and "),
        );
        Some(claim_flag(
            ctx,
            RULE_ID,
            policy,
            i,
            explanation_zh,
            explanation_en,
        ))
    })
}
