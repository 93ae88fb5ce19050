"""The service the tests run against, named by the environment. The Go
harness (cmd/hatchet-worker/pythonclient_integration_test.go) starts one with
both backends working and sets every variable:

  SHIM_URL, SHIM_API_TOKEN     the service and its token
  SHIM_TEST_DOCUMENT           a text document the service (DOCUMENTS_ROOTS)
                               and the legacy Celery worker both read
  SHIM_TEST_CELERY_ORG         an organisation the flags keep on Celery; the
                               flags send the others to Hatchet and honour
                               use_abstraction
  SHIM_TEST_SILENT_ADDR        host:port of a listener that accepts and never
                               answers: a connector check of it runs until
                               it is cancelled (or for two minutes)
  SHIM_TEST_PARKED_WORKFLOW    a workflow taking workflow-execution's input
                               whose Celery queue exists but has no worker:
                               sent to Celery it is accepted and stays queued
  SHIM_TEST_UNROUTED_WORKFLOW  one whose Celery queue the broker lacks (no
                               worker declared it): sent to Celery, it is
                               refused 503 backend_unavailable
  SHIM_TEST_MAX_BODY_BYTES     the service's SHIM_MAX_BODY_BYTES (1048576)

Without SHIM_URL the tests that need the service are skipped.
"""

from __future__ import annotations

import os
import time
import unittest
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hatchet_worker_client import Client, Execution


@dataclass(frozen=True)
class Service:
    """The variables above."""

    url: str
    token: str
    document: str
    celery_org: str
    silent_addr: str
    parked_workflow: str
    unrouted_workflow: str
    max_body: int

    @classmethod
    def from_env(cls) -> Service:
        def need(name: str) -> str:
            value = os.environ.get(name)
            if not value:
                raise RuntimeError(f"{name} is not set; see tests/service.py")
            return value

        return cls(url=need("SHIM_URL"), token=need("SHIM_API_TOKEN"), document=need("SHIM_TEST_DOCUMENT"),
                   celery_org=need("SHIM_TEST_CELERY_ORG"), silent_addr=need("SHIM_TEST_SILENT_ADDR"),
                   parked_workflow=need("SHIM_TEST_PARKED_WORKFLOW"),
                   unrouted_workflow=need("SHIM_TEST_UNROUTED_WORKFLOW"),
                   max_body=int(os.environ.get("SHIM_TEST_MAX_BODY_BYTES", "1048576")))


class ServiceTest(unittest.TestCase):
    """A test against the running service; skipped without SHIM_URL."""

    service: Service

    @classmethod
    def setUpClass(cls) -> None:
        if not os.environ.get("SHIM_URL"):
            raise unittest.SkipTest("SHIM_URL is not set: no service to test against")
        cls.service = Service.from_env()

    def client(self, **options: Any) -> Client:
        """A client of the service; options as Client takes them."""
        return Client(self.service.url, self.service.token, **options)

    def document(self) -> dict[str, Any]:
        """document-processing-v2's input for the test document."""
        return {"document_path": self.service.document, "llm_adapter_id": "default",
                "outputs": [{"name": "total", "prompt": "State the total"}]}

    def execution(self, org: str) -> dict[str, Any]:
        """workflow-execution's (and api-deployment-execution's) input: the
        platform's execution of org over the test document."""
        name = os.path.basename(self.service.document)
        return {"schema_name": org, "workflow_id": "wf-py", "execution_id": str(uuid.uuid4()),
                "hash_values_of_files": {"h1": {"file_path": self.service.document, "file_name": name,
                                                "file_hash": "h1"}},
                "llm_adapter_id": "default", "outputs": [{"name": "total", "prompt": "State the total"}]}

    def await_running(self, status: Callable[[str], Execution], execution_id: str, timeout: float = 60) -> None:
        """Read the execution's status with status until it says running.
        A Hatchet run cancelled at once after its acceptance can go on
        running: the engine may not have created its task yet, and the
        cancel is lost."""
        deadline = time.monotonic() + timeout
        while (state := status(execution_id).status) == "queued" and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(state, "running")

    def connector_check(self) -> dict[str, Any]:
        """connector-validation's input for a directory that exists: a
        Hatchet execution that succeeds in about a second."""
        return {"settings": {"type": "filesystem", "path": os.path.dirname(self.service.document)}}

    def hanging_check(self) -> dict[str, Any]:
        """connector-validation's input for a Redis server that never
        answers: a one-task Hatchet execution that runs until cancelled."""
        host, port = self.service.silent_addr.rsplit(":", 1)
        return {"settings": {"type": "redis", "host": host, "port": int(port), "timeout_ms": 120000}}


def unique(prefix: str) -> str:
    """prefix and a random suffix: an organisation or idempotency key no
    other test (or run) uses, so filters on it see this test's work only."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
