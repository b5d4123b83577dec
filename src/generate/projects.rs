//! Project-based classes (项目制培训): the trainees' claims, the project's amounts and the
//! employment spells its check date finds. The project rules (`prepay_excess`,
//! `employment_rate`, `employment_sham`) are injected here by kind of project, with their
//! benign look-alikes, rather than per claim (`inject.rs`).

use super::block::{add_days, BlockGen};
use crate::dates::Date;
use crate::model::{Fen, ProjectRow, SubsidyType};
use rand::Rng;

/// Kinds of project-based class.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ProjectKind {
    Normal,
    PrepayExcess,
    LowEmployment,
    ShamStaged,
    ShamSingle,
    ShamLinked,
    /// Benign look-alikes.
    ExactPrepay,
    ExactEmployment,
    SmallSingle,
    FewStaged,
}

/// Who of a project's trainees is employed on the check date, and where. Trainees are taken
/// in order: the first `employed` have a spell covering the check date, the first `staged` of
/// them a spell that starts just before it and ends just after; the first `linked_count` work
/// for `linked`, those below `single_count` for `single_employer`, the rest for employers of
/// their own.
struct Employment {
    employed: usize,
    staged: usize,
    single_employer: Option<String>,
    single_count: usize,
    linked: Option<String>,
    linked_count: usize,
}

/// The smallest count of `n` that reaches `share` percent.
fn need(n: usize, share: usize) -> usize {
    (n * share).div_ceil(100)
}

impl BlockGen<'_> {
    /// The project-based classes of a block: about `base` of them, some of each injected and
    /// benign kind.
    pub(super) fn projects(&mut self, base: f64) {
        let mut kinds = Vec::new();
        for kind in [ProjectKind::PrepayExcess, ProjectKind::LowEmployment] {
            for _ in 0..self.count(base) {
                kinds.push(kind);
            }
        }
        let sham = self.count(base);
        // Each of the three kinds of staged employment at least once when injecting at all.
        let sham = if self.rate > 0.0 && self.target >= 2_000 {
            sham.max(3)
        } else {
            sham
        };
        for i in 0..sham {
            kinds.push(
                [
                    ProjectKind::ShamStaged,
                    ProjectKind::ShamSingle,
                    ProjectKind::ShamLinked,
                ][i % 3],
            );
        }
        if self.target >= 2_000 {
            kinds.extend([
                ProjectKind::ExactPrepay,
                ProjectKind::ExactEmployment,
                ProjectKind::SmallSingle,
                ProjectKind::FewStaged,
            ]);
        }
        while kinds.len() < base as usize {
            kinds.push(ProjectKind::Normal);
        }
        for kind in kinds {
            self.project(kind);
        }
    }

    /// One project-based class of `kind` with its claims, amounts, spells and project row.
    fn project(&mut self, kind: ProjectKind) {
        let inst = self.rng.gen_range(0..self.w.institutions.len());
        let (ci, trainees, total) = self.project_claims(inst, kind);
        let n = trainees.len();
        let end = self.b.classes[ci].end_date;
        // Checks of classes ending late fall after the policy period: the class's start
        // decides the policy.
        let check = add_days(end, self.rng.gen_range(20..60));
        let pct: i64 = self.w.policy.project.prepay_max_percent as i64;
        let min_rate = self.w.policy.project.min_employment_rate_percent as usize;
        let prepaid_pct = match kind {
            ProjectKind::PrepayExcess => pct + self.rng.gen_range(1..=25),
            ProjectKind::ExactPrepay => pct,
            _ => pct - self.rng.gen_range(0..=15),
        };
        let prepaid = total * prepaid_pct / 100;
        let full = match kind {
            ProjectKind::PrepayExcess | ProjectKind::ExactPrepay => false,
            ProjectKind::Normal => self.rng.gen_bool(0.5),
            _ => true,
        };
        let plan = self.project_employment(kind, inst, n);
        self.project_spells(check, &trainees, &plan);
        let class_id = self.b.classes[ci].class_id.clone();
        if let Some(e) = &plan.single_employer {
            if kind == ProjectKind::ShamSingle {
                self.b.staged.push((e.clone(), class_id.clone()));
            }
        }
        if let Some(e) = &plan.linked {
            self.b.staged.push((e.clone(), class_id.clone()));
        }
        self.b.projects.push(ProjectRow {
            class_id,
            trainees: n as i32,
            employed_claimed: plan.employed.max(need(n, min_rate)) as i32,
            total_amount: total,
            prepaid_amount: prepaid,
            paid_amount: if full { total } else { prepaid },
            check_date: Some(check),
        });
    }

    /// A project-based class of institution `inst` and the claims of its trainees, each at
    /// the cap: (class index, trainees' person indices, total amount).
    fn project_claims(&mut self, inst: usize, kind: ProjectKind) -> (usize, Vec<usize>, Fen) {
        let t = [
            SubsidyType::LevelCert,
            SubsidyType::SpecialAbility,
            SubsidyType::NoLevelCert,
        ][self.rng.gen_range(0..3)];
        let ci = self.new_class(inst, t, None, true);
        let n: usize = match kind {
            ProjectKind::ExactEmployment => 20,
            ProjectKind::SmallSingle => 4,
            ProjectKind::FewStaged => 10,
            ProjectKind::ShamLinked => self.rng.gen_range(3..=20),
            _ => self.rng.gen_range(8..=30),
        };
        let mut trainees = Vec::with_capacity(n);
        let mut total: Fen = 0;
        for _ in 0..n {
            let pi = self.new_person();
            let end = self.b.classes[ci].end_date;
            let date = add_days(end, self.rng.gen_range(3..30)).min(self.w.range_end);
            let c = self.claim_as(pi, ci, date, pi);
            if let Some(cap) = self.cap_of(ci) {
                self.b.claims[c].amount = cap;
            }
            total += self.b.claims[c].amount;
            trainees.push(pi);
        }
        (ci, trainees, total)
    }

    /// How many of the `n` trainees of a project of `kind` at institution `inst` are
    /// employed, staged, or employed by one (or a linked) employer.
    fn project_employment(&mut self, kind: ProjectKind, inst: usize, n: usize) -> Employment {
        let min_rate = self.w.policy.project.min_employment_rate_percent as usize;
        let staged_pct = self
            .w
            .rules()
            .employment_sham
            .employment_sham
            .staged_min_percent as usize;
        let single_pct = self
            .w
            .rules()
            .employment_sham
            .employment_sham
            .single_employer_min_percent as usize;
        let employed = match kind {
            ProjectKind::LowEmployment => self.rng.gen_range(n * 3 / 10..need(n, min_rate)),
            ProjectKind::ExactEmployment => need(n, min_rate),
            _ => self.rng.gen_range(need(n, min_rate)..=n),
        };
        let staged = match kind {
            ProjectKind::ShamStaged => self
                .rng
                .gen_range(need(n, staged_pct)..=employed.max(need(n, staged_pct))),
            ProjectKind::FewStaged => need(n, staged_pct) - 1,
            ProjectKind::SmallSingle => employed,
            ProjectKind::ShamSingle => need(n, single_pct),
            _ => 0,
        };
        let single_employer = match kind {
            ProjectKind::ShamSingle | ProjectKind::SmallSingle => Some(self.random_employer()),
            _ => None,
        };
        let linked = if kind == ProjectKind::ShamLinked {
            Some(if self.rng.gen_bool(0.25) {
                self.w.institutions[inst].institution_id.clone()
            } else {
                self.w.linked_enterprise(inst, self.rng)
            })
        } else {
            None
        };
        let single_count = match kind {
            ProjectKind::ShamSingle => self
                .rng
                .gen_range(need(n, single_pct)..=employed.max(need(n, single_pct))),
            ProjectKind::SmallSingle => employed,
            _ => 0,
        };
        let linked_count = if linked.is_some() {
            1 + employed.min(3).saturating_sub(1)
        } else {
            0
        };
        Employment {
            employed,
            staged,
            single_employer,
            single_count,
            linked,
            linked_count,
        }
    }

    /// The employment spells of a project's trainees as `plan` says, seen from the check
    /// date; some of the unemployed worked once before it.
    fn project_spells(&mut self, check: Date, trainees: &[usize], plan: &Employment) {
        let sw = self
            .w
            .rules()
            .employment_sham
            .employment_sham
            .start_window_days as i32;
        let ew = self
            .w
            .rules()
            .employment_sham
            .employment_sham
            .end_window_days as i32;
        // Distinct employers for everyone else: no employer takes a share.
        let offset = self.rng.gen_range(0..self.w.employers.len());
        for (k, &pi) in trainees.iter().enumerate() {
            let id = self.persons[pi].id.clone();
            if k < plan.employed {
                let employer = if k < plan.linked_count {
                    plan.linked.clone().unwrap_or_default()
                } else if k < plan.single_count {
                    plan.single_employer.clone().unwrap_or_default()
                } else {
                    let e = (offset + k * 7) % self.w.employers.len();
                    self.w.employers[e].clone()
                };
                if k < plan.staged {
                    let start = add_days(check, -self.rng.gen_range(0..=sw));
                    let end = add_days(check, self.rng.gen_range(0..=ew));
                    self.spell(&id, &employer, start, Some(end));
                } else {
                    let start = add_days(check, -self.rng.gen_range(sw + 30..900));
                    let end = if self.rng.gen_bool(0.6) {
                        None
                    } else {
                        Some(add_days(check, self.rng.gen_range(ew + 30..900)))
                    };
                    self.spell(&id, &employer, start, end);
                }
            } else if self.rng.gen_bool(0.3) {
                // Worked once, but not on the check date.
                let employer = self.random_employer();
                let start = add_days(check, -self.rng.gen_range(400..900));
                let end = add_days(check, -self.rng.gen_range(1..200));
                self.spell(&id, &employer, start, Some(end));
            }
        }
    }
}
