//! Seeded, stratified train/test splits and k-fold cross-validation.
//!
//! Both keep every class's share of the rows (as scikit-learn's `StratifiedShuffleSplit` and
//! `StratifiedKFold(shuffle=True)` do) and depend only on the labels and the seed: the same
//! labels and seed give the same indices on every machine, because rows are shuffled with
//! ChaCha8 (`rand_chacha`, whose output is fixed by its specification, unlike `StdRng`).
//! That is what lets `netsec eval` rebuild the exact held-out part a model was evaluated on
//! from the seed and fraction stored in its training metadata.
//!
//! Per class of `n` rows, a split puts `round(n × test_fraction)` rows in the test part, but at
//! least one and at most `n − 1` when `n ≥ 2` (so every class with two rows is both trained
//! and tested); a class with a single row goes to training.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dataset::DataError;

/// How a dataset was (or is to be) split: enough to rebuild the split.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    /// Seed of the shuffle.
    pub seed: u64,
    /// Share of every class held out for testing, in (0, 1).
    pub test_fraction: f64,
}

/// Row indices of the two parts of a split, each in ascending order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows to evaluate on.
    pub test: Vec<usize>,
}

/// Row indices of each class, in row order.
fn rows_by_class(labels: &[usize]) -> Vec<Vec<usize>> {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut by_class = vec![Vec::new(); classes];
    for (i, &l) in labels.iter().enumerate() {
        by_class[l].push(i);
    }
    by_class
}

/// Splits rows with `labels` (class indices) into a stratified train and test part.
///
/// # Errors
/// [`DataError::Split`] when `test_fraction` is not strictly between 0 and 1.
pub fn stratified_split(labels: &[usize], spec: SplitSpec) -> Result<Split, DataError> {
    let f = spec.test_fraction;
    if !(f > 0.0 && f < 1.0) {
        return Err(DataError::Split(format!(
            "test fraction {f} is not strictly between 0 and 1"
        )));
    }
    let counts: Vec<usize> = rows_by_class(labels)
        .iter()
        .map(|rows| {
            let n = rows.len();
            if n < 2 {
                0
            } else {
                ((n as f64 * f).round() as usize).clamp(1, n - 1)
            }
        })
        .collect();
    split_by_counts(labels, spec.seed, &counts)
}

/// The split [`stratified_split`] makes with `seed` when it holds out `test_counts[c]` rows of
/// class `c` (missing entries: 0). The shuffle does not depend on the counts, so the counts a
/// model's metadata records (rows per class of its test part) and the seed rebuild its split
/// exactly, whatever fraction produced them.
///
/// # Errors
/// [`DataError::Split`] when a count exceeds its class's rows.
pub fn split_by_counts(
    labels: &[usize],
    seed: u64,
    test_counts: &[usize],
) -> Result<Split, DataError> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut split = Split::default();
    for (class, mut rows) in rows_by_class(labels).into_iter().enumerate() {
        let n_test = test_counts.get(class).copied().unwrap_or(0);
        if n_test > rows.len() {
            return Err(DataError::Split(format!(
                "{n_test} test rows of class {class}, which has {}",
                rows.len()
            )));
        }
        if rows.is_empty() {
            continue;
        }
        rows.shuffle(&mut rng);
        split.test.extend_from_slice(&rows[..n_test]);
        split.train.extend_from_slice(&rows[n_test..]);
    }
    split.train.sort_unstable();
    split.test.sort_unstable();
    Ok(split)
}

/// `k` stratified folds: every row is in exactly one fold's `test` part, and each class's
/// rows are dealt round-robin over the folds after a seeded shuffle (the deal continues from
/// class to class, so fold sizes differ by at most one).
///
/// # Errors
/// [`DataError::Split`] when `k < 2` or `k` exceeds the number of rows.
pub fn stratified_kfold(labels: &[usize], k: usize, seed: u64) -> Result<Vec<Split>, DataError> {
    if k < 2 || k > labels.len() {
        return Err(DataError::Split(format!(
            "{k} folds over {} rows (need 2 ≤ k ≤ rows)",
            labels.len()
        )));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0usize; labels.len()];
    let mut next = 0;
    for mut rows in rows_by_class(labels) {
        rows.shuffle(&mut rng);
        for i in rows {
            fold_of[i] = next;
            next = (next + 1) % k;
        }
    }
    Ok((0..k)
        .map(|fold| {
            let (test, train): (Vec<usize>, Vec<usize>) =
                (0..labels.len()).partition(|&i| fold_of[i] == fold);
            Split { train, test }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Vec<usize> {
        // 100 benign, 30 of class 1, 7 of class 2, 1 of class 3.
        let mut l = vec![0; 100];
        l.extend([1; 30]);
        l.extend([2; 7]);
        l.push(3);
        l
    }

    fn count(idx: &[usize], labels: &[usize], class: usize) -> usize {
        idx.iter().filter(|&&i| labels[i] == class).count()
    }

    #[test]
    fn split_is_stratified_disjoint_and_complete() -> Result<(), DataError> {
        let l = labels();
        let s = stratified_split(
            &l,
            SplitSpec {
                seed: 7,
                test_fraction: 0.25,
            },
        )?;
        assert_eq!(count(&s.test, &l, 0), 25);
        assert_eq!(count(&s.test, &l, 1), 8); // round(7.5)
        assert_eq!(count(&s.test, &l, 2), 2); // round(1.75)
        assert_eq!(count(&s.test, &l, 3), 0); // a single row trains
        let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..l.len()).collect::<Vec<_>>());
        assert!(s.test.windows(2).all(|w| w[0] < w[1]));
        Ok(())
    }

    #[test]
    fn split_depends_on_seed_only() -> Result<(), DataError> {
        let l = labels();
        let spec = |seed| SplitSpec {
            seed,
            test_fraction: 0.3,
        };
        assert_eq!(
            stratified_split(&l, spec(1))?,
            stratified_split(&l, spec(1))?
        );
        assert_ne!(
            stratified_split(&l, spec(1))?,
            stratified_split(&l, spec(2))?
        );
        Ok(())
    }

    #[test]
    fn split_pinned_indices() -> Result<(), DataError> {
        // Pins the ChaCha8 stream: if this changes, shipped models' held-out sets change.
        let s = stratified_split(
            &[0, 0, 0, 0, 1, 1, 1, 1],
            SplitSpec {
                seed: 42,
                test_fraction: 0.5,
            },
        )?;
        assert_eq!(s.test.len(), 4);
        assert_eq!(s.test, vec![0, 2, 6, 7]);
        Ok(())
    }

    #[test]
    fn small_classes_keep_one_row_each_side() -> Result<(), DataError> {
        let l = [0, 0, 1, 1];
        for f in [0.01, 0.99] {
            let s = stratified_split(
                &l,
                SplitSpec {
                    seed: 0,
                    test_fraction: f,
                },
            )?;
            assert_eq!(count(&s.test, &l, 0), 1);
            assert_eq!(count(&s.test, &l, 1), 1);
        }
        Ok(())
    }

    #[test]
    fn counts_rebuild_the_split() -> Result<(), DataError> {
        let l = labels();
        let s = stratified_split(
            &l,
            SplitSpec {
                seed: 11,
                test_fraction: 0.2,
            },
        )?;
        let counts: Vec<usize> = (0..4).map(|c| count(&s.test, &l, c)).collect();
        assert_eq!(split_by_counts(&l, 11, &counts)?, s);
        assert_ne!(split_by_counts(&l, 12, &counts)?, s);
        assert!(split_by_counts(&l, 11, &[0, 0, 8]).is_err());
        Ok(())
    }

    #[test]
    fn bad_fraction_is_an_error() {
        for f in [0.0, 1.0, -0.5, f64::NAN] {
            let spec = SplitSpec {
                seed: 0,
                test_fraction: f,
            };
            assert!(stratified_split(&[0, 1], spec).is_err(), "{f}");
        }
    }

    #[test]
    fn kfold_partitions_rows_stratified() -> Result<(), DataError> {
        let l = labels();
        let folds = stratified_kfold(&l, 5, 3)?;
        assert_eq!(folds.len(), 5);
        let mut seen = vec![0; l.len()];
        for f in &folds {
            assert_eq!(f.train.len() + f.test.len(), l.len());
            for &i in &f.test {
                seen[i] += 1;
            }
            assert_eq!(count(&f.test, &l, 0), 20);
            assert_eq!(count(&f.test, &l, 1), 6);
            let n = f.test.len();
            assert!((27..=28).contains(&n), "{n}");
        }
        assert!(seen.iter().all(|&s| s == 1));
        assert_eq!(folds, stratified_kfold(&l, 5, 3)?);
        assert!(stratified_kfold(&l, 1, 0).is_err());
        assert!(stratified_kfold(&[0, 1], 3, 0).is_err());
        Ok(())
    }
}
