#!/usr/bin/env bash
# Property-based check that the OpenAPI document says what the server
# enforces: schemathesis generates requests from docs/openapi.json (as
# served) against `kontor demo` on a free loopback port, logged in as a demo
# user, and fails on any 5xx or any answer the document does not describe
# (status, content type, body schema, headers), on invalid input the server
# accepts and on valid input it refuses.
#
# Environment:
#   KONTOR_BIN        the kontor binary (default: target/debug/kontor, or
#                     $CARGO_TARGET_DIR/debug/kontor)
#   ST_MAX_EXAMPLES   cases per operation and phase (default 400: over
#                     10,000 cases in all over the 33 operations tested;
#                     300 gave 8,299)
#   ST_TIMEOUT        seconds the whole run may take (default 600)
#   ST_SEED           schemathesis' random seed (default: a fresh one, printed)
#
# tests/schemathesis/schemathesis.toml lists the few operations where a 422 to
# schema-valid data is expected (rules a JSON Schema cannot state), and why.
#
# One worker: with several, hypothesis 6.170 failed in its own code
# ("AST constructor recursion depth mismatch"), not in a request.
#
# Left out, and why:
#   POST /api/v1/auth/logout and DELETE /api/v1/sessions/{id} end sessions;
#   a generated id can be the session of the token every request carries,
#   which would turn the rest of the run into 401s. crates/kontor/tests/it/sessions.rs and
#   bad_input.rs cover both.
set -euo pipefail
cd "$(dirname "$0")/../.."

KONTOR_BIN="${KONTOR_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/debug/kontor}"
MAX_EXAMPLES="${ST_MAX_EXAMPLES:-400}"
TIMEOUT="${ST_TIMEOUT:-600}"
SEED="${ST_SEED:-$RANDOM$RANDOM}"

command -v schemathesis >/dev/null 2>&1 || { echo "schemathesis is not installed (pip install schemathesis)" >&2; exit 1; }
[ -x "$KONTOR_BIN" ] || { echo "kontor binary not found at $KONTOR_BIN (set KONTOR_BIN)" >&2; exit 1; }

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

KONTOR_LOG="${KONTOR_LOG:-warn}" "$KONTOR_BIN" demo --data-dir "$work/data" --listen 127.0.0.1:0 \
    >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
url=""
for _ in $(seq 1 600); do
    url="$(sed -n 's|.*kontor listening on \(http://[^ ]*\).*|\1|p' "$work/stdout" | head -1)"
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$url" ]; then
    echo "kontor demo did not start:" >&2
    tail -20 "$work/stderr" >&2
    exit 1
fi
url="${url%/}"
echo "kontor demo at $url (seed $SEED, $MAX_EXAMPLES examples per operation, at most ${TIMEOUT}s)"

token="$(curl -fsS -X POST "$url/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"login":"anna.schmidt","password":"kontor-demo","device_name":"schemathesis"}' \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"

status=0
timeout --signal=INT --kill-after=30 "$TIMEOUT" schemathesis \
    --config-file tests/schemathesis/schemathesis.toml run "$url/api/v1/openapi.json" \
    --url "$url" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection,positive_data_acceptance \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --workers 1 \
    --request-timeout 20 \
    --no-shrink \
    --exclude-operation-id-regex '^(logout|revoke_session)$' \
    --suppress-health-check all \
    --warnings off \
    || status=$?
if [ "$status" -ne 0 ]; then
    echo "schemathesis failed (exit $status); server log:" >&2
    tail -20 "$work/stderr" >&2
fi
exit "$status"
