//! What the operating system says about CPU and memory: per process from
//! `/proc/<pid>/stat` and `/proc/<pid>/status`, for the whole machine from
//! `/proc/stat`. Linux only; elsewhere the figures are reported as absent.

use std::time::Instant;

/// Clock ticks per second for `/proc` CPU times. Linux has used 100 on
/// every mainstream architecture for decades; reading `sysconf` would need
/// `unsafe` or another crate for one constant.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time of one process so far, in seconds.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which may contain spaces and ends at
    // the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// CPU time so far of every process whose command is `name` (the
/// PostgreSQL server and its backends are all `postgres`), in seconds.
pub fn processes_cpu_seconds(name: &str) -> Option<f64> {
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) else {
            continue;
        };
        if comm.trim_end() == name {
            total += process_cpu_seconds(pid).unwrap_or(0.0);
        }
    }
    Some(total)
}

/// Resident set size of one process, in bytes.
pub fn process_rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Busy and total CPU time of the whole machine, in seconds (all cores).
pub fn machine_cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: f64 = v.iter().take(8).sum();
    // idle + iowait
    let idle = v.get(3)? + v.get(4).unwrap_or(&0.0);
    Some(((total - idle) / TICKS_PER_SECOND, total / TICKS_PER_SECOND))
}

/// Number of online CPUs.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A snapshot of CPU use, to subtract from a later one.
#[derive(Clone, Debug)]
pub struct CpuSnapshot {
    at: Instant,
    server: Option<f64>,
    own: Option<f64>,
    database: Option<f64>,
    machine_busy: Option<f64>,
}

impl CpuSnapshot {
    /// Take a snapshot of the server, this process (and `extra` helper
    /// processes counted as ours), the PostgreSQL processes when the server
    /// runs on `postgres` (part of what is measured, not others' load) and
    /// the machine.
    pub fn take(server_pid: Option<u32>, extra: &[u32], postgres: bool) -> CpuSnapshot {
        let own = process_cpu_seconds(std::process::id()).map(|own| {
            own + extra
                .iter()
                .filter_map(|p| process_cpu_seconds(*p))
                .sum::<f64>()
        });
        CpuSnapshot {
            at: Instant::now(),
            server: server_pid.and_then(process_cpu_seconds),
            own,
            database: if postgres {
                processes_cpu_seconds("postgres")
            } else {
                None
            },
            machine_busy: machine_cpu_seconds().map(|(busy, _)| busy),
        }
    }
}

/// CPU use between two snapshots, in cores (1.0 = one core busy).
#[derive(Clone, Debug, serde::Serialize)]
pub struct CpuUse {
    /// Wall-clock seconds between the snapshots.
    pub seconds: f64,
    /// CPU seconds the server used.
    pub server_cpu_seconds: Option<f64>,
    /// Average cores the server used.
    pub server_cores: Option<f64>,
    /// Average cores the load generator used.
    pub generator_cores: Option<f64>,
    /// Average cores PostgreSQL used (runs on PostgreSQL only).
    pub database_cores: Option<f64>,
    /// Average cores everything else on the machine used: if this is
    /// noticeable, someone else's load distorted the run.
    pub other_cores: Option<f64>,
}

impl CpuUse {
    /// The difference `later - earlier`.
    pub fn between(earlier: &CpuSnapshot, later: &CpuSnapshot) -> CpuUse {
        let seconds = later.at.duration_since(earlier.at).as_secs_f64().max(1e-9);
        let d = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
        let server = d(earlier.server, later.server);
        let own = d(earlier.own, later.own);
        let machine = d(earlier.machine_busy, later.machine_busy);
        let database = d(earlier.database, later.database);
        let other = match (machine, server, own) {
            (Some(m), s, Some(o)) => {
                Some(((m - s.unwrap_or(0.0) - o - database.unwrap_or(0.0)) / seconds).max(0.0))
            }
            _ => None,
        };
        CpuUse {
            seconds,
            server_cpu_seconds: server,
            server_cores: server.map(|s| s / seconds),
            generator_cores: own.map(|o| o / seconds),
            database_cores: database.map(|db| db / seconds),
            other_cores: other,
        }
    }

    /// A run counts as void when others used more than a quarter core on
    /// average: the figures would measure their load, not ours.
    pub fn disturbed(&self) -> bool {
        self.other_cores.is_some_and(|o| o > 0.25)
    }
}

/// Raise this process's open-file limit to the hard limit; children
/// inherit it. Returns the limit now in force and whether it covers `want`.
pub fn raise_fd_limit(want: u64) -> (u64, bool) {
    let now = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    (now, now >= want)
}
