//! What to generate and what can go wrong: the options and the error of `generate`, used by
//! every part of the generator.

use std::path::PathBuf;

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// Number of claims (exact for N ≥ a few thousand; small runs may carry a few more).
    pub claims: u64,
    pub seed: u64,
    /// GBK files, Chinese headers, shuffled columns and value variants.
    pub messy: bool,
    /// Injection rate per rule (of claims, or of projects for project rules).
    pub rate: f64,
    /// The tables' files compressed as a whole (`claims.csv.zst`); the ground-truth files
    /// stay plain.
    pub compression: crate::compression::Compression,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            claims: 100_000,
            seed: 7,
            messy: false,
            rate: 0.01,
            compression: crate::compression::Compression::None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid option: {0}")]
    Options(String),
    #[error("the policy has no date range to generate claims in: {0}")]
    Policy(String),
}
