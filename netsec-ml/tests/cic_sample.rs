//! The CIC loader, split and training on the real improved CIC-IDS2017 sample.

mod common;

use netsec_core::features::Feature;
use netsec_ml::cic::{load_cic, CicOptions};
use netsec_ml::model::ModelKind;
use netsec_ml::split::{stratified_split, SplitSpec};
use netsec_ml::train::{train, TrainConfig};

type Result = std::result::Result<(), Box<dyn std::error::Error>>;

/// Class counts from the sample's README.
const COUNTS: [(&str, usize); 16] = [
    ("BENIGN", 2500),
    ("DDoS", 2500),
    ("DoS GoldenEye", 2500),
    ("DoS Hulk", 2500),
    ("DoS Slowloris", 2500),
    ("DoS Slowhttptest", 1740),
    ("FTP-Patator", 2500),
    ("SSH-Patator", 2500),
    ("Portscan", 2500),
    ("Infiltration - Portscan", 2500),
    ("Botnet", 736),
    ("Infiltration", 36),
    ("Web Attack - Brute Force", 73),
    ("Web Attack - XSS", 18),
    ("Web Attack - SQL Injection", 13),
    ("Heartbleed", 11),
];

#[test]
fn sample_loads_with_readme_counts() -> Result {
    let Some(dir) = common::cic_sample() else {
        return Ok(());
    };
    let (data, report) = load_cic(std::slice::from_ref(&dir), CicOptions::default())?;
    assert_eq!(data.len(), 25_127);
    assert_eq!(report.rows, 25_127);
    // 16 class files plus the header-only data_header_reference.csv.
    assert_eq!(report.files.len(), 17);
    assert_eq!(data.class_names[0], "BENIGN");
    let summary = data.class_summary();
    for (class, rows) in COUNTS {
        let found = summary.iter().find(|c| c.class == class).map(|c| c.rows);
        assert_eq!(found, Some(rows), "{class}");
    }
    assert_eq!(summary.len(), 16);
    assert!(data.features.iter().all(|v| v.is_finite() && *v >= 0.0));
    // The sample is clean: nothing replaced; act_data_pkt_fwd corrected where every forward
    // packet carried payload (see the cic module docs).
    assert_eq!(
        (report.non_finite_replaced, report.negatives_clamped),
        (0, 0)
    );
    assert_eq!(report.act_data_corrected, 2_650);
    let act = Feature::FwdActDataPkts.index();
    let fwd = Feature::TotFwdPkts.index();
    assert!(data.features.rows().into_iter().all(|r| r[act] <= r[fwd]));
    // Same files, same digest.
    let (again, _) = load_cic(&[dir], CicOptions::default())?;
    assert_eq!(again.digest(), data.digest());
    Ok(())
}

#[test]
fn split_of_the_sample_is_stratified() -> Result {
    let Some(dir) = common::cic_sample() else {
        return Ok(());
    };
    let (data, _) = load_cic(&[dir], CicOptions::default())?;
    let split = stratified_split(
        &data.labels,
        SplitSpec {
            seed: 42,
            test_fraction: 0.2,
        },
    )?;
    let test = data.select(&split.test)?;
    let counts = test.class_counts();
    for (c, name) in data.class_names.iter().enumerate() {
        let all = data.class_counts()[c];
        let expected = ((all as f64 * 0.2).round() as usize).clamp(1, all - 1);
        assert_eq!(counts[c], expected, "{name}");
    }
    assert_eq!(split.train.len() + split.test.len(), data.len());
    Ok(())
}

#[test]
fn small_models_learn_the_sample() -> Result {
    let Some(dir) = common::cic_sample() else {
        return Ok(());
    };
    let (all, _) = load_cic(&[dir], CicOptions::default())?;
    // A stratified quarter of the sample and a deliberately small forest (debug builds are
    // slow); the shipped 100-tree model reaches a macro-F1 of about 0.99 on the whole sample.
    let quarter = stratified_split(
        &all.labels,
        SplitSpec {
            seed: 1,
            test_fraction: 0.25,
        },
    )?;
    let data = all.select(&quarter.test)?;
    let mut cfg = TrainConfig::new(ModelKind::RandomForest);
    cfg.seed = 42;
    cfg.forest.n_trees = 5;
    cfg.forest.max_depth = Some(10);
    let rf = train(&data, &cfg, &mut |_| {})?;
    let f1 = rf.report.classification.macro_f1;
    assert!(f1 > 0.8, "macro-F1 {f1}");
    assert_eq!(rf.report.rows, rf.split.test.len() as u64);

    let mut cfg = TrainConfig::new(ModelKind::IsolationForest);
    cfg.seed = 42;
    let iforest = train(&data, &cfg, &mut |_| {})?;
    let auc = iforest.report.binary.roc_auc.unwrap_or(0.0);
    assert!(auc > 0.75, "ROC-AUC {auc}");
    // The threshold keeps the held-out benign false-positive rate near the 1 % target.
    let fpr = iforest.report.binary.at_threshold.fpr;
    assert!(fpr < 0.05, "FPR {fpr}");
    Ok(())
}
