#!/usr/bin/env bash
# Compare the Go celerybridge with Python Celery against the same broker and
# fixture worker: publish throughput and send+wait round-trip latency.
# Usage: scripts/bench-celery.sh [N]   (N Python sends, default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
# The benchmarks against real services build only with this tag.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=integration"
export PATH="$PATH:/usr/local/go/bin"
N="${1:-2000}"
BROKER="${CELERY_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//}"
RUN="bench-$$"
APP_DIR="shim/celerybridge/testdata"

echo "== Go (celerybridge, publisher confirms on) =="
go test ./shim/celerybridge/ -run '^$' -bench 'PublishConfirmed$|RoundTrip$' -benchtime 3s -count 1 |
  awk '/^Benchmark/ { ns=$3; name=$1; sub(/-[0-9]+$/, "", name);
    if (name ~ /Publish/) printf "go Send (confirmed, 128 senders) throughput: %.0f msg/s\n", 1e9/ns;
    else printf "go Call (Send+Wait, rpc://) latency: %.2f ms/op\n", ns/1e6 }'

echo "== Python (Celery $(/usr/bin/python3 -c 'import celery; print(celery.__version__)'), no confirms) =="
WORK_Q="$RUN-work"; PUB_Q="$RUN-publish"
/usr/bin/python3 - "$BROKER" "$PUB_Q" <<'PY'
import sys, amqp, urllib.parse
from kombu import Connection
with Connection(sys.argv[1]) as c:
    c.default_channel.queue_declare(queue=sys.argv[2], durable=True, auto_delete=False)
PY
LOG="$(mktemp)"
( cd "$APP_DIR" && CELERY_BROKER_URL="$BROKER" CELERY_RESULT_BACKEND=rpc:// exec /usr/bin/python3 -m celery -A fixture_app worker \
    --pool=threads --concurrency=4 --without-gossip --without-mingle --without-heartbeat \
    -n "$RUN@localhost" -Q "$WORK_Q" --loglevel=INFO >"$LOG" 2>&1 ) &
WORKER=$!
cleanup() {
  kill "$WORKER" 2>/dev/null || true; wait "$WORKER" 2>/dev/null || true; rm -f "$LOG"
  /usr/bin/python3 -c "import sys; from kombu import Connection; c=Connection(sys.argv[1]); ch=c.default_channel; [ch.queue_delete(q) for q in sys.argv[2:]]" "$BROKER" "$PUB_Q" "$WORK_Q" || true
}
trap cleanup EXIT
for _ in $(seq 1 120); do grep -q ' ready\.' "$LOG" && break; sleep 0.5; done
/usr/bin/python3 scripts/bench_celery.py "$BROKER" "$WORK_Q" "$PUB_Q" "$N"
