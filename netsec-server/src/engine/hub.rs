//! [`AlertHub`]: every new alert, serialized once, to every WebSocket and SSE client through a
//! bounded broadcast. Capture never waits for a client: a client that falls behind loses the
//! oldest alerts and is told how many.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use netsec_core::detect::Alert;
use tokio::sync::broadcast;

/// An alert's JSON, serialized once and shared by every client (cloning is a reference
/// count, so a message to 500 clients copies nothing).
pub type AlertJson = Utf8Bytes;

/// The alert feed.
#[derive(Debug)]
pub struct AlertHub {
    tx: broadcast::Sender<AlertJson>,
    clients: AtomicUsize,
    published: AtomicU64,
    missed: AtomicU64,
    dropped_clients: AtomicU64,
}

impl AlertHub {
    /// A hub keeping the last `buffer` alerts for slow clients.
    pub fn new(buffer: usize) -> AlertHub {
        let (tx, _) = broadcast::channel(buffer.max(1));
        AlertHub {
            tx,
            clients: AtomicUsize::new(0),
            published: AtomicU64::new(0),
            missed: AtomicU64::new(0),
            dropped_clients: AtomicU64::new(0),
        }
    }

    /// Sends `alert` (as its `ALERTS.md` JSON) to every client; never waits.
    pub fn publish(&self, alert: &Alert) {
        if let Ok(json) = serde_json::to_string(alert) {
            self.published.fetch_add(1, Ordering::Relaxed);
            // No receiver is not an error: nobody is listening.
            let _ = self.tx.send(AlertJson::from(json));
        }
    }

    /// A new client's receiver and its registration (counted while it lives).
    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        self.clients.fetch_add(1, Ordering::Relaxed);
        Subscription {
            rx: self.tx.subscribe(),
            hub: Arc::clone(self),
        }
    }

    /// Clients connected now.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }

    /// Alerts published so far.
    pub fn published(&self) -> u64 {
        self.published.load(Ordering::Relaxed)
    }

    /// Alerts clients missed by falling behind, summed over clients.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }

    /// Clients dropped for staying behind.
    pub fn dropped_clients(&self) -> u64 {
        self.dropped_clients.load(Ordering::Relaxed)
    }
}

/// What a client receives next.
#[derive(Debug)]
pub enum Next {
    /// An alert's JSON.
    Alert(AlertJson),
    /// The client fell behind and missed this many; it is told, and dropped if it happens
    /// again before it catches up.
    Missed(u64),
    /// The hub is gone (server shutting down).
    Closed,
}

/// One client's place in the feed.
#[derive(Debug)]
pub struct Subscription {
    rx: broadcast::Receiver<AlertJson>,
    hub: Arc<AlertHub>,
}

impl Subscription {
    /// The next alert, or how many were missed.
    pub async fn next(&mut self) -> Next {
        match self.rx.recv().await {
            Ok(a) => Next::Alert(a),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                self.hub.missed.fetch_add(n, Ordering::Relaxed);
                Next::Missed(n)
            }
            Err(broadcast::error::RecvError::Closed) => Next::Closed,
        }
    }

    /// The next alert if one is waiting, without waiting; `None` when none is (or the client
    /// lagged: the next [`next`](Self::next) reports it).
    pub fn try_next(&mut self) -> Option<AlertJson> {
        self.rx.try_recv().ok()
    }

    /// Alerts waiting for this client.
    pub fn backlog(&self) -> usize {
        self.rx.len()
    }

    /// Records that this client was dropped for staying behind.
    pub fn dropped(&self) {
        self.hub.dropped_clients.fetch_add(1, Ordering::Relaxed);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.clients.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsec_core::detect::Severity;
    use netsec_core::time::Timestamp;

    fn alert(n: i64) -> Alert {
        Alert::builder("t", Timestamp::from_micros(n), "X", Severity::Low).build()
    }

    #[tokio::test]
    async fn a_slow_client_is_told_what_it_missed() {
        let hub = Arc::new(AlertHub::new(4));
        let mut sub = hub.subscribe();
        assert_eq!(hub.clients(), 1);
        for i in 0..10 {
            hub.publish(&alert(i));
        }
        assert!(matches!(sub.next().await, Next::Missed(6)));
        assert!(matches!(sub.next().await, Next::Alert(a) if a.contains("\"attack_type\":\"X\"")));
        assert_eq!(hub.missed(), 6);
        drop(sub);
        assert_eq!(hub.clients(), 0);
    }
}
