"""Each error code of the shim API raises its exception.

Every code but one comes from the real service, as a caller would meet it:
a wrong token, an unknown workflow, a missing field, a malformed body (sent
raw through Client.request), a body over the service's limit, a wrong
method, an unknown execution, cancelling an ended execution, concurrent
requests with one idempotency key, and a workflow sent to a Celery queue the
broker lacks (backend_unavailable). ``internal`` comes from the fault relay
(tests/relay.py): the service answers 500 only for a failure it has no name
for, which no request can cause on purpose.
"""

from __future__ import annotations

import threading
import unittest
import uuid
from typing import Any

import hatchet_worker_client as hw
from relay import EXECUTE, FaultRelay
from service import ServiceTest, unique


class ErrorCodeTest(ServiceTest):
    def assertCode(self, cls: type[hw.ShimError], status: int, err: hw.ShimError) -> None:
        self.assertIs(type(err), cls)
        self.assertEqual((err.status, err.code), (status, cls.error_code))
        self.assertTrue(err.message)
        self.assertEqual(err.body["error"]["code"], cls.error_code)

    def test_unauthorized(self) -> None:
        with self.assertRaises(hw.Unauthorized) as caught:
            hw.Client(self.service.url, "not-the-token").workflows()
        self.assertCode(hw.Unauthorized, 401, caught.exception)

    def test_unknown_workflow(self) -> None:
        with self.assertRaises(hw.UnknownWorkflow) as caught:
            self.client().execute("no-such-workflow", {"x": 1}, organization_id=unique("org_py_err"))
        self.assertCode(hw.UnknownWorkflow, 404, caught.exception)

    def test_invalid_request(self) -> None:
        shim = self.client()
        with self.assertRaises(hw.InvalidRequest) as caught:  # organization_id missing
            shim.execute("document-processing-v2", self.document())
        self.assertCode(hw.InvalidRequest, 422, caught.exception)
        self.assertIn("organization_id", caught.exception.message)
        with self.assertRaises(hw.InvalidRequest):  # a page size out of range
            next(shim.executions(limit=0))

    def test_bad_json(self) -> None:
        shim = self.client()
        for name, kwargs in (("malformed", {"data": b'{"workflow": "document-processing-v2",'}),
                             ("unknown field", {"body": {"workflow": "document-processing-v2", "inputs": {}}})):
            with self.subTest(name), self.assertRaises(hw.BadJSON) as caught:
                shim.request("POST", "/api/v2/workflows/execute", **kwargs)
            self.assertCode(hw.BadJSON, 400, caught.exception)

    def test_body_too_large(self) -> None:
        blob = "x" * (self.service.max_body + 1024)
        with self.assertRaises(hw.BodyTooLarge) as caught:
            self.client().execute("document-processing-v2", {"blob": blob}, organization_id=unique("org_py_err"))
        self.assertCode(hw.BodyTooLarge, 413, caught.exception)

    def test_method_not_allowed(self) -> None:
        with self.assertRaises(hw.MethodNotAllowed) as caught:
            self.client().request("DELETE", "/api/v2/workflows/execute")
        self.assertCode(hw.MethodNotAllowed, 405, caught.exception)

    def test_not_found(self) -> None:
        shim = self.client()
        for what in (str(uuid.uuid4()), "not-an-id", "a/b"):
            with self.subTest(what), self.assertRaises(hw.NotFound) as caught:
                shim.status(what)
            self.assertCode(hw.NotFound, 404, caught.exception)
        with self.assertRaises(hw.NotFound):
            shim.request("GET", "/api/v2/no-such-endpoint")

    def test_not_cancellable(self) -> None:
        shim = self.client()
        accepted = shim.execute("connector-validation", self.connector_check(), organization_id=unique("org_py_err"))
        self.assertEqual(shim.wait(accepted.execution_id, timeout=120, poll=0.3).status, "succeeded")
        with self.assertRaises(hw.NotCancellable) as caught:
            shim.cancel(accepted.execution_id)
        self.assertCode(hw.NotCancellable, 409, caught.exception)

    def test_in_progress(self) -> None:
        """Requests with one key sent at once: the first claims the key and
        submits, the others meet its claim (409 in_progress) or, once it
        was accepted, replay it. A burst of eight to Hatchet, whose run takes
        longer to create than the claim, shows a 409 in the first burst or
        within a few."""
        shim = self.client()
        for _ in range(20):
            org, key = unique("org_py_burst"), unique("burst")
            outcomes = self._burst(8, lambda: shim.execute("connector-validation", self.connector_check(),
                                                           organization_id=org, idempotency_key=key))
            conflicts = [o for o in outcomes if isinstance(o, hw.InProgress)]
            accepted = [o for o in outcomes if isinstance(o, hw.Accepted)]
            self.assertEqual(len(conflicts) + len(accepted), len(outcomes), outcomes)
            self.assertEqual(len({a.execution_id for a in accepted}), 1, accepted)
            self.assertEqual(len(list(shim.executions(organization_id=org))), 1)
            if conflicts:
                self.assertCode(hw.InProgress, 409, conflicts[0])
                self.assertEqual(shim.execute("connector-validation", self.connector_check(), organization_id=org,
                                              idempotency_key=key).execution_id, accepted[0].execution_id)
                return
        self.fail("no request met another's claim in 20 bursts")

    def test_backend_unavailable(self) -> None:
        """Sent to Celery, a workflow whose queue the broker lacks is
        refused 503: nothing was accepted. With a key the client retries
        it (retries + 1 attempts, counted through the relay, which forwards
        them untouched), then raises."""
        org, key = unique("org_py_err"), unique("unrouted")
        with FaultRelay(self.service.url) as relay:
            shim = hw.Client(relay.url, self.service.token, retries=2, backoff=0.01)
            with self.assertRaises(hw.BackendUnavailable) as caught:
                shim.execute(self.service.unrouted_workflow, self.execution(org), organization_id=org,
                             idempotency_key=key, use_abstraction=False)
            self.assertCode(hw.BackendUnavailable, 503, caught.exception)
            self.assertEqual([s.status for s in relay.requests("POST", EXECUTE)], [503, 503, 503])
        self.assertEqual(list(self.client().executions(organization_id=org)), [])

    def test_internal_from_the_relay(self) -> None:
        """internal: the relay answers the service's 500 body; a 500 is not
        retried."""
        accepted = self.client().execute("connector-validation", self.connector_check(),
                                         organization_id=unique("org_py_err"))
        with FaultRelay(self.service.url) as relay:
            relay.fail(500, "internal", "internal error")
            with self.assertRaises(hw.InternalError) as caught:
                hw.Client(relay.url, self.service.token, backoff=0.01).status(accepted.execution_id)
            self.assertCode(hw.InternalError, 500, caught.exception)
            self.assertEqual(len(relay.requests("GET")), 1)

    @staticmethod
    def _burst(n: int, call: Any) -> list[Any]:
        """call made by n threads at once: each one's answer or exception."""
        start, out = threading.Barrier(n), [None] * n

        def one(i: int) -> None:
            start.wait()
            try:
                out[i] = call()
            except hw.ShimError as exc:
                out[i] = exc

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out


if __name__ == "__main__":
    unittest.main()
