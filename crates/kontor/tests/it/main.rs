//! Kontor's integration tests, one module per area, in one test binary:
//! each extra binary linked the whole server again, which made the debug
//! build tens of GB and most of the test build's time. Filter by module,
//! for example `cargo test -p kontor --test it -- access::`.

mod access;
mod bad_input;
mod bench_smoke;
mod capabilities;
mod cli;
mod cluster;
mod cluster_presence;
mod common;
mod connections;
mod crash;
mod csrf;
mod files;
mod messaging;
mod migrate;
mod openapi;
mod operations;
mod presence;
mod registry;
mod search;
mod search_index;
mod sessions;
mod socket_send;
mod web;
