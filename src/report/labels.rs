//! Every label a report shows, in Chinese and English: one table, two languages, so the HTML
//! and the workbook say the same thing and a missing translation is a compile error.

use crate::cases::Lang;
use crate::model::FundingSource;

macro_rules! labels {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        /// A report label; [`L::get`] gives its text in a language.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum L { $($key),* }

        impl L {
            pub fn get(self, lang: Lang) -> &'static str {
                match self { $(L::$key => lang.pick($zh, $en)),* }
            }
        }
    };
}

labels! {
    Title => "职业培训补贴筛查报告", "Vocational-training subsidy sweep report";
    NoData => "无数据", "no data";
    Masking => "脱敏", "Masking";
    Masked => "身份证号、电话、银行账号已脱敏", "ID numbers, phones and bank accounts are masked";
    Unmasked => "未脱敏：仅限有权查看人员", "Not masked: for entitled staff only";
    Sweep => "筛查批次", "Sweep";
    SweepStarted => "开始时间", "Started";
    SweepFinished => "完成时间", "Finished";
    Policy => "政策文件", "Policy";
    PreviousSweep => "上次筛查", "Previous sweep";
    Nothing => "无", "none";
    Filter => "筛选…", "Filter…";
    ShowingFirst => "仅显示前", "Showing the first";
    RowsOf => "行，共", "rows of";
    RowsFullInWorkbook => "行；完整内容见 Excel 报告", "; the Excel report has them all";
    Contents => "目录", "Contents";
    // Sections (also the workbook's sheet names).
    SecSummary => "摘要", "Summary";
    SecCounty => "按县区", "By county";
    SecRule => "按规则", "By rule";
    SecFund => "按资金", "By fund";
    SecInstitution => "按机构", "By institution";
    SecNew => "新增", "New";
    SecProgress => "进度", "Progress";
    SecRisk => "机构风险", "Institution risk";
    SecCases => "案件", "Cases";
    SecEvidence => "证据", "Evidence";
    SecRings => "团伙", "Rings";
    SecNoPolicy => "无政策覆盖的申领", "Claims no policy covers";
    ClaimsNotJudged => "未判定申领（无政策覆盖其培训日期）", "Claims not judged (no policy covers their training)";
    TrainingDate => "培训日期", "Training date";
    NoPolicyReason => "没有政策文件覆盖其培训日期，未按任何规则判定：需要覆盖该日期的政策文件", "No policy file covers its training date, so no rule judged it: a policy file covering that date is needed";
    // Summary items.
    Item => "项目", "Item";
    Value => "数值", "Value";
    ClaimsTotal => "申领笔数", "Claims";
    PersonsTotal => "申领人数", "Persons";
    AmountPaid => "补贴金额（元）", "Amount paid (yuan)";
    FlagsTotal => "疑点数", "Flags";
    HighFlags => "高风险疑点数", "High-severity flags";
    FlaggedClaims => "涉及申领笔数", "Flagged claims";
    FlaggedPersons => "涉及人数", "Flagged persons";
    AmountAtRisk => "涉及金额（元）", "Amount at risk (yuan)";
    AtRiskShare => "涉及金额占比", "Share of amount at risk";
    RulesReconcile => "金额核对：规则", "Reconciliation: rules";
    CasesReconcile => "金额核对：案件", "Reconciliation: cases";
    CasesTotal => "案件数", "Cases";
    NewCases => "新增案件", "New cases";
    ResolvedCases => "已消失案件", "Resolved cases";
    RingsTotal => "团伙数", "Rings";
    SkippedRules => "未执行的规则", "Rules skipped";
    SkippedMissing => "未执行：缺少表 ", "skipped: missing table ";
    Note => "备注", "Note";
    RejectedRows => "导入拒收行数", "Rows rejected at ingest";
    AmountChartTitle => "涉及金额（元）", "Amount at risk (yuan)";
    // Breakdown columns.
    County => "县区", "County";
    CountyCode => "县区代码", "County code";
    Rule => "规则", "Rule";
    RuleId => "规则编号", "Rule id";
    Severity => "风险等级", "Severity";
    Fund => "资金来源", "Fund";
    Institution => "机构", "Institution";
    InstitutionId => "机构代码", "Institution id";
    InstitutionName => "机构名称", "Institution name";
    Claims => "申领笔数", "Claims";
    Flags => "疑点数", "Flags";
    FlaggedShare => "疑点申领占比", "Flagged share";
    CityWide => "全市", "City-wide";
    Unknown => "（空）", "(empty)";
    // New since last sweep.
    Change => "变化", "Change";
    FirstSweep => "这是第一次筛查：所有案件均为新增。", "This is the first sweep: every case is new.";
    ChangeGrown => "证据增加", "evidence grew";
    Reason => "说明", "Reason";
    // Progress.
    Year => "年度", "Year";
    PersonTimes => "培训人次", "Person-times";
    Persons => "人数", "Persons";
    WithLevel => "取得等级证书", "With a level";
    LevelShare => "技能人才占比", "Skilled share";
    SkilledTarget => "技能人才目标", "Skilled target";
    HighSkill => "高级工及以上（1–3级）", "High skill (levels 1–3)";
    HighSkillShare => "高技能占比", "High-skill share";
    HighSkillTarget => "高技能目标", "High-skill target";
    Met => "达标", "met";
    NotMet => "未达标", "not met";
    Target => "目标", "Target";
    Actual => "实际", "Actual";
    ProgressNote => "占比按补贴申领计算（等级 1–5 为技能人才，1–3 为高技能人才），目标见通知第一部分。",
        "Shares are of subsidy claims (levels 1–5 skilled, 1–3 high skill); targets from section 1 of the notice.";
    PersonTimesTarget => "全市培训人次目标", "City-wide person-times target";
    // Institution risk.
    Rank => "排名", "Rank";
    Score => "评分", "Score";
    RiskScore => "风险分", "Risk score";
    RingScore => "团伙分", "Ring score";
    Details => "明细", "Details";
    // Cases.
    CaseId => "案件编号", "Case";
    Subject => "对象", "Subject";
    SubjectKind => "对象类型", "Subject kind";
    Family => "类别", "Family";
    Status => "状态", "Status";
    Assignee => "承办人", "Assignee";
    FirstSeen => "首次发现", "First seen";
    Rules => "规则", "Rules";
    ClaimIds => "申领编号", "Claim ids";
    CaseDrill => "案件明细（按评分排序，点击展开证据）", "Case details (by score; click to open the evidence)";
    Explanation => "说明", "Explanation";
    Seq => "序号", "Seq";
    // Claim evidence.
    ClaimId => "申领编号", "Claim id";
    IdNumber => "身份证号", "ID number";
    Name => "姓名", "Name";
    Phone => "电话", "Phone";
    BankAccount => "银行账号", "Bank account";
    Category => "人员类别", "Category";
    Class => "培训班", "Class";
    SubsidyType => "补贴类型", "Subsidy type";
    Occupation => "职业", "Occupation";
    Level => "等级", "Level";
    Certificate => "证书", "Certificate";
    Amount => "金额（元）", "Amount (yuan)";
    LivingAmount => "生活费（元）", "Living allowance (yuan)";
    ClaimDate => "申领日期", "Claim date";
    LargeCaseNote => "；登记信息与共用联系方式的人员见 claimsweep cases show {id}",
        "; registers and persons sharing contacts: claimsweep cases show {id}";
    NotInLedger => "台账中已无此申领", "no longer in the ledger";
    Registry => "登记信息", "Registers";
    DeathDate => "死亡日期", "Death";
    PensionStart => "养老金开始", "Pension from";
    UiMonths => "失业保险缴费月数", "UI months";
    Poverty => "建档立卡", "Registered poor";
    StaffOf => "机构人员", "Staff of";
    LegalRepOf => "法定代表人", "Legal rep. of";
    Neighbours => "共用联系方式的其他人员", "Others sharing a phone or account";
    Via => "共用", "Via";
    History => "处理记录", "History";
    Yes => "是", "yes";
    // Rings.
    RingId => "团伙编号", "Ring";
    Members => "成员", "Members";
    MemberKind => "成员类型", "Member kind";
    Member => "成员", "Member";
    RingPicture => "团伙关系图", "Ring picture";
    KindPerson => "人员", "person";
    KindInstitution => "机构", "institution";
    KindPhone => "电话", "phone";
    KindBank => "银行账号", "bank account";
    KindCounty => "县区", "county";
    KindOther => "其他", "other";
    // Where to start, and the summary cards.
    SecStart => "从这里开始", "Start here";
    StartNote => "先核查涉及金额最大的机构和团伙，再核查金额最大的个人案件；点击进入证据。",
        "Check the institutions and rings with the most money at risk first, then the largest person cases; click for the evidence.";
    StartInstitutions => "机构（按涉及金额）", "Institutions (by money at risk)";
    StartRings => "团伙（按涉及金额）", "Rings (by money at risk)";
    StartPersons => "金额最大的个人案件", "Largest person cases";
    CardClaims => "申领", "Claims";
    CardAmountPaid => "补贴金额", "Amount paid";
    CardFlags => "疑点", "Flags";
    CardFlaggedClaims => "涉及申领", "Flagged claims";
    CardAtRisk => "涉及金额（去重）", "Amount at risk (distinct)";
    CardCases => "案件", "Cases";
    CardNewCases => "新增案件", "New cases";
    CardRings => "团伙", "Rings";
    UnitClaims => "笔", "claims";
    UnitFlags => "个", "flags";
    UnitCases => "件", "cases";
    UnitRings => "个", "rings";
    UnitWan => "万元", "×10k yuan";
    UnitYuan => "元", "yuan";
    Exactly => "精确值", "exactly";
    ShowIds => "展开", "show";
    IdsCapped => "仅列出前 {n} 个；完整列表见 Excel 报告或 claimsweep cases show",
        "only the first {n} are listed; the Excel report or claimsweep cases show has them all";
    EvidenceOfShown => "上表所列案件的疑点；全部案件的疑点见 Excel 报告",
        "The flags of the cases listed above; the Excel report has those of every case";
    RingsOfCase => "团伙图", "Ring pictures";
}

/// Name of a rule id (CONTRACT §2) and the graph's own case rules.
pub fn rule_name(rule: &str, lang: Lang) -> String {
    let (zh, en) = match rule {
        "ring" | "rings" => ("关联团伙", "ring"),
        "institution_risk" => ("机构风险", "institution risk"),
        other => crate::rules::rule_title(other).unwrap_or((other, other)),
    };
    lang.pick(zh, en).to_string()
}

/// A stored `funding_source` code as a label; an empty code is "(empty)".
pub fn fund_name(code: &str, lang: Lang) -> String {
    match FundingSource::parse(code) {
        Some(f) => lang.pick(f.zh(), f.code()).to_string(),
        None if code.is_empty() => L::Unknown.get(lang).to_string(),
        None => code.to_string(),
    }
}

/// A stored severity code (`high`, `medium`, `low`) as a label.
pub fn severity_name(code: &str, lang: Lang) -> String {
    let zh = match code {
        "high" => "高",
        "medium" => "中",
        "low" => "低",
        other => other,
    };
    lang.pick(zh, code).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RULE_IDS;

    #[test]
    fn every_rule_has_a_name_in_both_languages() {
        for rule in RULE_IDS {
            assert_ne!(
                rule_name(rule, Lang::Zh),
                *rule,
                "{rule} has no Chinese name"
            );
            assert_ne!(
                rule_name(rule, Lang::En),
                *rule,
                "{rule} has no English name"
            );
        }
    }

    #[test]
    fn labels_switch_language() {
        assert_eq!(L::SecSummary.get(Lang::Zh), "摘要");
        assert_eq!(L::SecSummary.get(Lang::En), "Summary");
        assert_eq!(fund_name("employment_fund", Lang::Zh), "就业补助资金");
        assert_eq!(fund_name("", Lang::En), "(empty)");
        assert_eq!(severity_name("high", Lang::Zh), "高");
    }
}
