#!/usr/bin/env python3
"""Checks that infra/terraform applies the lifecycle rules graphvault suggests.

Three views of the same rules must agree:

1. the formulas of src/retention/tier.rs (`tier_days`, `suggest`), restated
   here in `expected_rules()`, fed with the defaults of
   infra/terraform/variables.tf (parsed with python-hcl2);
2. infra/terraform/main.tf: its `tier_expiration_days` expressions and rule
   constants (parsed with python-hcl2 and evaluated here), the structure of
   its aws_s3_bucket_lifecycle_configuration, and, when `terraform` is on
   PATH, its locals evaluated by `terraform console` (no provider needed);
3. `graphvault lifecycle suggest --json` for the same retention values, run
   on a file:// store (unversioned, empty key prefix), when the binary exists.

Usage: check_lifecycle.py [--graphvault BIN] [--terraform BIN]
Exit codes: 0 all agree, 1 a mismatch (printed), 2 usage or environment.
Prints "skip: ..." lines for the parts it could not run.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "infra" / "terraform"
TIER_TAG = "graphvault-tier"
TIERS = ("daily", "weekly", "monthly", "yearly")
RETENTION_VARS = ("keep_last", "keep_within_days", "keep_daily", "keep_weekly", "keep_monthly", "keep_yearly")
# A recipient only so that the config is complete; lifecycle suggest reads
# only [storage] and [retention].
RECIPIENT = "age1kdja750hwl6phn3hs6gvwxdtzlg3msqmg3shj064mgmm00gradmsrw9k7l"

# Retention values checked besides the module's defaults: every tier switched
# on and off at least once, and keep_last / keep_within_days winning the daily tier.
EXTRA_POLICIES = (
    {"keep_daily": 3, "keep_weekly": 0, "keep_monthly": 6, "keep_yearly": 2},
    {"keep_last": 14, "keep_daily": 5, "keep_weekly": 8, "keep_monthly": 0, "keep_yearly": 10},
    {"keep_within_days": 30, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 1},
)

failures: list[str] = []


def fail(msg: str) -> None:
    failures.append(msg)
    print(f"mismatch: {msg}")


def unquote(label: str) -> str:
    """python-hcl2 >= 5 keeps the quotes of block labels."""
    return label[1:-1] if len(label) >= 2 and label[0] == label[-1] == '"' else label


def expr(value):
    """An attribute value as python-hcl2 returns it, made comparable:
    '${var.x + 1}' -> 'var.x + 1', '"Enabled"' (hcl2 >= 5) -> 'Enabled',
    '"${local.p}x/"' -> '${local.p}x/'; other values unchanged."""
    if isinstance(value, str):
        value = unquote(value)
        if value.startswith("${") and value.endswith("}") and value.count("${") == 1:
            return value[2:-1]
    return value


def load(path: Path) -> dict:
    with path.open() as f:
        return hcl2.load(f)


# --- 1. the formulas ---------------------------------------------------------


def normalize_prefix(prefix: str) -> str:
    p = prefix.strip("/")
    return f"{p}/" if p else ""


def tier_days(v: dict) -> list[tuple[str, int]]:
    """src/retention/tier.rs, tier_days."""
    out = [("daily", max(v["keep_daily"], v["keep_last"], v["keep_within_days"]) + 2)]
    if v["keep_weekly"] > 0:
        out.append(("weekly", 7 * v["keep_weekly"] + 7))
    if v["keep_monthly"] > 0:
        out.append(("monthly", 31 * v["keep_monthly"] + 31))
    if v["keep_yearly"] > 0:
        out.append(("yearly", 366 * v["keep_yearly"] + 31))
    return out


def expected_rules(v: dict, prefix: str, versioned: bool) -> list[dict]:
    """src/retention/tier.rs, suggest: the Rules array, in order."""
    root = normalize_prefix(prefix)
    rules = [
        {
            "ID": f"graphvault-expire-{tier}",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": root, "Tags": [{"Key": TIER_TAG, "Value": tier}]}},
            "Expiration": {"Days": days},
        }
        for tier, days in tier_days(v)
    ]
    rules.append(
        {
            "ID": "graphvault-abort-incomplete-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": root},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    )
    rules.append(
        {
            "ID": "graphvault-expire-old-lease-generations",
            "Status": "Enabled",
            "Filter": {"Prefix": f"{root}locks/repository/"},
            "Expiration": {"Days": 30},
        }
    )
    if versioned:
        rules.append(
            {
                "ID": "graphvault-expire-noncurrent-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": root},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
            }
        )
    return rules


# --- 2. the module -------------------------------------------------------------


def module_defaults() -> dict:
    variables = {}
    for block in load(MODULE / "variables.tf").get("variable", []):
        for name, body in block.items():
            default = body.get("default")
            variables[unquote(name)] = unquote(default) if isinstance(default, str) else default
    missing = [n for n in RETENTION_VARS + ("prefix", "versioning_enabled") if n not in variables]
    if missing:
        print(f"error: variables.tf lacks {', '.join(missing)}")
        sys.exit(2)
    for n in RETENTION_VARS:
        if not isinstance(variables[n], int):
            print(f"error: variables.tf: {n} needs an integer default, has {variables[n]!r}")
            sys.exit(2)
    return variables


def module_locals(main: dict) -> dict:
    out = {}
    for block in main.get("locals", []):
        out.update({k: v for k, v in block.items() if not k.startswith("__")})
    return out


def eval_arith(text: str, v: dict) -> int:
    """Evaluates `max(var.a, var.b) + 2`, `7 * var.a + 7`: integers, var.*,
    + and *, max(); anything else is refused."""
    tree = ast.parse(re.sub(r"\bvar\.", "var__", text), mode="eval")

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.Name) and node.id.startswith("var__"):
            return v[node.id[5:]]
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)):
            a, b = ev(node.left), ev(node.right)
            return a + b if isinstance(node.op, ast.Add) else a * b
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "max":
            return max(ev(a) for a in node.args)
        raise ValueError(f"unsupported expression {text!r}")

    return ev(tree)


def module_rules_from_hcl(main: dict, v: dict, prefix: str, versioned: bool) -> list[dict]:
    """The rules main.tf produces, from its locals evaluated here; the rule
    blocks themselves are checked by check_lifecycle_resource()."""
    loc = module_locals(main)
    days = {tier: eval_arith(expr(e), v) for tier, e in loc["tier_expiration_days"].items()}
    keep = {"daily": 1, "weekly": v["keep_weekly"], "monthly": v["keep_monthly"], "yearly": v["keep_yearly"]}
    root = normalize_prefix(prefix)
    rules = [
        {
            "ID": f"graphvault-expire-{t}",
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": root, "Tags": [{"Key": TIER_TAG, "Value": t}]}},
            "Expiration": {"Days": days[t]},
        }
        for t in TIERS
        if keep[t] > 0
    ]
    rules.append(
        {
            "ID": "graphvault-abort-incomplete-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": root},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": loc["abort_incomplete_upload_days"]},
        }
    )
    rules.append(
        {
            "ID": "graphvault-expire-old-lease-generations",
            "Status": "Enabled",
            "Filter": {"Prefix": f"{root}locks/repository/"},
            "Expiration": {"Days": loc["lease_generation_expiration_days"]},
        }
    )
    if versioned:
        rules.append(
            {
                "ID": "graphvault-expire-noncurrent-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": root},
                "NoncurrentVersionExpiration": {"NoncurrentDays": loc["noncurrent_version_expiration_days"]},
            }
        )
    return rules


def first(blocks):
    """A nested block as python-hcl2 returns it: a list of one dict."""
    if isinstance(blocks, list):
        if len(blocks) != 1:
            raise KeyError("expected exactly one block")
        return blocks[0]
    return blocks


def check_lifecycle_resource(main: dict) -> None:
    """The rule blocks of aws_s3_bucket_lifecycle_configuration, in order:
    dynamic tier rules, abort uploads, lease generations, dynamic noncurrent."""
    res = None
    for block in main.get("resource", []):
        for rtype, named in block.items():
            if unquote(rtype) == "aws_s3_bucket_lifecycle_configuration":
                res = next(iter(named.values()))
    if res is None:
        fail("main.tf has no aws_s3_bucket_lifecycle_configuration")
        return
    try:
        dyn = {}
        for d in res.get("dynamic", []):
            for label, body in d.items():
                dyn.setdefault(unquote(label), []).append(body)
        tier_rule, noncurrent_rule = dyn["rule"]
        rules = res["rule"]
        if "local.tier_rules" not in expr(tier_rule["for_each"]):
            fail("the first dynamic rule must iterate local.tier_rules")
        c = first(tier_rule["content"])
        f_and = first(first(c["filter"])["and"])
        if expr(c["id"]) != "rule.value.id" or expr(c["status"]) != "Enabled":
            fail(f"tier rule id/status: {c['id']!r} {c['status']!r}")
        if expr(f_and["prefix"]) != "local.prefix":
            fail(f"tier rule filter prefix is {f_and['prefix']!r}, not local.prefix")
        tags = f_and["tags"]
        if {unquote(k): expr(x) for k, x in tags.items() if not k.startswith("__")} != {TIER_TAG: "rule.value.tier"}:
            fail(f"tier rule tags are {tags!r}, want {{{TIER_TAG} = rule.value.tier}}")
        if expr(first(c["expiration"])["days"]) != "rule.value.days":
            fail("tier rule expiration.days must be rule.value.days")

        by_id = {expr(r["id"]): r for r in rules}
        if list(by_id) != ["graphvault-abort-incomplete-uploads", "graphvault-expire-old-lease-generations"]:
            fail(f"static rules are {list(by_id)}")
        a = by_id["graphvault-abort-incomplete-uploads"]
        if expr(first(a["filter"])["prefix"]) != "local.prefix":
            fail("abort rule filter prefix must be local.prefix")
        if expr(first(a["abort_incomplete_multipart_upload"])["days_after_initiation"]) != "local.abort_incomplete_upload_days":
            fail("abort rule must use local.abort_incomplete_upload_days")
        lease = by_id["graphvault-expire-old-lease-generations"]
        if expr(first(lease["filter"])["prefix"]) != "${local.prefix}locks/repository/":
            fail(f"lease rule prefix is {first(lease['filter'])['prefix']!r}, not ${{local.prefix}}locks/repository/")
        if expr(first(lease["expiration"])["days"]) != "local.lease_generation_expiration_days":
            fail("lease rule must use local.lease_generation_expiration_days")

        if "var.versioning_enabled" not in expr(noncurrent_rule["for_each"]) or "graphvault-expire-noncurrent-versions" not in expr(
            noncurrent_rule["for_each"]
        ):
            fail("the second dynamic rule must exist only with var.versioning_enabled, id graphvault-expire-noncurrent-versions")
        c = first(noncurrent_rule["content"])
        if expr(first(c["filter"])["prefix"]) != "local.prefix":
            fail("noncurrent rule filter prefix must be local.prefix")
        if expr(first(c["noncurrent_version_expiration"])["noncurrent_days"]) != "local.noncurrent_version_expiration_days":
            fail("noncurrent rule must use local.noncurrent_version_expiration_days")
        for r in rules + [first(tier_rule["content"]), c]:
            if expr(r.get("status")) != "Enabled":
                fail(f"rule {expr(r.get('id'))!r} is not Enabled")
    except (KeyError, ValueError, TypeError) as e:
        fail(f"unexpected structure of aws_s3_bucket_lifecycle_configuration in main.tf ({e!r})")


def module_rules_from_terraform(tf: str, v: dict, prefix: str, versioned: bool) -> list[dict]:
    """main.tf's locals evaluated by Terraform itself: variables.tf and the
    locals block only, so no provider and no `terraform init` is needed."""
    main_text = (MODULE / "main.tf").read_text()
    m = re.search(r"^locals \{.*?^\}", main_text, re.S | re.M)
    if not m:
        raise RuntimeError("no top-level locals block in main.tf")
    with tempfile.TemporaryDirectory(prefix="gv-infra-tf-") as d:
        shutil.copy(MODULE / "variables.tf", d)
        Path(d, "locals.tf").write_text(m.group(0) + "\n")
        tfvars = {"bucket_name": "graphvault-check", "prefix": prefix, "versioning_enabled": versioned, **v}
        Path(d, "check.auto.tfvars.json").write_text(json.dumps(tfvars))
        query = (
            "jsonencode({prefix = local.prefix, tiers = local.tier_rules, "
            "abort = local.abort_incomplete_upload_days, lease = local.lease_generation_expiration_days, "
            "noncurrent = local.noncurrent_version_expiration_days})\n"
        )
        env = {k: val for k, val in os.environ.items() if not k.startswith("TF_VAR_")}
        env["TF_IN_AUTOMATION"] = "1"
        p = subprocess.run(
            [tf, "console"], cwd=d, input=query, capture_output=True, text=True, timeout=120, env=env
        )
        if p.returncode != 0:
            raise RuntimeError(f"terraform console failed: {p.stderr.strip()[-2000:]}")
        out = json.loads(json.loads(p.stdout.strip().splitlines()[-1]))
    root = out["prefix"]
    rules = [
        {
            "ID": t["id"],
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": root, "Tags": [{"Key": TIER_TAG, "Value": t["tier"]}]}},
            "Expiration": {"Days": t["days"]},
        }
        for t in out["tiers"]
    ]
    rules.append(
        {
            "ID": "graphvault-abort-incomplete-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": root},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": out["abort"]},
        }
    )
    rules.append(
        {
            "ID": "graphvault-expire-old-lease-generations",
            "Status": "Enabled",
            "Filter": {"Prefix": f"{root}locks/repository/"},
            "Expiration": {"Days": out["lease"]},
        }
    )
    if versioned:
        rules.append(
            {
                "ID": "graphvault-expire-noncurrent-versions",
                "Status": "Enabled",
                "Filter": {"Prefix": root},
                "NoncurrentVersionExpiration": {"NoncurrentDays": out["noncurrent"]},
            }
        )
    return rules


# --- 3. graphvault -------------------------------------------------------------


def graphvault_rules(binary: str, v: dict) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="gv-infra-check-") as d:
        cfg = Path(d, "graphvault.toml")
        cfg.write_text(
            f'[storage]\nurl = "file://{d}/repo"\n\n[encryption]\nrecipients = ["{RECIPIENT}"]\n\n[retention]\n'
            + "".join(f"{k} = {v[k]}\n" for k in RETENTION_VARS if k != "keep_within_days" or v[k] > 0)
        )
        # Only this file and these values: no GRAPHVAULT_* from the caller's environment.
        env = {k: val for k, val in os.environ.items() if not k.startswith("GRAPHVAULT_")}
        p = subprocess.run(
            [binary, "--config", str(cfg), "-q", "lifecycle", "suggest", "--json"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    if p.returncode != 0:
        raise RuntimeError(f"{binary} lifecycle suggest --json exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return json.loads(p.stdout)["Rules"]


def without_prefix(rules: list[dict]) -> list[dict]:
    out = json.loads(json.dumps(rules))
    for r in out:
        f = r.get("Filter", {})
        if "And" in f:
            f["And"].pop("Prefix", None)
        else:
            f.pop("Prefix", None)
    return out


def check_prefix_structure(rules: list[dict], what: str) -> None:
    """Every rule filters on the same root prefix R (empty or ending in "/"),
    the lease rule on R + "locks/repository/"."""
    prefixes = {}
    for r in rules:
        f = r.get("Filter", {})
        prefixes[r.get("ID")] = f["And"].get("Prefix") if "And" in f else f.get("Prefix")
    lease = prefixes.pop("graphvault-expire-old-lease-generations", None)
    roots = set(prefixes.values())
    if len(roots) != 1 or None in roots:
        fail(f"{what}: rules filter on different prefixes {sorted(map(str, roots))}")
        return
    (root,) = roots
    if root and not root.endswith("/"):
        fail(f"{what}: prefix {root!r} does not end with '/'")
    if lease is None or not lease.endswith("locks/repository/") or lease != f"{root}locks/repository/":
        fail(f"{what}: lease rule prefix {lease!r} is not {root!r} + 'locks/repository/'")


def compare(a: list[dict], b: list[dict], what: str, ignore_prefix: bool = False) -> None:
    if ignore_prefix:
        a, b = without_prefix(a), without_prefix(b)
    if a != b:
        fail(
            f"{what}:\n  want {json.dumps(a, sort_keys=True)}\n  got  {json.dumps(b, sort_keys=True)}"
        )


def main() -> int:
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache" / "graphvault-target")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--graphvault", default=os.environ.get("GRAPHVAULT_BIN") or f"{target}/debug/graphvault")
    ap.add_argument("--terraform", default=shutil.which("terraform"))
    args = ap.parse_args()

    defaults = module_defaults()
    prefix = defaults["prefix"]
    versioned = bool(defaults["versioning_enabled"])
    main_tf = load(MODULE / "main.tf")
    policies = [{k: defaults[k] for k in RETENTION_VARS}]
    policies += [{**policies[0], "keep_last": 0, "keep_within_days": 0, **p} for p in EXTRA_POLICIES]

    # Sanity of the restated formulas against the numbers documented for the
    # default policy (7 daily, 4 weekly, 12 monthly: 9, 35, 403 days).
    if tier_days({"keep_last": 0, "keep_within_days": 0, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 0}) != [
        ("daily", 9),
        ("weekly", 35),
        ("monthly", 403),
    ]:
        fail("the restated tier formulas no longer give 9/35/403 days for 7/4/12")

    n = len(failures)
    check_lifecycle_resource(main_tf)
    for v in policies:
        for pre, ver in ((prefix, versioned), ("", not versioned)):
            want = expected_rules(v, pre, ver)
            try:
                compare(want, module_rules_from_hcl(main_tf, v, pre, ver), f"main.tf (parsed) for {v} prefix={pre!r} versioned={ver}")
            except (KeyError, ValueError) as e:
                fail(f"main.tf locals cannot be evaluated: {e!r}")
    if len(failures) == n:
        print(f"ok: main.tf lifecycle rules (parsed) follow the formulas for {len(policies)} retention policies")

    n = len(failures)
    if args.terraform:
        for v in policies:
            for pre, ver in ((prefix, versioned), ("/", False)):
                try:
                    got = module_rules_from_terraform(args.terraform, v, pre, ver)
                except (RuntimeError, subprocess.TimeoutExpired, ValueError) as e:
                    fail(str(e))
                    break
                compare(expected_rules(v, pre, ver), got, f"main.tf (terraform console) for {v} prefix={pre!r} versioned={ver}")
                check_prefix_structure(got, "main.tf (terraform console)")
        if len(failures) == n:
            print(f"ok: main.tf locals evaluated by terraform console agree ({len(policies)} policies)")
    else:
        print("skip: terraform not on PATH, main.tf locals not evaluated by terraform console")

    n = len(failures)
    if Path(args.graphvault).is_file() and os.access(args.graphvault, os.X_OK):
        for v in policies:
            try:
                got = graphvault_rules(args.graphvault, v)
            except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
                fail(str(e))
                break
            # A file:// store is unversioned and has no key prefix: compare
            # everything but the Prefix values, then their structure.
            compare(expected_rules(v, prefix, False), got, f"graphvault lifecycle suggest for {v}", ignore_prefix=True)
            check_prefix_structure(got, f"graphvault lifecycle suggest for {v}")
            check_prefix_structure(expected_rules(v, prefix, versioned), "module")
        if len(failures) == n:
            print(f"ok: `{args.graphvault} lifecycle suggest --json` agrees ({len(policies)} policies)")
    else:
        print(f"skip: no graphvault binary at {args.graphvault} (set GRAPHVAULT_BIN), not compared with lifecycle suggest")

    if failures:
        print(f"{len(failures)} lifecycle mismatch(es)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
