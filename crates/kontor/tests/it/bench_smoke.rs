//! A few seconds of each load-generator scenario against the real binary:
//! counts only (everything acknowledged is delivered to every member, no
//! errors, no disconnects), never timings. On `.ci/run`'s PostgreSQL pass
//! each run gets a fresh database (`--database-url`).

use crate::common;

use std::path::PathBuf;

use kontor_bench::report::Report;
use kontor_bench::run::{RunArgs, SendVia, run};
use kontor_bench::seed::Layout;

async fn smoke(scenario: Layout, clients: usize, rate: f64, probe: bool) -> Report {
    smoke_via(scenario, clients, rate, probe, SendVia::Http).await
}

async fn smoke_via(
    scenario: Layout,
    clients: usize,
    rate: f64,
    probe: bool,
    send_via: SendVia,
) -> Report {
    // Only names the fresh database on the PostgreSQL pass.
    let marker = tempfile::tempdir().expect("tempdir");
    let args = RunArgs {
        scenario,
        clients,
        rate,
        senders: 8,
        max_backlog: 2_000,
        duration: 2,
        warmup: 1,
        size: 64,
        group_size: 10,
        kontor: PathBuf::from(env!("CARGO_BIN_EXE_kontor")),
        probe,
        send_via,
        database_url: common::database::database_url_for(marker.path()),
        helper: None,
    };
    let report = run(&args)
        .await
        .unwrap_or_else(|e| panic!("{scenario:?} run failed: {e:#}"));
    println!("{}", report.table());
    report
}

fn assert_complete(r: &Report) {
    let t = &r.totals;
    assert!(t.accepted > 0, "nothing sent: {}", r.table());
    assert_eq!(
        (t.send_errors, t.send_dropped, t.disconnects),
        (0, 0, 0),
        "{}",
        r.table()
    );
    assert_eq!(t.missing, 0, "deliveries lost: {}", r.table());
    assert_eq!(t.delivered, t.expected, "{}", r.table());
    assert!(r.delivery_latency.as_ref().is_some_and(|l| l.count > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_delivers_everything_it_accepts() {
    let dm = smoke(Layout::Dm, 40, 200.0, false).await;
    assert_complete(&dm);
    assert_eq!(dm.conversations, 20);
    assert_eq!(dm.totals.expected, dm.totals.accepted * 2);

    // The same over `send` frames on the senders' own sockets.
    let dm_ws = smoke_via(Layout::Dm, 40, 0.0, false, SendVia::Ws).await;
    assert_complete(&dm_ws);
    assert_eq!(dm_ws.totals.expected, dm_ws.totals.accepted * 2);

    let groups = smoke(Layout::Groups, 40, 0.0, false).await;
    assert_complete(&groups);
    assert_eq!(groups.totals.expected, groups.totals.accepted * 10);

    let channel = smoke(Layout::Channel, 60, 20.0, true).await;
    assert_complete(&channel);
    assert_eq!(channel.totals.expected, channel.totals.accepted * 60);
    assert!(channel.probe_delivered_per_second.is_some_and(|p| p > 0.0));

    let mixed = smoke(Layout::Mixed, 40, 100.0, false).await;
    assert_complete(&mixed);

    let idle = smoke(Layout::Idle, 50, 0.0, false).await;
    assert_eq!(idle.totals.disconnects, 0);
    assert!(idle.server_kib_per_connection.is_some());
    assert!(idle.startup_ms.is_some() && idle.server_rss_idle_mib.is_some());
}
