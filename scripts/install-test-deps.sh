#!/usr/bin/env bash
# Install what the server's tests run besides Rust: the Node fulfillment app (Google's
# dialogflow-fulfillment and actions-on-google libraries, from package-lock.json) and Google's
# Python Dialogflow client (google-cloud-dialogflow, in a virtualenv). Idempotent.
#
#   scripts/install-test-deps.sh            # install what is missing
#   scripts/install-test-deps.sh --check    # report what is missing, exit 1 if anything is
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_DIR=crates/server/tests/fulfillment
PY_DIR=crates/server/tests/google_client
VENV="$PY_DIR/.venv"

node_ok() {
  (cd "$NODE_DIR" && node -e "require('dialogflow-fulfillment'); require('actions-on-google'); require('express')") 2>/dev/null
}
py_ok() {
  [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c "import google.cloud.dialogflow_v2" 2>/dev/null
}

if [[ "${1:-}" == "--check" ]]; then
  missing=0
  command -v node >/dev/null || { echo "install-test-deps: node is missing (apt-get install nodejs npm)"; missing=1; }
  node_ok || { echo "install-test-deps: npm packages missing in $NODE_DIR"; missing=1; }
  py_ok || { echo "install-test-deps: google-cloud-dialogflow missing in $VENV"; missing=1; }
  exit $missing
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-test-deps: node/npm not found; install them (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if node_ok; then
  echo "install-test-deps: npm packages present"
else
  echo "install-test-deps: npm ci in $NODE_DIR"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund)
fi

if py_ok; then
  echo "install-test-deps: google-cloud-dialogflow present"
else
  echo "install-test-deps: pip install into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PY_DIR/requirements.txt"
fi
