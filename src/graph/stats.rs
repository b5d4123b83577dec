//! Two tests an auditor knows, as pure functions.
//!
//! - Benford's first-digit test: observed shares of first digits 1–9 against log10(1 + 1/d),
//!   summarised by the mean absolute deviation (MAD) and judged with Nigrini's first-digit bands
//!   (close conformity, acceptable, marginal, nonconformity), whose limits come from the policy.
//! - Bunching at a threshold: under a smooth distribution as many declared rates fall just
//!   below a threshold T as just above it. Rates in [T, T + w) are compared with [T − w, T):
//!   with n rates in the two windows, `above` is Binomial(n, ½) without bunching, and
//!   z = (above − below) / √n is its one-sided normal score.

use serde::Serialize;

/// Nigrini's conformity bands for first digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Conformity {
    Close,
    Acceptable,
    Marginal,
    Nonconformity,
}

impl Conformity {
    pub fn code(self) -> &'static str {
        match self {
            Conformity::Close => "close",
            Conformity::Acceptable => "acceptable",
            Conformity::Marginal => "marginal",
            Conformity::Nonconformity => "nonconformity",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Conformity::Close => "高度符合",
            Conformity::Acceptable => "可接受",
            Conformity::Marginal => "勉强符合",
            Conformity::Nonconformity => "不符合",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenfordTest {
    /// Amounts tested (positive values).
    pub n: u64,
    pub distinct: u64,
    /// counts[d - 1] = amounts whose first digit is d.
    pub counts: [u64; 9],
    pub expected_share: [f64; 9],
    pub mad: f64,
    pub conformity: Conformity,
}

/// Benford's expected share of first digit d (1..=9).
pub fn benford_expected(d: u32) -> f64 {
    (1.0 + 1.0 / d as f64).log10()
}

/// First significant digit of a positive integer amount.
pub fn first_digit(mut v: i64) -> Option<u32> {
    if v <= 0 {
        return None;
    }
    while v >= 10 {
        v /= 10;
    }
    Some(v as u32)
}

/// The first-digit test on positive values; MAD bands: `close` ≤ a < `acceptable` ≤ b <
/// `nonconformity` < c (each limit inclusive on its lower band). `None` without values.
pub fn benford(
    values: impl Iterator<Item = i64>,
    close: f64,
    acceptable: f64,
    nonconformity: f64,
) -> Option<BenfordTest> {
    let mut counts = [0u64; 9];
    let mut seen: Vec<i64> = Vec::new();
    for v in values {
        if let Some(d) = first_digit(v) {
            counts[d as usize - 1] += 1;
            seen.push(v);
        }
    }
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return None;
    }
    seen.sort_unstable();
    seen.dedup();
    let expected_share: [f64; 9] = std::array::from_fn(|i| benford_expected(i as u32 + 1));
    let mad = (0..9)
        .map(|i| (counts[i] as f64 / n as f64 - expected_share[i]).abs())
        .sum::<f64>()
        / 9.0;
    let conformity = if mad <= close {
        Conformity::Close
    } else if mad <= acceptable {
        Conformity::Acceptable
    } else if mad <= nonconformity {
        Conformity::Marginal
    } else {
        Conformity::Nonconformity
    };
    Some(BenfordTest {
        n,
        distinct: seen.len() as u64,
        counts,
        expected_share,
        mad,
        conformity,
    })
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BunchingTest {
    pub threshold_percent: u32,
    pub window_percent: u32,
    /// Rates in [T, T + w).
    pub above: u64,
    /// Rates in [T − w, T).
    pub below: u64,
    pub z: f64,
    pub significant: bool,
    /// Indices (into the caller's list) of the rates just above the threshold.
    pub above_items: Vec<usize>,
}

/// Bunching of rates `employed / trainees` (as integer pairs, exact comparisons) just above
/// `threshold_percent`. Pairs with no trainees are skipped. Significant when the two windows
/// hold at least `min_n` rates and z ≥ `min_z`.
pub fn bunching(
    rates: &[(i64, i64)],
    threshold_percent: u32,
    window_percent: u32,
    min_n: u32,
    min_z: f64,
) -> BunchingTest {
    let t = threshold_percent as i64;
    let w = window_percent as i64;
    let (mut above, mut below) = (0u64, 0u64);
    let mut above_items = Vec::new();
    for (i, &(employed, trainees)) in rates.iter().enumerate() {
        if trainees <= 0 {
            continue;
        }
        let r = employed * 100;
        if t * trainees <= r && r < (t + w) * trainees {
            above += 1;
            above_items.push(i);
        } else if (t - w) * trainees <= r && r < t * trainees {
            below += 1;
        }
    }
    let n = above + below;
    let z = if n == 0 {
        0.0
    } else {
        (above as f64 - below as f64) / (n as f64).sqrt()
    };
    BunchingTest {
        threshold_percent,
        window_percent,
        above,
        below,
        z,
        significant: n >= min_n as u64 && z >= min_z,
        above_items,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_digits() {
        assert_eq!(first_digit(123_456), Some(1));
        assert_eq!(first_digit(9), Some(9));
        assert_eq!(first_digit(0), None);
        assert_eq!(first_digit(-5), None);
    }

    #[test]
    fn exact_benford_counts_conform_closely() {
        // 10,000 values with first-digit counts rounded from Benford's shares.
        let mut values = Vec::new();
        for d in 1..=9u32 {
            let k = (benford_expected(d) * 10_000.0).round() as i64;
            values.extend((0..k).map(|j| d as i64 * 1000 + j % 1000));
        }
        let t = benford(values.into_iter(), 0.006, 0.012, 0.015).unwrap();
        assert!(t.mad < 0.001, "{}", t.mad);
        assert_eq!(t.conformity, Conformity::Close);
    }

    #[test]
    fn uniform_first_digits_do_not_conform() {
        let values = (1..=9i64).flat_map(|d| (0..100).map(move |j| d * 100 + j));
        let t = benford(values, 0.006, 0.012, 0.015).unwrap();
        // Uniform shares (1/9) against Benford: MAD = mean of abs(1/9 - log10(1 + 1/d)) ≈ 0.0597.
        assert!((t.mad - 0.0597).abs() < 0.0005, "{}", t.mad);
        assert_eq!(t.conformity, Conformity::Nonconformity);
        assert_eq!(t.n, 900);
    }

    #[test]
    fn bunching_boundaries_are_exact() {
        // 85/100 is above (T inclusive), 90/100 is outside [85, 90), 80/100 is below.
        let b = bunching(
            &[(85, 100), (90, 100), (80, 100), (84, 100), (0, 0)],
            85,
            5,
            1,
            0.0,
        );
        assert_eq!((b.above, b.below), (1, 2));
        assert_eq!(b.above_items, vec![0]);
    }
}
