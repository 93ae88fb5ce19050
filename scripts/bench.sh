#!/usr/bin/env bash
# bench.sh runs every benchmark of the service and prints one Markdown table:
# each figure beside the ceiling it is measured against in the same run and
# the ratio. Go benchmarks run COUNT times (default 5) and report medians.
# Needs the services of scripts/setup.sh; takes about twenty minutes.
# Usage: scripts/bench.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
# The benchmarks against real services build only with this tag.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=integration"
COUNT="${1:-5}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

# gobench FILE PKG REGEX BENCHTIME: runs the benchmarks into FILE.
gobench() { go test "$2" -run '^$' -bench "$3" -benchtime "$4" -count "$COUNT" -timeout 60m >"$OUT/$1" 2>&1 || { cat "$OUT/$1" >&2; exit 1; }; }
# values FILE BENCH UNIT: UNIT of every run of benchmark BENCH, one a line. A
# benchmark's log lines may split its name from its figures, so figures go to
# the last name seen.
values() {
	awk -v b="Benchmark$2" -v u="$3" '$1 ~ /^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name) }
		/ns\/op/ && name == b { for (i = 1; i < NF; i++) if ($(i+1) == u) print $i }' "$OUT/$1"
}
# median FILE BENCH UNIT: the median of UNIT over the runs.
median() {
	values "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2 }'
}
# runs FILE BENCH UNIT: every run's UNIT on one line, for the spread.
runs() { values "$@" | awk '{ printf "%s%.2f", sep, $1; sep = " " }'; }
# line FILE REGEX: the number after the label matching REGEX in FILE.
line() { grep -E "$2" "$OUT/$1" | grep -oE '[0-9]+(\.[0-9]+)?' | head -1; }
fmt() { awk -v v="$1" -v p="${2:-0}" 'BEGIN { if (v == "n/a" || v == "") print "n/a"; else printf "%." p "f", v }'; }

echo "bench: publish and round trip (celerybridge)…" >&2
gobench publish ./shim/celerybridge 'PublishRatio$' 16000x
gobench roundtrip ./shim/celerybridge 'RoundTripVsPython$' 1000x
gobench redis ./shim/celerybridge 'RedisWaits$' 3000x
gobench forward ./shim/celerybridge 'ForwardRatio$' 2x
echo "bench: shim execute per backend…" >&2
gobench execute ./shim 'Execute(VsSDK)?$' 300x
echo "bench: outcome tracking with 10,000 executions in flight…" >&2
gobench tracking ./shim '^BenchmarkTracking$' 20x
COUNT=1 gobench tracked ./shim 'ExecuteWhileTracking$' 4x
COUNT=1 gobench fleet ./shim 'TrackingFleet$' 1x
echo "bench: 200-file workflow executions, Hatchet, the Celery chord and the engine ceiling; 2,000 files; one document…" >&2
COUNT=3 gobench execution ./internal/e2e 'WorkflowExecution200$' 1x
COUNT=1 gobench slow ./internal/e2e 'WorkflowExecution200Slow$' 1x
COUNT=1 gobench large ./internal/e2e 'WorkflowExecution2000$' 1x
COUNT=3 gobench document ./internal/e2e 'DocumentLatency$' 1x
echo "bench: start-up, memory…" >&2
./scripts/bench-startup.sh >"$OUT/startup" 2>&1
./scripts/bench-memory.sh 1000 >"$OUT/memory" 2>&1

mem() { grep -F "| $2" "$OUT/memory" | awk -F'|' -v c="$3" '{ gsub(/[^0-9.]/, "", $c); print $c }'; }
cat <<TABLE
| figure | value | measured against (same run) | ratio | goal |
|---|---|---|---|---|
| celerybridge confirmed Send, 128 senders | $(fmt "$(median publish PublishRatio bridge-msg/s)") msg/s | raw amqp091-go, same message, 4 channels × 32 in flight: $(fmt "$(median publish PublishRatio raw-msg/s)") msg/s | $(fmt "$(median publish PublishRatio bridge/raw)" 2) (runs: $(runs publish PublishRatio bridge/raw)) | ≥ 0.8 |
| \`Call\` round trip, rpc:// | $(fmt "$(median roundtrip RoundTripVsPython go-ms/call)" 2) ms | Python \`send_task().get()\`, same worker: $(fmt "$(median roundtrip RoundTripVsPython py-ms/call)" 2) ms | $(fmt "$(median roundtrip RoundTripVsPython go/py)" 2) (runs: $(runs roundtrip RoundTripVsPython go/py)) | ≤ 0.8 |
| front door forwarding to the legacy twin queue, prefetch 256 | $(fmt "$(median forward ForwardRatio forward-msg/s)") msg/s | raw amqp091-go consume, publish, confirm, ack, same prefetch: $(fmt "$(median forward ForwardRatio raw-msg/s)") msg/s | $(fmt "$(median forward ForwardRatio forward/raw)" 2) (runs: $(runs forward ForwardRatio forward/raw)) | ≥ 0.8 |
| 1,000 concurrent redis:// Waits | $(fmt "$(median redis RedisWaits conns)") Redis connections, p50 $(fmt "$(median redis RedisWaits p50-ms)" 2) ms, p99 $(fmt "$(median redis RedisWaits p99-ms)" 2) ms | one pub/sub connection per Wait before: 1,020 connections | | one subscription |
| shim execute → Celery (202 = confirmed by RabbitMQ) | $(fmt "$(median execute Execute/celery accepted/s)") req/s | | | |
| shim execute → Hatchet (202 = run created) | $(fmt "$(median execute Execute/hatchet accepted/s)") req/s | | | |
| shim execute → Hatchet, alternating with the SDK | $(fmt "$(median execute ExecuteVsSDK shim-req/s)") req/s | SDK \`RunNoWait\`, same engine, workflow, input, metadata and concurrency: $(fmt "$(median execute ExecuteVsSDK sdk-runs/s)") runs/s | $(fmt "$(median execute ExecuteVsSDK shim/sdk)" 2) (runs: $(runs execute ExecuteVsSDK shim/sdk)) | ≥ 0.9 |
| outcome tracking, 10,000 executions in flight, one pass (batch 500 per backend) | $(fmt "$(median tracking Tracking cpu-ms/pass)" 1) ms CPU, $(fmt "$(median tracking Tracking wall-ms/pass)") ms wall | the default interval, 5 s | $(fmt "$(median tracking Tracking %core@5s)" 2) % of a core | < 5 % |
| outcome tracking, database transactions | $(fmt "$(median tracking Tracking db-xact/s@5s)" 2)/s on the store and result databases, and $(fmt "$(median tracking Tracking hatchet-lists/pass)") runs-list requests to Hatchet per pass | | | small |
| outcome tracking, three replicas on one store | $(fmt "$(median fleet TrackingFleet db-xact/interval@3)" 1) transactions and $(fmt "$(median fleet TrackingFleet hatchet-lists/interval@3)") runs-list requests per interval | one replica: $(fmt "$(median fleet TrackingFleet db-xact/interval@1)" 1) and $(fmt "$(median fleet TrackingFleet hatchet-lists/interval@1)"); three on their own: $(fmt "$(median fleet TrackingFleet unled-db-xact-3/1)" 2)× the transactions | $(fmt "$(median fleet TrackingFleet db-xact-3/1)" 2)× transactions, $(fmt "$(median fleet TrackingFleet hatchet-lists-3/1)" 2)× lists | ≤ 1.2 |
| shim execute → Celery with tracking running | $(fmt "$(median tracked ExecuteWhileTracking tracked-req/s)") req/s | tracking stopped, alternating 10 s phases: $(fmt "$(median tracked ExecuteWhileTracking untracked-req/s)") req/s | $(fmt "$(median tracked ExecuteWhileTracking tracked/untracked)" 2) (runs: $(runs tracked ExecuteWhileTracking tracked/untracked)) | ≥ 0.95 |
| 200-file workflow execution, instant LLM stub (median of 3) | Hatchet, 10 batches: $(fmt "$(median execution WorkflowExecution200 hatchet-s)" 2) s, $(fmt "$(median execution WorkflowExecution200 hatchet-lane-ms/file)") ms per file and lane, peak $(fmt "$(median execution WorkflowExecution200 hatchet-peak-MiB)") MiB (engine, worker and shim) | Celery chord, same files and stub: $(fmt "$(median execution WorkflowExecution200 celery-s)" 2) s, $(fmt "$(median execution WorkflowExecution200 celery-lane-ms/file)") ms per file and lane, peak $(fmt "$(median execution WorkflowExecution200 celery-peak-MiB)") MiB (Python worker) | $(fmt "$(median execution WorkflowExecution200 hatchet/celery)" 2) (runs: $(runs execution WorkflowExecution200 hatchet/celery)) | ≤ 1 |
| the same, against the engine's ceiling | Hatchet: $(fmt "$(median execution WorkflowExecution200 hatchet-s)" 2) s; batches queued p50 $(fmt "$(median execution WorkflowExecution200 batch-queued-p50-ms)") ms, running p50 $(fmt "$(median execution WorkflowExecution200 batch-running-p50-ms)") ms; spawn $(fmt "$(median execution WorkflowExecution200 spawn-p50-ms)") ms, gather $(fmt "$(median execution WorkflowExecution200 gather-p50-ms)") ms | 200 trivial tasks, no concurrency key, one spawn call: $(fmt "$(median execution WorkflowExecution200 ceiling-s)" 2) s | $(fmt "$(median execution WorkflowExecution200 hatchet/ceiling)" 2) (runs: $(runs execution WorkflowExecution200 hatchet/ceiling)) | ≤ 1.5 |
| 200-file workflow execution, stub answering in 200 ms (one run) | Hatchet: $(fmt "$(median slow WorkflowExecution200Slow hatchet-s)" 2) s | Celery chord, same files and stub: $(fmt "$(median slow WorkflowExecution200Slow celery-s)" 2) s | $(fmt "$(median slow WorkflowExecution200Slow hatchet/celery)" 2) | ≤ 0.8 |
| 2,000-file workflow execution, instant stub (one run) | Hatchet: $(fmt "$(median large WorkflowExecution2000 hatchet2000-s)" 2) s, peak $(fmt "$(median large WorkflowExecution2000 peak2000-MiB)") MiB (engine, worker and shim) | 200 files, same run: $(fmt "$(median large WorkflowExecution2000 hatchet200-s)" 2) s, peak $(fmt "$(median large WorkflowExecution2000 peak200-MiB)") MiB | $(fmt "$(median large WorkflowExecution2000 2000/200)" 2) | ≤ 11 |
| one document through the shim to \`succeeded\`, 20 in a row, polled every 10 ms | p50 $(fmt "$(median document DocumentLatency p50-ms)") ms, max $(fmt "$(median document DocumentLatency max-ms)") ms | | | p50 ≤ 150 ms |
| RSS idle, worker + shim joined to an external engine (\`-tags hatchet_external\`) | $(mem memory "external engine, built" 3) MiB | default build: $(mem memory "external engine, default" 3) MiB | | |
| peak RSS over 1,000 executions, external engine (\`-tags hatchet_external\`) | $(mem memory "external engine, built" 4) MiB | default build: $(mem memory "external engine, default" 4) MiB | | ≤ 60 MiB |
| RSS idle, embedded engine | $(mem memory "embedded engine" 3) MiB | | | |
| peak RSS over 1,000 executions, embedded engine | $(mem memory "embedded engine" 4) MiB | | | ≤ 110 MiB |
| cold start to ready (fresh database) | $(line startup '^cold') s | | | |
| warm start to ready | $(line startup '^warm') s | | | |
| SIGTERM to exit (idle) | $(line startup '^SIGTERM') s | | | |
TABLE
