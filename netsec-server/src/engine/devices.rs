//! [`InventoryPublisher`]: the inventory as one more detector of the live Sensor, publishing a
//! snapshot of its hosts now and then for the store, so the detection thread never locks
//! per packet.

use std::sync::{Arc, Mutex};

use netsec_core::detect::{Alert, Detector, DetectorStats, PacketView};
use netsec_core::flow::FlowContext;
use netsec_core::inventory::{Host, Inventory, InventoryConfig};
use netsec_core::time::Timestamp;

/// Packet time between snapshots.
const EVERY_US: i64 = 30_000_000;

/// Where snapshots wait for the detection thread.
pub type Snapshots = Arc<Mutex<Option<Vec<Host>>>>;

/// The inventory, publishing its hosts every 30 s of packet time and at the end.
pub struct InventoryPublisher {
    inventory: Inventory,
    out: Snapshots,
    last: Option<Timestamp>,
}

impl InventoryPublisher {
    /// A publisher into `out`.
    pub fn new(out: Snapshots) -> InventoryPublisher {
        InventoryPublisher {
            inventory: Inventory::new(InventoryConfig::default()),
            out,
            last: None,
        }
    }

    fn publish(&mut self) {
        if let Ok(mut slot) = self.out.lock() {
            *slot = Some(self.inventory.hosts());
        }
    }
}

impl Detector for InventoryPublisher {
    fn name(&self) -> &str {
        "inventory"
    }

    fn on_packet(
        &mut self,
        pkt: &PacketView<'_>,
        flow: Option<&FlowContext>,
        out: &mut Vec<Alert>,
    ) {
        self.inventory.on_packet(pkt, flow, out);
    }

    fn on_tick(&mut self, now: Timestamp, _out: &mut Vec<Alert>) {
        match self.last {
            Some(t) if now.micros_since(t) < EVERY_US => {}
            _ => {
                self.last = Some(now);
                self.publish();
            }
        }
    }

    fn on_finish(&mut self, _out: &mut Vec<Alert>) {
        self.publish();
    }

    fn stats(&self) -> DetectorStats {
        let s = self.inventory.stats();
        DetectorStats {
            detector: "inventory".into(),
            tracked: s.hosts as u64,
            evicted: s.dropped_hosts,
            ..DetectorStats::default()
        }
    }
}
