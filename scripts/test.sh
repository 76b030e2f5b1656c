#!/usr/bin/env bash
# The test command of the README: installs what the build needs, fetches the speech models
# (pip, verified), starts a throwaway PostgreSQL for the store tests (scripts/start-postgres.sh),
# runs every test of the workspace, then fuzzes every parser of outside input for
# SWITCHBOARD_FUZZ_SECONDS per target (default 20; fuzz/README.md). Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/install-deps.sh ]; then scripts/install-deps.sh; fi
scripts/install-test-deps.sh
scripts/install-browser.sh     # Debian chromium + chromedriver for the web chat/console browser tests
cargo build --release --locked --bin switchboard
./target/release/switchboard models fetch
# The store tests run against SQLite and a real PostgreSQL (a throwaway local cluster).
postgres_env=$(scripts/start-postgres.sh)   # an assignment, so a failure stops the script
eval "$postgres_env"
cargo test --release --locked --workspace
scripts/fuzz.sh "${SWITCHBOARD_FUZZ_SECONDS:-20}"
