"""Python Celery figures for scripts/bench-celery.sh.

Usage: bench_celery.py BROKER_URL QUEUE PUBLISH_QUEUE N
Prints send_task throughput (no confirms, as Celery publishes) to
PUBLISH_QUEUE and apply_async().get() latency through QUEUE (rpc://).
"""
import sys
import time

from celery import Celery

broker, queue, publish_queue, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
app = Celery("bench", broker=broker, backend="rpc://")
app.conf.task_serializer = "json"

app.send_task("echo", args=["warm"], queue=publish_queue)
start = time.perf_counter()
for _ in range(n):
    app.send_task("echo", args=["x"], queue=publish_queue)
elapsed = time.perf_counter() - start
print(f"python send_task throughput: {n / elapsed:.0f} msg/s ({n} sends)")

app.send_task("echo", args=["warm"], queue=queue).get(timeout=30)
rounds = max(50, n // 20)
start = time.perf_counter()
for _ in range(rounds):
    app.send_task("echo", args=["x"], queue=queue).get(timeout=30)
elapsed = time.perf_counter() - start
print(f"python apply_async().get() latency: {elapsed / rounds * 1000:.2f} ms/op ({rounds} round trips)")
