"""Celery fixture app for celerybridge tests.

Tasks carry the names of the Unstract platform's tasks so tests exercise the
same routing and argument shapes. Broker, result backend and the webhook log
come from the environment:

  CELERY_BROKER_URL       broker (default amqp://guest:guest@127.0.0.1:5672//)
  CELERY_RESULT_BACKEND   result backend (default rpc://)
  FIXTURE_WEBHOOK_LOG     file that send_webhook_notification appends a JSON line to
  FIXTURE_RUN_LOG         file that async_execute_bin appends a line to each time it runs:
                          its task id, then "redelivered" or "new" (the broker's flag)

async_execute_bin runs an execution as the platform does, as a chord:
process_file_batch x N on FIXTURE_FILE_QUEUE (default file_processing), then
process_batch_callback on FIXTURE_CALLBACK_QUEUE (default
file_processing_callback), which Celery completes by polling (chord_unlock)
under the database result backend. The chord replaces async_execute_bin, so
the callback's result is stored under async_execute_bin's task id. Files go
round-robin into MAX_PARALLEL_FILE_BATCHES batches (default 4). What the
platform reads from its workflow's tools comes from the environment:

  FIXTURE_LLM_URL         OpenAI-compatible base URL (…/v1); unset processes no
                          document (every file not named fail* succeeds); set,
                          each file is read as UTF-8 text (an empty or missing
                          one fails) and every prompt runs once over all of it
  FIXTURE_OUTPUTS         JSON [{"name", "prompt"}] run over each document's text

With FIXTURE_PLATFORM_API_URL set, the execution reports to the platform's
internal API (and API results to FIXTURE_PLATFORM_REDIS_URL) as the
platform's workers do; see fixture_platform.py. An execution taken from the
celery_api_deployments queue (FIXTURE_API_QUEUE) is an API deployment's.
"""
import json
import os
import time
import urllib.request

from celery import Celery, chord

import fixture_platform as platform

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


FILE_QUEUE = os.environ.get("FIXTURE_FILE_QUEUE", "file_processing")
CALLBACK_QUEUE = os.environ.get("FIXTURE_CALLBACK_QUEUE", "file_processing_callback")
# The platform's queue of API deployment executions.
API_QUEUE = os.environ.get("FIXTURE_API_QUEUE", "celery_api_deployments")


def _prompt(base_url, prompt, text):
    body = json.dumps({"model": "fixture", "temperature": 0, "messages": [
        {"role": "user", "content": prompt + "\n\nContext:\n---------------\n" + text + "\n-----------------\n\nAnswer:"}]}).encode()
    req = urllib.request.Request(base_url.rstrip("/") + "/chat/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        answer = json.load(resp)
    return {"response": answer["choices"][0]["message"]["content"],
            "tokens_used": answer.get("usage", {}).get("total_tokens", 0)}


def _process(name, file_hash):
    """One file: read its text and run every prompt over it."""
    if str(name).startswith("fail"):
        raise FixtureError(f"{name}: fixture failure")
    base_url = os.environ.get("FIXTURE_LLM_URL")
    if not base_url:
        return {}
    with open(file_hash.get("file_path", ""), encoding="utf-8") as f:
        text = f.read()
    if not text.strip():
        raise FixtureError(f"{name}: document is empty")
    outputs = json.loads(os.environ.get("FIXTURE_OUTPUTS", "[]"))
    return {"processed_results": {o["name"]: [_prompt(base_url, o["prompt"], text)] for o in outputs}}


@app.task(name="workflow_manager.workflow_v2.file_execution_tasks.process_file_batch")
def process_file_batch(file_batch_data):
    files = file_batch_data.get("files", [])
    fd = file_batch_data.get("file_data", {})
    report = platform.enabled() and fd.get("execution_id")
    org, wf, ex = fd.get("organization_id"), fd.get("workflow_id"), fd.get("execution_id")
    for name, _ in files:
        if str(name).startswith("raise"):  # the whole task fails, with a traceback
            raise FixtureError("cannot process " + str(name))
    results, errors = {}, {}
    for name, file_hash in files:
        file_hash = file_hash or {}
        fe_id = None
        if report:
            fe_id = platform.file_execution(org, wf, ex, name, file_hash)["id"]
            platform.file_status(org, fe_id, "EXECUTING")
        start = time.monotonic()
        try:
            results[name] = _process(name, file_hash)
        except Exception as exc:  # one failing file never fails the batch
            errors[name] = f"{type(exc).__name__}: {exc}"
        took = round(time.monotonic() - start, 3)
        if report:
            if fd.get("is_api"):
                platform.push_api_result(wf, ex, name, fe_id, results.get(name), errors.get(name), took)
            if name in errors:
                platform.file_status(org, fe_id, "ERROR", took, errors[name])
                platform.increment_failed(org, wf, ex)
            else:
                platform.file_status(org, fe_id, "COMPLETED", took)
    return {"successful_files": len(results), "failed_files": len(errors),
            "results": results, "errors": errors}


@app.task(name="workflow_manager.workflow_v2.file_execution_tasks.process_batch_callback")
def process_batch_callback(batch_results, file_data):
    out = {"successful_files": 0, "failed_files": 0, "results": {}, "errors": {}}
    for r in batch_results:
        out["successful_files"] += r["successful_files"]
        out["failed_files"] += r["failed_files"]
        out["results"].update(r["results"])
        out["errors"].update(r["errors"])
    if platform.enabled():
        org, ex = file_data.get("organization_id"), file_data.get("execution_id")
        total = file_data.get("total_files", out["successful_files"] + out["failed_files"])
        status = platform.final_status(total, out["successful_files"], out["failed_files"])
        platform.update_status(org, ex, status, total_files=total,
                               successful_files=out["successful_files"], failed_files=out["failed_files"])
        if file_data.get("pipeline_id"):
            platform.update_pipeline(org, file_data["pipeline_id"], status)
    return out


def _batches(hash_values_of_files):
    files = sorted((fh.get("file_name") or os.path.basename(fh.get("file_path", "")) or key, fh)
                   for key, fh in hash_values_of_files.items())
    n = max(1, min(int(os.environ.get("MAX_PARALLEL_FILE_BATCHES", "4")), len(files)))
    return [[[name, fh] for name, fh in files[i::n]] for i in range(n)]


def _report_start(task, org, execution_id, hash_values_of_files, is_api):
    """async_execute_bin's reports before the fan-out (workers/general/tasks.py)."""
    try:
        platform.read_execution(org, execution_id)
    except platform.PlatformError as exc:
        raise Exception(f"Failed to get execution context: {exc}") from None
    platform.update_status(org, execution_id, "EXECUTING", attempts=task.request.retries + 1)
    files = [{"file_name": name, "file_path": fh.get("file_path", ""), "file_hash": fh.get("file_hash", "")}
             for name, fh in sorted((fh.get("file_name") or os.path.basename(fh.get("file_path", "")) or key, fh)
                                    for key, fh in hash_values_of_files.items())]
    if files:
        platform.create_file_batch(org, execution_id, files, is_api)
    platform.update_status(org, execution_id, "EXECUTING", total_files=len(files))


@app.task(name="async_execute_bin", bind=True)
def async_execute_bin(self, schema_name, workflow_id, execution_id, hash_values_of_files,
                      scheduled=False, execution_mode=None, pipeline_id=None,
                      use_file_history=True, **kwargs):
    run_log = os.environ.get("FIXTURE_RUN_LOG")
    if run_log:
        redelivered = (self.request.delivery_info or {}).get("redelivered")
        with open(run_log, "a", encoding="utf-8") as f:
            f.write(f"{self.request.id} {'redelivered' if redelivered else 'new'}\n")
    is_api = (self.request.delivery_info or {}).get("routing_key") == API_QUEUE
    file_data = {"workflow_id": workflow_id, "execution_id": execution_id,
                 "organization_id": schema_name, "pipeline_id": pipeline_id,
                 "scheduled": scheduled, "use_file_history": use_file_history,
                 "execution_mode": execution_mode, "is_api": is_api,
                 "total_files": len(hash_values_of_files)}
    if platform.enabled():
        try:
            _report_start(self, schema_name, execution_id, hash_values_of_files, is_api)
        except Exception as exc:  # the execution itself failed, and raises as on the platform
            platform.report_failure(schema_name, execution_id, pipeline_id, str(exc))
            raise
    if not hash_values_of_files:
        return {"successful_files": 0, "failed_files": 0, "results": {}, "errors": {}}
    header = [process_file_batch.s({"files": batch, "file_data": file_data}).set(queue=FILE_QUEUE)
              for batch in _batches(hash_values_of_files)]
    body = process_batch_callback.s(file_data).set(queue=CALLBACK_QUEUE)
    return self.replace(chord(header, body))


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
