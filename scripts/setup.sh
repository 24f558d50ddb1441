#!/usr/bin/env bash
# Installs what graphvault's quickstart and tests need on a fresh Debian/Ubuntu
# machine: the stock age/zstd CLIs (to prove backups open without graphvault),
# curl and jq. Idempotent: does nothing when everything is there.
set -euo pipefail

need=()
for tool in age zstd curl jq; do
    command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "setup: installing ${need[*]} (apt-get)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "setup: cargo (Rust toolchain) is required: https://rustup.rs" >&2; exit 1; }
