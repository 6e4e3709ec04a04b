//! How common a destination is among the clients a sensor sees (RITA's prevalence), at a
//! few instructions per flow and a fixed size:
//!
//! - the **population** (distinct clients within the window) is a linear-counting estimate
//!   over a 4,096-bit map, cleared when the window has passed: exact in practice for the
//!   tens of clients rarity needs, within a few percent up to thousands;
//! - each **destination** keeps its first client and whether another came, in a
//!   direct-mapped table indexed by a hash of the address. A destination whose slot another
//!   took starts over, so a collision can make a shared destination look rare (it weighs a
//!   finding more), never the reverse.

use super::state::{Addr, Table};
use crate::time::Timestamp;

/// A well-mixed 64-bit hash of an address (splitmix64's finaliser over its 128 bits).
fn mix(a: Addr) -> u64 {
    let b = a.bits();
    let mut h = (b >> 64) as u64 ^ b as u64;
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Distinct clients within a window, estimated by linear counting.
#[derive(Debug)]
struct Population {
    bits: Box<[u64; 64]>,
    window_us: i64,
    window_start: Option<Timestamp>,
}

impl Population {
    const BITS: usize = 64 * 64;

    fn new(window_us: i64) -> Population {
        Population {
            bits: Box::new([0; 64]),
            window_us,
            window_start: None,
        }
    }

    fn add(&mut self, a: Addr, now: Timestamp) {
        match self.window_start {
            Some(start) if now.micros_since(start) <= self.window_us => {}
            _ => {
                *self.bits = [0; 64];
                self.window_start = Some(now);
            }
        }
        let h = mix(a) >> 52;
        self.bits[(h >> 6) as usize] |= 1 << (h & 63);
    }

    /// The estimated number of distinct clients added in the window.
    fn estimate(&self) -> usize {
        let ones: u32 = self.bits.iter().map(|w| w.count_ones()).sum();
        let zeros = Self::BITS - ones as usize;
        if zeros == 0 {
            return Self::BITS * 8;
        }
        let m = Self::BITS as f64;
        (-m * (zeros as f64 / m).ln()).round() as usize
    }
}

/// One destination's clients: the first, and whether another came.
#[derive(Debug, Clone, Copy, Default)]
struct Destination {
    /// The destination's address bits (meaningful when `last` is set).
    addr: u128,
    first_client: u128,
    shared: bool,
    /// The latest flow to it, µs (`None`: empty slot).
    last: Option<i64>,
}

/// Clients per destination and in all, within a window.
#[derive(Debug)]
pub(crate) struct Prevalence {
    destinations: Vec<Destination>,
    population: Population,
    window_us: i64,
    held: usize,
    evicted: u64,
}

impl Prevalence {
    /// A table of `slots` destinations (rounded up to a power of two) over `window_us`.
    pub(crate) fn new(slots: usize, window_us: i64) -> Prevalence {
        Prevalence {
            destinations: vec![Destination::default(); slots.max(1).next_power_of_two()],
            population: Population::new(window_us),
            window_us,
            held: 0,
            evicted: 0,
        }
    }

    fn slot(&self, dest: Addr) -> usize {
        (mix(dest) as usize) & (self.destinations.len() - 1)
    }

    /// Records that `client` talked to `dest` at `now`; whether another client talked to it
    /// within the window.
    pub(crate) fn observe(&mut self, client: Addr, dest: Addr, now: Timestamp) -> bool {
        self.population.add(client, now);
        let (i, now_us, window) = (self.slot(dest), now.as_micros(), self.window_us);
        let d = &mut self.destinations[i];
        let (addr, client) = (dest.bits(), client.bits());
        let live = d.last.is_some_and(|t| now_us - t <= window);
        if live && d.addr == addr {
            d.shared |= d.first_client != client;
            d.last = Some(now_us);
            return d.shared;
        }
        match d.last {
            None => self.held += 1,
            Some(_) if live => self.evicted += 1,
            Some(_) => {}
        }
        *d = Destination {
            addr,
            first_client: client,
            shared: false,
            last: Some(now_us),
        };
        false
    }

    /// Whether more than one client talked to `dest` within the window (nothing recorded).
    pub(crate) fn shared(&self, dest: Addr, now: Timestamp) -> bool {
        let d = &self.destinations[self.slot(dest)];
        d.addr == dest.bits()
            && d.shared
            && d.last
                .is_some_and(|t| now.as_micros() - t <= self.window_us)
    }

    /// The estimated number of distinct clients within the window.
    pub(crate) fn clients(&self) -> usize {
        self.population.estimate()
    }
}

impl Table for Prevalence {
    fn entries(&self) -> usize {
        self.held
    }

    fn evicted(&self) -> u64 {
        self.evicted
    }

    fn bytes(&self) -> usize {
        self.destinations.len() * std::mem::size_of::<Destination>()
            + std::mem::size_of::<[u64; 64]>()
    }

    fn bound_bytes(&self) -> usize {
        self.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(last: u8) -> Addr {
        Addr([10, 0, 0, last].into())
    }

    #[test]
    fn population_estimates_are_close() {
        let mut p = Population::new(1_000_000);
        let t = Timestamp::from_micros(0);
        for i in 0..13u8 {
            p.add(a(i), t);
            p.add(a(i), t);
        }
        assert_eq!(p.estimate(), 13);
        for i in 0..1000u32 {
            p.add(Addr(std::net::Ipv4Addr::from(0x0a01_0000 + i).into()), t);
        }
        let e = p.estimate();
        assert!((950..=1050).contains(&e), "{e}");
        p.add(a(1), Timestamp::from_micros(2_000_000));
        assert_eq!(p.estimate(), 1, "a new window");
    }

    #[test]
    fn a_destination_is_shared_once_a_second_client_comes_within_the_window() {
        let mut p = Prevalence::new(64, 1_000);
        let (d, t) = (Addr([203, 0, 113, 7].into()), Timestamp::from_micros);
        assert!(!p.observe(a(1), d, t(0)));
        assert!(!p.observe(a(1), d, t(10)), "the same client again");
        assert!(!p.shared(d, t(10)));
        assert!(p.observe(a(2), d, t(20)));
        assert!(p.shared(d, t(500)));
        assert!(!p.shared(d, t(5_000)), "the window passed");
        assert!(!p.observe(a(3), d, t(5_000)), "starts over");
        assert_eq!(p.clients(), 1, "the population's window restarted too");
        assert_eq!((p.entries(), p.evicted()), (1, 0));
    }
}
