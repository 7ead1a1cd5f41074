#!/usr/bin/env bash
# Reproduce BENCHMARKS.md: build release binaries, run every scenario with
# the parameters the targets name, write docs/bench/<name>.json and .svg,
# and print the summary table. Takes about eleven minutes on 2 cores. Run it
# on an otherwise idle machine: runs where others used more than a quarter
# core are marked void.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p kontor -p kontor-bench
bench=target/release/kontor-bench
out=docs/bench
mkdir -p "$out"
run() { name=$1; shift; "$bench" run "$@" --out "$out" --name "$name"; }

run dm-closed        --scenario dm --clients 10000 --senders 256 --duration 15 --warmup 5
run dm-open-4000     --scenario dm --clients 10000 --rate 4000 --duration 15 --warmup 5
run dm-open-2500     --scenario dm --clients 10000 --rate 2500 --duration 15 --warmup 5
# The same load with messages posted as `send` frames on the senders' sockets.
run dm-ws-closed     --scenario dm --clients 10000 --senders 256 --send-via ws --duration 15 --warmup 5
run dm-ws-open-10000 --scenario dm --clients 10000 --rate 10000 --send-via ws --duration 15 --warmup 5
run dm-ws-open-5000  --scenario dm --clients 10000 --rate 5000 --send-via ws --duration 15 --warmup 5
run groups-20-closed --scenario groups --clients 10000 --group-size 20 --senders 128 --duration 15 --warmup 5
run groups-20-open-1000 --scenario groups --clients 10000 --group-size 20 --rate 1000 --duration 15 --warmup 5
run groups-20-ws-closed --scenario groups --clients 10000 --group-size 20 --senders 128 --send-via ws --duration 15 --warmup 5
run groups-20-ws-open-1000 --scenario groups --clients 10000 --group-size 20 --rate 1000 --send-via ws --duration 15 --warmup 5
run channel-10000    --scenario channel --clients 10000 --senders 4 --max-backlog 40000 --duration 15 --warmup 5 --probe
run idle-15000       --scenario idle --clients 15000 --duration 10 --warmup 3
run mixed-2000       --scenario mixed --clients 10000 --rate 2000 --duration 15 --warmup 5
"$bench" search --messages 1000000 --queries 200 --out "$out/search-1m.json"
"$bench" images --uploads 16 --kind png --out "$out/images-png.json"
"$bench" images --uploads 16 --kind jpeg --out "$out/images-jpeg.json"
"$bench" summary "$out"/[!s]*.json
