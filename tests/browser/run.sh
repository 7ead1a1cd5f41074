#!/bin/sh
# Run the browser tests: install playwright-core from the lockfile when
# node_modules is missing or older than package-lock.json, then run.
# Environment: KONTOR_BIN, CHROMIUM, HEADED, VERBOSE (see run.mjs).
set -eu
cd "$(dirname "$0")"
# npm writes node_modules/.package-lock.json last, so its age is the age
# of the installed tree.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec node run.mjs "$@"
