#!/usr/bin/env bash
# graphvault quickstart on a fresh machine, against LocalStack (S3, no Docker):
# key generate → backup of a sample neo4j-admin artifact → list → restore,
# then the same object opened with stock `age` and `zstd`; then the nightly
# `graphvault backup` of every aliased database, with the TEST DOUBLES
# standing in for Neo4j (doubles/bolt and doubles/neo4j-admin: Neo4j
# Enterprise cannot be installed here). LocalStack is left running at the end
# (stop it with localstack/down.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/graphvault-target}"
PORT="${LOCALSTACK_PORT:-4566}"
ENDPOINT="http://127.0.0.1:${PORT}"
# LocalStack accepts any credentials.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
BUCKET=graphvault-quickstart

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Installing tools and starting LocalStack"
scripts/setup.sh
localstack/up.sh

step "Building graphvault and the Neo4j test doubles"
cargo build --quiet --workspace --bins
GV="$CARGO_TARGET_DIR/debug/graphvault"

WORK="$(mktemp -d -t graphvault-quickstart.XXXXXX)"
echo "working directory: $WORK"

step "Creating bucket s3://$BUCKET on LocalStack"
"$ROOT/localstack/.venv/bin/python" - "$ENDPOINT" "$BUCKET" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
try:
    s3.create_bucket(Bucket=sys.argv[2])
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
PY

step "graphvault key generate (on a restore host; only the public recipient goes to backup hosts)"
RECIPIENT="$("$GV" key generate --output "$WORK/identity.txt")"
echo "recipient: $RECIPIENT"

step "graphvault key generate-signing (on the backup host; restore hosts trust its public key)"
SIGNING_PUBLIC="$("$GV" key generate-signing --output "$WORK/signing.key")"
echo "signing public key: $SIGNING_PUBLIC"

cat > "$WORK/graphvault.toml" <<TOML
[storage]
url = "s3://$BUCKET/neo4j"
endpoint = "$ENDPOINT"
region = "us-east-1"
force_path_style = true

[encryption]
recipients = ["$RECIPIENT"]

[signing]
key_file = "$WORK/signing.key"
trusted_keys = ["$SIGNING_PUBLIC"]
TOML
echo "config: $WORK/graphvault.toml"

step "Making a sample neo4j-admin artifact (64 MiB, store-like)"
ARTIFACT="$WORK/customer1-1767741527-2026-11-24T02-00-00.backup"
python3 - "$ARTIFACT" <<'PY'
import sys, random
random.seed(1)
with open(sys.argv[1], "wb") as f:
    n = 0
    while f.tell() < 64 << 20:
        chunk = []
        for _ in range(4096):
            n += 1
            chunk.append(b"node:%012d label:Customer prop:%04d rel:KNOWS->%d\n" % (n, random.randrange(50), n // 3))
        f.write(b"".join(chunk))
    f.truncate(64 << 20)
PY
sha256sum "$ARTIFACT"

step "graphvault backup (zstd → age → S3, manifest last)"
"$GV" --config "$WORK/graphvault.toml" backup --artifact "$ARTIFACT" \
    --database customer1-1767741527 --alias customer1 --label pre-deploy

step "graphvault list"
"$GV" --config "$WORK/graphvault.toml" list
ID="$("$GV" --config "$WORK/graphvault.toml" list --json --database customer1 | jq -r '.backups[-1].backup_id')"

step "graphvault restore --backup $ID --to-dir $WORK/restored"
"$GV" --config "$WORK/graphvault.toml" restore --backup "$ID" --to-dir "$WORK/restored" --identity "$WORK/identity.txt"
(cd "$WORK/restored" && sha256sum ./*.backup)
cmp "$ARTIFACT" "$WORK/restored/$(basename "$ARTIFACT")"
echo "restored artifact is byte-for-byte identical"

step "Opening the stored object with stock tools only (docs/FORMAT.md)"
KEY="$("$ROOT/localstack/.venv/bin/python" - "$ENDPOINT" "$BUCKET" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
keys = [o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2], Prefix="neo4j/data/customer1/")["Contents"]]
print(sorted(keys)[-1])
PY
)"
echo "object: s3://$BUCKET/$KEY"
"$ROOT/localstack/.venv/bin/python" - "$ENDPOINT" "$BUCKET" "$KEY" "$WORK/object.zst.age" <<'PY'
import sys, boto3
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").download_file(sys.argv[2], sys.argv[3], sys.argv[4])
PY
age -d -i "$WORK/identity.txt" "$WORK/object.zst.age" | zstd -d -q | cmp - "$ARTIFACT"
echo "age -d | zstd -d gives back the artifact byte-for-byte"

step "Checking the manifest's signature with stock minisign (docs/FORMAT.md)"
"$ROOT/localstack/.venv/bin/python" - "$ENDPOINT" "$BUCKET" "$WORK" <<'PY'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1")
keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=sys.argv[2], Prefix="neo4j/manifests/customer1/")["Contents"])
manifest = [k for k in keys if k.endswith(".json")][-1]
s3.download_file(sys.argv[2], manifest, sys.argv[3] + "/manifest.json")
s3.download_file(sys.argv[2], manifest + ".minisig", sys.argv[3] + "/manifest.json.minisig")
PY
minisign -V -P "$SIGNING_PUBLIC" -m "$WORK/manifest.json"

step "Starting the Bolt server double (stands in for Neo4j 5: three customers, blue/green)"
printf 'quickstart-password\n' > "$WORK/neo4j-password"
chmod 600 "$WORK/neo4j-password"
"$CARGO_TARGET_DIR/debug/bolt-double" --listen 127.0.0.1:0 --password-file "$WORK/neo4j-password" \
    --state "$WORK/bolt-double-state.json" \
    --database customer1-1767000000 --database customer1-1767741527 --alias customer1=customer1-1767741527 \
    --database customer2-1767100000 --alias customer2=customer2-1767100000 \
    --database customer3-1767200000 --database customer3-1767800000 --alias customer3=customer3-1767800000 \
    > "$WORK/bolt-double.out" 2> "$WORK/bolt-double.log" &
DOUBLE_PID=$!
trap 'kill "$DOUBLE_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^listening on ' "$WORK/bolt-double.out" 2>/dev/null && break; sleep 0.1; done
BOLT_ADDR="$(sed -n 's/^listening on //p' "$WORK/bolt-double.out")"
echo "bolt-double listening on $BOLT_ADDR (queries it receives: $WORK/bolt-double.log)"

cat >> "$WORK/graphvault.toml" <<TOML

[neo4j]
bolt_uri = "bolt://$BOLT_ADDR"
user = "neo4j"
password_file = "$WORK/neo4j-password"
# The neo4j-admin test double: writes synthetic 32 MiB artifacts named like Neo4j 5's.
admin_path = "$CARGO_TARGET_DIR/debug/neo4j-admin"
admin_env = { NEO4J_ADMIN_DOUBLE_SIZE = "33554432", NEO4J_ADMIN_DOUBLE_COMPRESSIBILITY = "0.7" }

[backup]
staging_dir = "$WORK/staging"
TOML

step "graphvault alias list (over Bolt, from the double)"
"$GV" --config "$WORK/graphvault.toml" alias list

step "graphvault backup: every aliased database (discovered over Bolt), neo4j-admin → zstd → age → S3"
"$GV" --config "$WORK/graphvault.toml" backup --metrics-file "$WORK/graphvault.prom"
echo
echo "metrics ($WORK/graphvault.prom):"
grep '^graphvault_backup_success' "$WORK/graphvault.prom"

step "graphvault list"
"$GV" --config "$WORK/graphvault.toml" list

step "Done"
echo "Everything is in $WORK. LocalStack keeps running; stop it with localstack/down.sh."
