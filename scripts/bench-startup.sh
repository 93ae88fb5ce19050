#!/usr/bin/env bash
# bench-startup.sh measures the service with its embedded engine: time from
# process start to /readyz 200 on a fresh database (cold) and on the same
# database again (warm), the idle resident memory, and the time from SIGTERM
# to exit. It prints the figures; nothing is asserted.
# Usage: scripts/bench-startup.sh [idle-seconds]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE="${1:-20}"
DB="hw_bench_startup"
SERVER="${BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
ADMIN="$SERVER/postgres?sslmode=disable"
BIN="$(mktemp -d)/hatchet-worker"
go build -o "$BIN" ./cmd/hatchet-worker
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ADDR="127.0.0.1:$(port)"; GRPC=$(port); API=$(port)
export DATABASE_URL="$SERVER/$DB?sslmode=disable" SERVICE_ADDR="$ADDR" \
	HATCHET_EMBEDDED_GRPC_PORT="$GRPC" HATCHET_EMBEDDED_API_PORT="$API" SHIM_INSECURE_DEV=true \
	HATCHET_EMBEDDED_TOKEN_FILE="$(dirname "$BIN")/token" LOG_LEVEL=warn \
	PLATFORM_DATABASE_URL="$SERVER/${DB}_platform?sslmode=disable"

now() { date +%s.%N; }
start() { # sets PID and ELAPSED (seconds to ready)
	local t0; t0=$(now)
	"$BIN" >>"$(dirname "$BIN")/log" 2>&1 & PID=$!
	until curl -fsS "http://$ADDR/readyz" >/dev/null 2>&1; do
		kill -0 "$PID" 2>/dev/null || { echo "service died; log:" >&2; cat "$(dirname "$BIN")/log" >&2; exit 1; }
		sleep 0.05
	done
	ELAPSED=$(awk "BEGIN { print $(now) - $t0 }")
}
stop() { # sets ELAPSED (seconds from SIGTERM to exit)
	local t0; t0=$(now)
	kill -TERM "$PID"; wait "$PID" || true
	ELAPSED=$(awk "BEGIN { print $(now) - $t0 }")
}

start; cold=$ELAPSED
sleep "$IDLE"
rss=$(awk '/VmRSS/ {print $2}' "/proc/$PID/status")
stop; stop_s=$ELAPSED
start; warm=$ELAPSED
stop

printf 'cold start to ready (fresh database, migrations): %.2f s\n' "$cold"
printf 'warm start to ready (same database):              %.2f s\n' "$warm"
printf 'idle RSS after %s s:                               %d MiB\n' "$IDLE" "$((rss / 1024))"
printf 'SIGTERM to exit (idle):                           %.2f s\n' "$stop_s"
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS ${DB}_platform WITH (FORCE)" >/dev/null
