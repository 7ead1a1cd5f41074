//! Instruction counts of the pure hot-path functions under Valgrind's
//! callgrind (gungraun). Unlike wall-clock time these stay comparable on a
//! shared, noisy machine. Needs `gungraun-runner` of the same version as
//! the `gungraun` dev-dependency on the PATH:
//! `cargo install --version 0.20.0 gungraun-runner`, then
//! `cargo bench -p kontor-bench --bench instructions`.

use std::hint::black_box;

use gungraun::{library_benchmark, library_benchmark_group, main};
use kontor_core::event::Event;
use kontor_core::ids::{ConversationId, EventSeq, MessageId, OrgId, UserId};
use kontor_core::model::{
    Actor, ConversationFacts, ConversationKind, MemberRole, Message, OrgRole, Timestamp,
};
use kontor_core::policy::{Action, authorize};
use kontor_server::encoder::JsonEventEncoder;
use kontor_storage::EventEncoder;

fn created(text_len: usize) -> Event {
    Event::MessageCreated {
        message: Message {
            id: MessageId(1_234_567),
            conversation_id: ConversationId(42),
            sender_id: UserId(7),
            txn_id: "0b6f1f8e-4a0c-4a47-9b7e-3c1d2e5f6a7b".into(),
            thread_root_id: None,
            text: Some("x".repeat(text_len)),
            mentions: vec![UserId(9)],
            mentions_channel: false,
            reactions: Vec::new(),
            reply_count: 0,
            last_reply_at: None,
            created_at: Timestamp(1_795_000_000_000),
            edited_at: None,
            deleted_at: None,
        },
    }
}

#[library_benchmark]
#[bench::text_100(created(100))]
#[bench::text_1000(created(1000))]
fn encode_event(event: Event) -> bytes::Bytes {
    black_box(JsonEventEncoder.encode(EventSeq(99), black_box(&event)))
}

#[library_benchmark]
fn authorize_post() -> bool {
    let actor = Actor {
        user_id: UserId(7),
        org_id: OrgId(1),
        org_role: OrgRole::Member,
    };
    let facts = ConversationFacts {
        org_id: OrgId(1),
        kind: ConversationKind::Channel,
        is_public: true,
        announcement: true,
    };
    black_box(
        authorize(
            black_box(&actor),
            black_box(&facts),
            Some(MemberRole::Moderator),
            Action::Post,
        )
        .is_ok(),
    )
}

library_benchmark_group!(name = hot_path; benchmarks = encode_event, authorize_post);

main!(library_benchmark_groups = hot_path);
