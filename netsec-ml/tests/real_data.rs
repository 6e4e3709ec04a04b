//! Both models on real data: the labelled CIC-IDS2017 sample (`../shared/data/flows`) and flows
//! extracted by netsec-core from real captures (`../shared/data/pcaps`), run end to end through
//! the pipeline with the detectors loaded from saved model files. Each test skips, saying why,
//! when its data is absent.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use netsec_core::capture::PcapReader;
use netsec_core::detect::Alert;
use netsec_core::flow::{FlowRecord, FlowTableConfig};
use netsec_core::pipeline::FlowPipeline;
use netsec_ml::cic::{load_cic, CicOptions};
use netsec_ml::context::FlowContext;
use netsec_ml::dataset::{Dataset, BENIGN};
use netsec_ml::inputs::{InputRow, INPUT_COUNT};
use netsec_ml::{
    load_detector, IsolationForestModel, IsolationForestParams, Model, ModelFile,
    RandomForestModel, RandomForestParams, Thresholds, TrainingMeta,
};

fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel)
}

/// `../shared/data/<rel>` relative to the repository root, if present.
fn data_dir(rel: &str) -> Option<PathBuf> {
    let p = shared(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} not found", p.display());
        None
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("netsec-ml-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// ROC-AUC of `scores` for `positive` labels; both classes must be present.
fn roc_auc(scores: &[f64], positive: &[bool]) -> f64 {
    netsec_ml::metrics::roc_auc(scores, positive)
        .expect("one label per score")
        .expect("both classes present")
}

/// Spearman's rank correlation; both score lists must vary.
fn spearman(a: &[f64], b: &[f64]) -> f64 {
    netsec_ml::metrics::spearman(a, b)
        .expect("same lengths")
        .expect("scores vary")
}

/// `x` rounded to 4 significant digits.
fn round4(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(3 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

fn as_rows(x: &Array2<f64>) -> Vec<InputRow> {
    x.rows()
        .into_iter()
        .map(|r| std::array::from_fn(|j| r[j]))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// CIC-IDS2017 sample

/// The sample read by `netsec_ml::cic::load_cic` (the CLI's reader), cut to stratified halves
/// of the first `per_class` rows of every class in file order: even rows train, odd rows test.
fn cic_halves(dir: &Path, per_class: usize) -> (Dataset, Dataset) {
    let (data, _) = load_cic(&[dir.to_path_buf()], CicOptions::default()).expect("reads");
    let mut seen = vec![0usize; data.class_names.len()];
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (i, &class) in data.labels.iter().enumerate() {
        let k = seen[class];
        seen[class] += 1;
        if k < per_class {
            let half = if k % 2 == 0 { &mut train } else { &mut test };
            half.push(i);
        }
    }
    let train = data.select(&train).expect("rows in range");
    let test = data.select(&test).expect("rows in range");
    (train, test)
}

#[test]
fn cic_sample_both_models_separate_attacks_and_survive_save_load() {
    let Some(dir) = data_dir("flows/cicids2017_improved_rnd2500") else {
        return;
    };
    let (train, test) = cic_halves(&dir, 160);
    assert!(train.class_names.len() >= 10, "{:?}", train.class_names);

    let forest = RandomForestParams {
        n_trees: 30,
        max_depth: Some(15),
        seed: 1,
        ..RandomForestParams::default()
    }
    .fit(&train)
    .expect("trains");
    let votes = forest.vote_rows(test.features.view()).expect("25 columns");
    let is_attack: Vec<bool> = test.labels.iter().map(|&l| l != 0).collect();
    let flagged = |i: usize| votes[i].attack_score >= 0.5;
    let attacks = is_attack.iter().filter(|a| **a).count();
    let benign = is_attack.len() - attacks;
    let caught = (0..votes.len())
        .filter(|&i| is_attack[i] && flagged(i))
        .count();
    let false_alarms = (0..votes.len())
        .filter(|&i| !is_attack[i] && flagged(i))
        .count();
    let exact = (0..votes.len())
        .filter(|&i| votes[i].class == test.labels[i])
        .count();
    let recall = caught as f64 / attacks as f64;
    let fpr = false_alarms as f64 / benign as f64;
    let accuracy = exact as f64 / votes.len() as f64;
    eprintln!(
        "CIC forest: attack recall {recall:.3}, benign FPR {fpr:.3}, class accuracy {accuracy:.3}"
    );
    assert!(recall > 0.9, "recall {recall}");
    assert!(fpr < 0.15, "FPR {fpr}");
    assert!(accuracy > 0.8, "accuracy {accuracy}");
    let auc_rf = roc_auc(
        &votes.iter().map(|v| v.attack_score).collect::<Vec<_>>(),
        &is_attack,
    );

    let benign_rows: Vec<usize> = (0..train.labels.len())
        .filter(|&i| train.labels[i] == 0)
        .collect();
    let benign_train = train.features.select(ndarray::Axis(0), &benign_rows);
    let iforest = IsolationForestParams::default()
        .seed(1)
        .fit_rows(benign_train.view())
        .expect("trains");
    let scores = iforest
        .score_rows(test.features.view())
        .expect("25 columns");
    let auc_if = roc_auc(&scores, &is_attack);
    eprintln!("CIC: forest ROC-AUC {auc_rf:.3}, isolation forest ROC-AUC {auc_if:.3}");
    assert!(auc_rf > 0.95, "{auc_rf}");
    assert!(auc_if > 0.75, "{auc_if}");

    // Cross-check on real rows: the extended-isolation-forest crate at extension level 0 (the
    // original algorithm), same training rows and sizes (ψ = 256 or the rows there are),
    // ranks the test rows alike. Both see the rows rounded to 4 significant digits: that crate
    // draws split points with an unseeded `Uniform::new(min, max)`, which can spin for a very
    // long time when min and max differ in the last bits (CIC rates such as 56.666…657 vs
    // 56.666…671); rounding makes such values equal, a case it handles.
    let (benign_q, test_q) = (benign_train.mapv(round4), test.features.mapv(round4));
    // Linear split draws, as that crate (and the paper) makes them.
    let ours_q = IsolationForestParams::default()
        .seed(1)
        .log_scale(false)
        .fit_rows(benign_q.view())
        .expect("trains");
    let scores_q = ours_q.score_rows(test_q.view()).expect("25 columns");
    let theirs = extended_isolation_forest::Forest::from_slice(
        &as_rows(&benign_q),
        &extended_isolation_forest::ForestOptions {
            n_trees: 100,
            sample_size: benign_q.nrows().min(256),
            max_tree_depth: None,
            extension_level: 0,
        },
    )
    .expect("trains");
    let their_scores: Vec<f64> = as_rows(&test_q).iter().map(|r| theirs.score(r)).collect();
    let rho = spearman(&scores_q, &their_scores);
    eprintln!("CIC: Spearman rank correlation with extended-isolation-forest {rho:.3}");
    assert!(rho >= 0.9, "{rho}");

    // Save, load, score again: identical.
    let dir = temp_dir("cic");
    let mut rf_file = ModelFile::new("cic-rf", "0.1.0", Model::RandomForest(forest));
    rf_file.training = TrainingMeta {
        seed: 1,
        source: "cicids2017_improved_rnd2500, 160 rows per class".into(),
        date: "2026-11-21".into(),
        ..TrainingMeta::default()
    };
    let if_file = ModelFile::new("cic-iforest", "0.1.0", Model::IsolationForest(iforest));
    let (rf_path, if_path) = (dir.join("rf.json"), dir.join("if.json"));
    rf_file.save(&rf_path).expect("saves");
    if_file.save(&if_path).expect("saves");
    let rf_back = ModelFile::load(&rf_path).expect("loads");
    let if_back = ModelFile::load(&if_path).expect("loads");
    assert_eq!(rf_back, rf_file);
    assert_eq!(if_back, if_file);
    let (Model::RandomForest(rf2), Model::IsolationForest(if2)) = (&rf_back.model, &if_back.model)
    else {
        panic!("kinds kept");
    };
    assert_eq!(rf2.vote_rows(test.features.view()).expect("width"), votes);
    assert_eq!(if2.score_rows(test.features.view()).expect("width"), scores);
    eprintln!(
        "CIC model files: forest {} bytes ({} nodes), isolation forest {} bytes",
        std::fs::metadata(&rf_path).expect("exists").len(),
        rf2.n_nodes(),
        std::fs::metadata(&if_path).expect("exists").len()
    );
    // A truncated copy is refused with a typed error.
    let bytes = std::fs::read(&rf_path).expect("readable");
    std::fs::write(&rf_path, &bytes[..bytes.len() * 2 / 3]).expect("writes");
    assert!(matches!(
        ModelFile::load(&rf_path),
        Err(netsec_ml::ModelError::Truncated(_))
    ));
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

// ---------------------------------------------------------------------------------------------
// Real captures through the pipeline

fn flows_of(path: &Path) -> Vec<FlowRecord> {
    let reader = PcapReader::open(path).expect("opens");
    let mut p = FlowPipeline::new(reader, FlowTableConfig::default()).expect("config");
    let mut out = Vec::new();
    // A damaged tail still yields the flows before it.
    let _ = p.run(|f| {
        out.push(f.clone());
        Ok::<(), ()>(())
    });
    out
}

/// Runs `detector_file` through the pipeline over `path`: (flows, alerts).
fn analyze(path: &Path, model: &Path) -> (usize, Vec<Alert>) {
    let detector = load_detector(model).expect("loads");
    let reader = PcapReader::open(path).expect("opens");
    let mut p = FlowPipeline::with_detectors(reader, FlowTableConfig::default(), vec![detector])
        .expect("config");
    let (mut flows, mut alerts) = (0, Vec::new());
    let _ = p.run_with_alerts(
        |_| {
            flows += 1;
            Ok::<(), ()>(())
        },
        |a| {
            alerts.push(a.clone());
            Ok(())
        },
    );
    (flows, alerts)
}

/// The `ALERTS.md` fields every ML alert carries.
fn check_alert(a: &Alert) {
    assert_eq!(a.tags, vec!["ml".to_string()]);
    assert!(a.flow_id.is_some() && a.src_ip.is_some() && a.protocol.is_some());
    assert!((0.0..=1.0).contains(&a.score));
    for key in [
        "detector",
        "model_name",
        "model_version",
        "confidence",
        "top_features",
    ] {
        assert!(a.meta.contains_key(key), "{key} missing: {:?}", a.meta);
    }
    let top = a.meta["top_features"].as_array().expect("array");
    assert!(!top.is_empty() && top.len() <= 3, "{top:?}");
    let name = top[0]["feature"].as_str().expect("name");
    assert!(
        netsec_ml::inputs::Input::all().any(|i| i.name() == name),
        "{name}"
    );
    assert!(a.description.contains("top features"), "{}", a.description);
}

fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    v.sort();
    v
}

#[test]
fn capture_flows_train_models_whose_detectors_flag_unseen_attacks() {
    let Some(pcaps) = data_dir("pcaps") else {
        return;
    };
    let benign = captures(&pcaps.join("benign"));
    // Alternate benign captures between training and testing.
    let (benign_train, benign_test): (Vec<_>, Vec<_>) =
        benign.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let attack_train = [
        "portscan_syn_nmap.pcapng",
        "synflood_spoofed_first5000.pcap",
    ];
    let attack_test = [
        "portscan_masscan_tcp.pcap",
        "ddos_syn_optack_samePort.pcapng",
    ];
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (_, p) in &benign_train {
        // Context counted per capture, as the detector counts it over its flows.
        let mut context = FlowContext::new();
        for f in flows_of(p) {
            x.extend_from_slice(&context.row(&f, &f.features()));
            y.push(0);
        }
    }
    let benign_flows = y.len();
    for name in attack_train {
        // Context counted per capture, as the detector counts it over its flows.
        let mut context = FlowContext::new();
        for f in flows_of(&pcaps.join("attacks").join(name)) {
            x.extend_from_slice(&context.row(&f, &f.features()));
            y.push(1);
        }
    }
    let attack_flows = y.len() - benign_flows;
    eprintln!("training flows: {benign_flows} benign, {attack_flows} attack");
    assert!(benign_flows > 100 && attack_flows > 1000);
    let data = Dataset {
        features: Array2::from_shape_vec((y.len(), INPUT_COUNT), x).expect("shape"),
        labels: y,
        class_names: vec![BENIGN.into(), "SYN probe".into()],
    };
    let forest: RandomForestModel = RandomForestParams {
        n_trees: 31,
        seed: 2,
        ..RandomForestParams::default()
    }
    .fit(&data)
    .expect("trains");
    let benign_x = data
        .features
        .select(ndarray::Axis(0), &(0..benign_flows).collect::<Vec<_>>());
    let iforest: IsolationForestModel = IsolationForestParams::default()
        .seed(2)
        .fit_rows(benign_x.view())
        .expect("trains");
    // The isolation forest alerts above the 99th percentile of its benign training scores.
    // (With context columns the unseen captures' busiest responders fall outside the range
    // of these few training captures more often: at the 95th, 150 of the 612 benign test
    // flows alerted; the shipped models calibrate by capture instead, see models/README.md.)
    let mut train_scores: Vec<f64> = as_rows(&benign_x)
        .iter()
        .map(|r| iforest.score(r))
        .collect();
    train_scores.sort_by(f64::total_cmp);
    let p99 = train_scores[train_scores.len() * 99 / 100];

    let dir = temp_dir("pcap");
    let rf_path = dir.join("rf.json");
    let if_path = dir.join("if.json");
    ModelFile::new("scan-rf", "0.1.0", Model::RandomForest(forest))
        .save(&rf_path)
        .expect("saves");
    let mut if_file = ModelFile::new("scan-iforest", "0.1.0", Model::IsolationForest(iforest));
    if_file.thresholds = Thresholds {
        alert: p99,
        medium: p99,
        high: p99.max(0.7),
        critical: p99.max(0.8),
    };
    if_file.save(&if_path).expect("saves");

    // Unseen SYN scans and floods (other tools, other hosts): nearly every flow alerted by the
    // forest. Their flows (one or two packets) sit among the short benign flows, so the
    // isolation forest rightly stays quiet on them.
    for name in attack_test {
        let (flows, alerts) = analyze(&pcaps.join("attacks").join(name), &rf_path);
        eprintln!(
            "{name}: {} of {flows} flows alerted by the forest",
            alerts.len()
        );
        assert!(alerts.len() as f64 >= 0.9 * flows as f64, "{name}");
        // Two classes and an odd number of trees: no ties, so every alert names the class.
        assert!(alerts.iter().all(|a| a.attack_type == "SYN_probe"));
        check_alert(&alerts[0]);
    }
    // Long tunnel and C2 sessions unlike any benign training flow: the isolation forest's
    // anomalies.
    let (mut flows, mut alerted) = (0, Vec::new());
    for name in [
        "dns_tunnel_iodine.pcap",
        "icmp_tunnel.pcap",
        "malware_ratinfected.pcapng",
    ] {
        let (f, a) = analyze(&pcaps.join("attacks").join(name), &if_path);
        flows += f;
        alerted.extend(a);
    }
    eprintln!(
        "tunnels and C2: {} of {flows} flows alerted by the isolation forest",
        alerted.len()
    );
    assert!(alerted.len() * 2 >= flows, "{}/{flows}", alerted.len());
    assert_eq!(alerted[0].attack_type, "Anomaly");
    check_alert(&alerted[0]);
    // Unseen benign captures: few alerts from either.
    for (model, max_rate) in [(&rf_path, 0.1), (&if_path, 0.15)] {
        let (mut flows, mut alerted) = (0, 0);
        for (_, p) in &benign_test {
            let (f, a) = analyze(p, model);
            flows += f;
            alerted += a.len();
        }
        eprintln!(
            "benign test captures: {alerted} of {flows} flows alerted by {}",
            model.display()
        );
        assert!(
            flows > 100 && (alerted as f64) < max_rate * flows as f64,
            "{alerted}/{flows}"
        );
    }
    std::fs::remove_dir_all(&dir).expect("cleanup");
}
