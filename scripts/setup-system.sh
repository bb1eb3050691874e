#!/usr/bin/env bash
# Installs the system packages the server itself needs (Debian/Ubuntu), shared by scripts/run.sh
# and .ci/run, so each works alone on a fresh machine. Skips what is already there; needs root
# (or sudo) only when something is missing.
#   bubblewrap  the workers' sandbox (mount, pid, ipc, uts namespaces; seccomp loading)
#   util-linux  setpriv (drop to the project's uid, clear capabilities), nsenter
#   passt       pasta: network for dependency builds and projects allowed outside
#   nftables    nft: keeps those away from the host's own addresses
#   iproute2    ip: lists the host's addresses for that rule
# and python3-venv where the system Python lacks ensurepip: scripts/setup-python.sh, which both
# also call, makes .venv with `python3 -m venv`.
set -euo pipefail

declare -A needs=(
    [bwrap]=bubblewrap
    [setpriv]=util-linux
    [nsenter]=util-linux
    [pasta]=passt
    [nft]=nftables
    [ip]=iproute2
)
missing=()
for program in "${!needs[@]}"; do
    command -v "${program}" >/dev/null 2>&1 || missing+=("${needs[${program}]}")
done
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if ((${#missing[@]} == 0)); then
    exit 0
fi
mapfile -t packages < <(printf '%s\n' "${missing[@]}" | sort -u)
sudo=()
if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "setup-system: please install ${packages[*]} (apt-get install ${packages[*]})" >&2
        exit 1
    }
    sudo=(sudo)
fi
echo "setup-system: installing ${packages[*]}" >&2
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
