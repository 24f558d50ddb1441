#!/usr/bin/env bash
# graphvault benchmark: graphvault against the equivalent shell pipelines, on
# the same inputs, in the same run, on this machine. Writes the table to
# docs/PERFORMANCE.md (and prints it).
#
#   bench/run.sh                 # 1 GiB random, 1 GiB store-like, 8 GiB random
#   BENCH_BIG_GIB=2 bench/run.sh # a smaller memory-check artifact
#
# Needs: LocalStack (started here), the aws CLI, age, zstd, GNU time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/graphvault-target}"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
ENDPOINT="http://127.0.0.1:${LOCALSTACK_PORT:-4566}"
BIG_GIB="${BENCH_BIG_GIB:-8}"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: GNU time (/usr/bin/time) is required: apt-get install time" >&2; exit 1; }
command -v aws >/dev/null || { echo "bench: the aws CLI is required (pip install awscli)" >&2; exit 1; }

scripts/setup.sh >/dev/null
localstack/up.sh >/dev/null
echo "== building graphvault (release)"
cargo build --quiet --release --bin graphvault --example scale_catalog
GV="$CARGO_TARGET_DIR/release/graphvault"
W="$(mktemp -d -t graphvault-bench.XXXXXX)"
BUCKET="gv-bench-$RANDOM$RANDOM"
# LocalStack keeps every object it stores (on disk): empty the bucket as we go
# and at the end, or repeated runs fill the disk.
empty_bucket() { aws --endpoint-url "$ENDPOINT" s3 rm --recursive --quiet "s3://$BUCKET" >/dev/null 2>&1 || true; }
trap 'empty_bucket; aws --endpoint-url "$ENDPOINT" s3 rb "s3://$BUCKET" >/dev/null 2>&1; rm -rf "$W"' EXIT
aws --endpoint-url "$ENDPOINT" s3 mb "s3://$BUCKET" >/dev/null
S3="aws --endpoint-url $ENDPOINT s3"
R="$("$GV" key generate --output "$W/id.txt" 2>/dev/null)"
P="$("$GV" key generate-signing --output "$W/signing.key" 2>/dev/null)"
SIGNING="$(printf '[signing]\nkey_file = "%s"\ntrusted_keys = ["%s"]' "$W/signing.key" "$P")"
printf '[storage]\nurl = "file://%s/fs"\n[encryption]\nrecipients = ["%s"]\n%s\n' "$W" "$R" "$SIGNING" > "$W/fs.toml"
printf '[storage]\nurl = "s3://%s/gv"\nendpoint = "%s"\nforce_path_style = true\n[encryption]\nrecipients = ["%s"]\n%s\n' \
    "$BUCKET" "$ENDPOINT" "$R" "$SIGNING" > "$W/s3.toml"

echo "== generating inputs"
head -c $((1 << 30)) /dev/urandom > "$W/rand-1g-2026-01-01T00-00-00.backup"
python3 - "$W/store-1g-2026-01-01T00-00-00.backup" <<'PY'
import sys, random
random.seed(7)
with open(sys.argv[1], "wb") as f:
    n = 0
    while f.tell() < 1 << 30:
        rows = []
        for _ in range(8192):
            n += 1
            rows.append(b"node:%012d label:Customer name:%08x prop:%04d rel:KNOWS->%d\n"
                        % (n, random.getrandbits(32), random.randrange(500), n // 3))
        f.write(b"".join(rows))
    f.truncate(1 << 30)
PY
head -c $((BIG_GIB << 30)) /dev/urandom > "$W/big-${BIG_GIB}g-2026-01-01T00-00-00.backup"

ROWS=()
REPEAT="${BENCH_REPEAT:-3}"
# measure NAME BYTES BASELINE_NAME CMD...: runs CMD $REPEAT times (once for
# the big artifact) and keeps the run with the median wall
# time: this disk and LocalStack vary by 2x from run to run. Records wall
# seconds, peak RSS (the largest of all runs) and CPU seconds.
declare -A WALL
measure() {
    local name="$1" bytes="$2" base="$3"
    shift 3
    local runs="$REPEAT" i results=() rss_max=0
    case "$name" in big-*) runs=1 ;; esac
    for ((i = 0; i < runs; i++)); do
        sync
        "$TIME" -f "%e %M %U %S" -o "$W/t" bash -c "$*" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
        results+=("$(cat "$W/t")")
        local r; r=$(awk '{print $2}' "$W/t"); [ "$r" -gt "$rss_max" ] && rss_max="$r"
    done
    read -r wall _ user sys <<< "$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")"
    WALL[$name]="$wall"
    local mbs ratio="" cpu
    mbs=$(awk -v b="$bytes" -v t="$wall" 'BEGIN { printf "%.0f", b / 1048576 / (t > 0 ? t : 1e-9) }')
    cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.1f", u + s }')
    if [ -n "$base" ] && [ -n "${WALL[$base]:-}" ]; then
        ratio=$(awk -v a="${WALL[$base]}" -v b="$wall" 'BEGIN { printf "%.2f×", a / b }')
    fi
    ROWS+=("| ${name//|/\\|} | $wall | $mbs | $ratio | $((rss_max / 1024)) | $cpu |")
    RSS[$name]=$((rss_max / 1024))
    printf '%-60s %7ss %6s MiB/s %7s  RSS %5s MiB  CPU %ss\n' "$name" "$wall" "$mbs" "$ratio" "$((rss_max / 1024))" "$cpu"
}
declare -A RSS
# ratio A B: A's wall time divided by B's (above 1 = B faster).
ratio() { awk -v a="${WALL[$1]}" -v b="${WALL[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
TARGETS=()
# target TEXT VALUE GOAL: one row of the targets table (met when VALUE >= GOAL).
target() {
    local met; met=$(awk -v v="$2" -v g="$3" 'BEGIN { print (v >= g) ? "met" : "missed" }')
    TARGETS+=("| $1 | $2 | ≥ $3 | $met |")
}

for kind in rand-1g store-1g; do
    A="$W/$kind-2026-01-01T00-00-00.backup"
    B=$((1 << 30))
    echo "== $kind"
    measure "$kind: zstd -T0 -3 alone (stage)" $B "" "zstd -q -T0 -3 -c '$A' > /dev/null"
    measure "$kind: age alone on the artifact (stage)" $B "" "age -r '$R' < '$A' > /dev/null"
    measure "$kind: sha256 alone, openssl dgst (stage)" $B "" \
        "openssl dgst -sha256 '$A' > /dev/null"
    measure "$kind: write the artifact to a file + fsync (stage)" $B "" \
        "dd if='$A' of='$W/$kind.copy' bs=1M conv=fsync status=none; rm -f '$W/$kind.copy'"
    measure "$kind: shell zstd|age|tee sha256sum > file" $B "" \
        "zstd -q -T0 -3 -c '$A' | age -r '$R' | tee >(sha256sum > /dev/null) > '$W/$kind.zst.age'"
    measure "$kind: graphvault backup → file store" $B "$kind: shell zstd|age|tee sha256sum > file" \
        "'$GV' -q --config '$W/fs.toml' backup --artifact '$A' --database db-1 --json > '$W/$kind.fs.json'"
    measure "$kind: aws s3 cp of the raw artifact" $B "" "$S3 cp '$A' s3://$BUCKET/raw/$kind"
    measure "$kind: shell zstd|age|aws s3 cp -" $B "" \
        "zstd -q -T0 -3 -c '$A' | age -r '$R' | $S3 cp - s3://$BUCKET/shell/$kind.zst.age"
    measure "$kind: graphvault backup → LocalStack" $B "$kind: aws s3 cp of the raw artifact" \
        "'$GV' -q --config '$W/s3.toml' backup --artifact '$A' --database db-1 --json > '$W/$kind.s3.json'"
    measure "$kind: shell age -d|zstd -d|sha256sum (file)" $B "" \
        "age -d -i '$W/id.txt' '$W/$kind.zst.age' | zstd -q -d | sha256sum"
    ID=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['backup_id'])" "$W/$kind.fs.json")
    measure "$kind: graphvault restore --to-dir (file store)" $B "$kind: shell age -d|zstd -d|sha256sum (file)" \
        "rm -rf '$W/out-fs-$kind'; '$GV' -q --config '$W/fs.toml' restore --backup $ID --to-dir '$W/out-fs-$kind' --identity '$W/id.txt'"
    measure "$kind: shell aws s3 cp -|age -d|zstd -d|sha256sum" $B "" \
        "$S3 cp s3://$BUCKET/shell/$kind.zst.age - | age -d -i '$W/id.txt' | zstd -q -d | sha256sum"
    ID=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['backup_id'])" "$W/$kind.s3.json")
    measure "$kind: graphvault restore --to-dir (LocalStack)" $B "$kind: shell aws s3 cp -|age -d|zstd -d|sha256sum" \
        "rm -rf '$W/out-s3-$kind'; '$GV' -q --config '$W/s3.toml' restore --backup $ID --to-dir '$W/out-s3-$kind' --identity '$W/id.txt'"
    rm -rf "$W/out-fs-$kind" "$W/out-s3-$kind" "$W/fs/data" "$W/fs/manifests"
    empty_bucket

    gv_fs="$kind: graphvault backup → file store"
    target "$kind backup → file store vs shell pipeline to a file" "$(ratio "$kind: shell zstd|age|tee sha256sum > file" "$gv_fs")" 1.5
    slowest=$(for st in "zstd -T0 -3 alone" "age alone on the artifact" "write the artifact to a file + fsync" \
        "sha256 alone, openssl dgst"; do
        echo "${WALL[$kind: $st (stage)]}"; done | sort -n | tail -1)
    WALL["$kind: slowest stage"]="$slowest"
    target "$kind backup → file store vs its slowest stage alone" "$(ratio "$kind: slowest stage" "$gv_fs")" 0.9
    target "$kind backup → LocalStack vs shell pipeline to LocalStack" \
        "$(ratio "$kind: shell zstd|age|aws s3 cp -" "$kind: graphvault backup → LocalStack")" 1.5
    target "$kind backup → LocalStack vs plain aws s3 cp of the raw artifact" \
        "$(ratio "$kind: aws s3 cp of the raw artifact" "$kind: graphvault backup → LocalStack")" 0.9
    target "$kind restore from the file store vs shell" \
        "$(ratio "$kind: shell age -d|zstd -d|sha256sum (file)" "$kind: graphvault restore --to-dir (file store)")" 1.5
    target "$kind restore from LocalStack vs shell" \
        "$(ratio "$kind: shell aws s3 cp -|age -d|zstd -d|sha256sum" "$kind: graphvault restore --to-dir (LocalStack)")" 1.5
done

echo "== ${BIG_GIB} GiB random (memory)"
A="$W/big-${BIG_GIB}g-2026-01-01T00-00-00.backup"
measure "big-${BIG_GIB}g: graphvault backup → LocalStack" $((BIG_GIB << 30)) "" \
    "'$GV' -q --config '$W/s3.toml' backup --artifact '$A' --database db-1 --json > '$W/big.json'"
ID=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['backup_id'])" "$W/big.json")
rm -f "$A"
measure "big-${BIG_GIB}g: graphvault restore --to-dir (LocalStack)" $((BIG_GIB << 30)) "" \
    "'$GV' -q --config '$W/s3.toml' restore --backup $ID --to-dir '$W/out-big' --identity '$W/id.txt'"
rm -rf "$W/out-big"
peak=0
for name in "${!RSS[@]}"; do
    case "$name" in *graphvault*) [ "${RSS[$name]}" -gt "$peak" ] && peak="${RSS[$name]}" ;; esac
done
TARGETS+=("| peak RSS of any graphvault run (1 GiB and ${BIG_GIB} GiB) | $peak MiB | ≤ 128 MiB | $([ "$peak" -le 128 ] && echo met || echo missed) |")

echo "== list and prune planning over 20,000 backups"
SCALE="$("$CARGO_TARGET_DIR/release/examples/scale_catalog" 20000)"
echo "$SCALE"
# The steady-state prune plan (signatures checked, cache warm): seconds and
# GETs, with the default 1,000-key pages and with list_page_size = 100000.
steady_row() {
    local what="$1" line s g
    line="$(grep -F "$2" <<<"$SCALE")"
    s="$(sed -E 's/.* in ([0-9.]+) s .*/\1/' <<<"$line")"
    g="$(sed -E 's/.* ([0-9]+) GET.*/\1/' <<<"$line")"
    TARGETS+=("| prune dry run over 20,000 signed backups in chains, steady state, $what | $s s, $g GET | < 5 s, 0 GET | $(awk -v s="$s" -v g="$g" 'BEGIN { print (s < 5 && g == 0) ? "met" : "missed" }') |")
}
steady_row "pages of 1,000 keys (default)" "steady state (cache of the run before)"
steady_row "list_page_size = 100000" "steady state, list_page_size"

CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
{
    echo "# Performance"
    echo
    echo "Measured by \`bench/run.sh\` on $(date -u +%Y-%m-%d): $(nproc) cores ($CPU), $(free -g | awk '/Mem:/ {print $2}') GiB RAM,"
    echo "LocalStack $(grep -m1 '^localstack-core' localstack/requirements.txt | cut -d= -f3) on the same host, release build, default settings"
    echo "(zstd level 3, 8 MiB parts × 4 for uploads, 4 MiB ranges × 4 for downloads). \"Ratio\" is the"
    echo "baseline's time divided by graphvault's on the same input (above 1 = graphvault faster)."
    echo
    echo "Each row is the median of $REPEAT runs (the ${BIG_GIB} GiB rows: one run); peak RSS is the"
    echo "largest of the runs. This host's disk and LocalStack vary by up to 2× between runs."
    echo
    echo "## Targets"
    echo
    echo "| target | measured ratio | goal | |"
    echo "|---|---:|---:|---|"
    printf '%s\n' "${TARGETS[@]}"
    echo
    cat <<'TEXT'
## What limits the ratios

- **Backups are CPU-bound on two cores.** graphvault hashes every byte three
  times: the artifact's SHA-256 (recorded in the manifest, checked after a
  restore), the stored object's SHA-256 (checked before decrypting; lets
  stock `sha256sum` check a download) and each upload part's SHA-256 (S3
  checks it on arrival). The file store checks each part's SHA-256 like S3
  does, a fourth pass. With zstd and age that is about 4.5-5 CPU seconds per
  GiB of incompressible input (`CPU seconds` column), and two cores cannot
  finish it in less than half that. The shell pipeline hashes once, with
  coreutils' `sha256sum` (no SHA extensions, about 2 s per GiB, on its own
  core). The "slowest stage alone" target compares against one stage running
  by itself on an otherwise idle machine; in the pipeline all stages share
  the same two cores, so the sum of their CPU time, not the slowest one, is
  the bound here.
- **LocalStack is the sink's limit.** It runs in Python on the same two
  cores and ingests (and serves) at about the speed of a plain `aws s3 cp` of
  the raw artifact; graphvault and the shell pipeline both wait for it, so
  their ratio stays near 1 while graphvault stays at or above the plain copy.
- **Restores write and fsync the artifact**, which the shell baseline
  (`… | sha256sum`) does not: the write-and-fsync stage row is that cost.
  graphvault hashes the stored bytes, decrypts, and decompresses+hashes+writes
  on three threads and starts writeback while writing, so the final fsync has
  little left.
- **Memory** stays flat from 1 GiB to 8 GiB: upload parts (8 MiB × 4 in
  flight, plus the ones being hashed) and download ranges (4 MiB × 4) are the
  only buffers that grow with settings, not with the artifact.
- **Prune planning is bound by LocalStack's listing.** The steady-state
  plan reads no manifest (the local cache of verified manifests); what is
  left is listing 60,000 objects: 40,000 under `manifests/` (manifests and
  their signatures) and 20,000 under `data/`. LocalStack, in Python on the
  same two cores, spends about 70 µs per key it lists plus, per page, a sort
  of the whole bucket: measured with `curl` on the 60,000-object bucket,
  one 1,000-key page of `manifests/` takes about 0.12 s and one
  40,000-key page 2.8 s. So 60 pages of 1,000 keys cost about 7 s and
  even single pages about 4-6 s, before any planning; compare the
  steady-state rows with the "prune's listings alone" lines above them.
  `storage.list_page_size` asks for larger pages (AWS S3, MinIO and Ceph
  answer 1,000 keys a page whatever is asked; there a page costs the same
  whatever the bucket's size). The planning itself takes under a second.
  Below 5 s on LocalStack needs fewer listed objects per backup (the
  signature inside the manifest object, a format change not made yet).
  Chains cost kept backups: with a full backup every 7th night, each backup
  a rule keeps brings up to 6 parents.
- This host's disk and LocalStack vary by up to 2× from run to run; each row
  is a median.
TEXT
    echo
    echo "## Runs"
    echo
    echo "| case | seconds | MiB/s | ratio to baseline | peak RSS (MiB) | CPU seconds |"
    echo "|---|---:|---:|---:|---:|---:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "List and prune planning (\`cargo run --release --example scale_catalog -- 20000\`):"
    echo
    echo '```'
    echo "$SCALE"
    echo '```'
} > docs/PERFORMANCE.md
echo "== written docs/PERFORMANCE.md"
