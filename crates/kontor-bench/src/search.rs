//! `kontor-bench search`: fill a fresh data directory with many messages,
//! start the real server on it, and measure full-text search over HTTP:
//! latency percentiles per kind of query, and the index's size on disk.
//!
//! The text is generated: words drawn from a vocabulary with a Zipf
//! distribution (a few very common words, a long tail of rare ones), as
//! natural language has, so a common word matches a large share of the
//! messages and a rare one a handful. Real German and English words sit at
//! chosen ranks of that vocabulary, so the queries have known frequencies.
//! Messages are written through the server's storage (the same code path
//! as a send, index included), many at a time, so the writer batches them.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::future::try_join_all;
use kontor_core::ids::{ConversationId, OrgId, UserId};
use kontor_core::model::{Actor, OrgRole, Timestamp};
use kontor_server::Server;
use kontor_server::config::Config;
use kontor_storage::NewMessage;
use serde::Serialize;

use crate::seed::{self, Layout};
use crate::server::ServerUnderTest;
use crate::stats::{Percentiles, Simple};
use crate::sys::{CpuSnapshot, CpuUse};

/// Most messages one run may write.
pub const MAX_MESSAGES: usize = 5_000_000;
/// Most queries one run may send.
pub const MAX_QUERIES: usize = 100_000;
/// Sends in flight while filling.
const FILL_CONCURRENCY: usize = 1024;

/// What to run.
#[derive(Clone, Debug, Serialize, clap::Args)]
pub struct SearchArgs {
    /// Messages to write before searching.
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// People (each in one group).
    #[arg(long, default_value_t = 200)]
    pub people: usize,
    /// Members per group.
    #[arg(long, default_value_t = 10)]
    pub group_size: usize,
    /// Queries of each kind.
    #[arg(long, default_value_t = 300)]
    pub queries: usize,
    /// Queries in flight.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// The kontor binary (default: next to this one).
    #[arg(long, default_value_os_t = crate::server::default_binary())]
    pub kontor: std::path::PathBuf,
    /// Keep the filled data directory (its path is printed) to look into
    /// the index afterwards.
    #[arg(long)]
    pub keep_data: bool,
}

/// Figures of one kind of query.
#[derive(Debug, Serialize)]
pub struct QueryFigures {
    /// What the query is.
    pub kind: &'static str,
    /// The words.
    pub q: String,
    /// Hits on the first page (the same every time).
    pub hits_on_page: usize,
    /// Latency in ms.
    pub latency: Percentiles,
}

/// What a run found.
#[derive(Debug, Serialize)]
pub struct SearchReport {
    /// Parameters.
    pub parameters: SearchArgs,
    /// Seconds spent writing the messages.
    pub fill_seconds: f64,
    /// Messages written per second while filling (index included).
    pub fill_per_second: f64,
    /// Database file size in MiB after the fill (WAL checkpointed).
    pub database_mib: f64,
    /// Of that, the search index's tables in MiB.
    pub index_mib: f64,
    /// Per kind of query.
    pub queries: Vec<QueryFigures>,
    /// All queries together.
    pub overall: Percentiles,
    /// CPU while querying.
    pub cpu: CpuUse,
    /// Whether others' load made the figures meaningless.
    pub void: bool,
}

impl SearchReport {
    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut t = format!(
            "messages {} (filled at {:.0}/s), database {:.1} MiB, search index {:.1} MiB\n",
            self.parameters.messages, self.fill_per_second, self.database_mib, self.index_mib
        );
        t.push_str("| query | q | hits | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|\n");
        for q in &self.queries {
            t.push_str(&format!(
                "| {} | `{}` | {} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                q.kind,
                q.q,
                q.hits_on_page,
                q.latency.p50,
                q.latency.p95,
                q.latency.p99,
                q.latency.max
            ));
        }
        t.push_str(&format!(
            "| all | | | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            self.overall.p50, self.overall.p95, self.overall.p99, self.overall.max
        ));
        t.push_str(&format!(
            "cores: server / generator / others {:.2} / {:.2} / {:.2}; void {}\n",
            self.cpu.server_cores.unwrap_or(0.0),
            self.cpu.generator_cores.unwrap_or(0.0),
            self.cpu.other_cores.unwrap_or(0.0),
            self.void
        ));
        t
    }
}

/// Real words placed at chosen vocabulary ranks (0 = most common).
const PLACED: &[(usize, &str)] = &[
    (3, "Schicht"),
    (40, "Wartung"),
    (41, "maintenance"),
    (300, "Lieferung"),
    (2_000, "Betriebsratssitzung"),
    (2_001, "running"),
    (15_000, "Hafenkran"),
];
/// Generated words in the vocabulary.
const VOCABULARY: usize = 30_000;

/// The queries: kind and words.
const QUERIES: &[(&str, &str)] = &[
    ("common word (rank 3)", "Schichten"),
    ("frequent word (rank 40)", "Wartung"),
    ("medium word (rank 300)", "Lieferungen"),
    ("compound part (rank 2,000)", "Sitzung"),
    ("English form (rank 2,001)", "run"),
    ("rare word (rank 15,000)", "Hafenkran"),
    ("two words", "Wartung Lieferung"),
    ("no hit", "Zeppelin"),
];

/// A small deterministic generator (xorshift): the same text every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The vocabulary and a Zipf sampler over it.
struct Words {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Words {
    fn new(rng: &mut Rng) -> Words {
        const SYLLABLES: &[&str] = &[
            "ka", "lo", "mer", "tin", "sa", "ber", "gu", "ren", "fa", "dol", "ti", "han", "ne",
            "stra", "wo", "ling", "pa", "kor", "mi", "sel", "bu", "ta", "ro", "vent", "lu", "ge",
        ];
        let mut words: Vec<String> = (0..VOCABULARY)
            .map(|_| {
                let n = 2 + rng.below(3);
                (0..n)
                    .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                    .collect()
            })
            .collect();
        for &(rank, word) in PLACED {
            words[rank] = word.to_owned();
        }
        let mut total = 0.0;
        let cumulative = (1..=VOCABULARY)
            .map(|r| {
                total += 1.0 / r as f64;
                total
            })
            .collect();
        Words { words, cumulative }
    }

    fn pick(&self, rng: &mut Rng) -> &str {
        let total = self.cumulative[VOCABULARY - 1];
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|&c| c < x);
        &self.words[i.min(VOCABULARY - 1)]
    }

    fn message(&self, rng: &mut Rng) -> String {
        let n = 5 + rng.below(20);
        (0..n).map(|_| self.pick(rng)).collect::<Vec<_>>().join(" ")
    }
}

fn now() -> Timestamp {
    Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
    )
}

/// Write `count` messages round-robin over the conversations, each by one
/// of its members.
async fn fill(dir: &Path, fixture: &seed::Fixture, org: OrgId, count: usize) -> anyhow::Result<()> {
    let mut config = Config::default();
    config.storage.data_dir = dir.to_owned();
    let server = Server::open(config)
        .await
        .context("open the data directory")?;
    let store = server.state().store.clone();
    let words = Arc::new(Words::new(&mut Rng(0x6b6f6e746f72)));
    let mut rng = Rng(0x5eed);
    let mut written = 0usize;
    while written < count {
        let chunk = FILL_CONCURRENCY.min(count - written);
        let jobs: Vec<_> = (0..chunk)
            .map(|k| {
                let i = written + k;
                let conv = &fixture.conversations[i % fixture.conversations.len()];
                let sender = conv.members[rng.below(conv.members.len())];
                let actor = Actor {
                    user_id: UserId(fixture.people[sender].id),
                    org_id: org,
                    org_role: OrgRole::Member,
                };
                let new = NewMessage {
                    conversation_id: ConversationId(conv.id),
                    txn_id: format!("fill-{i}"),
                    text: words.message(&mut rng),
                    thread_root_id: None,
                    mentions: Vec::new(),
                    mentions_channel: false,
                    attachment_ids: Vec::new(),
                };
                let store = store.clone();
                async move { store.send_message(actor, new, now()).await }
            })
            .collect();
        try_join_all(jobs).await?;
        written += chunk;
        if written % 100_000 < FILL_CONCURRENCY {
            eprintln!("filled {written}/{count}");
        }
    }
    // The writer thread ends (and close returns) once no handle is left.
    drop(store);
    server.close().await;
    Ok(())
}

/// Database and index size in MiB, after a full checkpoint.
fn sizes(db: &Path) -> anyhow::Result<(f64, f64)> {
    let conn = rusqlite::Connection::open(db)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let index: i64 = conn.query_row(
        "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name LIKE 'message_search%'",
        [],
        |r| r.get(0),
    )?;
    let mib = |b: i64| b as f64 / (1024.0 * 1024.0);
    Ok((mib(page_size * pages), mib(index)))
}

/// Run the search benchmark end to end.
pub async fn run(args: &SearchArgs) -> anyhow::Result<SearchReport> {
    if args.messages == 0 || args.messages > MAX_MESSAGES {
        bail!("messages must be 1..{MAX_MESSAGES}");
    }
    if args.queries == 0 || args.queries * QUERIES.len() > MAX_QUERIES {
        bail!("queries must be 1..{}", MAX_QUERIES / QUERIES.len());
    }
    let tmp = tempfile::Builder::new()
        .prefix("kontor-search-bench-")
        .tempdir()?;
    let dir = tmp.path().to_owned();
    let fixture = seed::seed(
        &dir,
        None,
        args.people.max(2),
        Layout::Groups,
        args.group_size,
    )
    .await?;
    let org = {
        let mut config = Config::default();
        config.storage.data_dir = dir.clone();
        let server = Server::open(config).await?;
        let orgs = kontor_server::service::accounts::list_orgs(server.state())
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.parts().2))?;
        server.close().await;
        orgs.first().context("the seeded organisation")?.id
    };
    let started = Instant::now();
    fill(&dir, &fixture, org, args.messages).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    let (database_mib, index_mib) = sizes(&dir.join("kontor.db"))?;

    let server = ServerUnderTest::start(&args.kontor, &dir, None).await?;
    let http = reqwest::Client::builder().timeout(QUERY_TIMEOUT).build()?;
    let token = fixture.people[0].token.clone();
    let ask = |q: &'static str| {
        let http = http.clone();
        let url = format!("{}/api/v1/search", server.url);
        let token = token.clone();
        async move {
            let started = Instant::now();
            let res = http
                .get(url)
                .bearer_auth(token)
                .query(&[("q", q)])
                .send()
                .await?
                .error_for_status()?;
            let body: serde_json::Value = res.json().await?;
            let hits = body["hits"].as_array().map_or(0, Vec::len);
            anyhow::Ok((started.elapsed(), hits))
        }
    };
    // Warm the caches once per query, unmeasured.
    for &(_, q) in QUERIES {
        ask(q).await?;
    }
    let overall = Simple::default();
    let before = CpuSnapshot::take(Some(server.pid()), &[], false);
    let mut figures = Vec::new();
    for &(kind, q) in QUERIES {
        let latency = Simple::default();
        let mut hits_on_page = 0;
        let mut left = args.queries;
        while left > 0 {
            let n = args.concurrency.clamp(1, left);
            for (d, hits) in try_join_all((0..n).map(|_| ask(q))).await? {
                latency.record(d);
                overall.record(d);
                hits_on_page = hits;
            }
            left -= n;
        }
        figures.push(QueryFigures {
            kind,
            q: q.to_owned(),
            hits_on_page,
            latency: latency.percentiles(),
        });
    }
    let cpu = CpuUse::between(&before, &CpuSnapshot::take(Some(server.pid()), &[], false));
    server.stop();
    if args.keep_data {
        eprintln!("data kept in {}", tmp.keep().display());
    } else {
        drop(tmp);
    }
    Ok(SearchReport {
        parameters: args.clone(),
        fill_seconds,
        fill_per_second: args.messages as f64 / fill_seconds.max(1e-9),
        database_mib,
        index_mib,
        queries: figures,
        overall: overall.percentiles(),
        void: cpu.disturbed(),
        cpu,
    })
}

/// Wait at most this long for one query (a hung server must not hang the
/// benchmark).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
