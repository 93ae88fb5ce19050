"""Celery fixture app for celerybridge tests.

Tasks carry the names of the Unstract platform's tasks so tests exercise the
same routing and argument shapes. Broker, result backend and the webhook log
come from the environment:

  CELERY_BROKER_URL       broker (default amqp://guest:guest@127.0.0.1:5672//)
  CELERY_RESULT_BACKEND   result backend (default rpc://)
  FIXTURE_WEBHOOK_LOG     file that send_webhook_notification appends a JSON line to
"""
import json
import os

from celery import Celery

app = Celery("fixture_app")
app.conf.update(
    broker_url=os.environ.get("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),
    result_backend=os.environ.get("CELERY_RESULT_BACKEND", "rpc://"),
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_extended=True,
    task_acks_late=True,
    worker_prefetch_multiplier=4,
    enable_utc=True,
    broker_connection_retry_on_startup=True,
)


class FixtureError(Exception):
    """Raised by the fail task (and by process_file_batch for a file named
    raise*); exc_module is this module."""


@app.task(name="workflow_manager.workflow_v2.file_execution_tasks.process_file_batch")
def process_file_batch(file_batch_data):
    files = file_batch_data.get("files", [])
    for name, _ in files:
        if str(name).startswith("raise"):
            raise FixtureError("cannot process " + str(name))
    failed = [name for name, _ in files if str(name).startswith("fail")]
    return {"successful_files": len(files) - len(failed), "failed_files": len(failed)}


@app.task(name="async_execute_bin")
def async_execute_bin(schema_name, workflow_id, execution_id, hash_values_of_files,
                      scheduled=False, execution_mode=None, pipeline_id=None,
                      use_file_history=True, **kwargs):
    return {
        "schema_name": schema_name,
        "workflow_id": workflow_id,
        "execution_id": execution_id,
        "files": sorted(hash_values_of_files),
        "scheduled": scheduled,
        "execution_mode": execution_mode,
        "pipeline_id": pipeline_id,
        "use_file_history": use_file_history,
        "kwargs": kwargs,
    }


@app.task(name="send_webhook_notification")
def send_webhook_notification(url, payload, headers=None, timeout=10,
                              max_retries=None, retry_delay=10):
    path = os.environ.get("FIXTURE_WEBHOOK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"url": url, "payload": payload, "headers": headers}) + "\n")
    return payload


@app.task(name="echo")
def echo(*args, **kwargs):
    return {"args": list(args), "kwargs": kwargs}


@app.task(name="fail")
def fail(message):
    raise FixtureError(message, 42)


@app.task(name="retry_once", bind=True, max_retries=3)
def retry_once(self, value):
    if self.request.retries == 0:
        # Not countdown=0: with the database result backend another worker
        # process can run the retry and store SUCCESS before this one stores
        # RETRY, which then overwrites it (a Celery race, seen here).
        raise self.retry(countdown=1)
    return {"value": value, "retries": self.request.retries}
