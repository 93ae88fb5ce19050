"""Publish one task with Python Celery's own send_task, for the golden test.

Usage: send_task.py BROKER_URL QUEUE TASK ARGS_JSON KWARGS_JSON
Prints the task id.
"""
import json
import sys

from celery import Celery

broker, queue, task, args, kwargs = sys.argv[1:6]
app = Celery("golden", broker=broker, backend="rpc://")
app.conf.task_serializer = "json"
res = app.send_task(task, args=json.loads(args), kwargs=json.loads(kwargs), queue=queue)
print(res.id)
