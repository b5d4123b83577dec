//! The resolution stage, between the snapshot and the rules: what a sweep judges by.
//!
//! - [`persons`]: which ID numbers are one real person. Every person-level rule, the graph and
//!   the cases count resolved persons, not ID numbers.
//! - [`judging`]: which policy judges each claim (the one covering its training).
//!
//! Both are computed once per sweep ([`Resolved::new`]) and read by everything after.

pub mod judging;
pub mod persons;

pub use judging::{training_date, Judging};
pub use persons::Persons;

use crate::policy::PolicySet;
use crate::snapshot::Snapshot;

/// What a sweep resolved before judging.
#[derive(Debug, Default)]
pub struct Resolved {
    pub persons: Persons,
    pub judging: Judging,
}

impl Resolved {
    /// Resolves persons and the policy of every claim (the two side by side on the pool).
    pub fn new(snap: &Snapshot, policies: &PolicySet) -> Resolved {
        let (persons, judging) = rayon::join(
            || Persons::resolve(snap, policies),
            || Judging::new(snap, policies),
        );
        Resolved { persons, judging }
    }
}
