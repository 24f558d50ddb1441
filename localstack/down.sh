#!/usr/bin/env bash
# Stop the LocalStack started by localstack/up.sh (pid in localstack/state/localstack.pid).
# SIGTERM, wait up to 10 s, then SIGKILL (LocalStack's shutdown can hang).
# Exits 0 if nothing was running.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PIDFILE="$DIR/state/localstack.pid"
PORTFILE="$DIR/state/localstack.port"

if [ ! -f "$PIDFILE" ]; then
    echo "LocalStack not running (no $PIDFILE)."
    exit 0
fi

pid="$(cat "$PIDFILE" 2>/dev/null || true)"
if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
    echo "LocalStack not running (stale pid file: '${pid}')."
    rm -f "$PIDFILE" "$PORTFILE"
    exit 0
fi

kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 20); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
done
if kill -0 "$pid" 2>/dev/null; then
    echo "LocalStack (pid $pid) still alive after 10 s; sending SIGKILL."
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 10); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
fi
rm -f "$PIDFILE" "$PORTFILE"
echo "LocalStack (pid $pid) stopped."
