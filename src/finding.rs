//! What a sweep finds, on the ground floor: the [`Flag`] every rule returns and the store, the
//! graph and the cases read, the kinds of subject a flag or a case is about, and the rule
//! families cases are keyed by. Shared by every stage from the rules up, so none of them
//! imports another for these types.

use crate::model::Fen;
use crate::policy::Severity;
use crate::text::Lang;

/// One finding: a rule, its subject, the claims it concerns, the money at risk and an
/// explanation a person can check by hand (Chinese and English).
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub rule: &'static str,
    pub subject_kind: FlagSubject,
    pub subject: String,
    /// Snapshot claim indices, sorted ascending, unique.
    pub claims: Vec<u32>,
    pub amount_at_risk: Fen,
    pub severity: Severity,
    pub explanation_zh: String,
    pub explanation_en: String,
}

/// One flag as the stages after the rules read it (the graph's risk ranking, cases, the
/// money totals): everything but its explanations, which are stored by then.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlagRef<'a> {
    pub rule: &'static str,
    pub subject_kind: FlagSubject,
    pub subject: &'a str,
    /// Snapshot claim indices, sorted ascending, unique.
    pub claims: &'a [u32],
    pub amount_at_risk: Fen,
    pub severity: Severity,
}

/// A sweep's flags in order, kept whole ([`Flag`]s, as the rules return them) or compactly
/// ([`FlagTable`], as a sweep keeps them once their explanations are stored).
pub trait Flags {
    fn count(&self) -> usize;
    /// The `k`-th flag (`k < count()`).
    fn flag(&self, k: usize) -> FlagRef<'_>;
    fn each(&self) -> impl Iterator<Item = FlagRef<'_>> {
        (0..self.count()).map(|k| self.flag(k))
    }
}

impl Flag {
    pub fn view(&self) -> FlagRef<'_> {
        FlagRef {
            rule: self.rule,
            subject_kind: self.subject_kind,
            subject: &self.subject,
            claims: &self.claims,
            amount_at_risk: self.amount_at_risk,
            severity: self.severity,
        }
    }
}

impl Flags for [Flag] {
    fn count(&self) -> usize {
        self.len()
    }
    fn flag(&self, k: usize) -> FlagRef<'_> {
        self[k].view()
    }
}

// An array (`&[]`, `&[flag]`) and a `Vec` read as the slice they hold.
impl<const N: usize> Flags for [Flag; N] {
    fn count(&self) -> usize {
        self.as_slice().count()
    }
    fn flag(&self, k: usize) -> FlagRef<'_> {
        self.as_slice().flag(k)
    }
}

impl Flags for Vec<Flag> {
    fn count(&self) -> usize {
        self.as_slice().count()
    }
    fn flag(&self, k: usize) -> FlagRef<'_> {
        self.as_slice().flag(k)
    }
}

/// Flags in columns: about 50 bytes a flag where a [`Flag`] (its struct, subject and claim
/// list) took about 160 with its explanations gone, at ten million claims 1.6 million flags
/// held through the rules, the graph analysis and the case input (the sweep's three
/// near-peak steps).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlagTable {
    /// Index into `rule_names`, per flag.
    rules: Vec<u16>,
    rule_names: Vec<&'static str>,
    kinds: Vec<FlagSubject>,
    severities: Vec<Severity>,
    amounts: Vec<Fen>,
    /// Subjects end to end; flag `k`'s is `subjects[subject_ends[k-1]..subject_ends[k]]`.
    /// Offsets are 32-bit (16 M flags at 100 M claims: 0.25 GB less than `usize`); the
    /// subjects of 100 M claims' flags take about 0.35 GB of the 4 GiB they can address.
    subjects: String,
    subject_ends: Vec<u32>,
    /// Claim lists end to end, delimited like the subjects.
    claims: Vec<u32>,
    claim_ends: Vec<u32>,
}

/// `len` as a 32-bit end offset of a [`FlagTable`] column.
fn end_offset(len: usize) -> u32 {
    u32::try_from(len).expect("a flag table column holds fewer than 4 Gi items")
}

impl FlagTable {
    pub fn new() -> Self {
        FlagTable::default()
    }

    /// Every flag of `flags`, in order.
    pub fn from_flags(flags: &[Flag]) -> Self {
        let mut t = FlagTable::new();
        flags.iter().for_each(|f| t.push(f.view()));
        t
    }

    pub fn push(&mut self, f: FlagRef<'_>) {
        let rule = match self.rule_names.iter().position(|&r| r == f.rule) {
            Some(k) => k,
            None => {
                self.rule_names.push(f.rule);
                self.rule_names.len() - 1
            }
        };
        self.rules
            .push(u16::try_from(rule).expect("fewer than 65536 rules"));
        self.kinds.push(f.subject_kind);
        self.severities.push(f.severity);
        self.amounts.push(f.amount_at_risk);
        self.subjects.push_str(f.subject);
        self.subject_ends.push(end_offset(self.subjects.len()));
        self.claims.extend_from_slice(f.claims);
        self.claim_ends.push(end_offset(self.claims.len()));
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Flags for FlagTable {
    fn count(&self) -> usize {
        self.len()
    }
    fn flag(&self, k: usize) -> FlagRef<'_> {
        let span = |ends: &[u32]| {
            let from = if k == 0 { 0 } else { ends[k - 1] as usize };
            from..ends[k] as usize
        };
        FlagRef {
            rule: self.rule_names[self.rules[k] as usize],
            subject_kind: self.kinds[k],
            subject: &self.subjects[span(&self.subject_ends)],
            claims: &self.claims[span(&self.claim_ends)],
            amount_at_risk: self.amounts[k],
            severity: self.severities[k],
        }
    }
}

/// What a flag is about (CONTRACT §2, `flags.subject_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlagSubject {
    /// A resolved person: its smallest ID number.
    Person,
    /// A person in one year: `id_number:year`.
    PersonYear,
    /// One claim: its claim id.
    Claim,
    /// A phone number or bank account.
    Contact,
    /// A project-based class: its class id.
    Project,
}

impl FlagSubject {
    pub const ALL: [FlagSubject; 5] = [
        FlagSubject::Person,
        FlagSubject::PersonYear,
        FlagSubject::Claim,
        FlagSubject::Contact,
        FlagSubject::Project,
    ];

    /// The code stored in `flags.subject_kind`.
    pub const fn code(self) -> &'static str {
        match self {
            FlagSubject::Person => "person",
            FlagSubject::PersonYear => "person_year",
            FlagSubject::Claim => "claim",
            FlagSubject::Contact => "contact",
            FlagSubject::Project => "project",
        }
    }

    pub fn parse(code: &str) -> Option<FlagSubject> {
        FlagSubject::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// What a case is about (`cases.subject_kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CaseSubject {
    Person,
    Class,
    Contact,
    Ring,
    Institution,
}

impl CaseSubject {
    pub const ALL: [CaseSubject; 5] = [
        CaseSubject::Person,
        CaseSubject::Class,
        CaseSubject::Contact,
        CaseSubject::Ring,
        CaseSubject::Institution,
    ];

    /// The code stored in `cases.subject_kind`.
    pub const fn code(self) -> &'static str {
        match self {
            CaseSubject::Person => "person",
            CaseSubject::Class => "class",
            CaseSubject::Contact => "contact",
            CaseSubject::Ring => "ring",
            CaseSubject::Institution => "institution",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            CaseSubject::Person => "人员",
            CaseSubject::Class => "培训班",
            CaseSubject::Contact => "联系方式",
            CaseSubject::Ring => "团伙",
            CaseSubject::Institution => "机构",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.zh(), self.code())
    }

    pub fn parse(code: &str) -> Option<CaseSubject> {
        CaseSubject::ALL.into_iter().find(|k| k.code() == code)
    }
}

/// Rule family: cases are keyed by subject and family, so that an identity problem and an
/// eligibility problem of one person are reviewed (and decided) separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    Identity,
    Eligibility,
    Project,
    /// Shared contacts and rings.
    Network,
    /// Institution risk from the graph.
    Institution,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Identity,
        Family::Eligibility,
        Family::Project,
        Family::Network,
        Family::Institution,
    ];

    /// The code stored in `cases.rule_family`.
    pub const fn code(self) -> &'static str {
        match self {
            Family::Identity => "identity",
            Family::Eligibility => "eligibility",
            Family::Project => "project",
            Family::Network => "network",
            Family::Institution => "institution",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Family::Identity => "身份",
            Family::Eligibility => "资格与标准",
            Family::Project => "项目制",
            Family::Network => "关联网络",
            Family::Institution => "机构风险",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.zh(), self.code())
    }

    pub fn parse(code: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.code() == code)
    }
}

/// Review status of a case (`cases.status`, `case_history.from_status`/`to_status`): here
/// and not in `cases`, because the store writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Open,
    InReview,
    Confirmed,
    Dismissed,
    Escalated,
    /// An inspector's confirmation waiting for a supervisor (four eyes on confirmed fraud).
    PendingApproval,
    /// A confirmation a supervisor sent back to its inspector.
    Returned,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Open,
        Status::InReview,
        Status::Confirmed,
        Status::Dismissed,
        Status::Escalated,
        Status::PendingApproval,
        Status::Returned,
    ];
    /// Closed: nobody needs to act (a supervisor may reopen it with a reason).
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Confirmed | Status::Dismissed)
    }
    pub fn code(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InReview => "in_review",
            Status::Confirmed => "confirmed",
            Status::Dismissed => "dismissed",
            Status::Escalated => "escalated",
            Status::PendingApproval => "pending_approval",
            Status::Returned => "returned",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Status::Open => "待处理",
            Status::InReview => "核查中",
            Status::Confirmed => "已确认",
            Status::Dismissed => "已排除",
            Status::Escalated => "已移送",
            Status::PendingApproval => "待审批",
            Status::Returned => "已退回",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.zh(), self.code())
    }
    /// Accepts the English code or the Chinese label.
    pub fn parse(s: &str) -> Option<Status> {
        let s = s.trim();
        Status::ALL.into_iter().find(|st| {
            st.code().eq_ignore_ascii_case(s)
                || st.zh() == s
                || (s == "in-review" && *st == Status::InReview)
        })
    }
}

/// How a case stands in one sweep compared with the sweep before (`case_sweeps.change`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    New,
    Persisting,
    Reopened,
    Resolved,
}

impl Change {
    pub fn code(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Persisting => "persisting",
            Change::Reopened => "reopened",
            Change::Resolved => "resolved",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Change::New => "新发现",
            Change::Persisting => "持续存在",
            Change::Reopened => "重新打开",
            Change::Resolved => "已消失",
        }
    }
    pub fn label(self, lang: Lang) -> &'static str {
        lang.pick(self.zh(), self.code())
    }
    pub fn parse(s: &str) -> Option<Change> {
        [
            Change::New,
            Change::Persisting,
            Change::Reopened,
            Change::Resolved,
        ]
        .into_iter()
        .find(|c| c.code() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_table_reads_back_every_flag_in_order() {
        let flag = |rule: &'static str, subject: &str, claims: Vec<u32>, amount: Fen| Flag {
            rule,
            subject_kind: if claims.len() > 1 {
                FlagSubject::Person
            } else {
                FlagSubject::Claim
            },
            subject: subject.to_string(),
            claims,
            amount_at_risk: amount,
            severity: if amount > 100 {
                Severity::High
            } else {
                Severity::Low
            },
            explanation_zh: "说明".into(),
            explanation_en: "why".into(),
        };
        let flags = vec![
            flag("over_cap", "371302199001010019", vec![3, 5, 9], 300),
            flag("deceased", "SQ1", vec![0], 100),
            flag("over_cap", "", vec![], 0),
            flag("multi_id", "张伟", vec![u32::MAX - 1], 7),
        ];
        let table = FlagTable::from_flags(&flags);
        assert_eq!(table.count(), 4);
        let read: Vec<FlagRef> = table.each().collect();
        let whole: Vec<FlagRef> = flags.each().collect();
        assert_eq!(read, whole);
        assert_eq!(table.rule_names, ["over_cap", "deceased", "multi_id"]);
        assert_eq!(table.flag(2).subject, "");
        assert!(table.flag(2).claims.is_empty());
    }

    #[test]
    fn codes_parse_back() {
        for k in FlagSubject::ALL {
            assert_eq!(FlagSubject::parse(k.code()), Some(k));
        }
        for k in CaseSubject::ALL {
            assert_eq!(CaseSubject::parse(k.code()), Some(k));
        }
        for f in Family::ALL {
            assert_eq!(Family::parse(f.code()), Some(f));
        }
        assert_eq!(Family::parse("other"), None);
    }
}
