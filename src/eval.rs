//! Precision and recall of a sweep against ground truth (`labels.csv`: `claim_id,rule`, one
//! row per claim and rule it truly breaks).
//!
//! Scoring is at the (claim, rule) level: a claim counts as flagged for a rule if it is in any
//! flag of that rule. Per rule: labelled, flagged, true positives, precision = tp / flagged,
//! recall = tp / labelled (undefined when the denominator is 0), and micro totals over all
//! pairs.

use crate::rules::RULE_IDS;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{file}: 无法读取标签文件 / cannot read labels file: {source}")]
    Io {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: PathBuf,
        line: u64,
        message: String,
    },
}

/// The labelled (rule, claim id) pairs, without duplicates.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Labels {
    pub pairs: BTreeSet<(String, String)>,
}

impl Labels {
    /// Reads `labels.csv`: a header naming `claim_id` and `rule` (any order, other columns
    /// ignored; a UTF-8 BOM is fine), then one row per pair. An unknown rule id, an empty cell
    /// or a malformed row is an error naming the file and line.
    pub fn load(path: &Path) -> Result<Labels, EvalError> {
        let bytes = std::fs::read(path).map_err(|source| EvalError::Io {
            file: path.to_path_buf(),
            source,
        })?;
        Labels::parse(&bytes, path)
    }

    /// As [`Labels::load`], from bytes; `file` is only used in messages.
    pub fn parse(bytes: &[u8], file: &Path) -> Result<Labels, EvalError> {
        let invalid = |line: u64, message: String| EvalError::Invalid {
            file: file.to_path_buf(),
            line,
            message,
        };
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(bytes);
        let headers = rdr
            .headers()
            .map_err(|e| invalid(1, format!("header: {e}")))?
            .clone();
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let (Some(claim_col), Some(rule_col)) = (col("claim_id"), col("rule")) else {
            return Err(invalid(
                1,
                "header must name the columns claim_id and rule".into(),
            ));
        };
        let mut pairs = BTreeSet::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                invalid(line, e.to_string())
            })?;
            let line = rec.position().map_or(0, |p| p.line());
            let claim = rec.get(claim_col).unwrap_or("").trim();
            let rule = rec.get(rule_col).unwrap_or("").trim();
            if claim.is_empty() || rule.is_empty() {
                return Err(invalid(line, "empty claim_id or rule".into()));
            }
            if !RULE_IDS.contains(&rule) {
                return Err(invalid(line, format!("unknown rule id {rule:?}")));
            }
            pairs.insert((rule.to_string(), claim.to_string()));
        }
        Ok(Labels { pairs })
    }
}

/// One rule's scores.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleScore {
    pub rule: String,
    pub labelled: usize,
    pub flagged: usize,
    pub true_positives: usize,
    /// `None` when nothing was flagged.
    pub precision: Option<f64>,
    /// `None` when nothing was labelled.
    pub recall: Option<f64>,
}

impl RuleScore {
    fn new(rule: String, labelled: usize, flagged: usize, tp: usize) -> RuleScore {
        let ratio = |n: usize, d: usize| (d > 0).then(|| n as f64 / d as f64);
        RuleScore {
            rule,
            labelled,
            flagged,
            true_positives: tp,
            precision: ratio(tp, flagged),
            recall: ratio(tp, labelled),
        }
    }

    pub fn false_positives(&self) -> usize {
        self.flagged - self.true_positives
    }

    pub fn false_negatives(&self) -> usize {
        self.labelled - self.true_positives
    }
}

/// Scores of every rule (CONTRACT §2 order, then any other rule id flagged) and the micro total.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalReport {
    pub rules: Vec<RuleScore>,
    pub total: RuleScore,
}

/// Compares flagged (rule, claim id) pairs (duplicates allowed) with the labels.
pub fn evaluate<'a>(
    labels: &Labels,
    flagged: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> EvalReport {
    let flagged: BTreeSet<(&str, &str)> = flagged.into_iter().collect();
    // rule → (labelled, flagged, tp)
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    for (rule, claim) in &labels.pairs {
        let e = counts.entry(rule.as_str()).or_default();
        e.0 += 1;
        if flagged.contains(&(rule.as_str(), claim.as_str())) {
            e.2 += 1;
        }
    }
    for (rule, _) in &flagged {
        counts.entry(rule).or_default().1 += 1;
    }
    let extra: Vec<&str> = counts
        .keys()
        .copied()
        .filter(|r| !RULE_IDS.contains(r))
        .collect();
    let rules: Vec<RuleScore> = RULE_IDS
        .iter()
        .copied()
        .chain(extra)
        .map(|r| {
            let (l, f, tp) = counts.get(r).copied().unwrap_or_default();
            RuleScore::new(r.to_string(), l, f, tp)
        })
        .collect();
    let sum = |k: fn(&RuleScore) -> usize| rules.iter().map(k).sum::<usize>();
    let total = RuleScore::new(
        "total".into(),
        sum(|r| r.labelled),
        sum(|r| r.flagged),
        sum(|r| r.true_positives),
    );
    EvalReport { rules, total }
}

/// `0.987` or `-` when undefined. Truncated, not rounded: `1.000` means exactly 1, so a
/// single miss in 30 000 still shows as `0.999`.
pub fn ratio_text(r: Option<f64>) -> String {
    r.map_or_else(
        || "-".to_string(),
        |v| format!("{:.3}", (v * 1000.0 + 1e-9).floor() / 1000.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> Labels {
        Labels::parse(text.as_bytes(), Path::new("labels.csv")).unwrap()
    }

    #[test]
    fn scores_count_claim_rule_pairs() {
        let l = labels("claim_id,rule\nC1,over_cap\nC2,over_cap\nC3,deceased\nC1,over_cap\n");
        let flagged = [
            ("over_cap", "C1"),
            ("over_cap", "C1"),
            ("over_cap", "C9"),
            ("deceased", "C3"),
        ];
        let r = evaluate(&l, flagged);
        let over = r.rules.iter().find(|s| s.rule == "over_cap").unwrap();
        assert_eq!(
            (over.labelled, over.flagged, over.true_positives),
            (2, 2, 1)
        );
        assert_eq!((over.precision, over.recall), (Some(0.5), Some(0.5)));
        let none = r.rules.iter().find(|s| s.rule == "multi_id").unwrap();
        assert_eq!((none.precision, none.recall), (None, None));
        assert_eq!(ratio_text(none.precision), "-");
        assert_eq!(ratio_text(Some(30_000.0 / 30_006.0)), "0.999");
        assert_eq!(ratio_text(Some(1.0)), "1.000");
        assert_eq!(ratio_text(Some(0.6)), "0.600");
        assert_eq!(
            (r.total.labelled, r.total.flagged, r.total.true_positives),
            (3, 3, 2)
        );
        assert_eq!(r.rules.len(), RULE_IDS.len());
    }

    #[test]
    fn bad_labels_name_file_and_line() {
        let e = Labels::parse(
            b"claim_id,rule\nC1,over_cap\nC2,no_such_rule\n",
            Path::new("l.csv"),
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "l.csv:3: unknown rule id \"no_such_rule\"");
        let e = Labels::parse(b"id,rule\n", Path::new("l.csv")).unwrap_err();
        assert!(e.to_string().starts_with("l.csv:1:"), "{e}");
        let e = Labels::parse(b"claim_id,rule\nC1\n", Path::new("l.csv")).unwrap_err();
        assert!(e.to_string().starts_with("l.csv:2:"), "{e}");
    }

    #[test]
    fn bom_and_column_order_are_accepted() {
        let l = labels("\u{feff}rule,claim_id\ndeceased,C7\n");
        assert!(l
            .pairs
            .contains(&("deceased".to_string(), "C7".to_string())));
    }
}
