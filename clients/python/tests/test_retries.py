"""Retries, through the fault relay (tests/relay.py) in front of the real
service: the relay answers 503 or drops the connection where the service
itself would not on demand, and forwards the rest, so what the service
accepted is the service's own record."""

from __future__ import annotations

import socket
import time
import unittest

import hatchet_worker_client as hw
from relay import EXECUTE, Fault, FaultRelay
from service import ServiceTest, unique

UNAVAILABLE = "backend unavailable; retry later"  # the service's message for a 503


class RetryTest(ServiceTest):
    def setUp(self) -> None:
        self.relay = FaultRelay(self.service.url)
        self.addCleanup(self.relay.close)
        self.shim = hw.Client(self.relay.url, self.service.token, retries=3, backoff=0.01)

    def test_keyed_execute_retried_after_503_yields_one_execution(self) -> None:
        """The relay forwards the first execute, which the service accepts,
        and answers the client 503; the client sends it again with its key
        and gets the original execution back, the only one there is."""
        for use_abstraction, backend in ((True, "hatchet"), (False, "celery")):
            with self.subTest(backend=backend):
                org, key = unique("org_py_retry"), unique("retry")
                self.relay.fail(503, "backend_unavailable", UNAVAILABLE, forward=True, method="POST", path=EXECUTE)
                accepted = self.shim.execute("document-processing-v2", self.document(), organization_id=org,
                                             idempotency_key=key, use_abstraction=use_abstraction)
                first, again = self.relay.requests("POST", EXECUTE)[-2:]
                self.assertEqual((first.status, again.status), (202, 200))
                self.assertTrue(accepted.replayed)
                self.assertEqual(accepted.execution_id, first.answer["execution_id"])
                self.assertEqual(accepted.backend, backend)
                listed = list(self.client().executions(organization_id=org))
                self.assertEqual([e.execution_id for e in listed], [accepted.execution_id])
                self.assertEqual(listed[0].idempotency_key, key)

    def test_keyed_execute_retried_after_a_lost_connection(self) -> None:
        org = unique("org_py_retry")
        self.relay.fault(Fault(drop=True, forward=True, method="POST", path=EXECUTE))
        accepted = self.shim.execute("connector-validation", self.connector_check(), organization_id=org,
                                     idempotency_key=unique("retry"))
        self.assertTrue(accepted.replayed)
        self.assertEqual([e.execution_id for e in self.client().executions(organization_id=org)],
                         [accepted.execution_id])

    def test_keyless_execute_is_never_retried(self) -> None:
        """Without a key a 503 or a lost connection is raised at once. The
        lost connection shows why: the service had accepted the work, and a
        second attempt would have started it twice."""
        org = unique("org_py_keyless")
        self.relay.fail(503, "backend_unavailable", UNAVAILABLE, method="POST", path=EXECUTE)
        with self.assertRaises(hw.BackendUnavailable):
            self.shim.execute("connector-validation", self.connector_check(), organization_id=org)
        self.relay.fault(Fault(drop=True, forward=True, method="POST", path=EXECUTE))
        with self.assertRaises(hw.ShimConnectionError) as caught:
            self.shim.execute("connector-validation", self.connector_check(), organization_id=org)
        self.assertEqual(caught.exception.status, 0)
        self.assertEqual([s.status for s in self.relay.requests("POST", EXECUTE)], [None, 202])
        # A keyless Hatchet execution is listed once its run's id is
        # recorded, just after the answer.
        deadline = time.monotonic() + 10
        while not (listed := list(self.client().executions(organization_id=org))) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual([e.execution_id for e in listed], [self.relay.requests("POST", EXECUTE)[1].answer["execution_id"]])

    def test_cancel_is_not_retried(self) -> None:
        accepted = self.client().execute("connector-validation", self.connector_check(),
                                         organization_id=unique("org_py_cancel"))
        self.relay.fail(503, "backend_unavailable", UNAVAILABLE, path="/cancel$")
        with self.assertRaises(hw.BackendUnavailable):
            self.shim.cancel(accepted.execution_id)
        self.assertEqual(len(self.relay.requests("POST", "/cancel$")), 1)

    def test_reads_are_retried(self) -> None:
        """A GET is retried after 503s and a lost connection, up to
        retries times, then raises; paging retries a page mid-way."""
        accepted = self.client().execute("connector-validation", self.connector_check(),
                                         organization_id=unique("org_py_reads"))
        path = "/executions/" + accepted.execution_id
        self.relay.fail(503, "backend_unavailable", UNAVAILABLE, path=path, times=2)
        self.relay.fault(Fault(drop=True, path=path))
        self.assertEqual(self.shim.status(accepted.execution_id).execution_id, accepted.execution_id)
        self.assertEqual(len(self.relay.requests("GET", path)), 4)

        self.relay.fail(503, "backend_unavailable", UNAVAILABLE, path=path, times=10)
        with self.assertRaises(hw.BackendUnavailable):
            self.shim.status(accepted.execution_id)
        self.assertEqual(len(self.relay.requests("GET", path)), 4 + 4)

        org = unique("org_py_pages")
        for _ in range(3):
            self.client().execute(self.service.parked_workflow, self.execution(org), organization_id=org,
                                  use_abstraction=False)
        self.relay.fail(502, "", "bad gateway", path="cursor=")
        self.assertEqual(len(list(self.shim.executions(organization_id=org, limit=2))), 3)
        self.assertEqual(len(self.relay.requests("GET", "cursor=")), 2)

    def test_retry_after_is_honoured(self) -> None:
        self.relay.fail(503, "backend_unavailable", UNAVAILABLE, headers={"Retry-After": "1"}, path="^/api/v2/flags$")
        began = time.monotonic()
        self.shim.flags()
        self.assertGreaterEqual(time.monotonic() - began, 1.0)
        self.assertEqual(len(self.relay.requests("GET", "^/api/v2/flags$")), 2)

    def test_no_service(self) -> None:
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with self.assertRaises(hw.ShimConnectionError) as caught:
            hw.Client(f"http://127.0.0.1:{port}", "token", retries=1, backoff=0.01).workflows()
        self.assertIn("refused", caught.exception.message.lower())


if __name__ == "__main__":
    unittest.main()
