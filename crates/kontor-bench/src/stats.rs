//! Counting and latency recording shared by thousands of connection tasks.
//!
//! Latencies go into HDR histograms, sharded so that connection tasks
//! rarely contend for a lock: one whole-run histogram per shard and one
//! coarser histogram per second of the run for the latency-over-time plot.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

const SHARDS: usize = 16;
/// Highest latency recorded, in microseconds (anything slower is clamped).
const MAX_MICROS: u64 = 120_000_000;

/// Counters every part of a run updates.
#[derive(Default)]
pub struct Counters {
    /// Sends the server acknowledged.
    pub accepted: AtomicU64,
    /// Sends that failed (HTTP error or transport).
    pub send_errors: AtomicU64,
    /// Open-loop sends skipped because too many were already in flight.
    pub send_dropped: AtomicU64,
    /// Deliveries the server owes: members of the conversation of every
    /// acknowledged message.
    pub expected: AtomicU64,
    /// Message frames that arrived.
    pub delivered: AtomicU64,
    /// Connections that ended before the run did.
    pub disconnects: AtomicU64,
}

impl Counters {
    /// Read a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
    /// Add to a counter.
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

struct Shard {
    total: Histogram<u64>,
    per_second: Vec<Histogram<u64>>,
}

/// Records latencies after the warm-up, by second.
pub struct Recorder {
    /// Time zero for message timestamps.
    pub epoch: Instant,
    measure_from: Duration,
    seconds: usize,
    shards: Vec<Mutex<Shard>>,
}

/// Percentiles of a histogram, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

impl Percentiles {
    fn of(h: &Histogram<u64>) -> Percentiles {
        let ms = |v: u64| v as f64 / 1000.0;
        Percentiles {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.50)),
            p95: ms(h.value_at_quantile(0.95)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// One second of the run.
#[derive(Clone, Debug, Serialize)]
pub struct Second {
    /// Seconds since the warm-up ended.
    pub second: usize,
    /// Deliveries recorded in this second.
    pub deliveries: u64,
    /// Their latency.
    pub latency: Percentiles,
}

fn histogram(sigfig: u8) -> Histogram<u64> {
    // Constant, valid bounds: this cannot fail.
    Histogram::new_with_bounds(1, MAX_MICROS, sigfig).expect("valid histogram bounds")
}

impl Recorder {
    /// A recorder measuring from `warmup` after `epoch` for `seconds`.
    pub fn new(epoch: Instant, warmup: Duration, seconds: usize) -> Recorder {
        let shards = (0..SHARDS)
            .map(|_| {
                Mutex::new(Shard {
                    total: histogram(3),
                    per_second: (0..seconds.max(1)).map(|_| histogram(2)).collect(),
                })
            })
            .collect();
        Recorder {
            epoch,
            measure_from: warmup,
            seconds: seconds.max(1),
            shards,
        }
    }

    /// Nanoseconds since the epoch, the timestamp senders embed.
    pub fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Record a delivery of a message sent at `sent_ns`, seen by
    /// connection `conn`.
    pub fn record(&self, conn: usize, sent_ns: u64) {
        let now = self.epoch.elapsed();
        if now < self.measure_from {
            return;
        }
        let micros = (now.as_nanos() as u64).saturating_sub(sent_ns) / 1000;
        let micros = micros.clamp(1, MAX_MICROS);
        let second = ((now - self.measure_from).as_secs() as usize).min(self.seconds - 1);
        let mut shard = self.shards[conn % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        shard.total.saturating_record(micros);
        shard.per_second[second].saturating_record(micros);
    }

    /// Whole-run percentiles and the per-second series.
    pub fn summarise(&self) -> (Percentiles, Vec<Second>) {
        let mut total = histogram(3);
        let mut per_second: Vec<Histogram<u64>> = (0..self.seconds).map(|_| histogram(2)).collect();
        for shard in &self.shards {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            let _ = total.add(&shard.total);
            for (acc, h) in per_second.iter_mut().zip(&shard.per_second) {
                let _ = acc.add(h);
            }
        }
        let series = per_second
            .iter()
            .enumerate()
            .map(|(second, h)| Second {
                second,
                deliveries: h.len(),
                latency: Percentiles::of(h),
            })
            .collect();
        (Percentiles::of(&total), series)
    }
}

/// A latency histogram for a single recorder (acknowledgement times).
pub struct Simple(Mutex<Histogram<u64>>);

impl Default for Simple {
    fn default() -> Self {
        Simple(Mutex::new(histogram(3)))
    }
}

impl Simple {
    /// Record one duration.
    pub fn record(&self, d: Duration) {
        let micros = (d.as_micros() as u64).clamp(1, MAX_MICROS);
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saturating_record(micros);
    }
    /// Its percentiles.
    pub fn percentiles(&self) -> Percentiles {
        Percentiles::of(&self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
