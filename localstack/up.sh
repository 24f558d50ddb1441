#!/usr/bin/env bash
# Start a Docker-free LocalStack (S3 only) for graphvault's integration tests.
#
#   localstack/up.sh            # endpoint http://127.0.0.1:4566
#   LOCALSTACK_PORT=4600 localstack/up.sh
#
# Creates localstack/.venv on first use (pinned by localstack/requirements.txt),
# keeps all LocalStack state/tmp files under localstack/state/, logs to
# localstack/state/localstack.log and records the python pid in
# localstack/state/localstack.pid. Stop it with localstack/down.sh.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$DIR/.venv"
PY="$VENV/bin/python"
REQ="$DIR/requirements.txt"
STAMP="$VENV/.requirements.sha256"
STATE="$DIR/state"
LOG="$STATE/localstack.log"
PIDFILE="$STATE/localstack.pid"
PORTFILE="$STATE/localstack.port"
PORT="${LOCALSTACK_PORT:-4566}"
HOST=127.0.0.1
ENDPOINT="http://$HOST:$PORT"
TIMEOUT=120

# Exit 0 iff the health endpoint on $PORT reports s3 as running/available.
s3_healthy() {
    local body
    body="$(curl -s --max-time 3 "$ENDPOINT/_localstack/health" 2>/dev/null)" || return 1
    [ -n "$body" ] || return 1
    printf '%s' "$body" | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin).get("services", {}).get("s3")
except Exception:
    sys.exit(1)
sys.exit(0 if s in ("running", "available") else 1)'
}

if s3_healthy; then
    echo "LocalStack is already running and healthy on port $PORT."
    echo "LocalStack S3 endpoint: $ENDPOINT"
    exit 0
fi

mkdir -p "$STATE"

# A pid file whose process is still alive means a previous start is still
# coming up (or hung): don't start a second instance on the same port.
if [ -f "$PIDFILE" ]; then
    oldpid="$(cat "$PIDFILE" 2>/dev/null || true)"
    oldport="$(cat "$PORTFILE" 2>/dev/null || echo "$PORT")"
    if [ -n "$oldpid" ] && kill -0 "$oldpid" 2>/dev/null; then
        if [ "$oldport" != "$PORT" ]; then
            echo "ERROR: LocalStack (pid $oldpid) from this checkout is running on port $oldport; run localstack/down.sh first." >&2
            exit 1
        fi
        echo "LocalStack process $oldpid (from $PIDFILE) is alive but not healthy yet; waiting for it." >&2
        pid="$oldpid"
    else
        rm -f "$PIDFILE" "$PORTFILE"
    fi
fi

if [ -z "${pid:-}" ]; then
    # --- venv (created / re-synced only when requirements.txt changed) ---
    want="$(sha256sum "$REQ" | cut -d' ' -f1)"
    if [ ! -x "$PY" ]; then
        echo "Creating venv $VENV ..."
        python3 -m venv "$VENV"
    fi
    if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$want" ]; then
        echo "Installing LocalStack into $VENV (pip, quiet) ..."
        "$PY" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ"
        echo "$want" > "$STAMP"
    fi

    # --- start LocalStack in the background, in its own session ---
    # OVERRIDE_IN_DOCKER=0: LocalStack's in_docker() heuristic (/.dockerenv,
    #   cgroups) can think a sandbox/CI container is *its* Docker image and then
    #   uses /var/lib/localstack + /tmp/localstack; force host mode instead.
    # FILESYSTEM_ROOT: in host mode every LocalStack dir (cache, lib, logs,
    #   tmp, state) lives under this root (default: inside the installed
    #   package). LOCALSTACK_VOLUME_DIR only matters for the CLI/Docker mount.
    # S3 object bodies: LocalStack 4.8.1 hardcodes /tmp/localstack-s3-storage
    #   (unlinked temp files, freed when the process exits); not configurable.
    #   TMPDIR is deliberately not set: LocalStack flags it as deprecated and
    #   nests dirs.tmp under FILESYSTEM_ROOT/<TMPDIR>.
    # DNS_ADDRESS=0: no DNS server (would want port 53, and is unused here).
    # SKIP_SSL_CERT_DOWNLOAD / DISABLE_EVENTS: no outbound network here.
    # Note: the default (twisted) gateway server ignores the host part of
    #   GATEWAY_LISTEN for IPv4 and binds 0.0.0.0:$PORT; only the port matters.
    mkdir -p "$STATE/filesystem"
    echo "=== up.sh start $(date -u +%Y-%m-%dT%H:%M:%SZ) port $PORT ===" >> "$LOG"
    (
        cd "$STATE"
        exec env \
            SERVICES=s3 \
            GATEWAY_LISTEN="$HOST:$PORT" \
            EAGER_SERVICE_LOADING=1 \
            OVERRIDE_IN_DOCKER=0 \
            FILESYSTEM_ROOT="$STATE/filesystem" \
            PERSISTENCE=0 \
            DNS_ADDRESS=0 \
            SKIP_SSL_CERT_DOWNLOAD=1 \
            DISABLE_EVENTS=1 \
            setsid nohup "$PY" -m localstack.runtime.main
    ) >> "$LOG" 2>&1 < /dev/null &
    pid=$!
    # setsid/nohup/env all exec (the background job is not a process-group
    # leader, so setsid does not fork): $! is the python process itself.
    # Double-check, and fall back to searching its children just in case.
    sleep 0.5
    if ! tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'localstack.runtime.main'; then
        child="$(pgrep -f -P "$pid" 'localstack.runtime.main' | head -n1 || true)"
        if [ -n "$child" ]; then pid="$child"; fi
    fi
    echo "$pid" > "$PIDFILE"
    echo "$PORT" > "$PORTFILE"
    echo "Started LocalStack (pid $pid), log: $LOG"
fi

# --- wait for S3 to report healthy ---
deadline=$((SECONDS + TIMEOUT))
until s3_healthy; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "ERROR: LocalStack (pid $pid) exited before S3 became healthy. Last log lines ($LOG):" >&2
        tail -n 40 "$LOG" >&2 || true
        rm -f "$PIDFILE" "$PORTFILE"
        exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "ERROR: LocalStack S3 not healthy on $ENDPOINT after ${TIMEOUT}s (pid $pid still running; stop it with localstack/down.sh). Last log lines ($LOG):" >&2
        tail -n 40 "$LOG" >&2 || true
        exit 1
    fi
    sleep 1
done

echo "LocalStack S3 endpoint: $ENDPOINT"
