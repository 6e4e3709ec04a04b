//! The API through `app(state)` without a socket: every route × role × token state, the
//! alert lifecycle, and hostile input (every hostile case a clear 4xx with nothing stored
//! changing).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use netsec_core::detect::{Alert, RunId, Severity};
use netsec_core::time::Timestamp;
use netsec_server::api::{app, AppState};
use netsec_server::auth::{now_s, Claims, TokenKeys, TokenKind};
use netsec_server::role::Role;
use netsec_server::storage::Batch;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    raw(state, req.body(body).expect("request")).await
}

async fn raw(state: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let res = app(state.clone()).oneshot(req).await.expect("infallible");
    let status = res.status();
    let is_stream = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/event-stream"));
    if is_stream {
        return (status, Value::Null);
    }
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn login(state: &AppState, name: &str) -> Value {
    let (status, body) = call(
        state,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"username": name, "password": format!("password-{name}")})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn access(v: &Value) -> String {
    v["access_token"].as_str().expect("token").to_string()
}

/// Stores `n` alerts of one port scan, so the alert routes have something to act on.
fn seed_alerts(state: &AppState, n: u64) -> Vec<String> {
    let mut alerts = Vec::new();
    for i in 0..n {
        let mut a = Alert::builder(
            "port_scan",
            Timestamp::from_micros(1_000_000 + i as i64),
            "Port_Scan",
            Severity::Medium,
        )
        .addrs(
            Some("10.0.0.9".parse().expect("ip")),
            Some("10.0.0.1".parse().expect("ip")),
        )
        .description("10.0.0.9 probed 120 ports")
        .build();
        a.id = format!("01TEST{i:020}");
        alerts.push(a);
    }
    let ids = alerts.iter().map(|a| a.id.clone()).collect();
    let batch = Batch {
        sensor: "t".into(),
        run: RunId::from_tag(1),
        alerts,
        flows: vec![],
    };
    state
        .db
        .change_blocking(|s| s.write(&batch))
        .expect("writes");
    ids
}

/// Every protected route with the role it needs (and a body where it takes one).
fn routes() -> Vec<(&'static str, &'static str, Role, Option<Value>)> {
    let status = Some(json!({"status": "ACKNOWLEDGED"}));
    vec![
        ("GET", "/api/v1/auth/me", Role::Viewer, None),
        ("GET", "/api/v1/alerts", Role::Viewer, None),
        (
            "GET",
            "/api/v1/alerts/01TEST00000000000000000000",
            Role::Viewer,
            None,
        ),
        (
            "PATCH",
            "/api/v1/alerts/01TEST00000000000000000000",
            Role::Analyst,
            status.clone(),
        ),
        (
            "GET",
            "/api/v1/alerts/01TEST00000000000000000000/history",
            Role::Viewer,
            None,
        ),
        (
            "GET",
            "/api/v1/alerts/01TEST00000000000000000000/flow",
            Role::Viewer,
            None,
        ),
        ("GET", "/api/v1/rules/2000001", Role::Viewer, None),
        ("GET", "/api/v1/alerts/groups", Role::Viewer, None),
        (
            "PATCH",
            "/api/v1/alerts/groups",
            Role::Analyst,
            Some(json!({"key": {"detector": "x", "signature": "9000:1"}, "status": "RESOLVED"})),
        ),
        ("GET", "/api/v1/filters", Role::Viewer, None),
        (
            "POST",
            "/api/v1/filters",
            Role::Analyst,
            Some(json!({"detector": "nothing", "reason": "matrix"})),
        ),
        ("DELETE", "/api/v1/filters/999", Role::Analyst, None),
        ("GET", "/api/v1/flows", Role::Viewer, None),
        ("GET", "/api/v1/devices", Role::Viewer, None),
        ("GET", "/api/v1/analytics/overview", Role::Viewer, None),
        (
            "GET",
            "/api/v1/analytics/trends?bucket=1h",
            Role::Viewer,
            None,
        ),
        (
            "GET",
            "/api/v1/analytics/top?by=talkers",
            Role::Viewer,
            None,
        ),
        ("GET", "/api/v1/capture/status", Role::Viewer, None),
        ("GET", "/api/v1/stream", Role::Viewer, None),
        ("GET", "/ws/alerts", Role::Viewer, None),
        ("GET", "/api/v1/users", Role::Admin, None),
        (
            "POST",
            "/api/v1/users",
            Role::Admin,
            Some(
                json!({"username": "matrix", "password": "long-enough-password", "role": "viewer"}),
            ),
        ),
        ("DELETE", "/api/v1/users/999", Role::Admin, None),
        ("GET", "/api/v1/tokens", Role::Admin, None),
        (
            "POST",
            "/api/v1/tokens",
            Role::Admin,
            Some(json!({"name": "matrix", "role": "viewer"})),
        ),
        ("DELETE", "/api/v1/tokens/999", Role::Admin, None),
        (
            "POST",
            "/api/v1/capture/start",
            Role::Admin,
            Some(json!({"pcap": "/nonexistent.pcap"})),
        ),
        ("POST", "/api/v1/capture/stop", Role::Admin, None),
        ("POST", "/api/v1/rules/reload", Role::Admin, None),
    ]
}

/// The table-driven matrix: every protected route × every token state. Bad tokens get 401,
/// too little role 403, enough role neither.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_rejects_bad_and_underprivileged_tokens() {
    let dir = common::scratch("matrix");
    let state = common::state(common::config(&dir));
    seed_alerts(&state, 3);
    let mut good: Vec<(String, Role)> = Vec::new();
    for role in Role::ALL {
        good.push((access(&login(&state, role.as_str()).await), role));
    }
    // An API token per role, made by the admin.
    let admin = good[2].0.clone();
    for role in Role::ALL {
        let (s, body) = call(
            &state,
            "POST",
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"name": format!("machine-{role}"), "role": role.as_str()})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
        good.push((body["token"].as_str().expect("secret").to_string(), role));
    }
    // Bad token states.
    let keys_of_state = |claims: &Claims| {
        let dir_key = std::fs::read(dir.join("token-key")).expect("key");
        TokenKeys::from_secret(&dir_key)
            .sign(claims)
            .expect("signs")
    };
    let claims = |kind, exp, sub: &str| Claims {
        sub: sub.into(),
        name: "admin".into(),
        role: Role::Admin,
        kind,
        iat: now_s(),
        exp,
    };
    let expired = keys_of_state(&claims(TokenKind::Access, now_s() - 10, "1"));
    let refresh_as_access = keys_of_state(&claims(TokenKind::Refresh, now_s() + 600, "1"));
    let unknown_user = keys_of_state(&claims(TokenKind::Access, now_s() + 600, "424242"));
    let other_key = TokenKeys::from_secret(&[9u8; 32])
        .sign(&claims(TokenKind::Access, now_s() + 600, "1"))
        .expect("signs");
    let mut tampered = admin.clone().into_bytes();
    let mid = tampered.len() / 2;
    tampered[mid] = if tampered[mid] == b'a' { b'b' } else { b'a' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let (_, revoked) = call(
        &state,
        "POST",
        "/api/v1/tokens",
        Some(&admin),
        Some(json!({"name": "revoked", "role": "admin"})),
    )
    .await;
    let revoked_id = revoked["info"]["id"].as_i64().expect("id");
    let (s, _) = call(
        &state,
        "DELETE",
        &format!("/api/v1/tokens/{revoked_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let bad: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("malformed", Some("not-a-token".into())),
        ("expired", Some(expired)),
        ("tampered", Some(tampered)),
        ("signed with another key", Some(other_key)),
        ("refresh used as access", Some(refresh_as_access)),
        ("deleted user", Some(unknown_user)),
        (
            "revoked API token",
            Some(revoked["token"].as_str().expect("secret").to_string()),
        ),
        ("unknown API token", Some(format!("nst_{}", "0".repeat(64)))),
    ];
    let mut checked = 0;
    for (method, uri, needed, body) in routes() {
        for (what, token) in &bad {
            let (s, b) = call(&state, method, uri, token.as_deref(), body.clone()).await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with a {what} token: {b}"
            );
            assert!(
                b["error"]["code"].is_string(),
                "{method} {uri}: the error shape"
            );
            checked += 1;
        }
        for (token, role) in &good {
            let (s, b) = call(&state, method, uri, Some(token), body.clone()).await;
            if role.allows(needed) {
                assert!(
                    s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
                    "{method} {uri} as {role}: {s} {b}"
                );
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{method} {uri} as {role}: {b}");
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        routes().len() * 15,
        "every route × every token state"
    );
    // The public routes need nothing.
    for uri in ["/api/v1/health", "/api/v1/openapi.json", "/metrics"] {
        let (s, _) = call(&state, "GET", uri, None, None).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_refresh_me_and_the_login_rate_limit() {
    let dir = common::scratch("login");
    let mut config = common::config(&dir);
    config.server.login_per_minute = 5;
    let state = common::state(config);
    let tokens = login(&state, "analyst").await;
    assert_eq!(tokens["token_type"], "Bearer");
    let (s, me) = call(
        &state,
        "GET",
        "/api/v1/auth/me",
        Some(&access(&tokens)),
        None,
    )
    .await;
    assert_eq!(
        (s, me["name"].as_str(), me["role"].as_str()),
        (StatusCode::OK, Some("analyst"), Some("analyst"))
    );
    let refresh = tokens["refresh_token"].as_str().expect("refresh");
    let (s, renewed) = call(
        &state,
        "POST",
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{renewed}");
    let (s, _) = call(
        &state,
        "POST",
        "/api/v1/auth/refresh",
        None,
        Some(json!({"refresh_token": access(&tokens)})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an access token is not a refresh token"
    );
    let (s, b) = call(
        &state,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "analyst", "password": "wrong"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, _) = call(
        &state,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "nobody", "password": "x"})),
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // 5 per minute: 3 used above, so the 6th attempt is refused whatever its credentials.
    let mut limited = false;
    for _ in 0..4 {
        let (s, _) = call(
            &state,
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "analyst", "password": "password-analyst"})),
        )
        .await;
        limited |= s == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "the login rate limit holds");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_lifecycle_groups_history_and_filters() {
    let dir = common::scratch("lifecycle");
    let state = common::state(common::config(&dir));
    let ids = seed_alerts(&state, 5);
    let analyst = access(&login(&state, "analyst").await);
    let (s, page) = call(
        &state,
        "GET",
        "/api/v1/alerts?limit=2",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["count"], 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_string();
    let (_, next) = call(
        &state,
        "GET",
        &format!("/api/v1/alerts?limit=2&cursor={cursor}"),
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(
        next["alerts"][0]["id"],
        json!(ids[2]),
        "newest first, continuing"
    );
    let id = &ids[0];
    let (s, change) = call(
        &state,
        "PATCH",
        &format!("/api/v1/alerts/{id}"),
        Some(&analyst),
        Some(json!({"status": "ACKNOWLEDGED", "note": "looking"})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{change}");
    let (_, alert) = call(
        &state,
        "GET",
        &format!("/api/v1/alerts/{id}"),
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(alert["status"], "ACKNOWLEDGED");
    let (_, hist) = call(
        &state,
        "GET",
        &format!("/api/v1/alerts/{id}/history"),
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(hist["history"][0]["who"], "analyst");
    assert_eq!(hist["history"][0]["from"], "NEW");
    assert_eq!(hist["history"][0]["note"], "looking");
    let (_, groups) = call(&state, "GET", "/api/v1/alerts/groups", Some(&analyst), None).await;
    assert_eq!(groups["groups"][0]["count"], 5);
    let key = groups["groups"][0]["key"].clone();
    let (s, changed) = call(
        &state,
        "PATCH",
        "/api/v1/alerts/groups",
        Some(&analyst),
        Some(json!({"key": key, "status": "RESOLVED"})),
    )
    .await;
    assert_eq!((s, changed["changed"].as_u64()), (StatusCode::OK, Some(5)));
    let (_, open) = call(&state, "GET", "/api/v1/alerts/groups", Some(&analyst), None).await;
    assert_eq!(
        open["groups"].as_array().map(Vec::len),
        Some(0),
        "resolved alerts leave the inbox"
    );
    let (_, not_found) = call(
        &state,
        "GET",
        "/api/v1/alerts/01NOSUCHALERT",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(not_found["error"]["code"], "not_found");
    // A filter: new matching alerts are stored SUPPRESSED, naming it.
    let (s, filter) = call(
        &state,
        "POST",
        "/api/v1/filters",
        Some(&analyst),
        Some(json!({"detector": "port_scan", "src": "10.0.0.0/8", "reason": "lab scanner"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{filter}");
    let batch = Batch {
        sensor: "t".into(),
        run: RunId::from_tag(2),
        alerts: vec![{
            let mut a = Alert::builder(
                "port_scan",
                Timestamp::from_micros(9_000_000),
                "Port_Scan",
                Severity::Medium,
            )
            .addrs(Some("10.1.1.1".parse().expect("ip")), None)
            .build();
            a.id = "01TESTLATER0000000000000000".into();
            a
        }],
        flows: vec![],
    };
    state.writer.send(batch).expect("queued");
    state.writer.flush();
    let (_, later) = call(
        &state,
        "GET",
        "/api/v1/alerts/01TESTLATER0000000000000000",
        Some(&analyst),
        None,
    )
    .await;
    assert_eq!(later["status"], "SUPPRESSED");
    assert_eq!(later["meta"]["suppressed_by"], filter["id"]);
    let (_, filters) = call(&state, "GET", "/api/v1/filters", Some(&analyst), None).await;
    assert_eq!(filters["filters"][0]["hits"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What the store holds, to show hostile requests changed nothing.
fn snapshot(state: &AppState) -> (u64, usize, usize, usize, Vec<String>) {
    state
        .db
        .change_blocking(|s| {
            let c = s.counts()?;
            let statuses = s
                .alerts(&Default::default())?
                .iter()
                .map(|a| a.status.as_str().to_string())
                .collect();
            Ok((
                c.alerts,
                s.filters()?.len(),
                s.users()?.len(),
                s.tokens()?.len(),
                statuses,
            ))
        })
        .expect("reads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_gets_a_clear_4xx_and_changes_nothing() {
    let dir = common::scratch("hostile");
    let mut config = common::config(&dir);
    config.server.body_limit_bytes = 64 * 1024;
    let state = common::state(config);
    let ids = seed_alerts(&state, 3);
    let admin = access(&login(&state, "admin").await);
    let before = snapshot(&state);
    let huge = "x".repeat(200 * 1024);
    let cases: Vec<(&str, String, Option<String>, StatusCode)> = vec![
        ("POST", "/api/v1/filters".into(), Some(format!("{{\"reason\":\"{huge}\"}}")), StatusCode::PAYLOAD_TOO_LARGE),
        ("POST", "/api/v1/filters".into(), Some("{not json".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/filters".into(), Some("{\"reason\": 5}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/filters".into(), Some("{\"reason\": \"x\", \"evil\": 1}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/filters".into(), Some("{\"reason\": \"x\", \"src\": \"10.0.0.0/99\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/filters".into(), Some("{\"reason\": \"x\", \"signature\": \"1 OR 1=1\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/filters".into(), Some("{\"reason\": \"x\"}".into()), StatusCode::BAD_REQUEST),
        ("PATCH", format!("/api/v1/alerts/{}", ids[0]), Some("{\"status\": \"DELETED\"}".into()), StatusCode::BAD_REQUEST),
        ("PATCH", "/api/v1/alerts/x'%20OR%20'1'='1".into(), Some("{\"status\": \"RESOLVED\"}".into()), StatusCode::BAD_REQUEST),
        ("PATCH", "/api/v1/alerts/groups".into(), Some("{\"key\": {\"detector\": \"port_scan' --\", \"signature\": \"x\"}, \"status\": \"RESOLVED\"}".into()), StatusCode::NOT_FOUND),
        ("GET", "/api/v1/alerts?src_ip=1.1.1.1'%20OR%201=1--".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?attack_type=x'%3B%20DROP%20TABLE%20alerts%3B--".into(), None, StatusCode::OK),
        ("GET", "/api/v1/alerts?q=%25'%20OR%201=1--".into(), None, StatusCode::OK),
        ("GET", "/api/v1/alerts?limit=100000000".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?limit=-1".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?cursor=garbage".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?cursor=1.a'b".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?offset=99999999999".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?severity=EXTREME".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?since=yesterday".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?unknown=1".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/alerts?q=%ZZ".into(), None, StatusCode::BAD_REQUEST),
        ("GET", format!("/api/v1/alerts?q={}", "a".repeat(300)), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/flows?port=70000".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/flows?cursor=1.x".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/analytics/trends?bucket=1s".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/analytics/trends?bucket=1m&since=0&until=4000000000".into(), None, StatusCode::BAD_REQUEST),
        ("GET", "/api/v1/analytics/top?by=passwords".into(), None, StatusCode::BAD_REQUEST),
        ("DELETE", "/api/v1/filters/abc".into(), None, StatusCode::BAD_REQUEST),
        ("DELETE", "/api/v1/users/-1".into(), None, StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/users".into(), Some("{\"username\": \"x y\", \"password\": \"long-enough-password\", \"role\": \"viewer\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/users".into(), Some("{\"username\": \"short\", \"password\": \"short\", \"role\": \"viewer\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/users".into(), Some("{\"username\": \"root\", \"password\": \"long-enough-password\", \"role\": \"root\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/users".into(), Some("{\"username\": \"admin\", \"password\": \"long-enough-password\", \"role\": \"viewer\"}".into()), StatusCode::CONFLICT),
        ("POST", "/api/v1/tokens".into(), Some("{\"name\": \"\", \"role\": \"viewer\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/capture/start".into(), Some("{\"pcap\": \"/etc/passwd\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/capture/start".into(), Some("{\"pcap\": \"x\", \"speed\": \"warp\"}".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/v1/capture/stop".into(), None, StatusCode::CONFLICT),
        ("GET", "/api/v1/nothing-here".into(), None, StatusCode::NOT_FOUND),
        ("PUT", "/api/v1/alerts".into(), None, StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, uri, body, expected) in cases {
        let mut req = Request::builder()
            .method(method)
            .uri(&uri)
            .header("authorization", format!("Bearer {admin}"));
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b)
            }
            None => Body::empty(),
        };
        let (s, b) = raw(&state, req.body(body).expect("request")).await;
        assert_eq!(s, expected, "{method} {uri}: {b}");
        if !s.is_success() {
            assert!(
                b["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{method} {uri}: {b}"
            );
        }
    }
    // A body without a JSON content type.
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/filters")
        .header("authorization", format!("Bearer {admin}"))
        .body(Body::from("{\"reason\": \"x\", \"detector\": \"d\"}"))
        .expect("request");
    assert_eq!(raw(&state, req).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(snapshot(&state), before, "nothing stored changed");
    // The field is named in a 400.
    let (_, b) = call(
        &state,
        "GET",
        "/api/v1/alerts?limit=5000",
        Some(&admin),
        None,
    )
    .await;
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("limit:")),
        "{b}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Without the `live` feature, asking for live capture says how to get it.
#[cfg(not(feature = "live"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_capture_without_the_feature_says_how_to_get_it() {
    let dir = common::scratch("nolive");
    let state = common::state(common::config(&dir));
    let admin = access(&login(&state, "admin").await);
    let (s, b) = call(
        &state,
        "POST",
        "/api/v1/capture/start",
        Some(&admin),
        Some(json!({"interface": "lo"})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let m = b["error"]["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("--features live") && m.contains("libpcap"),
        "{m}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A rule reload re-reads the rule files atomically: a broken file is refused naming the
/// problem and the loaded set stays; a good one replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_reload_is_atomic() {
    let dir = common::scratch("reload");
    let rules = dir.join("local.rules");
    std::fs::write(
        &rules,
        "alert tcp any any -> any 80 (msg:\"one\"; sid:1000001; rev:1;)\n",
    )
    .expect("rules");
    let mut config = common::config(&dir);
    config.sensor.rules.bundled = false;
    config.sensor.rules.files = vec![rules.clone()];
    let state = common::state(config);
    let admin = access(&login(&state, "admin").await);
    let (s, b) = call(&state, "POST", "/api/v1/rules/reload", Some(&admin), None).await;
    assert_eq!((s, b["rules"].as_u64()), (StatusCode::OK, Some(1)), "{b}");
    std::fs::write(
        &rules,
        "alert tcp any any -> any 80 (msg:\"one\"; sid:1000001; rev:1;)\n\
         alert tcp any any -> any 81 (msg:\"two\"; sid:1000002; rev:1;)\n",
    )
    .expect("rules");
    let (s, b) = call(&state, "POST", "/api/v1/rules/reload", Some(&admin), None).await;
    assert_eq!((s, b["rules"].as_u64()), (StatusCode::OK, Some(2)), "{b}");
    // The loaded rules are looked up by sid (an alert's detail shows its rule).
    let (s, b) = call(&state, "GET", "/api/v1/rules/1000002", Some(&admin), None).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        b["text"],
        "alert tcp any any -> any 81 (msg:\"two\"; sid:1000002; rev:1;)"
    );
    assert_eq!(
        (b["gid"].as_u64(), b["msg"].as_str()),
        (Some(1), Some("two"))
    );
    for (path, want) in [
        ("/api/v1/rules/1000002?gid=3", StatusCode::NOT_FOUND),
        ("/api/v1/rules/77", StatusCode::NOT_FOUND),
        ("/api/v1/rules/x1", StatusCode::BAD_REQUEST),
        ("/api/v1/rules/1?gid=-1", StatusCode::BAD_REQUEST),
        ("/api/v1/rules/1?sid=1", StatusCode::BAD_REQUEST),
    ] {
        let (s, b) = call(&state, "GET", path, Some(&admin), None).await;
        assert_eq!(s, want, "{path}: {b}");
    }
    std::fs::remove_file(&rules).expect("removes");
    let (s, b) = call(&state, "POST", "/api/v1/rules/reload", Some(&admin), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("local.rules")),
        "{b}"
    );
    assert_eq!(state.sensor_config().rules().len(), 2, "the old set stays");
    let _ = std::fs::remove_dir_all(&dir);
}

/// CORS answers only the allowed origins; security headers and a request id are on every
/// response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_allow_list_and_security_headers() {
    let dir = common::scratch("cors");
    let mut config = common::config(&dir);
    config.server.cors_origins = vec!["https://soc.example".into()];
    let state = common::state(config);
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/v1/alerts")
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .body(Body::empty())
            .expect("request")
    };
    let res = app(state.clone())
        .oneshot(preflight("https://soc.example"))
        .await
        .expect("infallible");
    assert_eq!(
        res.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap_or("")),
        Some("https://soc.example")
    );
    let res = app(state.clone())
        .oneshot(preflight("https://evil.example"))
        .await
        .expect("infallible");
    assert!(
        res.headers().get("access-control-allow-origin").is_none(),
        "other origins get nothing"
    );
    let req = Request::get("/api/v1/health")
        .body(Body::empty())
        .expect("request");
    let res = app(state.clone()).oneshot(req).await.expect("infallible");
    for h in [
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "referrer-policy",
        "x-request-id",
    ] {
        assert!(res.headers().contains_key(h), "{h}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
