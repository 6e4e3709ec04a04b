//! The SQLite store on a real file with the alerts and flows of a real run: idempotent writes,
//! the API's filters, the status history, persistence across reopening, and retention.

use std::path::{Path, PathBuf};

use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::config::SensorConfig;
use netsec_core::detect::{AlertStatus, RunId, Severity};
use netsec_core::time::Timestamp;
use netsec_server::storage::{AlertQuery, Batch, Retention, SqliteStore, Store, StoreError};

/// A fresh directory for one test's database.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("netsec-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The alerts and flows of the bundled sample through the default sensor, with a rule that
/// fires on every TCP packet to port 443 so there are many alerts.
fn sample_batch(run: u64) -> Batch {
    let mut config = SensorConfig::default();
    config.rules.inline.push(
        r#"alert tcp any any -> any 443 (msg:"to 443"; classtype:misc-activity; sid:1;)"#.into(),
    );
    let mut sensor = config.check().expect("checks").build().expect("sensor");
    sensor.set_run_id(RunId::from_tag(run));
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic.pcap");
    let mut reader = PcapReader::open(&path).expect("bundled sample");
    while let Ok(Some(frame)) = reader.next_packet() {
        sensor.push(&frame);
    }
    sensor.finish();
    Batch {
        sensor: "test-sensor".into(),
        run: RunId::from_tag(run),
        alerts: sensor.drain_alerts().collect(),
        flows: sensor.drain_flows().collect(),
    }
}

#[test]
fn writes_are_idempotent_and_survive_reopening() {
    let dir = scratch("idempotent");
    let db = dir.join("netsec.db");
    let batch = sample_batch(1);
    assert!(batch.alerts.len() > 50 && batch.flows.len() > 900);
    {
        let mut store = SqliteStore::open(&db).expect("opens");
        let first = store.write(&batch).expect("writes");
        assert_eq!(
            (first.alerts, first.flows),
            (batch.alerts.len(), batch.flows.len())
        );
        let again = store.write(&batch).expect("writes");
        assert_eq!(
            (again.alerts, again.flows),
            (0, 0),
            "a retried batch never duplicates"
        );
        // Another run of the same capture: new ids, new flow keys.
        let other = sample_batch(2);
        let third = store.write(&other).expect("writes");
        assert_eq!(third.alerts, other.alerts.len());
    }
    let store = SqliteStore::open(&db).expect("reopens");
    assert!(store.integrity_ok().expect("checks"));
    assert_eq!(store.schema_version().expect("version"), 5);
    let counts = store.counts().expect("counts");
    assert_eq!(counts.alerts as usize, 2 * batch.alerts.len());
    assert_eq!(counts.flows as usize, 2 * batch.flows.len());
    // Every stored alert reads back exactly as it went in.
    for a in &batch.alerts {
        assert_eq!(store.alert(&a.id).expect("reads").as_ref(), Some(a));
    }
    // An alert's flow is the flow of its own run with its flow id, even though the second
    // run stored flows with the same ids.
    let mut with_flow = 0;
    for a in &batch.alerts {
        let flow = store.alert_flow(&a.id).expect("reads");
        match a.flow_id {
            Some(id) => {
                let f = flow.expect("the alert's flow is stored");
                assert_eq!(f.flow_id, id);
                assert_eq!(f.run, format!("{:010x}", 1));
                assert!(Some(f.src_ip) == a.src_ip || Some(f.dst_ip) == a.src_ip);
                with_flow += 1;
            }
            None => assert!(flow.is_none()),
        }
    }
    assert!(with_flow > 50, "{with_flow}");
    assert!(store.alert_flow("01NOSUCHALERT").expect("reads").is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn listings_filter_newest_first() {
    let mut store = SqliteStore::open_in_memory().expect("opens");
    let batch = sample_batch(3);
    store.write(&batch).expect("writes");
    let all = store.alerts(&AlertQuery::default()).expect("lists");
    assert_eq!(all.len(), batch.alerts.len().min(1000));
    assert!(all.windows(2).all(|w| w[0].timestamp >= w[1].timestamp));
    let high = store
        .alerts(&AlertQuery {
            min_severity: Some(Severity::High),
            ..AlertQuery::default()
        })
        .expect("lists");
    let want = batch
        .alerts
        .iter()
        .filter(|a| a.severity >= Severity::High)
        .count();
    assert_eq!(high.len(), want);
    let scan = &batch
        .alerts
        .iter()
        .find(|a| a.detector == "port_scan")
        .expect("the sample has a port scan");
    let by_src = store
        .alerts(&AlertQuery {
            src_ip: scan.src_ip,
            detector: Some("port_scan".into()),
            ..AlertQuery::default()
        })
        .expect("lists");
    assert_eq!(by_src, vec![(*scan).clone()]);
    let few = store
        .alerts(&AlertQuery {
            limit: Some(5),
            since: Some(all[10].timestamp),
            ..AlertQuery::default()
        })
        .expect("lists");
    assert_eq!(few.len(), 5);
    assert_eq!(few[0], all[0]);
}

#[test]
fn status_changes_are_recorded() {
    let mut store = SqliteStore::open_in_memory().expect("opens");
    let batch = sample_batch(4);
    store.write(&batch).expect("writes");
    let id = &batch.alerts[0].id;
    let at = Timestamp::from_micros(1_800_000_000_000_000);
    let change = store
        .set_status(id, AlertStatus::Acknowledged, "ana", Some("looking"), at)
        .expect("updates")
        .expect("the alert exists");
    assert_eq!(
        (change.from, change.to),
        (AlertStatus::New, AlertStatus::Acknowledged)
    );
    store
        .set_status(id, AlertStatus::Resolved, "ana", None, at.add_micros(1))
        .expect("updates");
    let history = store.history(id).expect("reads");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].from, AlertStatus::Acknowledged);
    assert_eq!(history[0].note.as_deref(), Some("looking"));
    assert_eq!(
        store.alert(id).expect("reads").expect("exists").status,
        AlertStatus::Resolved
    );
    assert!(store
        .set_status("no-such-id", AlertStatus::Resolved, "ana", None, at)
        .expect("no error")
        .is_none());
}

#[test]
fn retention_by_age_and_by_size() {
    let dir = scratch("retention");
    let mut store = SqliteStore::open(&dir.join("netsec.db")).expect("opens");
    for run in 10..16 {
        store.write(&sample_batch(run)).expect("writes");
    }
    let before = store.counts().expect("counts");
    let full = store.size_bytes().expect("size");
    // By age: the sample spans 5 s; keep the last 2.
    let last = store.alerts(&AlertQuery::default()).expect("lists")[0].timestamp;
    let report = store
        .retain(
            &Retention {
                max_age_us: Some(2_000_000),
                max_bytes: None,
            },
            last,
        )
        .expect("retains");
    assert!(report.alerts > 0 && report.flows > 0, "{report:?}");
    let oldest = store
        .alerts(&AlertQuery {
            until: Some(last.add_micros(-2_000_000)),
            ..AlertQuery::default()
        })
        .expect("lists");
    assert!(
        oldest.is_empty(),
        "nothing older than the age limit is left"
    );
    // By size: half of what it held.
    let limit = full / 2;
    let report = store
        .retain(
            &Retention {
                max_age_us: None,
                max_bytes: Some(limit),
            },
            last,
        )
        .expect("retains");
    assert!(report.bytes <= limit, "{report:?} over {limit}");
    // The file itself shrinks too (freed pages go back to the file system).
    let file = std::fs::metadata(dir.join("netsec.db"))
        .expect("file")
        .len();
    assert!(file <= limit + (64 << 10), "file {file} over {limit}");
    let after = store.counts().expect("counts");
    assert!(after.alerts < before.alerts && after.flows < before.flows);
    assert!(store.integrity_ok().expect("checks"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_database_from_a_newer_netsec_is_refused() {
    let dir = scratch("newer");
    let db = dir.join("netsec.db");
    drop(SqliteStore::open(&db).expect("opens"));
    let conn = rusqlite::Connection::open(&db).expect("opens");
    conn.execute_batch("PRAGMA user_version = 99")
        .expect("sets");
    drop(conn);
    match SqliteStore::open(&db) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            known: 5,
        }) => {}
        other => panic!("{other:?}"),
    }
    std::fs::write(dir.join("not.db"), b"this is not a database, just text").expect("write");
    assert!(SqliteStore::open(&dir.join("not.db")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_writer_commits_everything_queued_and_merges_bursts() {
    use netsec_server::storage::StoreWriter;
    use std::sync::atomic::Ordering;
    let dir = scratch("writer");
    let db = dir.join("netsec.db");
    let batch = sample_batch(20);
    let writer = StoreWriter::spawn(Box::new(SqliteStore::open(&db).expect("opens")), 8);
    // The run in small pieces, as a sensor hands them over batch by batch.
    for (alerts, flows) in batch.alerts.chunks(7).zip(batch.flows.chunks(50)) {
        let piece = Batch {
            sensor: batch.sensor.clone(),
            run: batch.run,
            alerts: alerts.to_vec(),
            flows: flows.to_vec(),
        };
        writer.send(piece).expect("writer alive");
    }
    writer.flush();
    let stats = writer.stats();
    let pieces = batch.alerts.chunks(7).zip(batch.flows.chunks(50)).count() as u64;
    assert!(stats.transactions.load(Ordering::Relaxed) <= pieces);
    let store = writer.close().expect("no write failed");
    let counts = store.counts().expect("counts");
    let want_flows = batch
        .flows
        .chunks(50)
        .take(pieces as usize)
        .map(<[_]>::len)
        .sum::<usize>();
    let want_alerts = batch
        .alerts
        .chunks(7)
        .take(pieces as usize)
        .map(<[_]>::len)
        .sum::<usize>();
    assert_eq!(
        (counts.alerts as usize, counts.flows as usize),
        (want_alerts, want_flows)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The child side of the crash test: writes batches of 100 alerts to the database named in
/// `NETSEC_CRASH_DB` until killed. Does nothing in a normal test run.
#[test]
fn crash_child_writes_until_killed() {
    let Ok(db) = std::env::var("NETSEC_CRASH_DB") else {
        return;
    };
    let template = sample_batch(30);
    let mut store = SqliteStore::open(Path::new(&db)).expect("opens");
    for round in 0u64.. {
        let run = RunId::from_tag(1000 + round);
        let mut ids = netsec_core::detect::AlertIds::new(run);
        let alerts = template.alerts[..100]
            .iter()
            .map(|a| {
                let mut a = a.clone();
                a.id = ids.next_id(a.timestamp);
                a
            })
            .collect();
        let batch = Batch {
            sensor: "crash".into(),
            run,
            alerts,
            flows: template.flows[..100].to_vec(),
        };
        store.write(&batch).expect("writes");
        // Progress for the parent: one line per committed batch.
        println!("committed {round}");
    }
}

/// `kill -9` in the middle of writing loses at most the batch being written and never
/// corrupts the database: a child process writes batches, is killed, and the database it
/// leaves opens, passes the integrity check and holds only whole batches.
#[test]
fn kill_9_while_writing_leaves_whole_batches_and_a_sound_database() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let dir = scratch("crash");
    let db = dir.join("netsec.db");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "crash_child_writes_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("NETSEC_CRASH_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns the child");
    let stdout = child.stdout.take().expect("piped");
    let mut committed = 0u64;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("reads");
        if line.starts_with("committed ") {
            committed += 1;
            if committed == 30 {
                break;
            }
        }
    }
    // SIGKILL: no destructor, no flush, mid-transaction most likely.
    child.kill().expect("kills");
    let _ = child.wait();
    assert_eq!(committed, 30, "the child wrote");
    let store = SqliteStore::open(&db).expect("the database opens after the crash");
    assert!(store.integrity_ok().expect("checks"), "integrity check");
    let counts = store.counts().expect("counts");
    assert_eq!(counts.alerts % 100, 0, "only whole batches: {counts:?}");
    assert_eq!(counts.alerts, counts.flows, "{counts:?}");
    assert!(
        counts.alerts >= 30 * 100,
        "every reported commit survived: {counts:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The inbox: alerts grouped by (detector, signature, source, destination), and a status
/// change for a whole group at once, recorded per alert.
#[test]
fn the_inbox_groups_alerts_and_changes_a_group_at_once() {
    use netsec_server::storage::GroupKey;
    let mut store = SqliteStore::open_in_memory().expect("opens");
    let batch = sample_batch(40);
    store.write(&batch).expect("writes");
    let groups = store.groups(&AlertQuery::default()).expect("groups");
    assert!(groups.len() < batch.alerts.len(), "{} groups", groups.len());
    assert_eq!(
        groups.iter().map(|g| g.count).sum::<u64>() as usize,
        batch.alerts.len()
    );
    assert!(groups.windows(2).all(|w| w[0].last_seen >= w[1].last_seen));
    // The inline rule's alerts: gid 1, sid 1, grouped per (source, destination).
    let rule: Vec<_> = groups.iter().filter(|g| g.key.signature == "1:1").collect();
    let want = batch
        .alerts
        .iter()
        .filter(|a| a.meta_u64("sid") == Some(1))
        .count();
    assert_eq!(rule.iter().map(|g| g.count).sum::<u64>() as usize, want);
    assert!(rule.iter().all(|g| g.signature_name == "to 443"));
    // A non-rule group carries its stable signature.
    let scan = groups
        .iter()
        .find(|g| g.key.detector == "port_scan")
        .expect("the sample has a port scan");
    assert_eq!(
        (scan.key.signature.as_str(), scan.signature_name.as_str()),
        ("9000:1", "NETSEC BEHAVIOUR Port scan")
    );
    // Acknowledge the biggest group.
    let big = groups.iter().max_by_key(|g| g.count).expect("groups");
    let key: GroupKey = big.key.clone();
    let at = Timestamp::from_micros(1_800_000_000_000_000);
    let changed = store
        .set_group_status(
            &key,
            AlertStatus::Acknowledged,
            "ana",
            Some("known scanner"),
            at,
        )
        .expect("updates");
    assert_eq!(changed, big.count);
    let again = store
        .set_group_status(&key, AlertStatus::Acknowledged, "ana", None, at)
        .expect("updates");
    assert_eq!(again, 0, "already acknowledged: no change, no history");
    let after = store.groups(&AlertQuery::default()).expect("groups");
    let same = after.iter().find(|g| g.key == key).expect("still there");
    assert_eq!(same.statuses, [0, big.count, 0, 0]);
    let member = store
        .alerts(&AlertQuery {
            status: Some(AlertStatus::Acknowledged),
            limit: Some(1),
            ..AlertQuery::default()
        })
        .expect("lists");
    let history = store.history(&member[0].id).expect("history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].note.as_deref(), Some("known scanner"));
}

/// Suppression filters: new matching alerts are stored SUPPRESSED naming the filter, counted;
/// expired or deleted filters no longer apply; bad input is refused naming the field.
#[test]
fn suppression_filters_apply_to_new_alerts_and_are_counted() {
    use netsec_server::storage::NewFilter;
    let mut store = SqliteStore::open_in_memory().expect("opens");
    let batch = sample_batch(50);
    let scan = batch
        .alerts
        .iter()
        .find(|a| a.detector == "port_scan")
        .expect("the sample has a port scan")
        .clone();
    let src = scan.src_ip.expect("a scanner address");
    let rule_alerts = batch
        .alerts
        .iter()
        .filter(|a| a.meta_u64("sid") == Some(1))
        .count();
    let base = NewFilter {
        reason: "our own scanner".into(),
        created_by: "ana".into(),
        created: Timestamp::from_micros(0),
        ..NewFilter::default()
    };
    let by_detector = store
        .add_filter(&NewFilter {
            detector: Some("port_scan".into()),
            src: Some(format!("{src}/32")),
            ..base.clone()
        })
        .expect("adds");
    let by_signature = store
        .add_filter(&NewFilter {
            signature: Some("1:1".into()),
            ..base.clone()
        })
        .expect("adds");
    let expired = store
        .add_filter(&NewFilter {
            detector: Some("syn_flood".into()),
            expires: Some(Timestamp::from_micros(1)),
            ..base.clone()
        })
        .expect("adds");
    store.write(&batch).expect("writes");
    let stored = store.alert(&scan.id).expect("reads").expect("stored");
    assert_eq!(stored.status, AlertStatus::Suppressed);
    assert_eq!(stored.meta["suppressed_by"], by_detector.id);
    let filters = store.filters().expect("lists");
    let hits = |id: i64| filters.iter().find(|f| f.id == id).expect("filter").hits;
    assert_eq!(hits(by_detector.id), 1);
    assert_eq!(hits(by_signature.id) as usize, rule_alerts);
    assert_eq!(hits(expired.id), 0, "an expired filter no longer applies");
    let new = store
        .alerts(&AlertQuery {
            status: Some(AlertStatus::New),
            ..AlertQuery::default()
        })
        .expect("lists");
    assert_eq!(new.len(), batch.alerts.len() - 1 - rule_alerts);
    // Writing the same batch again counts nothing twice.
    store.write(&batch).expect("writes");
    assert_eq!(store.filters().expect("lists")[0].hits, 1);
    // Deleted: the next run's scan is new again.
    assert!(store.delete_filter(by_detector.id).expect("deletes"));
    assert!(!store.delete_filter(by_detector.id).expect("no error"));
    let next = sample_batch(51);
    store.write(&next).expect("writes");
    let next_scan = next
        .alerts
        .iter()
        .find(|a| a.detector == "port_scan")
        .expect("scan");
    assert_eq!(
        store
            .alert(&next_scan.id)
            .expect("reads")
            .expect("stored")
            .status,
        AlertStatus::New
    );
    // Bad input names the field.
    for (bad, field) in [
        (NewFilter { ..base.clone() }, "signature"),
        (
            NewFilter {
                signature: Some("ssh".into()),
                ..base.clone()
            },
            "signature",
        ),
        (
            NewFilter {
                detector: Some("x".into()),
                src: Some("10.0.0.0/33".into()),
                ..base.clone()
            },
            "src",
        ),
        (
            NewFilter {
                detector: Some("x".into()),
                dst: Some("'; DROP TABLE alerts; --".into()),
                ..base.clone()
            },
            "dst",
        ),
    ] {
        match store.add_filter(&bad) {
            Err(StoreError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert_eq!(
        store.filters().expect("lists").len(),
        2,
        "nothing stored from bad input"
    );
}

/// A database of schema 1 (before the filters table) is brought up to date on opening.
#[test]
fn an_older_schema_is_migrated() {
    let dir = scratch("migrate");
    let db = dir.join("netsec.db");
    {
        let mut store = SqliteStore::open(&db).expect("opens");
        store.write(&sample_batch(60)).expect("writes");
    }
    let conn = rusqlite::Connection::open(&db).expect("opens");
    conn.execute_batch(
        "DROP TABLE devices; DROP TABLE filters; DROP TABLE users; DROP TABLE api_tokens; DROP TABLE alert_groups;
         DROP TRIGGER alert_groups_status; DROP TRIGGER alert_groups_delete; PRAGMA user_version = 1;",
    )
    .expect("back to schema 1");
    drop(conn);
    let store = SqliteStore::open(&db).expect("migrates");
    assert_eq!(store.schema_version().expect("version"), 5);
    assert!(store.filters().expect("the new table exists").is_empty());
    assert!(
        store.counts().expect("counts").alerts > 0,
        "the data stayed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Devices from the inventory of a real capture: stored, read back, and a second snapshot
/// keeps the earliest first-seen.
#[test]
fn devices_from_the_inventory_are_stored_and_updated() {
    use netsec_core::inventory::{Inventory, InventoryConfig};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/synthetic.pcap");
    let mut inv = Inventory::new(InventoryConfig::default());
    inv.read_capture(PcapReader::open(&path).expect("sample"))
        .expect("reads");
    let hosts = inv.hosts();
    assert!(hosts.len() > 100, "{} hosts", hosts.len());
    let mut store = SqliteStore::open_in_memory().expect("opens");
    assert_eq!(
        store.upsert_devices("s1", &hosts).expect("writes"),
        hosts.len()
    );
    let stored = store.devices(1000).expect("reads");
    assert_eq!(stored.len(), hosts.len().min(1000));
    assert!(stored.windows(2).all(|w| w[0].last_seen >= w[1].last_seen));
    let h = &hosts[0];
    let d = stored.iter().find(|d| d.ip == h.ip).expect("stored");
    assert_eq!(
        (d.mac.as_ref(), d.first_seen, d.packets_sent),
        (h.mac.as_ref(), h.first_seen, h.packets_sent)
    );
    assert_eq!(d.detail["services"], serde_json::json!(h.services));
    // A later snapshot: the same hosts seen later; first-seen stays the earliest.
    let later: Vec<_> = hosts
        .iter()
        .map(|h| {
            let mut h = h.clone();
            h.first_seen = h.first_seen.add_micros(60_000_000);
            h.last_seen = h.last_seen.add_micros(60_000_000);
            h.packets_sent += 1;
            h
        })
        .collect();
    store.upsert_devices("s1", &later).expect("writes");
    let again = store.devices(1000).expect("reads");
    assert_eq!(again.len(), stored.len(), "no duplicates");
    let d2 = again.iter().find(|d| d.ip == h.ip).expect("stored");
    assert_eq!(d2.first_seen, h.first_seen);
    assert_eq!(d2.last_seen, h.last_seen.add_micros(60_000_000));
    assert_eq!(d2.packets_sent, h.packets_sent + 1);
}

/// A listing past its time budget returns what it has, marked partial; within it, the whole
/// page, not partial.
#[test]
fn listings_are_time_boxed() {
    use std::time::Duration;
    let mut store = SqliteStore::open_in_memory().expect("opens");
    for run in 70..90 {
        store.write(&sample_batch(run)).expect("writes");
    }
    // No time at all: nothing comes back, and the listing says it is partial.
    let (found, partial) = store
        .alerts_within(&AlertQuery::default(), Duration::ZERO)
        .expect("lists");
    assert!(partial && found.is_empty());
    let (found, partial) = store
        .alerts_within(&AlertQuery::default(), Duration::from_secs(30))
        .expect("lists");
    assert!(!partial);
    assert_eq!(found, store.alerts(&AlertQuery::default()).expect("lists"));
    // The store works normally afterwards (the handler is removed).
    assert!(store.counts().expect("counts").alerts > 1000);
}

/// Flow listing with its filters and cursor, text search and keyset paging of alerts, the
/// analytics, and a filter added through a second connection applying to the writer's next
/// batch (as the API and the writer thread share one file).
#[test]
fn listings_analytics_and_filters_across_connections() {
    use netsec_server::storage::{AlertCursor, FlowCursor, FlowQuery, TopBy};
    use std::time::Duration;
    let dir = scratch("listings");
    let db = dir.join("netsec.db");
    let mut writer = SqliteStore::open(&db).expect("opens");
    let batch = sample_batch(70);
    writer.write(&batch).expect("writes");
    let budget = Duration::from_secs(10);

    let api = SqliteStore::open(&db).expect("second connection");
    let (all, partial) = api
        .flows_within(&FlowQuery::default(), budget)
        .expect("lists");
    assert!(!partial);
    assert_eq!(all.len(), batch.flows.len().min(1000));
    assert_eq!(all[0].features.len(), 25, "the 25 features by name");
    let first_page = FlowQuery {
        limit: Some(3),
        ..FlowQuery::default()
    };
    let (page, _) = api.flows_within(&first_page, budget).expect("page 1");
    let next = FlowQuery {
        limit: Some(3),
        cursor: FlowCursor::decode(&page[2].cursor),
        ..FlowQuery::default()
    };
    let (page2, _) = api.flows_within(&next, budget).expect("page 2");
    assert_eq!(
        page2[0].cursor, all[3].cursor,
        "the cursor continues where page 1 ended"
    );
    let https = FlowQuery {
        port: Some(443),
        ..FlowQuery::default()
    };
    let (tls, _) = api.flows_within(&https, budget).expect("by port");
    assert!(!tls.is_empty() && tls.iter().all(|f| f.src_port == 443 || f.dst_port == 443));

    let alerts = api.alerts(&AlertQuery::default()).expect("alerts");
    let after = AlertQuery {
        cursor: Some(AlertCursor::after(&alerts[4])),
        limit: Some(2),
        ..AlertQuery::default()
    };
    let page = api.alerts(&after).expect("after the cursor");
    assert_eq!(page[0].id, alerts[5].id);
    let by_offset = AlertQuery {
        offset: Some(5),
        limit: Some(1),
        ..AlertQuery::default()
    };
    assert_eq!(api.alerts(&by_offset).expect("offset")[0].id, alerts[5].id);
    let text = AlertQuery {
        text: Some("443".into()),
        ..AlertQuery::default()
    };
    assert!(!api.alerts(&text).expect("search").is_empty());
    let wildcard = AlertQuery {
        text: Some("%".into()),
        ..AlertQuery::default()
    };
    assert!(api.alerts(&wildcard).expect("a literal %").is_empty());

    let overview = api.overview().expect("overview");
    assert_eq!(overview.alerts as usize, batch.alerts.len());
    assert_eq!(overview.flows as usize, batch.flows.len());
    assert!(overview.packets > 0 && overview.bytes > 0);
    let first = overview.first_seen.expect("flows");
    let last = overview.last_seen.expect("flows");
    let trend = api
        .trends(
            60_000_000,
            first,
            Timestamp::from_micros(last.as_micros() + 1),
        )
        .expect("trends");
    assert_eq!(
        trend.iter().map(|p| p.flows).sum::<u64>() as usize,
        batch.flows.len()
    );
    assert_eq!(
        trend.iter().map(|p| p.alerts).sum::<u64>() as usize,
        batch.alerts.len()
    );
    let talkers = api.top(TopBy::Talkers, 5, None).expect("top");
    assert!(!talkers.is_empty() && talkers.len() <= 5);
    assert!(talkers.windows(2).all(|w| w[0].bytes >= w[1].bytes));
    let types = api.top(TopBy::AttackTypes, 5, None).expect("top types");
    assert_eq!(
        types.iter().map(|t| t.count).sum::<u64>() as usize,
        batch.alerts.len()
    );

    // A filter added on the API's connection suppresses the writer's next batch.
    let mut api = api;
    api.add_filter(&netsec_server::storage::NewFilter {
        detector: Some("rules".into()),
        reason: "known".into(),
        created_by: "test".into(),
        ..Default::default()
    })
    .expect("adds");
    let next = sample_batch(71);
    writer.write(&next).expect("writes");
    let q = AlertQuery {
        status: Some(AlertStatus::Suppressed),
        ..AlertQuery::default()
    };
    let suppressed = api.alerts(&q).expect("lists");
    assert!(!suppressed.is_empty(), "the writer saw the new filter");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Users and API tokens: unique names, credentials by name, token use recorded.
#[test]
fn users_and_tokens() {
    use netsec_server::role::Role;
    let mut store = SqliteStore::open_in_memory().expect("opens");
    let at = Timestamp::from_micros(1_000);
    let u = store
        .create_user("ana", Role::Analyst, "$argon2id$x", at)
        .expect("creates");
    assert!(matches!(
        store.create_user("ana", Role::Viewer, "h", at),
        Err(StoreError::Conflict(_))
    ));
    let (found, hash) = store
        .user_credentials("ana")
        .expect("reads")
        .expect("exists");
    assert_eq!(
        (found.id, found.role, hash.as_str()),
        (u.id, Role::Analyst, "$argon2id$x")
    );
    assert!(store.user_credentials("nobody").expect("reads").is_none());
    let t = store
        .add_token("probe", Role::Viewer, "abc123", "nst_ab", "ana", at)
        .expect("adds");
    assert_eq!(t.last_used, None);
    let used = store
        .use_token("abc123", Timestamp::from_micros(2_000))
        .expect("looks up")
        .expect("found");
    assert_eq!(used.last_used, Some(Timestamp::from_micros(2_000)));
    assert!(store.use_token("other", at).expect("looks up").is_none());
    assert!(store.delete_token(t.id).expect("deletes"));
    assert!(store.use_token("abc123", at).expect("looks up").is_none());
    assert!(store.delete_user(u.id).expect("deletes"));
    assert!(store.user(u.id).expect("reads").is_none());
}

/// The inbox kept by triggers agrees with grouping the alerts themselves, through writes,
/// status changes (one alert and a whole group) and retention.
#[test]
fn the_kept_inbox_matches_grouping_the_alerts() {
    use netsec_server::storage::{AlertGroup, GroupKey};
    use std::time::Duration;
    let mut store = SqliteStore::open_in_memory().expect("opens");
    store.write(&sample_batch(80)).expect("writes");
    store.write(&sample_batch(81)).expect("writes");
    let all = store.alerts(&AlertQuery::default()).expect("lists");
    let at = Timestamp::from_micros(5);
    store
        .set_status(&all[0].id, AlertStatus::Acknowledged, "t", None, at)
        .expect("changes");
    store
        .set_status(&all[1].id, AlertStatus::Resolved, "t", None, at)
        .expect("changes");
    let g = store.groups(&AlertQuery::default()).expect("groups");
    let key: GroupKey = g[g.len() - 1].key.clone();
    store
        .set_group_status(&key, AlertStatus::Suppressed, "t", None, at)
        .expect("group change");
    let sorted = |mut v: Vec<AlertGroup>| {
        v.sort_by(|a, b| format!("{:?}", a.key).cmp(&format!("{:?}", b.key)));
        v
    };
    let check = |store: &SqliteStore, q: AlertQuery| {
        let slow = sorted(store.groups(&q).expect("groups"));
        let (fast, partial) = store
            .groups_within(&q, Duration::from_secs(10))
            .expect("kept groups");
        assert!(!partial);
        let mut fast = sorted(fast);
        if q.open_only {
            // The slow path filters alerts first; compare what both mean by "open".
            fast.retain(|g| g.statuses[0] + g.statuses[1] > 0);
        }
        let strip = |v: &[AlertGroup]| -> Vec<(String, u64, [u64; 4], i64)> {
            v.iter()
                .map(|g| {
                    (
                        format!("{:?}", g.key),
                        g.count,
                        g.statuses,
                        g.last_seen.as_micros(),
                    )
                })
                .collect()
        };
        if q.open_only {
            // Status counts of the slow path only cover the open alerts.
            let slow_open: Vec<(String, u64)> = slow
                .iter()
                .map(|g| (format!("{:?}", g.key), g.count))
                .collect();
            let fast_open: Vec<(String, u64)> = fast
                .iter()
                .map(|g| (format!("{:?}", g.key), g.count))
                .collect();
            assert_eq!(fast_open, slow_open, "{q:?}");
        } else {
            assert_eq!(strip(&fast), strip(&slow), "{q:?}");
        }
        slow.len()
    };
    assert!(check(&store, AlertQuery::default()) > 1);
    check(
        &store,
        AlertQuery {
            open_only: true,
            ..AlertQuery::default()
        },
    );
    check(
        &store,
        AlertQuery {
            status: Some(AlertStatus::Suppressed),
            ..AlertQuery::default()
        },
    );
    check(
        &store,
        AlertQuery {
            detector: Some("rules".into()),
            ..AlertQuery::default()
        },
    );
    // Retention removes the oldest half; the kept groups follow.
    let c = store.counts().expect("counts");
    let newest = all[0].timestamp.as_micros();
    let oldest = all[all.len() - 1].timestamp.as_micros();
    let policy = Retention {
        max_age_us: Some((newest - oldest) / 2),
        max_bytes: None,
    };
    store
        .retain(&policy, Timestamp::from_micros(newest))
        .expect("retains");
    assert!(store.counts().expect("counts").alerts < c.alerts);
    check(&store, AlertQuery::default());
}

/// Several connections opening one new database at once migrate it once, without error
/// (the server opens a writer and readers; two processes may race).
#[test]
fn concurrent_opens_of_a_new_database_migrate_once() {
    let dir = scratch("race");
    let db = dir.join("netsec.db");
    let handles: Vec<_> = (0..6)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || SqliteStore::open(&db).map(|s| s.schema_version()))
        })
        .collect();
    for h in handles {
        let version = h.join().expect("joins").expect("opens").expect("version");
        assert_eq!(version, 5);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
