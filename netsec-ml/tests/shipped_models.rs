//! The models shipped in `models/` load, score, and reproduce their committed evaluation.

mod common;

use netsec_core::features::FEATURE_COUNT;
use netsec_ml::cic::{load_cic, CicOptions};
use netsec_ml::evaluate::{evaluate, held_out_rows, EvalReport, EvalRows, DIGEST_PREFIX};
use netsec_ml::model::{Model, ModelFile, ModelKind};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

fn shipped(name: &str) -> std::result::Result<(ModelFile, EvalReport), Box<dyn std::error::Error>> {
    let dir = common::repo().join("models");
    let file = ModelFile::load(dir.join(format!("{name}.json")))?;
    let report: EvalReport =
        serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.eval.json")))?)?;
    Ok((file, report))
}

#[test]
fn shipped_models_load_and_score() -> Result {
    let (rf, rf_report) = shipped("rf-default")?;
    assert_eq!(rf.kind(), ModelKind::RandomForest);
    assert_eq!((rf.name.as_str(), rf.version.as_str()), ("rf-default", "1"));
    assert_eq!(rf.model.class_names().len(), 16);
    assert_eq!(rf.training.seed, 42);
    assert_eq!(rf.training.date, "2026-11-21");
    assert!(rf.training.data_digest.starts_with(DIGEST_PREFIX));
    assert_eq!(rf_report.model.name, "rf-default");
    assert!(rf_report.classification.macro_f1 > 0.95);

    let (iforest, if_report) = shipped("iforest-default")?;
    assert_eq!(iforest.kind(), ModelKind::IsolationForest);
    // Same data, same digest and split as the forest.
    assert_eq!(iforest.training.data_digest, rf.training.data_digest);
    assert_eq!(iforest.training.rows["test"], rf.training.rows["test"]);
    assert!(if_report.binary.roc_auc.is_some_and(|a| a > 0.8));
    let t = iforest.thresholds;
    assert!(0.0 < t.alert && t.alert <= t.high && t.high <= t.critical && t.critical <= 1.0);

    // Scores are in 0..=1 for any row, extreme ones included.
    for row in [[0.0; FEATURE_COUNT], [1e12; FEATURE_COUNT]] {
        let s = match &rf.model {
            Model::RandomForest(m) => m.attack_score(&row),
            Model::IsolationForest(_) => f64::NAN,
        };
        assert!((0.0..=1.0).contains(&s), "{s}");
        let s = match &iforest.model {
            Model::IsolationForest(m) => m.score(&row),
            Model::RandomForest(_) => f64::NAN,
        };
        assert!(s > 0.0 && s <= 1.0, "{s}");
    }
    Ok(())
}

#[test]
fn shipped_reports_are_reproduced_from_the_model_files() -> Result {
    let Some(dir) = common::cic_sample() else {
        return Ok(());
    };
    let (data, _) = load_cic(&[dir], CicOptions::default())?;
    for name in ["rf-default", "iforest-default"] {
        let (file, committed) = shipped(name)?;
        let split = held_out_rows(&file, &data)?;
        let test = data.select(&split.test)?;
        let report = evaluate(
            &file,
            &test,
            EvalRows::HeldOut {
                seed: file.training.seed,
                of_rows: data.len() as u64,
            },
            format!("{DIGEST_PREFIX}{}", data.digest()),
        )?;
        assert_eq!(report, committed, "{name}");
    }
    Ok(())
}
