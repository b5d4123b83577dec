//! claimsweep: finds fraud and duplicate claims in subsidised vocational-training ledgers.
//!
//! The stages, in the order data flows (see ARCHITECTURE.md):
//! input → store → snapshot → rules → graph → cases → report.
//! `generate` writes synthetic ledgers with ground truth; `cli` holds one file per subcommand.

pub mod cases;
pub mod cli;
pub mod compression;
pub mod dates;
pub mod eval;
pub mod finding;
pub mod generate;
pub mod graph;
pub mod handoff;
pub mod idcode;
pub mod input;
pub mod intern;
pub mod memory;
pub mod model;
pub mod money;
pub mod names;
pub mod output;
pub mod policy;
pub mod refdata;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod serve;
pub mod snapshot;
pub mod store;
pub mod sweep;
pub mod text;
