#!/usr/bin/env bash
# Installs what graphvault's quickstart and tests need on a fresh Debian/Ubuntu
# machine: the stock age/zstd/minisign/aws CLIs (to prove backups open and
# manifests verify without graphvault),
# curl and jq, python3 with venv (LocalStack and the Neo4j Python driver of
# the Bolt double fidelity suite run in venvs). Idempotent: does nothing when everything is there.
set -euo pipefail

# command -> Debian package (systemd-analyze checks the units in infra/systemd).
declare -A package=([faketime]=faketime [aws]=awscli [age]=age [zstd]=zstd [curl]=curl [jq]=jq [systemd-analyze]=systemd [/usr/bin/time]=time [minisign]=minisign [openssl]=openssl [python3]=python3 [promtool]=prometheus [chromium]=chromium)
need=()
for tool in "${!package[@]}"; do
    command -v "$tool" >/dev/null 2>&1 || need+=("${package[$tool]}")
done
# Debian splits venv's pip bootstrap into python3-venv.
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
if [ "${#need[@]}" -gt 0 ]; then
    echo "setup: installing ${need[*]} (apt-get)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }
