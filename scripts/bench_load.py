"""Load for scripts/bench-memory.sh: start N connector-validation executions
at once through a shim and wait until every one has finished.

Usage: bench_load.py SHIM_URL N DIRECTORY
Prints the seconds from the first request to the last finish.
"""
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

url, n, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
FINAL = {"succeeded", "failed", "cancelled", "unknown"}


def call(method, path, body=None):
    req = urllib.request.Request(url + path, method=method, data=json.dumps(body).encode() if body else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def execute(i):
    return call("POST", "/api/v2/workflows/execute", {
        "workflow": "connector-validation", "organization_id": f"org-mem-{i % 10}",
        "input": {"settings": {"type": "filesystem", "path": directory}}})["execution_id"]


def done(execution_id):
    return call("GET", f"/api/v2/workflows/executions/{execution_id}")["status"] in FINAL


start = time.perf_counter()
with ThreadPoolExecutor(64) as pool:
    pending = list(pool.map(execute, range(n)))
    while pending:
        time.sleep(0.5)
        pending = [e for e, d in zip(pending, pool.map(done, pending)) if not d]
print(f"{time.perf_counter() - start:.2f}")
