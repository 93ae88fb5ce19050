#!/usr/bin/env bash
# bench-memory.sh measures the service's resident memory in both engine modes:
# embedded (the engine in the process) and external (worker and shim joined
# to another engine with HATCHET_CLIENT_TOKEN; here the embedded engine of the
# first process serves as the external one), the latter both for the default
# binary and for one built with -tags hatchet_external (no embedded engine).
# The embedded figures come from a process of their own, started once the
# others stopped: the first process also carries the joined ones' engine load.
# For each it prints the RSS once idle and the peak RSS (VmHWM) over N
# executions started at once through its shim. Nothing is asserted.
# Usage: scripts/bench-memory.sh [N] [idle-seconds]   (defaults 1000, 10)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000}"; IDLE="${2:-10}"
SERVER="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
ADMIN="$SERVER/postgres?sslmode=disable"
DB="hw_bench_mem"
DIR="$(mktemp -d)"; BIN="$DIR/hatchet-worker"; BIN_EXT="$DIR/hatchet-worker-external"
go build -o "$BIN" ./cmd/hatchet-worker
go build -tags hatchet_external -o "$BIN_EXT" ./cmd/hatchet-worker
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
dropdbs() { psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${DB}_ext WITH (FORCE)" \
	-c "DROP DATABASE IF EXISTS ${DB}_full WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${DB}_solo WITH (FORCE)" \
	-c "DROP DATABASE IF EXISTS ${DB}_platform WITH (FORCE)" >/dev/null 2>&1 || true; }
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; dropdbs; rm -rf "$DIR"; }
trap cleanup EXIT
dropdbs

# start NAME BINARY ENV... : runs BINARY with ENV, waits for /readyz, sets PID and ADDR.
start() {
	local name=$1 bin=$2; shift 2
	ADDR="127.0.0.1:$(port)"
	env SERVICE_ADDR="$ADDR" SHIM_INSECURE_DEV=true LOG_LEVEL=warn \
		PLATFORM_DATABASE_URL="$SERVER/${DB}_platform?sslmode=disable" "$@" "$bin" >>"$DIR/$name.log" 2>&1 &
	PID=$!; PIDS+=("$PID")
	until curl -fsS "http://$ADDR/readyz" >/dev/null 2>&1; do
		kill -0 "$PID" 2>/dev/null || { echo "$name died; log:" >&2; cat "$DIR/$name.log" >&2; exit 1; }
		sleep 0.1
	done
}
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$2/status"; }

GRPC=$(port)
start embedded "$BIN" DATABASE_URL="$SERVER/$DB?sslmode=disable" HATCHET_EMBEDDED_GRPC_PORT="$GRPC" \
	HATCHET_EMBEDDED_API_PORT="$(port)" HATCHET_EMBEDDED_TOKEN_FILE="$DIR/token"
EMB_PID=$PID
# join NAME BINARY DATABASE: a worker and shim joined to the embedded process's engine.
join() {
	start "$1" "$2" DATABASE_URL="$SERVER/$3?sslmode=disable" HATCHET_CLIENT_TOKEN="$(cat "$DIR/token")" \
		HATCHET_CLIENT_HOST_PORT="127.0.0.1:$GRPC" HATCHET_CLIENT_TLS_STRATEGY=none HATCHET_CLIENT_NAMESPACE="bench_$1"
}
join ext "$BIN_EXT" "${DB}_ext"; EXT_PID=$PID; EXT_ADDR=$ADDR
join full "$BIN" "${DB}_full"; FULL_PID=$PID; FULL_ADDR=$ADDR
sleep "$IDLE"
ext_idle=$(kib VmRSS "$EXT_PID"); full_idle=$(kib VmRSS "$FULL_PID")
load() { /usr/bin/python3 scripts/bench_load.py "http://$1" "$N" "$DIR"; }
ext_s=$(load "$EXT_ADDR"); ext_peak=$(kib VmHWM "$EXT_PID")
full_s=$(load "$FULL_ADDR"); full_peak=$(kib VmHWM "$FULL_PID")
for p in "$EXT_PID" "$FULL_PID" "$EMB_PID"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
PIDS=()

start solo "$BIN" DATABASE_URL="$SERVER/${DB}_solo?sslmode=disable" HATCHET_EMBEDDED_GRPC_PORT="$(port)" \
	HATCHET_EMBEDDED_API_PORT="$(port)" HATCHET_EMBEDDED_TOKEN_FILE="$DIR/token_solo"
SOLO_PID=$PID
sleep "$IDLE"
emb_idle=$(kib VmRSS "$SOLO_PID")
emb_s=$(load "$ADDR"); emb_peak=$(kib VmHWM "$SOLO_PID")

mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
echo "| mode | RSS idle | peak RSS over $N executions | $N executions took |"
echo "|---|---|---|---|"
echo "| external engine, built with -tags hatchet_external | $(mib "$ext_idle") MiB | $(mib "$ext_peak") MiB | ${ext_s} s |"
echo "| external engine, default build | $(mib "$full_idle") MiB | $(mib "$full_peak") MiB | ${full_s} s |"
echo "| embedded engine | $(mib "$emb_idle") MiB | $(mib "$emb_peak") MiB | ${emb_s} s |"
