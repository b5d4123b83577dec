//! `shared_contact` (being built).
use super::{Flag, RuleContext};

pub fn run(_ctx: &RuleContext) -> Vec<Flag> {
    Vec::new()
}
