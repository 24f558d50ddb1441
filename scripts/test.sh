#!/usr/bin/env bash
# Runs every graphvault check and test from a fresh clone:
#   installs the CLI tools (scripts/setup.sh), the LocalStack venv and the
#   Neo4j Python driver venv (doubles/bolt/fidelity/venv.sh),
#   starts LocalStack (S3 only, no Docker), runs cargo fmt --check,
#   cargo clippy -D warnings and all tests (unit, conformance on the
#   filesystem store and LocalStack, pipeline, CLI), then stops LocalStack
#   if this script started it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Builds live outside the clone so a fresh clone reuses a warm target dir.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/graphvault-target}"
# One build per run: incremental state would only fill the disk (set
# CARGO_INCREMENTAL=1 to keep it while iterating).
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export LOCALSTACK_PORT="${LOCALSTACK_PORT:-4566}"
export GV_TEST_S3_ENDPOINT="http://127.0.0.1:${LOCALSTACK_PORT}"
# LocalStack accepts any credentials; these never leave this machine.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

scripts/setup.sh

started_here=0
if ! curl -fs --max-time 3 "$GV_TEST_S3_ENDPOINT/_localstack/health" >/dev/null 2>&1; then
    started_here=1
fi
localstack/up.sh
# The official Neo4j Python driver for doubles/bolt/tests/python_driver.rs.
doubles/bolt/fidelity/venv.sh >/dev/null
if [ "$started_here" -eq 1 ]; then
    trap 'localstack/down.sh || true' EXIT
fi

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "== cargo build --workspace --bins (the Neo4j test doubles the tests spawn)"
cargo build --workspace --bins --quiet
echo "== infra checks (terraform, IAM policies, lifecycle)"; scripts/check-infra.sh
echo "== cargo test --workspace"
cargo test --workspace --all-targets
echo "== all checks and tests passed"
