#!/usr/bin/env bash
# run.sh sets up the machine (scripts/setup.sh), builds hatchet-worker and runs
# it in the foreground with the embedded Hatchet engine unless
# HATCHET_CLIENT_TOKEN names an external one. Ctrl-C (SIGINT) or SIGTERM stops
# it gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
command -v go >/dev/null || { echo "run: Go 1.26+ is required (https://go.dev/dl/)" >&2; exit 1; }

# The shim refuses to start without a token: keep one per machine unless the
# operator supplies their own.
if [ -z "${SHIM_API_TOKEN:-}" ] && [ "${SHIM_INSECURE_DEV:-}" != "true" ]; then
	state="${XDG_STATE_HOME:-$HOME/.local/state}/hatchet-worker"
	mkdir -p "$state"
	if [ ! -s "$state/shim-token" ]; then
		(umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$state/shim-token")
	fi
	SHIM_API_TOKEN=$(cat "$state/shim-token")
	export SHIM_API_TOKEN
	echo "run: shim API token in $state/shim-token" >&2
fi

mkdir -p bin
go build -buildvcs=auto -o bin/hatchet-worker ./cmd/hatchet-worker # stamps the git revision
exec ./bin/hatchet-worker "$@"
