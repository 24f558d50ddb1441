#!/usr/bin/env bash
# Static checks of the deployment files in infra/, without AWS and without
# `terraform init` (no provider download):
#   hcl2       every .tf under infra/terraform parses (python-hcl2)
#   fmt        terraform fmt -check -recursive infra/terraform (if terraform is on PATH)
#   policies   infra/terraform/policies/*.json.tftpl render to valid JSON, pass
#              parliament with no finding of severity MEDIUM or higher, and keep
#              their roles apart (the writer can never delete, ...)
#   lifecycle  infra/check_lifecycle.py: the module's lifecycle rules are the
#              ones `graphvault lifecycle suggest --json` prints (the binary part
#              is skipped when $GRAPHVAULT_BIN, default
#              $CARGO_TARGET_DIR/debug/graphvault, does not exist)
# The Python tools live in a venv, ${GRAPHVAULT_INFRA_VENV:-~/.cache/graphvault-infra-venv},
# installed from infra/requirements-check.txt and reinstalled when that file changes.
# Prints one ok/FAIL/skip line per check; exits 1 if any check failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV="${GRAPHVAULT_INFRA_VENV:-$HOME/.cache/graphvault-infra-venv}"
REQ=infra/requirements-check.txt
MODULE=infra/terraform
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/graphvault-target}"
export GRAPHVAULT_BIN="${GRAPHVAULT_BIN:-$CARGO_TARGET_DIR/debug/graphvault}"

failed=0
ok() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failed=1; }
skip() { printf 'skip  %s\n' "$*"; }

# --- venv ---------------------------------------------------------------------
want_stamp="$(sha256sum "$REQ" | cut -d' ' -f1)"
stamp_file="$VENV/.graphvault-requirements.sha256"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp_file" 2>/dev/null || true)" != "$want_stamp" ]; then
    echo "== installing $REQ into $VENV"
    command -v python3 >/dev/null || { echo "check-infra: python3 not found" >&2; exit 2; }
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv --clear "$VENV" || {
        echo "check-infra: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2
        exit 2
    }
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQ"
    echo "$want_stamp" >"$stamp_file"
fi
PY="$VENV/bin/python"

work="$(mktemp -d "${TMPDIR:-/tmp}/gv-infra-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# --- (a) every .tf parses -------------------------------------------------------
if out="$("$PY" - "$MODULE" 2>&1 <<'EOF'
import sys
from pathlib import Path
import hcl2

files = sorted(Path(sys.argv[1]).rglob("*.tf"))
files = [f for f in files if ".terraform" not in f.parts]
bad = 0
for f in files:
    try:
        with f.open() as fh:
            hcl2.load(fh)
    except Exception as e:  # the parser raises several exception types
        bad += 1
        print(f"{f}: {e}")
if not files:
    print(f"no .tf files under {sys.argv[1]}")
    sys.exit(1)
if bad:
    print(f"{bad} of {len(files)} .tf files do not parse")
    sys.exit(1)
print(f"{len(files)} .tf files parse")
EOF
)"; then
    ok "hcl2: ${out##*$'\n'}"
else
    fail "hcl2: .tf files do not parse:"
    printf '%s\n' "$out" | sed 's/^/      /'
fi

# --- (b) terraform fmt ------------------------------------------------------------
if command -v terraform >/dev/null; then
    if out="$(terraform fmt -no-color -check -recursive "$MODULE" 2>&1)"; then
        ok "terraform fmt -check -recursive $MODULE"
    else
        fail "terraform fmt: run \`terraform fmt -recursive $MODULE\`; not formatted:"
        printf '%s\n' "$out" | grep -v -i 'cli configuration\|terraformrc\|^[│╷╵ ]*$' | sed 's/^/      /' || true
    fi
else
    skip "terraform fmt (terraform not on PATH)"
fi

# --- (c) IAM policies ------------------------------------------------------------
# Render every template for a prefixed and for a whole-bucket store, check the
# JSON and the roles' boundaries, then lint each rendering with parliament.
if out="$("$PY" - "$MODULE/policies" "$work" 2>&1 <<'EOF'
import fnmatch
import json
import re
import sys
import warnings
from pathlib import Path

warnings.simplefilter("ignore")  # parliament's pkg_resources deprecation warning
import parliament

src, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
BUCKET = "graphvault-check-bucket"
problems = []


def render(text, prefix):
    return text.replace("${bucket}", BUCKET).replace("${prefix}", prefix)


def as_list(x):
    return x if isinstance(x, list) else [x]


def allows(doc, action, resource):
    """Allow statements whose Action patterns match `action` on `resource`."""
    hits = []
    for st in doc["Statement"]:
        if st.get("Effect") != "Allow":
            continue
        acts = [a.lower() for a in as_list(st.get("Action", []))]
        res = as_list(st.get("Resource", []))
        if any(fnmatch.fnmatchcase(action.lower(), a) for a in acts) and any(
            fnmatch.fnmatchcase(resource, r) for r in res
        ):
            hits.append(st.get("Sid", "?"))
    return hits


def denied(doc, action, resource):
    for st in doc["Statement"]:
        if st.get("Effect") != "Deny" or "Condition" in st:
            continue
        acts = [a.lower() for a in as_list(st.get("Action", []))]
        if any(fnmatch.fnmatchcase(action.lower(), a) for a in acts) and any(
            fnmatch.fnmatchcase(resource, r) for r in as_list(st.get("Resource", []))
        ):
            return True
    return False


templates = sorted(src.glob("*.json.tftpl"))
names = sorted(t.name.split(".")[0] for t in templates)
if names != ["pruner", "restorer", "writer"]:
    problems.append(f"expected writer, pruner and restorer templates in {src}, found {names}")

for t in templates:
    role = t.name.split(".")[0]
    text = t.read_text()
    # Plain templates: only ${bucket} and ${prefix}, no directives.
    for m in re.finditer(r"\$\{([^}]*)\}", text):
        if m.group(1) not in ("bucket", "prefix"):
            problems.append(f"{t.name}: interpolation ${{{m.group(1)}}} (only ${{bucket}} and ${{prefix}} are rendered)")
    if "%{" in text:
        problems.append(f"{t.name}: template directives (%{{...}}) are not allowed")
    for label, prefix in (("prefixed", "neo4j/prod/"), ("root", "")):
        rendered = render(text, prefix)
        try:
            doc = json.loads(rendered)
        except json.JSONDecodeError as e:
            problems.append(f"{t.name} ({label}): invalid JSON: {e}")
            continue
        (out_dir / f"{role}.{label}.json").write_text(rendered)
        if doc.get("Version") != "2012-10-17" or not isinstance(doc.get("Statement"), list):
            problems.append(f"{t.name}: needs Version 2012-10-17 and a Statement list")
            continue
        obj = f"arn:aws:s3:::{BUCKET}/{prefix}"
        bucket = f"arn:aws:s3:::{BUCKET}"
        for st in doc["Statement"]:
            sid = st.get("Sid", "?")
            # parliament rates an unknown action LOW; a typo here is a
            # missing permission, so it fails the check.
            for a in as_list(st.get("Action", [])):
                try:
                    parliament.expand_action(a)
                except (parliament.UnknownActionException, parliament.UnknownPrefixException) as e:
                    problems.append(f"{t.name}: {sid}: {e}")
            if "NotAction" in st or "NotResource" in st:
                problems.append(f"{t.name}: {sid}: NotAction/NotResource are too broad")
            if st.get("Effect") == "Allow":
                for r in as_list(st.get("Resource", [])):
                    if r == "*" or not (r == bucket or r.startswith(obj)):
                        problems.append(f"{t.name} ({label}): {sid} allows {r}, outside the bucket and prefix")
                acts = [a.lower() for a in as_list(st.get("Action", []))]
                if "s3:listbucket" in acts or "s3:listbucketversions" in acts:
                    cond = st.get("Condition", {}).get("StringLike", {}).get("s3:prefix")
                    if as_list(cond) != [f"{prefix}*"]:
                        problems.append(f"{t.name} ({label}): {sid}: listing must be limited to s3:prefix {prefix}*")
                if any("*" in a or "?" in a for a in acts):
                    problems.append(f"{t.name}: {sid}: wildcard in allowed actions {acts}")
        # The roles' boundaries.
        data = obj + "data/x.zst.age"
        if role == "writer":
            for a in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"):
                for res in (data, obj + "manifests/x.json", obj + "locks/x"):
                    if allows(doc, a, res):
                        problems.append(f"writer ({label}): Allow of {a} on {res} ({allows(doc, a, res)})")
            for a in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"):
                if not denied(doc, a, data):
                    problems.append(f"writer ({label}): no explicit Deny of {a}")
            for a in ("s3:PutLifecycleConfiguration", "s3:PutBucketPolicy"):
                if not denied(doc, a, bucket):
                    problems.append(f"writer ({label}): no explicit Deny of {a}")
            for a, res in (("s3:PutObject", data), ("s3:PutObject", obj + "manifests/a/b.json"),
                           ("s3:PutObject", obj + "locks/repository/1.json"), ("s3:PutObject", obj + "probe/host"),
                           ("s3:GetObject", data), ("s3:PutObjectTagging", data), ("s3:AbortMultipartUpload", data)):
                if not allows(doc, a, res):
                    problems.append(f"writer ({label}): needs {a} on {res}")
            if not allows(doc, "s3:PutObject", obj + "aliases/a/x.json"):
                problems.append(f"writer ({label}): needs s3:PutObject on aliases/ (alias switch records)")
            for res in (obj + "reports/drills/x.json", obj + "other/x"):
                if allows(doc, "s3:PutObject", res):
                    problems.append(f"writer ({label}): must not write {res}")
        elif role == "pruner":
            for a in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectTagging", "s3:GetObjectRetention",
                      "s3:PutObjectRetention", "s3:GetObjectLegalHold", "s3:AbortMultipartUpload"):
                if not allows(doc, a, data):
                    problems.append(f"pruner ({label}): needs {a} on {data}")
            if allows(doc, "s3:PutObject", data):
                problems.append(f"pruner ({label}): must not write backups")
            # Without them prune deletes nothing (exit 15, docs/EXIT_CODES.md).
            for a in ("s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration"):
                if not allows(doc, a, bucket):
                    problems.append(f"pruner ({label}): needs {a} on the bucket")
        elif role == "restorer":
            for a in ("s3:GetObject", "s3:GetObjectTagging", "s3:RestoreObject"):
                if not allows(doc, a, data):
                    problems.append(f"restorer ({label}): needs {a} on {data}")
            for res in (obj + "locks/repository/1.json", obj + "aliases/a/x.json", obj + "reports/drills/x.json"):
                if not allows(doc, "s3:PutObject", res):
                    problems.append(f"restorer ({label}): needs s3:PutObject on {res}")
            for a in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectTagging"):
                for res in (data, obj + "manifests/a/x.json"):
                    if allows(doc, a, res):
                        problems.append(f"restorer ({label}): must not {a} on {res}")
        for a in ("s3:BypassGovernanceRetention", "s3:PutLifecycleConfiguration", "s3:PutBucketPolicy"):
            if allows(doc, a, data) or allows(doc, a, bucket):
                problems.append(f"{role} ({label}): must not be allowed {a}")

for p in dict.fromkeys(problems):
    print(p)
if problems:
    sys.exit(1)
print(f"{len(templates)} templates render to valid JSON, use known actions and keep within their roles")
EOF
)"; then
    ok "policies: ${out##*$'\n'}"
else
    fail "policies:"
    printf '%s\n' "$out" | sed 's/^/      /'
fi

# parliament reads the policy from stdin here: with --file it refuses to run
# whenever stdin is not a terminal (as under CI).
lint_failed=0
shopt -s nullglob
rendered=("$work"/*.json)
shopt -u nullglob
for f in "${rendered[@]}"; do
    rc=0
    findings="$(PYTHONWARNINGS=ignore "$VENV/bin/parliament" --json --minimum_severity MEDIUM \
        --include-community-auditors <"$f" 2>"$work/parliament.err")" || rc=$?
    if [ "$rc" -ne 0 ] || [ -n "$findings" ]; then
        lint_failed=1
        fail "parliament: $(basename "$f" .json): findings of severity MEDIUM or higher (exit $rc):"
        { printf '%s\n' "$findings"; cat "$work/parliament.err"; } | sed '/^$/d; s/^/      /'
    fi
done
if [ "${#rendered[@]}" -eq 0 ]; then
    fail "parliament: no rendered policy to lint"
elif [ "$lint_failed" -eq 0 ]; then
    ok "parliament: ${#rendered[@]} rendered policies, no finding of severity MEDIUM or higher"
fi

# --- (d) lifecycle rules against graphvault lifecycle suggest -----------------------
if [ ! -x "$GRAPHVAULT_BIN" ]; then
    skip "lifecycle vs graphvault: no binary at $GRAPHVAULT_BIN (build it or set GRAPHVAULT_BIN); the module is still checked against the formulas"
fi
if out="$("$PY" infra/check_lifecycle.py --graphvault "$GRAPHVAULT_BIN" 2>&1)"; then
    ok "lifecycle rules in $MODULE/main.tf match graphvault's formulas"
    printf '%s\n' "$out" | sed 's/^/      /'
else
    fail "lifecycle rules in $MODULE/main.tf:"
    printf '%s\n' "$out" | sed 's/^/      /'
fi

# (e) systemd units: `systemd-analyze verify` runs elsewhere in the test suite.

if [ "$failed" -ne 0 ]; then
    echo "== infra checks FAILED"
    exit 1
fi
echo "== infra checks passed"
