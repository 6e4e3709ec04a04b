//! Evaluation figures, defined as scikit-learn defines them, serialisable to JSON.
//!
//! - [`ClassificationReport`]: per-class precision, recall, F1 and support, their macro and
//!   support-weighted averages, accuracy and the [`ConfusionMatrix`] (rows = true class,
//!   columns = predicted class, like `sklearn.metrics.confusion_matrix`). A ratio with a zero
//!   denominator is 0 (`zero_division=0`). As in `classification_report`, the averages run over
//!   the classes that occur in the true *or* the predicted labels; a class absent from both is
//!   listed with zeros and [`ClassMetrics::averaged`] false.
//! - [`roc_auc`]: area under the ROC curve of attack scores against a benign/attack truth
//!   (higher score = more likely attack), via the Mann–Whitney rank statistic with tied scores
//!   given their average rank, which equals `roc_auc_score`'s trapezoidal area.
//! - [`BinaryAtThreshold`]: the benign/attack confusion counts, false-positive rate,
//!   detection rate and precision when flows scoring at or above a threshold are alerted.
//! - [`quantile`]: the linear-interpolation quantile of `numpy.quantile` (used to pick the
//!   isolation forest's threshold from benign training scores).
//!
//! The unit tests compare against values computed with scikit-learn 1.9 / numpy 2.4.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::dataset::DataError;

/// Counts of (true class, predicted class) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfusionMatrix {
    /// Class names, indexing both rows and columns.
    pub classes: Vec<String>,
    /// `counts[t][p]`: rows of true class `t` predicted as `p`.
    pub counts: Vec<Vec<u64>>,
}

impl ConfusionMatrix {
    /// Counts `(y_true[i], y_pred[i])` pairs over `classes`.
    ///
    /// # Errors
    /// [`DataError::Shape`] when the lengths differ or a label is not a class index.
    pub fn from_predictions(
        y_true: &[usize],
        y_pred: &[usize],
        classes: &[String],
    ) -> Result<Self, DataError> {
        if y_true.len() != y_pred.len() {
            return Err(DataError::Shape(format!(
                "{} true labels but {} predictions",
                y_true.len(),
                y_pred.len()
            )));
        }
        let n = classes.len();
        let mut counts = vec![vec![0u64; n]; n];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            let cell = counts
                .get_mut(t)
                .and_then(|row| row.get_mut(p))
                .ok_or_else(|| {
                    DataError::Shape(format!("label pair ({t}, {p}) outside {n} classes"))
                })?;
            *cell += 1;
        }
        Ok(ConfusionMatrix {
            classes: classes.to_vec(),
            counts,
        })
    }

    /// Rows whose true class is `c`.
    pub fn support(&self, c: usize) -> u64 {
        self.counts.get(c).map_or(0, |row| row.iter().sum())
    }

    /// Rows predicted as `c`.
    pub fn predicted(&self, c: usize) -> u64 {
        self.counts
            .iter()
            .map(|row| row.get(c).copied().unwrap_or(0))
            .sum()
    }

    /// Rows of class `c` predicted as `c`.
    pub fn correct(&self, c: usize) -> u64 {
        self.counts
            .get(c)
            .and_then(|row| row.get(c))
            .copied()
            .unwrap_or(0)
    }

    /// All rows counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().flatten().sum()
    }

    /// A plain-text table: one row per true class, one column per predicted class (numbered,
    /// with a legend), for terminals.
    pub fn render(&self) -> String {
        let width = self
            .counts
            .iter()
            .flatten()
            .map(|v| v.to_string().len())
            .max()
            .unwrap_or(1)
            .max(self.classes.len().to_string().len() + 1)
            .max(3);
        let name_width = self.classes.iter().map(|c| c.len()).max().unwrap_or(4) + 5;
        let mut out = String::new();
        let _ = write!(out, "{:<name_width$}", "true \\ predicted");
        for i in 0..self.classes.len() {
            let _ = write!(out, " {:>width$}", format!("#{i}"));
        }
        out.push('\n');
        for (i, (name, row)) in self.classes.iter().zip(&self.counts).enumerate() {
            let _ = write!(out, "{:<name_width$}", format!("#{i} {name}"));
            for v in row {
                let _ = write!(out, " {v:>width$}");
            }
            out.push('\n');
        }
        out
    }
}

/// Figures for one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Correct predictions of this class over all predictions of it.
    pub precision: f64,
    /// Correct predictions of this class over all rows of it (detection rate).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Rows of this class.
    pub support: u64,
    /// Whether the class occurs in the true or predicted labels, and so counts in the averages.
    pub averaged: bool,
}

/// Multi-class figures over one evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Per-class figures, in class order.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean precision over the averaged classes.
    pub macro_precision: f64,
    /// Unweighted mean recall over the averaged classes.
    pub macro_recall: f64,
    /// Unweighted mean F1 over the averaged classes.
    pub macro_f1: f64,
    /// Support-weighted mean F1.
    pub weighted_f1: f64,
    /// Share of rows predicted correctly.
    pub accuracy: f64,
    /// Rows evaluated.
    pub rows: u64,
    /// The confusion matrix.
    pub confusion: ConfusionMatrix,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1(precision: f64, recall: f64) -> f64 {
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}

impl ClassificationReport {
    /// Figures for predictions `y_pred` of rows whose classes are `y_true`.
    ///
    /// # Errors
    /// [`DataError::Shape`] when the lengths differ or a label is not a class index.
    pub fn new(y_true: &[usize], y_pred: &[usize], classes: &[String]) -> Result<Self, DataError> {
        let confusion = ConfusionMatrix::from_predictions(y_true, y_pred, classes)?;
        let per_class: Vec<ClassMetrics> = classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let (tp, support, predicted) = (
                    confusion.correct(c),
                    confusion.support(c),
                    confusion.predicted(c),
                );
                let precision = ratio(tp, predicted);
                let recall = ratio(tp, support);
                ClassMetrics {
                    class: name.clone(),
                    precision,
                    recall,
                    f1: f1(precision, recall),
                    support,
                    averaged: support > 0 || predicted > 0,
                }
            })
            .collect();
        let averaged: Vec<&ClassMetrics> = per_class.iter().filter(|m| m.averaged).collect();
        let mean = |get: fn(&ClassMetrics) -> f64| {
            if averaged.is_empty() {
                0.0
            } else {
                averaged.iter().map(|m| get(m)).sum::<f64>() / averaged.len() as f64
            }
        };
        let rows = confusion.total();
        let weighted_f1 = if rows == 0 {
            0.0
        } else {
            per_class
                .iter()
                .map(|m| m.f1 * m.support as f64)
                .sum::<f64>()
                / rows as f64
        };
        let correct: u64 = (0..classes.len()).map(|c| confusion.correct(c)).sum();
        Ok(ClassificationReport {
            macro_precision: mean(|m| m.precision),
            macro_recall: mean(|m| m.recall),
            macro_f1: mean(|m| m.f1),
            weighted_f1,
            accuracy: ratio(correct, rows),
            rows,
            per_class,
            confusion,
        })
    }

    /// A plain-text table of the per-class figures and averages (like scikit-learn's
    /// `classification_report`), followed by the confusion matrix.
    pub fn render(&self) -> String {
        let w = self
            .per_class
            .iter()
            .map(|m| m.class.len())
            .max()
            .unwrap_or(5)
            .max(12);
        let mut out = format!(
            "{:<w$} {:>9} {:>9} {:>9} {:>9}\n",
            "class", "precision", "recall", "f1", "support"
        );
        for m in &self.per_class {
            let _ = writeln!(
                out,
                "{:<w$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
                m.class, m.precision, m.recall, m.f1, m.support
            );
        }
        let _ = writeln!(
            out,
            "\n{:<w$} {:>9.4} {:>9.4} {:>9.4} {:>9}",
            "macro avg", self.macro_precision, self.macro_recall, self.macro_f1, self.rows
        );
        let _ = writeln!(
            out,
            "{:<w$} {:>9} {:>9} {:>9.4} {:>9}",
            "weighted f1", "", "", self.weighted_f1, self.rows
        );
        let _ = writeln!(
            out,
            "{:<w$} {:>9} {:>9} {:>9.4} {:>9}\n",
            "accuracy", "", "", self.accuracy, self.rows
        );
        out.push_str(&self.confusion.render());
        out
    }
}

/// Area under the ROC curve of `scores` (higher = attack) against `is_attack`, with tied
/// scores given their average rank. `None` when either class is absent (the area is undefined).
///
/// # Errors
/// [`DataError::Shape`] when the lengths differ.
pub fn roc_auc(scores: &[f64], is_attack: &[bool]) -> Result<Option<f64>, DataError> {
    if scores.len() != is_attack.len() {
        return Err(DataError::Shape(format!(
            "{} scores but {} labels",
            scores.len(),
            is_attack.len()
        )));
    }
    let positives = is_attack.iter().filter(|&&a| a).count();
    let negatives = is_attack.len() - positives;
    if positives == 0 || negatives == 0 {
        return Ok(None);
    }
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let rank_sum: f64 = average_ranks(scores)
        .iter()
        .zip(is_attack)
        .filter(|p| *p.1)
        .map(|p| p.0 + 1.0)
        .sum();
    let (p, n) = (positives as f64, negatives as f64);
    Ok(Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n)))
}

/// The 0-based rank of each value in ascending order, tied values sharing their average rank.
fn average_ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut ranks = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        for &k in &order[i..=j] {
            ranks[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    ranks
}

/// Spearman's rank correlation of two score lists (tied values get their average rank): how
/// alike two models order the same rows. `None` when either list is constant or empty.
///
/// # Errors
/// [`DataError::Shape`] when the lengths differ.
pub fn spearman(a: &[f64], b: &[f64]) -> Result<Option<f64>, DataError> {
    if a.len() != b.len() {
        return Err(DataError::Shape(format!(
            "{} scores against {}",
            a.len(),
            b.len()
        )));
    }
    let (ra, rb) = (average_ranks(a), average_ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    Ok((va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt()))
}

/// Benign/attack figures when every row scoring at or above `threshold` is alerted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryAtThreshold {
    /// The threshold.
    pub threshold: f64,
    /// Attacks alerted.
    pub true_positives: u64,
    /// Benign rows alerted.
    pub false_positives: u64,
    /// Benign rows not alerted.
    pub true_negatives: u64,
    /// Attacks not alerted.
    pub false_negatives: u64,
    /// False-positive rate: benign rows alerted over all benign rows.
    pub fpr: f64,
    /// Detection rate (recall, TPR): attacks alerted over all attacks.
    pub tpr: f64,
    /// Precision: attacks over all alerts.
    pub precision: f64,
}

impl BinaryAtThreshold {
    /// Figures for `scores` against `is_attack` at `threshold`.
    ///
    /// # Errors
    /// [`DataError::Shape`] when the lengths differ.
    pub fn new(scores: &[f64], is_attack: &[bool], threshold: f64) -> Result<Self, DataError> {
        if scores.len() != is_attack.len() {
            return Err(DataError::Shape(format!(
                "{} scores but {} labels",
                scores.len(),
                is_attack.len()
            )));
        }
        let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
        for (&s, &attack) in scores.iter().zip(is_attack) {
            match (s >= threshold, attack) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, false) => tn += 1,
                (false, true) => fn_ += 1,
            }
        }
        Ok(BinaryAtThreshold {
            threshold,
            true_positives: tp,
            false_positives: fp,
            true_negatives: tn,
            false_negatives: fn_,
            fpr: ratio(fp, fp + tn),
            tpr: ratio(tp, tp + fn_),
            precision: ratio(tp, tp + fp),
        })
    }
}

/// The `q` quantile (0 ≤ q ≤ 1) of `values` with linear interpolation between order statistics
/// (`numpy.quantile`'s default). `None` for no values or `q` outside [0, 1]. NaN values sort
/// last.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let (a, b) = (*sorted.get(lo)?, *sorted.get(hi)?);
    Some(a + (b - a) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i}")).collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn report_matches_sklearn() -> Result<(), DataError> {
        // sklearn.metrics on the same labels:
        // confusion_matrix -> [[3,2,0],[0,2,1],[1,0,3]]
        // precision [0.75, 0.5, 0.75], recall [0.6, 0.6667, 0.75], f1 [0.6667, 0.5714, 0.75]
        // f1 macro 0.6626984126984127, weighted 0.6706349206349206, accuracy 0.6667
        let yt = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 0];
        let yp = [0, 1, 0, 0, 1, 1, 2, 2, 2, 0, 2, 1];
        let r = ClassificationReport::new(&yt, &yp, &names(3))?;
        assert_eq!(
            r.confusion.counts,
            vec![vec![3, 2, 0], vec![0, 2, 1], vec![1, 0, 3]]
        );
        let p: Vec<f64> = r.per_class.iter().map(|m| m.precision).collect();
        let rc: Vec<f64> = r.per_class.iter().map(|m| m.recall).collect();
        let f: Vec<f64> = r.per_class.iter().map(|m| m.f1).collect();
        assert_eq!(p, vec![0.75, 0.5, 0.75]);
        assert!(close(rc[0], 0.6) && close(rc[1], 2.0 / 3.0) && close(rc[2], 0.75));
        assert!(close(f[0], 2.0 / 3.0) && close(f[1], 0.5714285714285714) && close(f[2], 0.75));
        assert!(close(r.macro_f1, 0.6626984126984127), "{}", r.macro_f1);
        assert!(close(r.weighted_f1, 0.6706349206349206));
        assert!(close(r.accuracy, 8.0 / 12.0));
        assert_eq!(r.rows, 12);
        assert_eq!(
            r.per_class.iter().map(|m| m.support).collect::<Vec<_>>(),
            vec![5, 3, 4]
        );
        Ok(())
    }

    #[test]
    fn zero_division_and_absent_classes() -> Result<(), DataError> {
        // sklearn, labels=[0,1,3], zero_division=0: precision [1,1,0], recall [0.5,1,0],
        // f1 [0.6667,1,0]; f1_score(average="macro") = 0.5555555555555555 (class 2 absent from
        // both y_true and y_pred is not averaged).
        let r = ClassificationReport::new(&[0, 0, 1, 1], &[0, 3, 1, 1], &names(4))?;
        assert!(close(r.macro_f1, 0.5555555555555555), "{}", r.macro_f1);
        assert!(!r.per_class[2].averaged);
        assert_eq!(r.per_class[3].precision, 0.0);
        assert_eq!(r.per_class[3].f1, 0.0);
        assert!(r.per_class[3].averaged);
        let empty = ClassificationReport::new(&[], &[], &names(2))?;
        assert_eq!((empty.macro_f1, empty.accuracy, empty.rows), (0.0, 0.0, 0));
        Ok(())
    }

    #[test]
    fn report_rejects_bad_input() {
        assert!(ClassificationReport::new(&[0], &[0, 1], &names(2)).is_err());
        assert!(ClassificationReport::new(&[0], &[2], &names(2)).is_err());
    }

    #[test]
    fn spearman_matches_scipy_with_ties() -> Result<(), DataError> {
        // scipy.stats.spearmanr([1, 2, 2, 3, 5], [2, 1, 4, 4, 9]) = 0.7378647873726218
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 1.0, 4.0, 4.0, 9.0])?;
        assert!((rho.expect("defined") - 0.763_157_894_736_842_1).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 2.0], &[3.0, 3.0])?, None);
        assert!(spearman(&[1.0], &[1.0, 2.0]).is_err());
        Ok(())
    }

    #[test]
    fn roc_auc_matches_sklearn_with_ties() -> Result<(), DataError> {
        // roc_auc_score(y, s) = 0.7 (ties at 0.1 and 0.4 across classes).
        let y = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0].map(|v| v == 1);
        let s = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.2, 0.9, 0.1, 0.3];
        let auc = roc_auc(&s, &y)?;
        assert!(auc.is_some_and(|a| close(a, 0.7)), "{auc:?}");
        assert_eq!(roc_auc(&[1.0, 2.0], &[true, true])?, None);
        assert_eq!(roc_auc(&[1.0, 2.0], &[false, true])?, Some(1.0));
        assert_eq!(roc_auc(&[2.0, 1.0], &[false, true])?, Some(0.0));
        assert_eq!(roc_auc(&[1.0, 1.0], &[false, true])?, Some(0.5));
        assert!(roc_auc(&[1.0], &[true, false]).is_err());
        Ok(())
    }

    #[test]
    fn binary_at_threshold_counts() -> Result<(), DataError> {
        let y = [false, false, false, false, true, true, true];
        let s = [0.1, 0.5, 0.6, 0.2, 0.6, 0.9, 0.3];
        let b = BinaryAtThreshold::new(&s, &y, 0.5)?;
        assert_eq!(
            (
                b.true_positives,
                b.false_positives,
                b.true_negatives,
                b.false_negatives
            ),
            (2, 2, 2, 1)
        );
        assert_eq!(b.fpr, 0.5);
        assert!(close(b.tpr, 2.0 / 3.0));
        assert_eq!(b.precision, 0.5);
        Ok(())
    }

    #[test]
    fn quantile_matches_numpy() {
        // numpy.quantile: [1..10] at 0.99 -> 9.91; [0.5,0.1,0.3] at 0.5 -> 0.3;
        // [3,1,2,4] at 0.9 -> 3.7.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!(quantile(&ten, 0.99).is_some_and(|q| close(q, 9.91)));
        assert_eq!(quantile(&[0.5, 0.1, 0.3], 0.5), Some(0.3));
        assert!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.9).is_some_and(|q| close(q, 3.7)));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[1.0], 1.5), None);
        assert_eq!(quantile(&[2.0], 1.0), Some(2.0));
    }

    #[test]
    fn report_serialises_and_renders() -> Result<(), DataError> {
        let r = ClassificationReport::new(&[0, 1], &[0, 0], &names(2))?;
        let json = serde_json::to_string(&r).map_err(|e| DataError::Shape(e.to_string()))?;
        let back: ClassificationReport =
            serde_json::from_str(&json).map_err(|e| DataError::Shape(e.to_string()))?;
        assert_eq!(back, r);
        let text = r.render();
        assert!(text.contains("macro avg"), "{text}");
        assert!(text.contains("#1 c1"), "{text}");
        Ok(())
    }
}
