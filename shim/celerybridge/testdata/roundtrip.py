"""Python Celery's own round trip, for BenchmarkRoundTripVsPython.

Usage: roundtrip.py BROKER_URL QUEUE
Reads a count N per line on stdin, runs N send_task(...).get() round trips of
the echo task through QUEUE with the rpc:// backend, and prints the seconds
they took. Prints "ready" once warmed up.
"""
import sys
import time

from celery import Celery

broker, queue = sys.argv[1:3]
app = Celery("roundtrip", broker=broker, backend="rpc://")
app.conf.task_serializer = "json"
app.send_task("echo", args=["warm"], queue=queue).get(timeout=30)
print("ready", flush=True)
for line in sys.stdin:
    n = int(line)
    start = time.perf_counter()
    for _ in range(n):
        app.send_task("echo", args=["x"], queue=queue).get(timeout=30)
    print(time.perf_counter() - start, flush=True)
