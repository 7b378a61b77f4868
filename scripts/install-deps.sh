#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Kindling needs, if any are missing.
# As root it runs apt-get itself; otherwise it prints the exact command to run.
set -euo pipefail

# gdb: scripts/watchdog.sh uses it to print every thread's stack when a test hangs.
packages=(libopenblas-dev libgraphviz-dev zlib1g-dev dataset-fashion-mnist fortunes wamerican pkg-config gdb)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    echo "Installed: ${missing[*]}"
else
    echo "Kindling needs these system packages: ${missing[*]}" >&2
    echo "Install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
