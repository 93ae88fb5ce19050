"""Reporting of the fixture's async_execute_bin to the platform, as the
platform's Celery workers report (github.com/Zipstack/unstract, HEAD of
2026-08):

  - the internal API client: workers/shared/clients/base_client.py (bearer
    key, X-Organization-ID, retries with backoff on 500/502/503/504 and
    connection errors, no retry on 4xx) and execution_client.py /
    file_client.py (paths and payloads);
  - the order: workers/general/tasks.py (async_execute_bin: read the
    execution, EXECUTING with attempts, the file batch, EXECUTING with
    total_files), workers/file_processing/tasks.py (per file: get-or-create
    the file execution, EXECUTING, the API result, COMPLETED or ERROR with
    execution_time, increment-files on a failure) and workers/callback/tasks.py
    (the final status rule with the counts, then the pipeline);
  - API results: backend/workflow_manager/endpoint_v2/result_cache_utils.py
    (RPUSH api_results:{workflow_id}:{execution_id}, then EXPIRE).

Enabled by the environment:

  FIXTURE_PLATFORM_API_URL    the internal API's base URL (…/internal)
  FIXTURE_PLATFORM_API_KEY    its key
  FIXTURE_PLATFORM_REDIS_URL  the platform's Redis (API results); optional
  FIXTURE_RESULT_TTL_SECONDS  EXECUTION_RESULT_TTL_SECONDS (default 86400)
"""
import json
import os
import time
import urllib.error
import urllib.request

RETRY_STATUSES = {500, 502, 503, 504}


def enabled():
    return bool(os.environ.get("FIXTURE_PLATFORM_API_URL"))


class PlatformError(Exception):
    """A call the internal API refused, or that failed after its retries,
    worded as the platform's client words it (base_client.py, _make_request)."""


# How long the platform's client retries a call: INTERNAL_API_RETRY_ATTEMPTS 3,
# backoff factor 1 (1, 2 and 4 s).
WORKER_RETRY_FOR = 8.0


def _worker_text(code, reason, text):
    if len(text) > 500:
        text = text[:500] + "... (truncated)"
    if code == 401:
        return f"Authentication failed with internal API: {text}"
    if code >= 500:
        return f"Server error: {code} {reason}: {text}"
    if code not in (408, 429):
        return f"Client error: {code} {reason}: {text}"
    return f"Request failed: {code} {reason}: {text}"


def _call(method, path, org, body=None, retry_for=300.0):
    base = os.environ["FIXTURE_PLATFORM_API_URL"].rstrip("/") + "/"
    headers = {"Authorization": "Bearer " + os.environ.get("FIXTURE_PLATFORM_API_KEY", ""),
               "Accept": "application/json"}
    if org:
        headers["X-Organization-ID"] = org
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    deadline = time.monotonic() + retry_for
    attempt = 0
    while True:
        attempt += 1
        req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            failure = _worker_text(exc.code, exc.reason, exc.read().decode(errors="replace"))
            if exc.code not in RETRY_STATUSES:
                raise PlatformError(failure) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            failure = f"Request connection error: {exc}"
        wait = min(0.5 * 2 ** (attempt - 1), 10.0)
        if time.monotonic() + wait > deadline:
            raise PlatformError(failure)
        time.sleep(wait)


def read_execution(org, execution_id):
    return _call("GET", f"v1/workflow-execution/{execution_id}/?file_execution=true", org)


def update_status(org, execution_id, status, retry_for=300.0, **fields):
    body = {"status": status}
    body.update({k: v for k, v in fields.items() if v is not None})
    return _call("POST", f"v1/workflow-execution/{execution_id}/update_status/", org, body, retry_for)


def report_failure(org, execution_id, pipeline_id, message):
    """The failure path of async_execute_bin (workers/general/tasks.py): ERROR
    with the error's text and FAILURE as the pipeline's last run, then the
    router's ERROR again; a call that fails is logged, as there."""
    calls = [lambda: update_status(org, execution_id, "ERROR", WORKER_RETRY_FOR, error_message=message)]
    if pipeline_id:
        calls.append(lambda: _call("PUT", f"v1/pipeline/{pipeline_id}/", org,
                                   {"status": "FAILURE", "is_end": True}, WORKER_RETRY_FOR))
    calls.append(calls[0])
    for report in calls:
        try:
            report()
        except PlatformError as exc:
            print(f"Failed to update execution status: {exc}", flush=True)


def create_file_batch(org, execution_id, files, is_api):
    return _call("POST", "v1/workflow-manager/file-batch/", org,
                 {"workflow_execution_id": execution_id, "files": files, "is_api": is_api})


def file_execution(org, workflow_id, execution_id, name, file_hash):
    return _call("POST", "v1/file-execution/", org, {
        "execution_id": execution_id, "workflow_id": workflow_id,
        "file_hash": {"file_name": name, "file_path": file_hash.get("file_path", ""),
                      "file_hash": file_hash.get("file_hash", "")}})


def file_status(org, file_execution_id, status, execution_time=None, error_message=None):
    body = {"status": status}
    if execution_time is not None:
        body["execution_time"] = execution_time
    if error_message:
        body["error_message"] = error_message
    return _call("POST", f"v1/file-execution/{file_execution_id}/status/", org, body)


def increment_failed(org, workflow_id, execution_id):
    return _call("POST", "v1/workflow-manager/increment-files/", org,
                 {"workflow_id": workflow_id, "execution_id": execution_id, "increment_type": "failed"})


def update_pipeline(org, pipeline_id, execution_status):
    pipeline_status = {"COMPLETED": "SUCCESS", "ERROR": "FAILURE", "STOPPED": "FAILURE"}[execution_status]
    return _call("PUT", f"v1/pipeline/{pipeline_id}/", org, {"status": pipeline_status, "is_end": True})


def push_api_result(workflow_id, execution_id, name, file_execution_id, result, error, took):
    url = os.environ.get("FIXTURE_PLATFORM_REDIS_URL")
    if not url:
        return
    import redis  # only API deployments need it

    entry = {"file": name, "file_execution_id": file_execution_id,
             "status": "Failed" if error else "Success",
             "result": None if error else result, "error": error or None,
             "metadata": {"from_cache": False, "from_file_history": False,
                          "manual_review": False, "execution_time": took}}
    key = f"api_results:{workflow_id}:{execution_id}"
    client = redis.Redis.from_url(url)
    try:
        pipe = client.pipeline()
        pipe.rpush(key, json.dumps(entry))
        pipe.expire(key, int(os.environ.get("FIXTURE_RESULT_TTL_SECONDS", "86400")))
        pipe.execute()
    finally:
        client.close()


def final_status(expected, successful, failed):
    """The callback's rule (workers/callback/tasks.py)."""
    processed = successful + failed
    if expected > 0 and processed == 0:
        return "ERROR"
    if failed > 0 and failed == processed:
        return "ERROR"
    return "COMPLETED"
