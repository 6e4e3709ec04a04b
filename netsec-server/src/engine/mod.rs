//! The capture engine: a source read on its own thread, the Sensor driven through its
//! push/tick API on another, alerts published to the [`AlertHub`] and alerts, flows and
//! device snapshots written through the [`StoreWriter`].
//!
//! ```text
//!  capture thread ──Frames (256, reused)──▶ detection thread ──▶ AlertHub ──▶ WS / SSE
//!   (file or pcap)     bounded channel       Sensor::push/tick   └──▶ StoreWriter ──▶ SQLite
//! ```
//!
//! The detection thread ticks the Sensor on the wall clock (every second, even when no
//! packet arrives), so idle flows are exported on time during a quiet spell.

mod devices;
mod frames;
mod hub;
#[cfg(feature = "live")]
mod live;
mod read;
mod source;
mod stats;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use netsec_core::config::CheckedSensorConfig;
use netsec_core::detect::{Detector, RunId};
use netsec_core::pipeline::Sensor;
use netsec_core::rules::AlertFilter;
use netsec_core::time::Timestamp;

use crate::config::Speed;
use crate::storage::{Batch, StoreWriter};

pub use frames::{Frames, BATCH_FRAMES};
pub use hub::{AlertHub, AlertJson, Next, Subscription};
pub use read::{KernelStats, SourceError};
pub use source::SourceSpec;
pub use stats::{CaptureState, CaptureStats};

use devices::{InventoryPublisher, Snapshots};
use read::Read;
use source::Opened;

/// Frame batches in flight between the threads.
const QUEUE: usize = 64;
/// Frames read between two looks at the clock (batch age, kernel counters).
const CLOCK_EVERY: u32 = 32;
/// Most flows taken from the table per step when a source ends.
const FINISH_STEP: usize = 4096;

/// Microseconds since the epoch, now.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// A rule set waiting to be swapped in between two packets.
struct RuleSwap {
    rules: Option<Box<dyn Detector>>,
    filter: Option<AlertFilter>,
}

/// What the threads share with the controller.
struct Shared {
    stats: Arc<CaptureStats>,
    hub: Arc<AlertHub>,
    writer: Arc<StoreWriter>,
    sensor_name: String,
    batch_rows: usize,
    swap: Mutex<Option<RuleSwap>>,
}

struct Running {
    stop: Arc<AtomicBool>,
    capture: JoinHandle<()>,
    detect: JoinHandle<()>,
}

/// Why a capture could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A capture is running; stop it first.
    #[error("a capture is already running ({0}); stop it first")]
    Busy(String),
    /// The source could not be opened.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The sensor could not be built.
    #[error("cannot build the sensor: {0}")]
    Sensor(String),
}

/// Starts, stops and reports the capture; one source at a time.
pub struct CaptureControl {
    shared: Arc<Shared>,
    running: Mutex<Option<Running>>,
}

impl std::fmt::Debug for CaptureControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureControl")
            .field("state", &self.shared.stats.state())
            .finish_non_exhaustive()
    }
}

impl CaptureControl {
    /// A controller publishing to `hub` and writing through `writer` as `sensor_name`,
    /// sending a batch every `batch_rows` rows (and at least every second).
    pub fn new(
        hub: Arc<AlertHub>,
        writer: Arc<StoreWriter>,
        sensor_name: String,
        batch_rows: usize,
    ) -> CaptureControl {
        CaptureControl {
            shared: Arc::new(Shared {
                stats: Arc::new(CaptureStats::default()),
                hub,
                writer,
                sensor_name,
                batch_rows: batch_rows.max(1),
                swap: Mutex::new(None),
            }),
            running: Mutex::new(None),
        }
    }

    /// The live counters.
    pub fn stats(&self) -> &Arc<CaptureStats> {
        &self.shared.stats
    }

    /// Starts capturing from `spec` with a sensor built from `sensor`.
    ///
    /// # Errors
    /// [`StartError`]: a capture is running, the source cannot be opened, or the sensor
    /// cannot be built.
    pub fn start(&self, spec: &SourceSpec, sensor: &CheckedSensorConfig) -> Result<(), StartError> {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = running.as_ref() {
            if !r.detect.is_finished() {
                let source = self.shared.stats.source.lock().ok().and_then(|s| s.clone());
                return Err(StartError::Busy(source.unwrap_or_default()));
            }
        }
        if let Some(old) = running.take() {
            join(old);
        }
        let opened = Opened::open(spec)?;
        let mut built = sensor
            .build()
            .map_err(|e| StartError::Sensor(e.to_string()))?;
        let snapshots: Snapshots = Arc::default();
        built.replace_detector(Box::new(InventoryPublisher::new(Arc::clone(&snapshots))));
        let run = match spec {
            SourceSpec::Replay { pcap, .. } => {
                RunId::of_capture_file(pcap).unwrap_or_else(|_| RunId::random())
            }
            SourceSpec::Live { .. } => RunId::random(),
        };
        built.set_run_id(run);
        let paced = opened.speed() != Some(Speed::Max);
        self.shared
            .stats
            .reset(spec.to_string(), u64::try_from(now_us()).unwrap_or(0));
        self.shared.stats.set_state(CaptureState::Running);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel::<Frames>(QUEUE);
        let (recycle_tx, recycle_rx) = sync_channel::<Frames>(QUEUE + 2);
        let shared = Arc::clone(&self.shared);
        let capture_stop = Arc::clone(&stop);
        let capture = std::thread::Builder::new()
            .name("netsec-capture".into())
            .spawn(move || capture_loop(opened, &tx, &recycle_rx, &capture_stop, &shared.stats))
            .map_err(|e| StartError::Sensor(format!("cannot start the capture thread: {e}")))?;
        let shared = Arc::clone(&self.shared);
        let detect = std::thread::Builder::new()
            .name("netsec-detect".into())
            .spawn(move || {
                let mut d = Detection {
                    sensor: built,
                    shared,
                    run,
                    snapshots,
                    pending: Batch {
                        sensor: String::new(),
                        run,
                        alerts: Vec::new(),
                        flows: Vec::new(),
                    },
                    paced,
                };
                d.pending.sensor.clone_from(&d.shared.sensor_name);
                d.run_loop(&rx, &recycle_tx);
            })
            .map_err(|e| StartError::Sensor(format!("cannot start the detection thread: {e}")))?;
        *running = Some(Running {
            stop,
            capture,
            detect,
        });
        Ok(())
    }

    /// Stops the source, flushes its flows and waits until every alert and flow is handed to
    /// the writer and committed. `false` when nothing was running. Blocks: call it off the
    /// async threads.
    pub fn stop(&self) -> bool {
        let taken = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match taken {
            Some(r) => {
                let was_running = !r.detect.is_finished();
                if was_running {
                    self.shared.stats.set_state(CaptureState::Stopping);
                }
                join(r);
                self.shared.writer.flush();
                was_running
            }
            None => false,
        }
    }

    /// Waits until the current source ends by itself (a replay reaching its end), then
    /// until the writer has committed everything.
    pub fn wait(&self) {
        loop {
            let done = self
                .running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .is_none_or(|r| r.detect.is_finished());
            if done {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.shared.writer.flush();
    }

    /// Swaps in a new rule set (and `threshold.config`) between two packets of the running
    /// capture; a capture started later builds from the configuration it is given.
    pub fn reload_rules(&self, sensor: &CheckedSensorConfig) {
        let swap = RuleSwap {
            rules: sensor.rule_detector(),
            filter: sensor
                .thresholds()
                .map(|t| AlertFilter::new(Arc::new(t.clone()))),
        };
        *self
            .shared
            .swap
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(swap);
    }
}

fn join(r: Running) {
    r.stop.store(true, Ordering::Release);
    let _ = r.capture.join();
    let _ = r.detect.join();
}

/// Reads the source into frame batches until it ends, fails or is stopped.
fn capture_loop(
    mut source: Opened,
    tx: &SyncSender<Frames>,
    recycle: &Receiver<Frames>,
    stop: &AtomicBool,
    stats: &CaptureStats,
) {
    let realtime = source.speed() == Some(Speed::Realtime);
    let mut batch = Frames::new();
    let mut batch_started = Instant::now();
    // Realtime replay: (first packet time, wall instant it was sent).
    let mut clock: Option<(Timestamp, Instant)> = None;
    let mut last_kernel_poll = Instant::now();
    let mut read_frames = 0u64;
    // The clock is read every CLOCK_EVERY frames (and when idle), not per packet.
    let mut unclocked = 0u32;
    let send = |batch: &mut Frames| -> bool {
        let fresh = recycle.try_recv().unwrap_or_else(|_| Frames::new());
        let full = std::mem::replace(batch, fresh);
        tx.send(full).is_ok()
    };
    loop {
        if stop.load(Ordering::Acquire) {
            break;
        }
        let read = source.next();
        match read {
            Ok(Read::Frame(frame)) => {
                read_frames += 1;
                if realtime {
                    let (t0, w0) = *clock.get_or_insert((frame.ts, Instant::now()));
                    let due = Duration::from_micros(
                        u64::try_from(frame.ts.micros_since(t0)).unwrap_or(0),
                    );
                    // Hand over what is waiting before sleeping, so pacing never holds
                    // frames back.
                    if due > w0.elapsed() && !batch.is_empty() && !send(&mut batch) {
                        return;
                    }
                    // Sleep in short steps so a stop is heard during long gaps.
                    while due > w0.elapsed() {
                        if stop.load(Ordering::Acquire) {
                            return;
                        }
                        std::thread::sleep((due - w0.elapsed()).min(Duration::from_millis(100)));
                    }
                }
                batch.push(&frame);
                if batch.len() == 1 {
                    batch_started = Instant::now();
                }
                // A realtime replay hands over what waits before each sleep (above), so
                // batches only go when full here.
                if batch.is_full() && !send(&mut batch) {
                    return;
                }
                unclocked += 1;
                if unclocked < CLOCK_EVERY {
                    continue;
                }
            }
            Ok(Read::Idle) => {}
            Ok(Read::End) => break,
            Err(why) => {
                if !batch.is_empty() {
                    let _ = send(&mut batch);
                }
                stats.fail(why);
                return;
            }
        }
        unclocked = 0;
        // A live source sends what it has every 50 ms, so a quiet link still delivers.
        if !batch.is_empty()
            && batch_started.elapsed() > Duration::from_millis(50)
            && !send(&mut batch)
        {
            return;
        }
        if last_kernel_poll.elapsed() > Duration::from_secs(1) {
            last_kernel_poll = Instant::now();
            publish_kernel(&mut source, read_frames, stats);
        }
    }
    if !batch.is_empty() {
        let _ = send(&mut batch);
    }
    publish_kernel(&mut source, read_frames, stats);
}

/// `capture.kernel_packets` and `capture.kernel_drops`: libpcap's counters live, the frames
/// read (and no drops) for a file.
fn publish_kernel(source: &mut Opened, read_frames: u64, stats: &CaptureStats) {
    let k = source.kernel_stats().unwrap_or(KernelStats {
        packets: read_frames,
        drops: 0,
    });
    stats.kernel_packets.store(k.packets, Ordering::Relaxed);
    stats.kernel_drops.store(k.drops, Ordering::Relaxed);
}

/// The detection thread's state.
struct Detection {
    sensor: Sensor,
    shared: Arc<Shared>,
    run: RunId,
    snapshots: Snapshots,
    pending: Batch,
    /// Live capture or realtime replay: packet time follows the wall clock, so the sensor is
    /// ticked with the wall clock's progress since the last packet.
    paced: bool,
}

impl Detection {
    fn run_loop(&mut self, rx: &Receiver<Frames>, recycle: &SyncSender<Frames>) {
        let mut last_ts: Option<(Timestamp, Instant)> = None;
        let mut last_tick = Instant::now();
        loop {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(mut frames) => {
                    let stats = &self.shared.stats;
                    let mut bytes = 0u64;
                    let mut newest = None;
                    for frame in frames.iter() {
                        self.sensor.push(&frame);
                        bytes += frame.data.len() as u64;
                        newest = Some(frame.ts);
                    }
                    if let Some(ts) = newest {
                        last_ts = Some((ts, Instant::now()));
                    }
                    stats.bytes.fetch_add(bytes, Ordering::Relaxed);
                    stats
                        .packets
                        .fetch_add(frames.len() as u64, Ordering::Relaxed);
                    frames.clear();
                    let _ = recycle.try_send(frames);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.apply_rule_swap();
            if last_tick.elapsed() >= Duration::from_secs(1) {
                last_tick = Instant::now();
                if let (true, Some((ts, at))) = (self.paced, last_ts) {
                    let waited = i64::try_from(at.elapsed().as_micros()).unwrap_or(i64::MAX);
                    self.sensor.tick(ts.add_micros(waited));
                }
                self.ship(true);
                self.store_devices();
            } else {
                self.ship(false);
            }
        }
        loop {
            let done = self.sensor.finish_batch(FINISH_STEP);
            self.ship(true);
            if done {
                break;
            }
        }
        self.store_devices();
        let stats = &self.shared.stats;
        stats.flows_active.store(0, Ordering::Relaxed);
        if stats.state() != CaptureState::Failed {
            stats.set_state(CaptureState::Finished);
        }
    }

    fn apply_rule_swap(&mut self) {
        let swap = self
            .shared
            .swap
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(swap) = swap {
            match swap.rules {
                Some(r) => {
                    self.sensor.replace_detector(r);
                }
                None => {
                    self.sensor.remove_detector("rules");
                }
            }
            match swap.filter {
                Some(f) => self.sensor.set_alert_filter(f),
                None => self.sensor.clear_alert_filter(),
            }
            self.shared
                .stats
                .rule_reloads
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Publishes new alerts and hands alerts and flows to the writer: always when `force`,
    /// else once `batch_rows` rows are waiting.
    fn ship(&mut self, force: bool) {
        let stats = &self.shared.stats;
        for alert in self.sensor.drain_alerts() {
            self.shared.hub.publish(&alert);
            stats.alerts[alert.severity.rank()].fetch_add(1, Ordering::Relaxed);
            self.pending.alerts.push(alert);
        }
        let flows = self.sensor.drain_flows();
        stats.flows.fetch_add(flows.len() as u64, Ordering::Relaxed);
        self.pending.flows.extend(flows);
        let t = self.sensor.table_stats();
        stats.flows_active.store(
            t.flows_created.saturating_sub(t.flows_exported),
            Ordering::Relaxed,
        );
        let rows = self.pending.alerts.len() + self.pending.flows.len();
        if rows == 0 || (!force && rows < self.shared.batch_rows) {
            return;
        }
        let batch = Batch {
            sensor: self.pending.sensor.clone(),
            run: self.run,
            alerts: std::mem::take(&mut self.pending.alerts),
            flows: std::mem::take(&mut self.pending.flows),
        };
        // Blocking: the store is the record, so a slow disk slows detection (and a live
        // source then shows kernel drops) rather than losing rows silently.
        let _ = self.shared.writer.send(batch);
    }

    fn store_devices(&mut self) {
        let hosts = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(hosts) = hosts {
            let sensor = self.shared.sensor_name.clone();
            self.shared.writer.run(Box::new(move |store| {
                let _ = store.upsert_devices(&sensor, &hosts);
            }));
        }
    }
}
