//! The alert streams: `WS /ws/alerts` and `GET /api/v1/stream` (Server-Sent Events).
//!
//! Each client reads the [`AlertHub`](crate::engine::AlertHub)'s bounded broadcast at its own
//! pace; capture never waits for it. Protocol, the same on both:
//! - first `{"type":"hello",…}`;
//! - then each new alert as one message, in the `ALERTS.md` shape;
//! - `{"type":"heartbeat",…}` when quiet;
//! - `{"type":"lagged","missed":N}` when the client fell behind and lost N alerts. A client
//!   that falls behind again before catching up, or does not take a message within 10 s,
//!   is dropped.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use serde::Deserialize;

use super::error::ApiError;
use super::guard::{authenticate, bearer_of, Principal};
use super::state::AppState;
use crate::engine::{now_us, AlertJson, Next, Subscription};

/// How long a client may take to accept one message.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a WebSocket client without a token in the URL has to send it.
const AUTH_TIMEOUT: Duration = Duration::from_secs(5);

fn hello(state: &AppState, who: &Principal) -> String {
    serde_json::json!({
        "type": "hello",
        "version": env!("CARGO_PKG_VERSION"),
        "user": who.name,
        "heartbeat_s": state.config.server.heartbeat_s,
        "buffer": state.config.server.stream_buffer,
    })
    .to_string()
}

fn heartbeat() -> String {
    serde_json::json!({"type": "heartbeat", "at_us": now_us()}).to_string()
}

fn lagged(n: u64) -> String {
    serde_json::json!({"type": "lagged", "missed": n}).to_string()
}

/// What the stream loop does next.
enum Step {
    Alert(AlertJson),
    Heartbeat(String),
    Lagged(String),
    Drop,
    Close,
}

/// The next step of one client: an alert, a lag notice, or the decision to drop it.
async fn step(sub: &mut Subscription, strikes: &mut u32, heartbeat_every: Duration) -> Step {
    match tokio::time::timeout(heartbeat_every, sub.next()).await {
        Err(_) => Step::Heartbeat(heartbeat()),
        Ok(Next::Alert(a)) => {
            if sub.backlog() == 0 {
                *strikes = 0;
            }
            Step::Alert(a)
        }
        Ok(Next::Missed(n)) => {
            *strikes += 1;
            if *strikes > 1 {
                sub.dropped();
                Step::Drop
            } else {
                Step::Lagged(lagged(n))
            }
        }
        Ok(Next::Closed) => Step::Close,
    }
}

/// A first WebSocket message carrying the token.
#[derive(Deserialize)]
struct AuthMessage {
    token: String,
}

/// `WS /ws/alerts`: the token in `Authorization`, in `?token=`, or as the first message
/// `{"token": "…"}` within 5 s.
#[utoipa::path(get, path = "/ws/alerts", tag = "stream", security(("bearer" = [])),
    params(("token" = Option<String>, Query, description = "or Authorization, or a first message")),
    responses((status = 101, description = "WebSocket"), (status = 401)))]
pub async fn ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let token = bearer_of(&headers, raw.as_deref());
    let who = match token {
        Some(t) => match authenticate(&state, Some(t)).await {
            Ok(p) => Some(p),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    if let Some(p) = &who {
        if state.request_limiter.check_key(&p.name).is_err() {
            return ApiError::too_many("request rate limit reached").into_response();
        }
    }
    // The token is checked before the upgrade request itself, so a bad token is a 401
    // whatever else is wrong.
    let upgrade = match (upgrade, &who) {
        (Ok(u), _) => u,
        (Err(_), None) => {
            return ApiError::unauthorized("a bearer token is required").into_response()
        }
        (Err(e), Some(_)) => return e.into_response(),
    };
    upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve_ws(state, socket, who))
}

/// Sends one text message; `false` when the client failed or took longer than
/// [`SEND_TIMEOUT`].
async fn send(socket: &mut WebSocket, text: String) -> bool {
    let fut = socket.send(Message::Text(text.into()));
    matches!(tokio::time::timeout(SEND_TIMEOUT, fut).await, Ok(Ok(())))
}

/// Most alerts written before one flush.
const BURST: usize = 64;

/// Sends `first` and the alerts already waiting (up to [`BURST`]) with one flush: a burst
/// of alerts costs one write to the socket, not one per alert.
async fn send_burst(socket: &mut WebSocket, first: AlertJson, sub: &mut Subscription) -> bool {
    use futures_util::SinkExt;
    let burst = async {
        socket.feed(Message::Text(first)).await?;
        for _ in 1..BURST {
            match sub.try_next() {
                Some(a) => socket.feed(Message::Text(a)).await?,
                None => break,
            }
        }
        socket.flush().await
    };
    matches!(tokio::time::timeout(SEND_TIMEOUT, burst).await, Ok(Ok(())))
}

async fn close(mut socket: WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

async fn serve_ws(state: AppState, mut socket: WebSocket, who: Option<Principal>) {
    let who = match who {
        Some(p) => p,
        None => {
            let first = tokio::time::timeout(AUTH_TIMEOUT, socket.recv()).await;
            let token = match first {
                Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<AuthMessage>(&t)
                    .ok()
                    .map(|m| m.token),
                _ => None,
            };
            match authenticate(&state, token).await {
                Ok(p) => p,
                Err(_) => return close(socket, 4401, "unauthorized").await,
            }
        }
    };
    let mut sub = state.hub.subscribe();
    let every = Duration::from_secs(state.config.server.heartbeat_s);
    if !send(&mut socket, hello(&state, &who)).await {
        return;
    }
    let mut strikes = 0;
    loop {
        tokio::select! {
            next = step(&mut sub, &mut strikes, every) => match next {
                Step::Alert(a) => {
                    if !send_burst(&mut socket, a, &mut sub).await {
                        sub.dropped();
                        return;
                    }
                }
                Step::Heartbeat(text) | Step::Lagged(text) => {
                    if !send(&mut socket, text).await {
                        sub.dropped();
                        return;
                    }
                }
                Step::Drop => return close(socket, 1008, "too slow: fell behind twice").await,
                Step::Close => return close(socket, 1001, "server shutting down").await,
            },
            incoming = socket.recv() => match incoming {
                // Pings are answered by the library; anything else from the client is ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// `GET /api/v1/stream`: the same feed as Server-Sent Events (`event: alert`, `lagged`,
/// `hello`; comments as keep-alive).
#[utoipa::path(get, path = "/api/v1/stream", tag = "stream", security(("bearer" = [])),
    responses((status = 200, description = "text/event-stream"), (status = 401)))]
pub async fn sse(
    State(state): State<AppState>,
    axum::Extension(who): axum::Extension<Principal>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let sub = state.hub.subscribe();
    let every = Duration::from_secs(state.config.server.heartbeat_s);
    let first = Event::default().event("hello").data(hello(&state, &who));
    let stream = futures_util::stream::unfold(
        (Some(first), sub, 0u32, false),
        move |(first, mut sub, mut strikes, done)| async move {
            if done {
                return None;
            }
            if let Some(ev) = first {
                return Some((Ok(ev), (None, sub, strikes, false)));
            }
            let ev = match step(&mut sub, &mut strikes, every).await {
                Step::Heartbeat(text) => Event::default().event("heartbeat").data(text),
                Step::Lagged(text) => Event::default().event("lagged").data(text),
                Step::Alert(a) => Event::default().event("alert").data(a.as_str()),
                Step::Drop | Step::Close => return None,
            };
            Some((Ok(ev), (None, sub, strikes, false)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(every))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::AlertHub;
    use netsec_core::detect::{Alert, Severity};
    use netsec_core::time::Timestamp;
    use std::sync::Arc;

    fn publish(hub: &AlertHub, n: i64) {
        for i in 0..n {
            hub.publish(
                &Alert::builder("t", Timestamp::from_micros(i), "X", Severity::Low).build(),
            );
        }
    }

    /// Behind once: told how many were missed. Behind again before catching up: dropped.
    /// Caught up in between: the slate is clean.
    #[tokio::test]
    async fn a_client_behind_twice_is_dropped_and_one_that_caught_up_is_not() {
        let hub = Arc::new(AlertHub::new(4));
        let every = Duration::from_secs(60);
        let mut sub = hub.subscribe();
        let mut strikes = 0;
        publish(&hub, 10);
        match step(&mut sub, &mut strikes, every).await {
            Step::Lagged(t) => assert_eq!(t, lagged(6)),
            _ => panic!("expected a lag notice"),
        }
        publish(&hub, 10);
        assert!(matches!(
            step(&mut sub, &mut strikes, every).await,
            Step::Drop
        ));
        assert_eq!(hub.dropped_clients(), 1);

        let mut sub = hub.subscribe();
        let mut strikes = 0;
        publish(&hub, 10);
        assert!(matches!(
            step(&mut sub, &mut strikes, every).await,
            Step::Lagged(_)
        ));
        for _ in 0..4 {
            assert!(matches!(
                step(&mut sub, &mut strikes, every).await,
                Step::Alert(_)
            ));
        }
        assert_eq!(strikes, 0, "caught up");
        publish(&hub, 10);
        match step(&mut sub, &mut strikes, every).await {
            Step::Lagged(t) => assert_eq!(t, lagged(6), "told again, not dropped"),
            _ => panic!("expected a lag notice"),
        }
    }
}
