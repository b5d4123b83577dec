//! `cert_mismatch`: a subsidy of a type paid on a certificate (`cert.required_for`) whose
//! certificate is missing, belongs to another person, is of another occupation or level, or
//! was issued before the class started (临政办发〔2019〕13号 七（三）7：取得证书……按规定给予补贴).
//! One flag per claim naming every reason. Needs the `certificates` table.

use super::RuleDef;
use crate::finding::{Family, FlagSubject};
use super::common::*;
use super::{Flag, RuleContext, RuleParams};
use crate::model::SubsidyType;
use crate::policy::{Policy, PolicyError};
use serde::Deserialize;

pub const RULE_ID: &str = "cert_mismatch";

/// This rule as the registry and every output know it.
pub const RULE: RuleDef = RuleDef {
    id: RULE_ID,
    title_zh: "证书不符",
    title_en: "certificate mismatch",
    family: Family::Eligibility,
    subject: FlagSubject::Claim,
    needs: &["certificates"],
    run,
};

/// `[cert]`: the subsidy types paid on a certificate of the person, occupation and level.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cert {
    /// `SubsidyType` codes.
    pub required_for: Vec<String>,
    pub clause: String,
}

/// This rule's sections of a policy file.
#[derive(Debug, Clone, Deserialize)]
pub struct Params {
    pub cert: Cert,
}

impl RuleParams for Params {
    const SECTIONS: &'static [&'static str] = &["cert"];

    fn check(&self, policy: &Policy) -> Result<(), PolicyError> {
        for t in &self.cert.required_for {
            if SubsidyType::parse(t).is_none() {
                return Err(policy.invalid(
                    policy.line_of("required_for"),
                    format!("unknown subsidy_type {t:?}"),
                ));
            }
        }
        Ok(())
    }
}

impl Params {
    /// Whether a subsidy type is paid on a certificate.
    pub fn required(&self, t: SubsidyType) -> bool {
        self.cert
            .required_for
            .iter()
            .any(|e| SubsidyType::parse(e) == Some(t))
    }
}

/// The subsidy types a policy pays on a certificate, resolved once.
pub fn cert_type_set(policy: &Policy) -> Vec<SubsidyType> {
    let params = Params::of(policy);
    SubsidyType::ALL
        .iter()
        .copied()
        .filter(|&t| params.required(t))
        .collect()
}

pub fn run(ctx: &RuleContext) -> Vec<Flag> {
    let snap = ctx.snap;
    if !snap.has_table("certificates") {
        return Vec::new();
    }
    let required: Vec<_> = ctx.policies.policies.iter().map(cert_type_set).collect();
    per_claim_indexed(ctx, |i, at, policy| {
        let c = &snap.claims[i];
        let t = c.subsidy_type?;
        if !required[at].contains(&t) {
            return None;
        }
        // The certificate number's text only when a reason names it (most claims have none).
        let cert_no = || snap.cert_keys.resolve(c.cert);
        let mut zh = Vec::new();
        let mut en = Vec::new();
        match snap.certificate(c.cert).filter(|_| c.cert != 0) {
            None if c.cert == 0 => {
                zh.push("未填证书编号".to_string());
                en.push("no certificate number".to_string());
            }
            None => {
                let cert_no = cert_no();
                zh.push(format!("证书{cert_no}不在证书库中"));
                en.push(format!(
                    "certificate {cert_no} is not in the certificate register"
                ));
            }
            Some(cert) => {
                if cert.person != c.person {
                    let (holder, cert_no) = (id_number(snap, cert.person), cert_no());
                    zh.push(format!("证书{cert_no}属于他人（{holder}）"));
                    en.push(format!(
                        "certificate {cert_no} belongs to another person ({holder})"
                    ));
                }
                if c.occupation != 0 && cert.occupation != c.occupation {
                    let (a, b) = (
                        snap.occupations.resolve(c.occupation),
                        snap.occupations.resolve(cert.occupation),
                    );
                    zh.push(format!(
                        "证书职业{}与申领职业{a}不符",
                        if b.is_empty() { "未填" } else { b }
                    ));
                    en.push(format!(
                        "certificate occupation {} differs from the claimed {a}",
                        if b.is_empty() { "(empty)" } else { b }
                    ));
                }
                if c.level != 0 && cert.level != c.level {
                    zh.push(format!(
                        "证书等级{}与申领等级{}不符",
                        level_zh(cert.level),
                        level_zh(c.level)
                    ));
                    en.push(format!(
                        "certificate {} differs from the claimed {}",
                        level_en(cert.level),
                        level_en(c.level)
                    ));
                }
                if let (Some(class), Some(issued)) = (class_of_claim(snap, i), cert.issue_date.get()) {
                    if issued < class.start {
                        let class_id = snap.class_keys.resolve(c.class);
                        zh.push(format!(
                            "发证日期{issued}早于培训班{class_id}开班日期{}",
                            class.start
                        ));
                        en.push(format!(
                            "issued on {issued}, before class {class_id} started on {}",
                            class.start
                        ));
                    }
                }
            }
        }
        if zh.is_empty() {
            return None;
        }
        let cite = cite(policy, &Params::of(policy).cert.clause);
        let explanation_zh = format!(
            "申领编号 {cid}（{id}，{date}，{tz}{amt}）证书不符：{reasons}（{cite}）",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            tz = t.zh(),
            amt = yuan_zh(c.amount),
            reasons = zh.join("；"),
        );
        let explanation_en = format!(
            "claim {cid} ({id}, {date}, {te} {amt}): certificate does not match: {reasons} ({cite})",
            cid = snap.claim_id(i),
            id = id_number(snap, c.person),
            date = c.date,
            te = t.code(),
            amt = yuan_en(c.amount),
            reasons = en.join("; "),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_linyi_certificate_types() {
        let set = crate::policy::PolicySet::embedded_default();
        let types = cert_type_set(&set.policies[0]);
        // The notice pays a career course on its 培训合格证书; apprenticeship on no certificate.
        assert!(types.contains(&SubsidyType::CareerCourse));
        assert!(types.contains(&SubsidyType::Entrepreneurship));
        assert!(!types.contains(&SubsidyType::Apprenticeship));
    }
}
