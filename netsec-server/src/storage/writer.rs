//! [`StoreWriter`]: the one thread that writes to the store, so capture and detection never
//! wait on the disk.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::{Batch, Store, StoreError};

/// Counters of a [`StoreWriter`], readable from any thread.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Transactions committed.
    pub transactions: AtomicU64,
    /// Alerts newly stored.
    pub alerts: AtomicU64,
    /// Flows newly stored.
    pub flows: AtomicU64,
    /// Batches refused by [`StoreWriter::try_send`] because the queue was full.
    pub dropped_batches: AtomicU64,
    /// Transactions that failed (their batches are lost; the error is kept for `close`).
    pub failed: AtomicU64,
}

/// What the writer thread gives back: the store and its first write error.
type Finished = (Box<dyn Store>, Option<StoreError>);

/// Work run on the writer's thread against its store (retention passes, device snapshots).
pub type StoreJob = Box<dyn FnOnce(&mut dyn Store) + Send>;

enum Msg {
    Batch(Batch),
    Flush(SyncSender<()>),
    Job(StoreJob),
}

/// Writes batches on its own thread. Batches that wait in the queue are merged (same sensor
/// and run) and committed in one transaction, so a burst costs few commits.
pub struct StoreWriter {
    tx: Option<SyncSender<Msg>>,
    handle: Option<JoinHandle<Finished>>,
    stats: Arc<WriterStats>,
}

impl std::fmt::Debug for StoreWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Most batches merged into one transaction.
const MERGE: usize = 64;

impl StoreWriter {
    /// Starts the writer over `store` with a queue of `queue` batches.
    pub fn spawn(store: Box<dyn Store>, queue: usize) -> StoreWriter {
        let (tx, rx) = sync_channel(queue.max(1));
        let stats = Arc::new(WriterStats::default());
        let shared = Arc::clone(&stats);
        let handle = std::thread::spawn(move || write_loop(store, &rx, &shared));
        StoreWriter {
            tx: Some(tx),
            handle: Some(handle),
            stats,
        }
    }

    /// The writer's counters.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Queues a batch, waiting while the queue is full (back-pressure).
    ///
    /// # Errors
    /// The batch back when the writer thread is gone.
    pub fn send(&self, batch: Batch) -> Result<(), Batch> {
        match &self.tx {
            Some(tx) => tx.send(Msg::Batch(batch)).map_err(|e| match e.0 {
                Msg::Batch(b) => b,
                Msg::Flush(_) | Msg::Job(_) => unreachable_batch(),
            }),
            None => Err(batch),
        }
    }

    /// Queues a batch without waiting; a full queue refuses it (counted in
    /// [`WriterStats::dropped_batches`]) and gives it back.
    ///
    /// # Errors
    /// The batch back when the queue is full or the writer is gone.
    pub fn try_send(&self, batch: Batch) -> Result<(), Batch> {
        let Some(tx) = &self.tx else {
            return Err(batch);
        };
        match tx.try_send(Msg::Batch(batch)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(Msg::Batch(b)) | TrySendError::Disconnected(Msg::Batch(b))) => {
                self.stats.dropped_batches.fetch_add(1, Ordering::Relaxed);
                Err(b)
            }
            Err(_) => Err(unreachable_batch()),
        }
    }

    /// Runs `job` on the writer's thread after the batches queued before it, so other work on
    /// the store (retention, device snapshots) never contends with the writes for the lock.
    /// `false` when the writer is gone.
    pub fn run(&self, job: StoreJob) -> bool {
        self.tx
            .as_ref()
            .is_some_and(|tx| tx.send(Msg::Job(job)).is_ok())
    }

    /// Waits until every batch queued before this call is committed.
    pub fn flush(&self) {
        let (done_tx, done_rx) = sync_channel(1);
        if let Some(tx) = &self.tx {
            if tx.send(Msg::Flush(done_tx)).is_ok() {
                let _ = done_rx.recv();
            }
        }
    }

    /// Writes what is queued, stops the thread and gives the store back.
    ///
    /// # Errors
    /// The first write error the thread met.
    pub fn close(mut self) -> Result<Box<dyn Store>, StoreError> {
        drop(self.tx.take());
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok((store, None))) => Ok(store),
            Some(Ok((_, Some(e)))) => Err(e),
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Err(StoreError::Damaged("writer already closed".into())),
        }
    }
}

/// A `Flush` message never comes back from a batch send; an empty batch stands in.
fn unreachable_batch() -> Batch {
    Batch {
        sensor: String::new(),
        run: netsec_core::detect::RunId::from_tag(0),
        alerts: Vec::new(),
        flows: Vec::new(),
    }
}

fn write_loop(mut store: Box<dyn Store>, rx: &Receiver<Msg>, stats: &WriterStats) -> Finished {
    let mut first_error = None;
    let mut commit = |store: &mut Box<dyn Store>, batch: &Batch| match store.write(batch) {
        Ok(r) => {
            stats.transactions.fetch_add(1, Ordering::Relaxed);
            stats.alerts.fetch_add(r.alerts as u64, Ordering::Relaxed);
            stats.flows.fetch_add(r.flows as u64, Ordering::Relaxed);
        }
        Err(e) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            first_error.get_or_insert(e);
        }
    };
    while let Ok(msg) = rx.recv() {
        let mut pending = match msg {
            Msg::Batch(b) => b,
            Msg::Flush(done) => {
                let _ = done.send(());
                continue;
            }
            Msg::Job(job) => {
                job(store.as_mut());
                continue;
            }
        };
        // Merge what else is already waiting, as long as it is the same sensor run.
        let mut merged = 1;
        let mut after: Option<Msg> = None;
        while merged < MERGE {
            match rx.try_recv() {
                Ok(Msg::Batch(b)) if b.sensor == pending.sensor && b.run == pending.run => {
                    pending.alerts.extend(b.alerts);
                    pending.flows.extend(b.flows);
                    merged += 1;
                }
                Ok(Msg::Batch(b)) => {
                    commit(&mut store, &pending);
                    pending = b;
                    merged = 1;
                }
                Ok(other) => {
                    after = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        commit(&mut store, &pending);
        match after {
            Some(Msg::Flush(done)) => {
                let _ = done.send(());
            }
            Some(Msg::Job(job)) => job(store.as_mut()),
            Some(Msg::Batch(_)) | None => {}
        }
    }
    (store, first_error)
}
