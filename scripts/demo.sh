#!/usr/bin/env bash
# The demo command of the README: builds switchboard, fetches its models, and runs `switchboard demo`
# against the example restaurant agent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x scripts/install-deps.sh ]; then scripts/install-deps.sh; fi
cargo build --release --locked --bin switchboard
exec ./target/release/switchboard demo "$@"
