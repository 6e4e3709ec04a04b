//! The models shipped in `models/` load, score, record how their thresholds were chosen, and
//! agree with their committed per-capture evaluation (`models/train.sh` rebuilds all of it
//! byte for byte).

mod common;

use netsec_ml::grouped::{config_of, GroupedReport};
use netsec_ml::inputs::INPUT_COUNT;
use netsec_ml::model::{Model, ModelFile, ModelKind};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn shipped(
    name: &str,
) -> std::result::Result<(ModelFile, GroupedReport), Box<dyn std::error::Error>> {
    let dir = common::repo().join("models");
    let file = ModelFile::load(dir.join(format!("{name}.json")))?;
    let report: GroupedReport =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.eval.json")))?)?;
    Ok((file, report))
}

#[test]
fn shipped_models_load_score_and_record_their_calibration() -> Result {
    for (name, kind) in [
        ("rf-default", ModelKind::RandomForest),
        ("iforest-default", ModelKind::IsolationForest),
    ] {
        let (file, report) = shipped(name)?;
        assert_eq!(file.kind(), kind);
        assert_eq!((file.name.as_str(), file.version.as_str()), (name, "3"));
        assert_eq!(file.training.seed, 42);
        assert_eq!(file.training.date, "2026-12-06");
        // The threshold is the calibrated one, and the report is of the same recipe.
        let cal = file.training.calibration.as_ref().ok_or("no calibration")?;
        assert_eq!(file.thresholds.alert, cal.threshold);
        assert_eq!(report.threshold, cal.threshold);
        assert_eq!(config_of(&file).as_ref(), Some(&report.config));
        assert_eq!(cal.benign_captures, 109);
        assert_eq!(cal.benign_captures_alerting, report.benign_captures.hit);
        // The budget: at most 5 of the 109 benign captures raise any alert.
        assert!(
            report.benign_captures.hit <= 5,
            "{name}: {:?}",
            report.benign_captures
        );
        assert!(file.training.feature_bins.is_some());
        // No capture is reported twice (each was held out once).
        let mut names: Vec<&str> = report.captures.iter().map(|c| c.capture.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), report.captures.len());
        let t = file.thresholds;
        assert!(0.0 < t.alert && t.alert <= t.high && t.high <= t.critical && t.critical <= 1.0);
        // Scores are in 0..=1 for any row, extreme ones included.
        for row in [[0.0; INPUT_COUNT], [1e12; INPUT_COUNT]] {
            let s = match &file.model {
                Model::RandomForest(m) => m.attack_score(&row),
                Model::IsolationForest(m) => m.score(&row),
            };
            assert!((0.0..=1.0).contains(&s), "{s}");
        }
    }
    // The other two targets, out of fold: the forest names the right family for at
    // least 80 % of the attack captures, the isolation forest separates benign from attack
    // flows with ROC-AUC at least 0.90.
    let (rf, rf_report) = shipped("rf-default")?;
    let attacks = &rf_report.attack_captures;
    assert!(attacks.hit * 5 >= attacks.total * 4, "{attacks:?}");
    let (_, if_report) = shipped("iforest-default")?;
    let auc = if_report.roc_auc.ok_or("no ROC-AUC")?;
    assert!(auc >= 0.90, "{auc}");
    assert_eq!(
        rf.model.class_names(),
        [
            "BENIGN",
            "Portscan",
            "DoS_SYN_Flood",
            "DDoS_Amplification",
            "UDP_Flood",
            "Brute_Force"
        ]
    );
    Ok(())
}
