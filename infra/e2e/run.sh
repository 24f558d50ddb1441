#!/usr/bin/env bash
# End-to-end cycle of graphvault against a real Neo4j 5 Enterprise server and
# MinIO (compose.yaml): blue database + alias, backup, blue/green cutover,
# backup, prune --dry-run, restore with alias switch, node count through the
# alias, verify, drill, cleanup. See README.md (needs Docker with the compose
# plugin; does not run on the graphvault development machines).
#
# graphvault runs on this host; neo4j-admin runs inside the neo4j container
# through a small wrapper (`docker compose exec -T neo4j neo4j-admin ...`)
# set as [neo4j] admin_path. The staging directory is bind-mounted at the same
# absolute path in the container, and the container runs as the calling user,
# so both sides see the same files with the same owner.
#
# Required: NEO4J_ACCEPT_LICENSE_AGREEMENT=yes (after reading the Neo4j
# Enterprise license). Optional: GRAPHVAULT_BIN (default
# $CARGO_TARGET_DIR/debug/graphvault), GV_E2E_WORK (work dir, default a new
# temp dir), GV_E2E_KEEP=1 (keep containers and work dir), GV_E2E_BOLT_PORT,
# GV_E2E_HTTP_PORT, GV_E2E_S3_PORT (host ports, 7687/7474/9000).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

step() { printf '\n==== %s\n' "$*"; }
die() { printf 'e2e: FAILED: %s\n' "$*" >&2; exit 1; }
random_secret() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }

# --- preflight ------------------------------------------------------------------
step "preflight"
: "${NEO4J_ACCEPT_LICENSE_AGREEMENT:?set NEO4J_ACCEPT_LICENSE_AGREEMENT=yes after reading the Neo4j Enterprise license}"
GRAPHVAULT="${GRAPHVAULT_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/graphvault-target}/debug/graphvault}"
[ -x "$GRAPHVAULT" ] || die "no graphvault binary at $GRAPHVAULT (cargo build, or set GRAPHVAULT_BIN)"
command -v docker >/dev/null || die "docker not found: this test needs a container engine"
docker compose version >/dev/null 2>&1 || die "the docker compose plugin is missing"
[ "$(id -u)" -ne 0 ] || die "run as an ordinary user (in the docker group): the Neo4j image refuses to run as root, and the container runs as the calling user"
# graphvault reads every GRAPHVAULT_* variable as a config key (an unknown
# one is an error): only the generated config file counts here.
while read -r v; do
    [ "$v" = GRAPHVAULT_LOG ] || unset "$v"
done < <(compgen -e | grep '^GRAPHVAULT_' || true)
"$GRAPHVAULT" --version

# Removed at the end only when this script created it.
created_work=0
if [ -z "${GV_E2E_WORK:-}" ]; then
    GV_E2E_WORK="$(mktemp -d "${TMPDIR:-/tmp}/graphvault-e2e.XXXXXX")"
    created_work=1
fi
mkdir -p "$GV_E2E_WORK"
GV_E2E_WORK="$(cd "$GV_E2E_WORK" && pwd)" # absolute: it is also the path inside the container
export GV_E2E_WORK
export GV_E2E_UID GV_E2E_GID
GV_E2E_UID="$(id -u)"
GV_E2E_GID="$(id -g)"
export COMPOSE_FILE="$here/compose.yaml"
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-graphvault-e2e}"
export GV_E2E_BUCKET="${GV_E2E_BUCKET:-graphvault-e2e}"
export GV_E2E_BOLT_PORT="${GV_E2E_BOLT_PORT:-7687}" GV_E2E_HTTP_PORT="${GV_E2E_HTTP_PORT:-7474}"
export GV_E2E_S3_PORT="${GV_E2E_S3_PORT:-9000}"
NEO4J_PASSWORD="$(random_secret)"
export NEO4J_AUTH="neo4j/$NEO4J_PASSWORD"
export MINIO_ROOT_USER="graphvault-e2e" MINIO_ROOT_PASSWORD="$(random_secret)"
# graphvault's S3 client: MinIO's root credentials, nothing from the caller.
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
export AWS_ACCESS_KEY_ID="$MINIO_ROOT_USER" AWS_SECRET_ACCESS_KEY="$MINIO_ROOT_PASSWORD"
export AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
mkdir -p "$GV_E2E_WORK/neo4j/data" "$GV_E2E_WORK/neo4j/logs" "$GV_E2E_WORK/staging"
echo "work dir: $GV_E2E_WORK"

cleanup() {
    rc=$?
    if [ "$rc" -ne 0 ]; then
        echo
        echo "e2e: failed (exit $rc). Last lines of the Neo4j log:" >&2
        docker compose logs --no-color --tail=40 neo4j >&2 || true
    fi
    if [ "${GV_E2E_KEEP:-0}" = 1 ]; then
        echo "GV_E2E_KEEP=1: containers and $GV_E2E_WORK kept (graphvault config: $GV_E2E_WORK/graphvault.toml); remove them with:"
        echo "  docker compose -p $COMPOSE_PROJECT_NAME down -v && rm -rf $GV_E2E_WORK"
    else
        step "cleanup: docker compose down -v, remove the work dir"
        docker compose down -v --remove-orphans || true
        if [ "$created_work" = 1 ]; then
            rm -rf "$GV_E2E_WORK"
        else
            rm -rf "$GV_E2E_WORK/neo4j" "$GV_E2E_WORK/staging"
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT

# cypher DB QUERY: runs QUERY on DB (a database or an alias) inside the container.
cypher() {
    local db="$1"
    shift
    docker compose exec -T neo4j cypher-shell -u neo4j -p "$NEO4J_PASSWORD" -d "$db" --format plain "$@"
}
# count DB: the number of nodes DB (or alias) holds.
count() { cypher "$1" "MATCH (n) RETURN count(n) AS n" | tail -n 1 | tr -d '[:space:]'; }
gv() { "$GRAPHVAULT" --config "$GV_E2E_WORK/graphvault.toml" "$@"; }

# --- containers -------------------------------------------------------------------
step "start Neo4j 5 Enterprise and MinIO (docker compose up --wait)"
docker compose up -d --wait neo4j minio
step "create the bucket $GV_E2E_BUCKET (one-shot mc container)"
docker compose run --rm create-bucket

# --- graphvault configuration ---------------------------------------------------------
step "graphvault key and configuration"
recipient="$("$GRAPHVAULT" key generate --output "$GV_E2E_WORK/identity.txt" | grep -o 'age1[0-9a-z]*' | head -n 1)"
[ -n "$recipient" ] || die "graphvault key generate printed no age1 recipient"
umask 077
printf '%s\n' "$NEO4J_PASSWORD" >"$GV_E2E_WORK/neo4j-password"
cat >"$GV_E2E_WORK/neo4j-admin" <<EOF
#!/usr/bin/env bash
# [neo4j] admin_path for the e2e test: neo4j-admin inside the neo4j container.
exec docker compose --file "$COMPOSE_FILE" --project-name "$COMPOSE_PROJECT_NAME" exec -T neo4j neo4j-admin "\$@"
EOF
chmod 0700 "$GV_E2E_WORK/neo4j-admin"
cat >"$GV_E2E_WORK/graphvault.toml" <<EOF
[storage]
url = "s3://$GV_E2E_BUCKET/neo4j/e2e"
endpoint = "http://127.0.0.1:$GV_E2E_S3_PORT"
region = "us-east-1"
force_path_style = true

[encryption]
recipients = ["$recipient"]
# One host does everything here; in production only restore hosts hold it.
identity_file = "$GV_E2E_WORK/identity.txt"

[neo4j]
bolt_uri = "bolt://127.0.0.1:$GV_E2E_BOLT_PORT"
user = "neo4j"
password_file = "$GV_E2E_WORK/neo4j-password"
admin_path = "$GV_E2E_WORK/neo4j-admin"
online_timeout_secs = 300

[backup]
staging_dir = "$GV_E2E_WORK/staging"
min_free_mib = 64

[[drill.check]]
alias = "*"
query = "MATCH (c:Customer) RETURN count(c) AS customers"
min = 1
EOF
umask 022
cat "$GV_E2E_WORK/graphvault.toml"

step "graphvault doctor (informational: findings do not stop the test)"
gv doctor || echo "doctor exited $? (see its findings above)"

# --- blue ------------------------------------------------------------------------------
ts="$(date +%s)"
blue="customer1-$ts"
green="customer1-$((ts + 1))"

step "create database $blue and alias customer1 -> $blue"
cypher system "CREATE DATABASE \`$blue\` WAIT"
cypher system "CREATE ALIAS customer1 FOR DATABASE \`$blue\`"
cypher customer1 "UNWIND range(1, 5) AS i CREATE (:Customer {id: i, color: 'blue'})"
[ "$(count customer1)" = 5 ] || die "customer1 should hold 5 nodes, holds $(count customer1)"
echo "customer1 -> $blue holds 5 nodes"

step "graphvault backup --alias customer1 (blue)"
gv backup --alias customer1
gv list --database customer1

# --- blue/green cutover --------------------------------------------------------------------
step "blue/green cutover: create $green, load it, ALTER ALIAS customer1 -> $green"
cypher system "CREATE DATABASE \`$green\` WAIT"
cypher "$green" "UNWIND range(1, 8) AS i CREATE (:Customer {id: i, color: 'green'})"
cypher system "ALTER ALIAS customer1 SET DATABASE TARGET \`$green\`"
target="$(gv alias get-target customer1)"
[ "$target" = "$green" ] || die "customer1 points at '$target', expected $green"
[ "$(count customer1)" = 8 ] || die "customer1 should hold 8 nodes after the cutover"
echo "customer1 -> $green holds 8 nodes"

step "graphvault backup --alias customer1 (green)"
gv backup --alias customer1
gv list --database customer1
backups="$(gv list --database customer1 --json | grep -c '"backup_id"' || true)"
[ "$backups" -ge 2 ] || die "expected 2 backups of customer1 (blue and green), the listing has $backups"
echo "customer1 has $backups backups"

step "graphvault prune --dry-run"
gv prune --dry-run

# --- restore at 3 AM ---------------------------------------------------------------------
step "graphvault restore --database customer1 --switch-alias"
gv restore --database customer1 --switch-alias
restored="$(gv alias get-target customer1)"
case "$restored" in
    "$green" | "$blue") die "the alias still points at $restored after --switch-alias" ;;
    customer1-*) echo "customer1 -> $restored (restored; $green kept for rollback)" ;;
    *) die "unexpected alias target '$restored'" ;;
esac

step "node count through the alias"
n="$(count customer1)"
[ "$n" = 8 ] || die "customer1 -> $restored holds $n nodes, expected 8 (the green backup)"
colors="$(cypher customer1 "MATCH (c:Customer) RETURN collect(DISTINCT c.color) AS colors" | tail -n 1)"
[ "$colors" = '["green"]' ] || die "restored customers have colors $colors, expected [\"green\"]"
echo "customer1 -> $restored holds $n nodes, all green"

step "graphvault verify --latest"
gv verify --latest

# --- drill ---------------------------------------------------------------------------------
step "graphvault drill --database customer1"
gv drill --database customer1 --report "$GV_E2E_WORK/drill-report"
gv drill history

step "databases at the end"
cypher system "SHOW DATABASES YIELD name, currentStatus RETURN name, currentStatus ORDER BY name"
cypher system "SHOW ALIASES FOR DATABASE YIELD name, database RETURN name, database"

step "e2e cycle passed"
