#!/usr/bin/env bash
# Creates doubles/bolt/fidelity/.venv with the pinned Neo4j Python driver
# (requirements.txt) for the fidelity suite; re-installs only when
# requirements.txt changed (hash stamp), like localstack/up.sh.
#
#   doubles/bolt/fidelity/venv.sh      # prints the venv's python
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$DIR/.venv"
PY="$VENV/bin/python"
REQ="$DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ ! -x "$PY" ]; then
    echo "Creating venv $VENV ..." >&2
    python3 -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
    echo "Installing the Neo4j Python driver into $VENV (pip, quiet) ..." >&2
    "$PY" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ"
    echo "$want" > "$STAMP"
fi
echo "$PY"
