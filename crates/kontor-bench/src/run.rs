//! One benchmark run: seed, start the server, connect, load, measure,
//! report.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::load::{self, Pace, SendContext, Target};
use crate::report::{Report, Totals};
use crate::seed::{self, Fixture, Layout};
use crate::server::ServerUnderTest;
use crate::stats::{Counters, Recorder, Simple};
use crate::sys::{self, CpuSnapshot, CpuUse};

/// Connections one idle worker process holds; the machine allows 20,000
/// open files per process.
pub const CONNECTIONS_PER_WORKER: usize = 7_500;
/// How long owed deliveries may take to arrive after the senders stop.
const DRAIN: Duration = Duration::from_secs(10);
/// Longest run accepted, seconds: a benchmark is bounded in time.
pub const MAX_DURATION_SECONDS: u64 = 600;
/// Most clients accepted.
pub const MAX_CLIENTS: usize = 100_000;

/// What to run.
#[derive(Clone, Debug, serde::Serialize, clap::Args)]
pub struct RunArgs {
    /// Scenario: dm, groups, channel, idle or mixed.
    #[arg(long, value_enum)]
    pub scenario: Layout,
    /// People, each with one WebSocket.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Messages per second in total (open loop); 0 = closed-loop maximum.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Closed loop: concurrent senders.
    #[arg(long, default_value_t = 64)]
    pub senders: usize,
    /// Closed loop: most deliveries owed before senders wait.
    #[arg(long, default_value_t = 50_000)]
    pub max_backlog: u64,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Unmeasured seconds first.
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Message text size in bytes.
    #[arg(long, default_value_t = 100)]
    pub size: usize,
    /// Members per group (groups, mixed).
    #[arg(long, default_value_t = 20)]
    pub group_size: usize,
    /// The kontor binary (default: next to this one).
    #[arg(long, default_value_os_t = crate::server::default_binary())]
    pub kontor: PathBuf,
    /// How messages are posted: `http` (one REST request each) or `ws`
    /// (`send` frames over the sender's own event socket).
    #[arg(long, value_enum, default_value_t = SendVia::Http)]
    pub send_via: SendVia,
    /// channel: also run the bare fan-out probe and compare.
    #[arg(long)]
    pub probe: bool,
    /// Run on PostgreSQL: the URL of an empty database (e.g. after
    /// `createdb kontor_bench`). Default: SQLite in a fresh data directory.
    #[arg(long)]
    #[serde(serialize_with = "redacted")]
    pub database_url: Option<String>,
    /// The `kontor-bench` binary, to run the probe and idle workers as
    /// processes of their own. Without it they run inside this process
    /// (fine for smoke tests; their CPU then counts as the generator's and
    /// one process holds every idle connection).
    #[arg(skip)]
    pub helper: Option<PathBuf>,
}

/// The database URL in a report, without its password.
fn redacted<S: serde::Serializer>(url: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(u) => s.serialize_some(&kontor_server::config::redact_url(u)),
        None => s.serialize_none(),
    }
}

/// The transport senders post messages over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SendVia {
    /// `POST /api/v1/conversations/{id}/messages`.
    Http,
    /// `send` frames on the event socket.
    Ws,
}

impl RunArgs {
    fn pace(&self) -> Pace {
        if self.rate > 0.0 {
            Pace::Open { rate: self.rate }
        } else {
            Pace::Closed {
                senders: self.senders.max(1),
                max_backlog: self.max_backlog,
            }
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.duration == 0 || self.duration + self.warmup > MAX_DURATION_SECONDS {
            bail!("duration must be 1..{MAX_DURATION_SECONDS} seconds including warm-up");
        }
        if self.clients < 2 || self.clients > MAX_CLIENTS {
            bail!("clients must be 2..{MAX_CLIENTS}");
        }
        if self.size < 24 || self.size > kontor_core::limits::MAX_MESSAGE_BYTES {
            bail!(
                "size must be 24..{} bytes",
                kontor_core::limits::MAX_MESSAGE_BYTES
            );
        }
        Ok(())
    }
}

fn mib(bytes: Option<u64>) -> Option<f64> {
    bytes.map(|b| b as f64 / (1024.0 * 1024.0))
}

/// Run a scenario end to end.
pub async fn run(args: &RunArgs) -> anyhow::Result<Report> {
    args.validate()?;
    let mut report = Report {
        scenario: format!("{:?}", args.scenario).to_lowercase(),
        parameters: serde_json::to_value(args)?,
        clients: args.clients,
        ..Default::default()
    };
    let (limit, enough) =
        sys::raise_fd_limit(args.clients.min(CONNECTIONS_PER_WORKER) as u64 + 1024);
    if !enough {
        report.notes.push(format!(
            "open-file limit is {limit}; connections beyond it will fail"
        ));
    }
    // Removed when dropped, also when the run fails half-way.
    let tmp = tempfile::Builder::new().prefix("kontor-bench-").tempdir()?;
    let dir = tmp.path().to_owned();
    let database = args.database_url.as_deref();
    let fixture = seed::seed(&dir, database, args.clients, args.scenario, args.group_size).await?;
    report.conversations = fixture.conversations.len();
    if database.is_some() {
        report.notes.push(
            "PostgreSQL: its processes' CPU is counted apart (database cores), not in the server figures"
                .into(),
        );
    }
    let server = ServerUnderTest::start(&args.kontor, &dir, database).await?;
    report.startup_ms = Some(server.startup.as_secs_f64() * 1000.0);
    report.server_rss_idle_mib = mib(sys::process_rss_bytes(server.pid()));

    if args.scenario == Layout::Idle {
        idle(args, &server, &fixture, &dir, &mut report).await?;
    } else {
        messaging(args, &server, &fixture, &mut report).await?;
        if args.probe && args.scenario == Layout::Channel {
            probe_side_by_side(args, &mut report).await?;
        }
    }
    report.server_rss_end_mib = mib(sys::process_rss_bytes(server.pid()));
    server.stop();
    drop(tmp);
    Ok(report)
}

fn targets(fixture: &Fixture, scenario: Layout) -> Vec<Target> {
    let mut out = Vec::new();
    for c in &fixture.conversations {
        let recipients = c.members.len() as u64;
        // Every member takes a turn sending, except in the big channel,
        // where a handful of posters is realistic and one target suffices
        // in the mixed traffic.
        let senders: Vec<usize> = if c.kind == "channel" {
            c.members
                .iter()
                .copied()
                .take(if scenario == Layout::Mixed { 1 } else { 16 })
                .collect()
        } else {
            c.members.clone()
        };
        for s in senders {
            out.push(Target {
                conversation: c.id,
                token: fixture.people[s].token.clone(),
                sender: s,
                recipients,
            });
        }
    }
    // Interleave conversations so consecutive sends hit different ones.
    let n = out.len();
    let stride = fixture.conversations.len().max(1);
    let mut interleaved = Vec::with_capacity(n);
    let per = n.div_ceil(stride);
    for j in 0..per {
        for i in 0..stride {
            if let Some(t) = out.get(i * per + j) {
                interleaved.push(t.clone());
            }
        }
    }
    if interleaved.len() == n {
        interleaved
    } else {
        out
    }
}

async fn measure<F: std::future::Future<Output = ()>>(
    args: &RunArgs,
    pids: (Option<u32>, Vec<u32>),
    counters: &Counters,
    load: F,
) -> (CpuUse, (u64, u64), f64) {
    let warmup = Duration::from_secs(args.warmup);
    let window = Duration::from_secs(args.duration);
    let (server_pid, extra) = pids;
    let watcher = async {
        tokio::time::sleep(warmup).await;
        let a = CpuSnapshot::take(server_pid, &extra, args.database_url.is_some());
        let before = (
            Counters::get(&counters.accepted),
            Counters::get(&counters.delivered),
        );
        let started = Instant::now();
        tokio::time::sleep(window).await;
        let b = CpuSnapshot::take(server_pid, &extra, args.database_url.is_some());
        let after = (
            Counters::get(&counters.accepted),
            Counters::get(&counters.delivered),
        );
        (
            CpuUse::between(&a, &b),
            (after.0 - before.0, after.1 - before.1),
            started.elapsed().as_secs_f64(),
        )
    };
    let (m, ()) = tokio::join!(watcher, load);
    m
}

async fn messaging(
    args: &RunArgs,
    server: &ServerUnderTest,
    fixture: &Fixture,
    report: &mut Report,
) -> anyhow::Result<()> {
    let (counters, recorder, stop) = fresh_state(args);
    let tokens = fixture.people.iter().map(|p| p.token.clone()).collect();
    let (mut readers, sockets) = load::connect_senders(
        &load::events_url(&server.url, "/api/v1/events"),
        tokens,
        counters.clone(),
        recorder.clone(),
        stop.clone(),
    )
    .await?;
    let sockets = if args.send_via == SendVia::Ws {
        sockets
    } else {
        Vec::new()
    };
    let ctx = Arc::new(SendContext {
        base: server.url.clone(),
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()?,
        targets: targets(fixture, args.scenario),
        size: args.size,
        counters: counters.clone(),
        recorder: recorder.clone(),
        ack_latency: Simple::default(),
        sockets,
    });
    let total = Duration::from_secs(args.warmup + args.duration);
    let (cpu, (accepted, delivered), seconds) = measure(
        args,
        (Some(server.pid()), Vec::new()),
        &counters,
        load::send_for(ctx.clone(), args.pace(), total),
    )
    .await;
    load::drain(&counters, DRAIN).await;
    stop.store(true, Ordering::Relaxed);
    readers.abort_all();
    while readers.join_next().await.is_some() {}

    let (latency, timeline) = recorder.summarise();
    report.seconds = seconds;
    report.accepted_per_second = accepted as f64 / seconds;
    report.delivered_per_second = delivered as f64 / seconds;
    report.server_cpu_ms_per_message = cpu
        .server_cpu_seconds
        .filter(|_| accepted > 0)
        .map(|s| s * 1000.0 / accepted as f64);
    report.void = cpu.disturbed();
    report.cpu = Some(cpu);
    report.delivery_latency = Some(latency);
    report.ack_latency = Some(ctx.ack_latency.percentiles());
    report.timeline = timeline;
    report.totals = totals(&counters);
    Ok(())
}

/// Counters, a latency recorder for the run's length, and a stop flag.
fn fresh_state(args: &RunArgs) -> (Arc<Counters>, Arc<Recorder>, Arc<AtomicBool>) {
    let recorder = Recorder::new(
        Instant::now(),
        Duration::from_secs(args.warmup),
        args.duration as usize + 1,
    );
    (Arc::default(), Arc::new(recorder), Arc::default())
}

fn totals(c: &Counters) -> Totals {
    let expected = Counters::get(&c.expected);
    let delivered = Counters::get(&c.delivered);
    Totals {
        accepted: Counters::get(&c.accepted),
        send_errors: Counters::get(&c.send_errors),
        send_dropped: Counters::get(&c.send_dropped),
        expected,
        delivered,
        missing: expected.saturating_sub(delivered),
        disconnects: Counters::get(&c.disconnects),
    }
}

/// Run the bare probe with the same receivers and pace.
async fn probe_side_by_side(args: &RunArgs, report: &mut Report) -> anyhow::Result<()> {
    let (url, mut child, in_process) = match &args.helper {
        Some(exe) => {
            let mut child = tokio::process::Command::new(exe)
                .arg("probe-server")
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let mut lines = BufReader::new(child.stdout.take().context("probe stdout")?).lines();
            let url = loop {
                let line = lines.next_line().await?.context("probe exited")?;
                if let Some(u) = line.strip_prefix("probe listening on ") {
                    break u.to_owned();
                }
            };
            (url, Some(child), None)
        }
        None => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let url = format!("http://{}", listener.local_addr()?);
            (
                url,
                None,
                Some(tokio::spawn(crate::probe::serve_on(listener))),
            )
        }
    };
    let probe_pid = child.as_ref().and_then(tokio::process::Child::id);
    let (counters, recorder, stop) = fresh_state(args);
    let tokens = vec![String::from("none"); args.clients];
    let mut readers = load::connect_receivers(
        &load::events_url(&url, "/"),
        tokens,
        counters.clone(),
        recorder.clone(),
        stop.clone(),
    )
    .await?;
    let total = Duration::from_secs(args.warmup + args.duration);
    let publish = async {
        if let Err(e) = crate::probe::publish_for(
            &url,
            args.clients as u64,
            args.size,
            args.pace(),
            total,
            &counters,
            &recorder,
        )
        .await
        {
            eprintln!("probe publisher failed: {e}");
        }
    };
    let (_, (_, delivered), seconds) =
        measure(args, (probe_pid, Vec::new()), &counters, publish).await;
    load::drain(&counters, DRAIN).await;
    stop.store(true, Ordering::Relaxed);
    readers.abort_all();
    while readers.join_next().await.is_some() {}
    if let Some(child) = child.as_mut() {
        let _ = child.kill().await;
    }
    if let Some(task) = in_process {
        task.abort();
    }
    let probe = delivered as f64 / seconds;
    report.probe_delivered_per_second = Some(probe);
    if probe > 0.0 {
        report.fanout_vs_probe = Some(report.delivered_per_second / probe);
    }
    Ok(())
}

/// Hold idle connections from worker processes and measure what they cost.
async fn idle(
    args: &RunArgs,
    server: &ServerUnderTest,
    fixture: &Fixture,
    dir: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tokens_file = dir.join("bench-tokens.json");
    let tokens: Vec<&str> = fixture.people.iter().map(|p| p.token.as_str()).collect();
    std::fs::write(&tokens_file, serde_json::to_vec(&tokens)?)?;
    let rss_before = sys::process_rss_bytes(server.pid());
    let Some(exe) = &args.helper else {
        return idle_in_process(args, server, fixture, rss_before, report).await;
    };
    let mut workers = Vec::new();
    for from in (0..args.clients).step_by(CONNECTIONS_PER_WORKER) {
        let to = (from + CONNECTIONS_PER_WORKER).min(args.clients);
        let mut child = tokio::process::Command::new(exe)
            .args([
                "idle-worker",
                "--url",
                &server.url,
                "--from",
                &from.to_string(),
                "--to",
                &to.to_string(),
                "--tokens",
            ])
            .arg(&tokens_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let lines = BufReader::new(child.stdout.take().context("worker stdout")?).lines();
        workers.push((child, lines));
    }
    let started = Instant::now();
    let mut connected = 0;
    for (_, lines) in &mut workers {
        let line = lines.next_line().await?.context("idle worker exited")?;
        connected += line
            .strip_prefix("connected ")
            .context("worker failed")?
            .trim()
            .parse::<usize>()?;
    }
    report.notes.push(format!(
        "{connected} connections open after {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    tokio::time::sleep(Duration::from_secs(args.warmup.max(2))).await;
    let pids: Vec<u32> = workers.iter().filter_map(|(c, _)| c.id()).collect();
    let a = CpuSnapshot::take(Some(server.pid()), &pids, args.database_url.is_some());
    let rss_connected = sys::process_rss_bytes(server.pid());
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let b = CpuSnapshot::take(Some(server.pid()), &pids, args.database_url.is_some());
    let mut disconnects = 0;
    for (child, lines) in &mut workers {
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.shutdown().await;
        }
        if let Some(line) = lines.next_line().await? {
            disconnects += line
                .strip_prefix("disconnects ")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
        let _ = child.wait().await;
    }
    let cpu = CpuUse::between(&a, &b);
    report.seconds = cpu.seconds;
    report.void = cpu.disturbed();
    report.cpu = Some(cpu);
    report.totals.disconnects = disconnects;
    if let (Some(before), Some(after)) = (rss_before, rss_connected) {
        report.server_kib_per_connection =
            Some(after.saturating_sub(before) as f64 / 1024.0 / connected.max(1) as f64);
    }
    if connected < args.clients {
        report.notes.push(format!(
            "only {connected} of {} clients connected",
            args.clients
        ));
    }
    Ok(())
}

/// The idle scenario without worker processes (smoke tests).
async fn idle_in_process(
    args: &RunArgs,
    server: &ServerUnderTest,
    fixture: &Fixture,
    rss_before: Option<u64>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let counters = Arc::new(Counters::default());
    let recorder = Arc::new(Recorder::new(Instant::now(), Duration::ZERO, 1));
    let stop = Arc::new(AtomicBool::new(false));
    let tokens: Vec<String> = fixture.people.iter().map(|p| p.token.clone()).collect();
    let connected = tokens.len();
    let mut readers = load::connect_receivers(
        &load::events_url(&server.url, "/api/v1/events"),
        tokens,
        counters.clone(),
        recorder,
        stop.clone(),
    )
    .await?;
    let a = CpuSnapshot::take(Some(server.pid()), &[], args.database_url.is_some());
    let rss_connected = sys::process_rss_bytes(server.pid());
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    let b = CpuSnapshot::take(Some(server.pid()), &[], args.database_url.is_some());
    stop.store(true, Ordering::Relaxed);
    readers.abort_all();
    let cpu = CpuUse::between(&a, &b);
    report.seconds = cpu.seconds;
    report.cpu = Some(cpu);
    report.totals.disconnects = Counters::get(&counters.disconnects);
    if let (Some(before), Some(after)) = (rss_before, rss_connected) {
        report.server_kib_per_connection =
            Some(after.saturating_sub(before) as f64 / 1024.0 / connected.max(1) as f64);
    }
    report
        .notes
        .push(format!("{connected} connections open (in-process)"));
    Ok(())
}

/// The `idle-worker` subcommand: open sockets `from..to`, print
/// `connected N`, hold them until stdin closes, print `disconnects N`.
pub async fn idle_worker(
    url: &str,
    tokens_file: &std::path::Path,
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    sys::raise_fd_limit((to - from) as u64 + 256);
    let tokens: Vec<String> = serde_json::from_slice(&std::fs::read(tokens_file)?)?;
    let tokens = tokens.get(from..to).context("token range")?.to_vec();
    let counters = Arc::new(Counters::default());
    let recorder = Arc::new(Recorder::new(Instant::now(), Duration::ZERO, 1));
    let stop = Arc::new(AtomicBool::new(false));
    let n = tokens.len();
    let mut readers = load::connect_receivers(
        &load::events_url(url, "/api/v1/events"),
        tokens,
        counters.clone(),
        recorder,
        stop.clone(),
    )
    .await?;
    println!("connected {n}");
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    while stdin.next_line().await.ok().flatten().is_some() {}
    stop.store(true, Ordering::Relaxed);
    println!("disconnects {}", Counters::get(&counters.disconnects));
    readers.abort_all();
    Ok(())
}
