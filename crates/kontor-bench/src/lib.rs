//! Kontor's load generator. It seeds a fresh data directory, starts the real
//! `kontor` binary on a loopback port, drives it over HTTP and WebSocket
//! like thousands of clients would, and reports throughput, delivery
//! latency (HDR histograms), CPU and memory read from `/proc`.
//!
//! - [`seed`]: people, sessions and conversations for a scenario.
//! - [`server`]: the server process under test.
//! - [`load`]: receiving sockets and paced senders.
//! - [`probe`]: the bare fan-out server, the machine's own limit.
//! - [`run`]: one run end to end; [`report`]: table, JSON, SVG.
//! - [`images`]: peak memory under worst-case image uploads.
//! - [`stats`], [`sys`]: histograms and `/proc` readings.

pub mod images;
pub mod load;
pub mod probe;
pub mod report;
pub mod run;
pub mod search;
pub mod seed;
pub mod server;
pub mod stats;
pub mod sys;
