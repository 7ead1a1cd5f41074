//! Instruction counts of the pure hot-path functions under Valgrind's
//! callgrind (gungraun). Unlike wall-clock time these stay comparable on a
//! shared, noisy machine. Needs `gungraun-runner` of the same version as
//! the `gungraun` dev-dependency on the PATH:
//! `cargo install --version 0.20.0 gungraun-runner`, then
//! `cargo bench -p kontor-bench --bench instructions`.

use std::hint::black_box;

mod fixtures;

use gungraun::{library_benchmark, library_benchmark_group, main};
use kontor_core::event::Event;
use kontor_core::ids::EventSeq;
use kontor_core::model::MemberRole;
use kontor_core::policy::{Action, authorize};
use kontor_server::encoder::JsonEventEncoder;
use kontor_storage::EventEncoder;

use fixtures::{announcement_channel, member, message};

fn created(text_len: usize) -> Event {
    Event::MessageCreated {
        message: message(text_len),
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
    let actor = member();
    let facts = announcement_channel();
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
