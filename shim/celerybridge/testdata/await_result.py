"""Wait for results as the platform's callers do, for the result tests.

Usage: await_result.py BROKER_URL RESULT_BACKEND QUEUE TASK CALLS_JSON
CALLS_JSON is a list of [args, kwargs]. Sends one task TASK to QUEUE per
call with send_task, prints each id on a line, then reads each result with
AsyncResult(id).get() and prints one JSON line per task: {"value": …}, or
{"exc_type", "exc_module", "message"} for the exception get() raised.
"""
import json
import sys

from celery import Celery
from celery.result import AsyncResult

broker, backend, queue, task, calls = sys.argv[1:6]
app = Celery("await_result", broker=broker, backend=backend)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"], result_extended=True)
sent = [app.send_task(task, args=args, kwargs=kwargs, queue=queue) for args, kwargs in json.loads(calls)]
for res in sent:
    print(res.id, flush=True)
for res in sent:
    try:
        out = {"value": AsyncResult(res.id, app=app).get(timeout=120)}
    except Exception as exc:  # what the caller's get() raises
        out = {"exc_type": type(exc).__name__, "exc_module": type(exc).__module__, "message": str(exc)}
    print(json.dumps(out, sort_keys=True), flush=True)
