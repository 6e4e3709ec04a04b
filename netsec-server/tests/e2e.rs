//! End to end over loopback: the server on 127.0.0.1:0 replays real attack captures, the
//! alerts arrive over the WebSocket and SSE, and REST finds them with the right fields. The
//! expected alerts come from the library's own Sensor run on the same files.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use netsec_core::capture::{PacketSource, PcapReader};
use netsec_core::config::SensorConfig;
use netsec_server::server::serve;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use common::http::request;

/// (alert count, attack types, flow count) of the default sensor on `path`.
fn expected(path: &Path) -> (usize, BTreeSet<String>, usize) {
    let mut sensor = SensorConfig::default()
        .check()
        .expect("checks")
        .build()
        .expect("sensor");
    let mut reader = PcapReader::open(path).expect("opens");
    while let Ok(Some(p)) = reader.next_packet() {
        sensor.push(&p);
    }
    sensor.finish();
    let alerts: Vec<_> = sensor.drain_alerts().collect();
    let types = alerts.iter().map(|a| a.attack_type.clone()).collect();
    (alerts.len(), types, sensor.drain_flows().count())
}

async fn wait_finished(addr: std::net::SocketAddr, token: &str) -> Value {
    for _ in 0..600 {
        let (_, s) = request(addr, "GET", "/api/v1/capture/status", Some(token), None).await;
        if s["state"] == "finished" || s["state"] == "failed" {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the replay did not finish");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_attacks_reach_websocket_sse_and_rest() {
    let Some(pcaps) = common::shared_pcaps() else {
        return;
    };
    let captures = [
        "attacks/portscan_syn_nmap.pcapng",
        "attacks/web_sqli.pcap",
        "attacks/arp_spoofing.pcap",
        "attacks/dns_tunnel_iodine.pcap",
    ];
    let dir = common::scratch("e2e");
    let state = common::state(common::config(&dir));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(state.clone(), listener, async {
        let _ = stop_rx.await;
    }));

    let (s, login) = request(
        addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "admin", "password": "password-admin"})),
    )
    .await;
    assert_eq!(s, 200, "{login}");
    let token = login["access_token"].as_str().expect("token").to_string();
    let (s, _) = request(addr, "GET", "/api/v1/alerts", None, None).await;
    assert_eq!(s, 401, "the socket path checks tokens too");

    // WebSocket, token in the query; the first message is the hello.
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/alerts?token={token}"))
            .await
            .expect("websocket");
    let hello = ws.next().await.expect("hello").expect("frame");
    let hello: Value = serde_json::from_str(hello.to_text().expect("text")).expect("json");
    assert_eq!(hello["type"], "hello");
    // A second WebSocket sends its token as the first message.
    let (mut ws2, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/alerts"))
        .await
        .expect("websocket");
    ws2.send(tokio_tungstenite::tungstenite::Message::Text(
        json!({"token": token}).to_string().into(),
    ))
    .await
    .expect("sends");
    let hello2 = ws2.next().await.expect("hello").expect("frame");
    assert!(hello2.to_text().expect("text").contains("\"hello\""));
    // A WebSocket with a bad first message is closed.
    let (mut ws_bad, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/alerts"))
        .await
        .expect("websocket");
    ws_bad
        .send(tokio_tungstenite::tungstenite::Message::Text(
            "{\"token\": \"forged\"}".into(),
        ))
        .await
        .expect("sends");
    match ws_bad.next().await {
        Some(Ok(tokio_tungstenite::tungstenite::Message::Close(Some(f)))) => {
            assert_eq!(u16::from(f.code), 4401);
        }
        other => panic!("expected a close, got {other:?}"),
    }

    // SSE.
    let mut sse = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    sse.write_all(
        format!("GET /api/v1/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n")
            .as_bytes(),
    )
    .await
    .expect("writes");
    let mut sse = BufReader::new(sse);

    let mut want_alerts = 0;
    let mut want_types = BTreeSet::new();
    let mut want_flows = 0;
    for c in captures {
        let path = pcaps.join(c);
        let (n, types, flows) = expected(&path);
        assert!(n > 0, "{c} raises alerts in the library");
        want_alerts += n;
        want_types.extend(types);
        want_flows += flows;
        let (s, b) = request(
            addr,
            "POST",
            "/api/v1/capture/start",
            Some(&token),
            Some(json!({"pcap": path, "speed": "max"})),
        )
        .await;
        assert_eq!(s, 202, "{b}");
        let status = wait_finished(addr, &token).await;
        assert_eq!(status["state"], "finished", "{status}");
        assert!(status["kernel_packets"].as_u64().unwrap_or(0) > 0);
        assert_eq!(status["kernel_drops"], 0);
    }

    // Every alert over the WebSocket, one per message, in the ALERTS.md shape.
    let mut ws_ids = BTreeSet::new();
    let mut ws_types = BTreeSet::new();
    while ws_ids.len() < want_alerts {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("alerts arrive")
            .expect("open")
            .expect("frame");
        let v: Value = serde_json::from_str(msg.to_text().expect("text")).expect("json");
        if v.get("type").is_some() {
            continue; // heartbeat
        }
        for field in [
            "id",
            "detector",
            "timestamp",
            "attack_type",
            "severity",
            "status",
            "score",
            "description",
            "tags",
            "meta",
        ] {
            assert!(v.get(field).is_some(), "{field} in {v}");
        }
        ws_types.insert(v["attack_type"].as_str().expect("type").to_string());
        ws_ids.insert(v["id"].as_str().expect("id").to_string());
    }
    assert_eq!(ws_types, want_types);
    // The same over SSE.
    let mut sse_ids = BTreeSet::new();
    let mut event = String::new();
    while sse_ids.len() < want_alerts {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), sse.read_line(&mut line))
            .await
            .expect("events arrive")
            .expect("reads");
        if let Some(e) = line.strip_prefix("event: ") {
            event = e.trim().to_string();
        } else if let Some(d) = line.strip_prefix("data: ") {
            if event == "alert" {
                let v: Value = serde_json::from_str(d.trim()).expect("json");
                sse_ids.insert(v["id"].as_str().expect("id").to_string());
            }
        }
    }
    assert_eq!(sse_ids, ws_ids, "SSE and WebSocket carry the same alerts");

    // REST finds each with the same fields.
    let (_, page) = request(addr, "GET", "/api/v1/alerts?limit=1000", Some(&token), None).await;
    let rest_ids: BTreeSet<String> = page["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(rest_ids, ws_ids);
    let one = ws_ids.iter().next().expect("one");
    let (s, alert) = request(
        addr,
        "GET",
        &format!("/api/v1/alerts/{one}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((s, alert["id"].as_str()), (200, Some(one.as_str())));
    // An alert's detail: its flow, and for a rule alert the rule's text.
    let listed = page["alerts"].as_array().expect("alerts");
    let flowed = listed
        .iter()
        .find(|a| a["flow_id"].is_u64())
        .expect("an alert of a flow");
    let (s, flow) = request(
        addr,
        "GET",
        &format!("/api/v1/alerts/{}/flow", flowed["id"].as_str().expect("id")),
        Some(&token),
        None,
    )
    .await;
    assert_eq!((s, &flow["flow_id"]), (200, &flowed["flow_id"]), "{flow}");
    assert_eq!(flow["features"].as_object().map(|f| f.len()), Some(25));
    let ruled = listed
        .iter()
        .find(|a| a["detector"] == "rules")
        .expect("a rule alert");
    let (sid, gid) = (&ruled["meta"]["sid"], &ruled["meta"]["gid"]);
    let (s, rule) = request(
        addr,
        "GET",
        &format!("/api/v1/rules/{sid}?gid={gid}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{rule}");
    assert!(
        rule["text"]
            .as_str()
            .is_some_and(|t| t.contains(&format!("sid:{sid};"))),
        "{rule}"
    );
    let (_, flows) = request(addr, "GET", "/api/v1/flows?limit=1000", Some(&token), None).await;
    let stored_flows = flows["flows"].as_array().expect("flows").len();
    assert_eq!(stored_flows, want_flows.min(1000));
    assert_eq!(
        flows["flows"][0]["features"].as_object().map(|f| f.len()),
        Some(25)
    );
    let (_, devices) = request(addr, "GET", "/api/v1/devices", Some(&token), None).await;
    assert!(!devices["devices"].as_array().expect("devices").is_empty());
    let (_, metrics) = (0, reqwest_metrics(addr).await);
    assert!(
        metrics.contains("netsec_capture_kernel_packets_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("netsec_ws_clients 3") || metrics.contains("netsec_ws_clients 2"),
        "{metrics}"
    );

    let _ = stop_tx.send(());
    drop(ws);
    drop(ws2);
    drop(sse);
    tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("shuts down")
        .expect("joins")
        .expect("serves");
    let _ = std::fs::remove_dir_all(&dir);
}

async fn reqwest_metrics(addr: std::net::SocketAddr) -> String {
    use tokio::io::AsyncReadExt;
    let mut s = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connects");
    s.write_all(
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("writes");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("reads");
    out
}

/// Idle flows leave on the wall-clock tick while no packet arrives: a realtime replay whose
/// second packet comes 4 s after the first exports the first flow (idle timeout 1 s) before
/// the second packet is read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_flows_are_exported_on_the_wall_clock_tick() {
    let dir = common::scratch("tick");
    let pcap = dir.join("gap.pcap");
    common::write_capture(&pcap, &[(1_000_000, 5), (5_000_000, 6)]);
    let mut config = common::config(&dir);
    config.sensor.flow.idle_timeout_us = 1_000_000;
    let state = common::state(config);
    let spec = netsec_server::engine::SourceSpec::Replay {
        pcap: pcap.clone(),
        speed: netsec_server::config::Speed::Realtime,
    };
    state
        .capture
        .start(&spec, &state.sensor_config())
        .expect("starts");
    let stats = std::sync::Arc::clone(state.capture.stats());
    let mut exported_alone = false;
    for _ in 0..70 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let packets = stats.packets.load(std::sync::atomic::Ordering::Relaxed);
        let flows = stats.flows.load(std::sync::atomic::Ordering::Relaxed);
        if packets == 1 && flows == 1 {
            exported_alone = true;
            break;
        }
    }
    assert!(
        exported_alone,
        "the first flow left on a tick, with no second packet yet"
    );
    let st = state.clone();
    tokio::task::spawn_blocking(move || st.capture.wait())
        .await
        .expect("waits");
    assert_eq!(stats.flows.load(std::sync::atomic::Ordering::Relaxed), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
