//! Micro-benchmarks of the functions every message passes through:
//! encoding an event, the permission check, hub fan-out to N sockets, and
//! a batch commit to SQLite. Time with criterion:
//! `cargo bench -p kontor-bench --bench hot_path`.

use std::hint::black_box;
use std::time::{Duration, Instant};

mod fixtures;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kontor_core::event::{Audience, Event};
use kontor_core::ids::{ConversationId, EventSeq, OrgId, SessionId, UserId};
use kontor_core::model::{Actor, MemberRole, OrgRole, Timestamp};
use kontor_core::policy::{Action, authorize};
use kontor_server::encoder::JsonEventEncoder;
use kontor_server::hub::Hub;
use kontor_storage::{CommittedEvent, EventEncoder, HubSnapshot};

use fixtures::{announcement_channel, member, message};

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("encode_event");
    for len in [100, 1000] {
        let event = Event::MessageCreated {
            message: message(len),
        };
        g.bench_with_input(BenchmarkId::from_parameter(len), &event, |b, e| {
            b.iter(|| JsonEventEncoder.encode(EventSeq(99), black_box(e)))
        });
    }
    g.finish();
}

fn permission(c: &mut Criterion) {
    let actor = member();
    let facts = announcement_channel();
    c.bench_function("authorize_post_announcement", |b| {
        b.iter(|| {
            authorize(
                black_box(&actor),
                black_box(&facts),
                Some(MemberRole::Moderator),
                Action::Post,
            )
        })
    });
}

fn fanout(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("hub_fanout");
    g.measurement_time(Duration::from_secs(5));
    for n in [20usize, 1000, 10_000] {
        g.throughput(Throughput::Elements(n as u64));
        let conv = ConversationId(1);
        let members: Vec<_> = (0..n as i64).map(|u| (conv, UserId(u))).collect();
        let hub = Hub::new(
            HubSnapshot {
                at: EventSeq(0),
                memberships: members,
                sharing_presence: Vec::new(),
            },
            false,
            1,
        );
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        rt.spawn(hub.clone().run(rx));
        let mut subs: Vec<_> = (0..n as i64)
            .filter_map(|u| hub.subscribe(UserId(u), OrgId(1), SessionId(u)).ok())
            .collect();
        let frame = JsonEventEncoder.encode(
            EventSeq(1),
            &Event::MessageCreated {
                message: message(100),
            },
        );
        let mut seq = 0;
        g.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    seq += 1;
                    let ev = CommittedEvent {
                        seq: EventSeq(seq),
                        audience: Audience {
                            conversation: Some(conv),
                            user: None,
                        },
                        membership: None,
                        revoked_session: None,
                        presence_sharing: None,
                        frame: frame.clone(),
                    };
                    let _ = tx.send(vec![ev]);
                    // Done when every subscriber has its copy.
                    rt.block_on(async {
                        for s in &mut subs {
                            let _ = s.frames.recv().await;
                        }
                    });
                }
                start.elapsed()
            })
        });
    }
    g.finish();
}

fn batch_commit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("kontor-bench-commit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut g = c.benchmark_group("batch_commit");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    let (people, conversations) = rt.block_on(async {
        let fixture = kontor_bench::seed::seed(&dir, None, 200, kontor_bench::seed::Layout::Dm, 2)
            .await
            .expect("seed");
        (fixture.people, fixture.conversations)
    });
    let mut config = kontor_server::config::Config::default();
    config.storage.data_dir = dir.clone();
    let server = rt
        .block_on(kontor_server::Server::open(config))
        .expect("open");
    let store = server.state().store.clone();
    let mut txn = 0u64;
    for batch in [1usize, 100] {
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(BenchmarkId::from_parameter(batch), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let sends = (0..batch).map(|i| {
                        txn += 1;
                        let conv = &conversations[i % conversations.len()];
                        let sender = &people[conv.members[0]];
                        let actor = Actor {
                            user_id: UserId(sender.id),
                            org_id: OrgId(1),
                            org_role: OrgRole::Member,
                        };
                        let new = kontor_storage::NewMessage {
                            conversation_id: ConversationId(conv.id),
                            txn_id: format!("c{txn}"),
                            text: "Guten Morgen! Die Presse 4 läuft wieder.".into(),
                            thread_root_id: None,
                            mentions: Vec::new(),
                            mentions_channel: false,
                            attachment_ids: Vec::new(),
                        };
                        store.send_message(actor, new, Timestamp(1_795_000_000_000))
                    });
                    for r in futures_util::future::join_all(sends).await {
                        r.expect("send");
                    }
                })
            })
        });
    }
    g.finish();
    drop(store);
    rt.block_on(server.close());
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, encode, permission, fanout, batch_commit);
criterion_main!(benches);
