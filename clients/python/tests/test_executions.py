"""Executions on the real service: on both backends, cancelled, listed."""

from __future__ import annotations

import unittest
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import hatchet_worker_client as hw
from service import ServiceTest, unique


class ExecuteTest(ServiceTest):
    def test_execute_then_wait_on_both_backends(self) -> None:
        """use_abstraction picks the backend (the service honours request
        overrides); the document succeeds on each, and its key replays."""
        shim = self.client()
        for use_abstraction, backend in ((True, "hatchet"), (False, "celery")):
            with self.subTest(backend=backend):
                org, key = unique("org_py_both"), unique("doc")
                accepted = shim.execute("document-processing-v2", self.document(), organization_id=org,
                                        idempotency_key=key, use_abstraction=use_abstraction)
                self.assertEqual((accepted.backend, accepted.reason, accepted.status), (backend, "request", "queued"))
                self.assertFalse(accepted.replayed)
                done = shim.wait(accepted.execution_id, timeout=180, poll=0.5)
                self.assertEqual((done.status, done.backend, done.workflow, done.organization_id),
                                 ("succeeded", backend, "document-processing-v2", org), done.raw)
                if backend == "hatchet":
                    self.assertIn("total", done.result["processed_results"])
                else:  # the legacy file batch's counts
                    self.assertEqual(done.result["successful_files"], 1, done.raw)
                # The read that first sees a Celery (rpc://) end may lack
                # finished_at; the next one has the time tracking recorded.
                self.assertIsNotNone(shim.status(accepted.execution_id).finished_at)
                again = shim.execute("document-processing-v2", self.document(), organization_id=org,
                                     idempotency_key=key, use_abstraction=use_abstraction)
                self.assertTrue(again.replayed)
                self.assertEqual(again.execution_id, accepted.execution_id)

    def test_cancel(self) -> None:
        """A connector check waiting on a server that never answers is
        cancelled once running; once ended it cannot be cancelled again.
        (A one-task workflow: a cancel of a document's DAG that meets a step
        ending can be lost, the next step starting regardless.)"""
        shim = self.client()
        accepted = shim.execute("connector-validation", self.hanging_check(), organization_id=unique("org_py_cancel"))
        self.assertEqual(accepted.backend, "hatchet")
        self.await_running(shim.status, accepted.execution_id)
        cancelling = shim.cancel(accepted.execution_id)
        self.assertEqual((cancelling.execution_id, cancelling.backend, cancelling.status),
                         (accepted.execution_id, "hatchet", "cancelling"))
        done = shim.wait(accepted.execution_id, timeout=120, poll=0.5)
        self.assertEqual(done.status, "cancelled", done.raw)
        with self.assertRaises(hw.NotCancellable):
            shim.cancel(accepted.execution_id)

    def test_wait_times_out(self) -> None:
        shim = self.client()
        accepted = shim.execute("connector-validation", self.hanging_check(), organization_id=unique("org_py_wait"))
        with self.assertRaises(hw.WaitTimeout) as caught:
            shim.wait(accepted.execution_id, timeout=1, poll=0.2)
        self.assertEqual(caught.exception.execution_id, accepted.execution_id)
        self.assertFalse(caught.exception.last.final)
        self.await_running(shim.status, accepted.execution_id)
        shim.cancel(accepted.execution_id)


class ListTest(ServiceTest):
    def test_pages_through_250_executions(self) -> None:
        """250 executions of one organisation, listed 7 to a page: each
        seen exactly once, newest first. They wait on a Celery queue no
        worker takes, so listing them makes no work."""
        shim, org = self.client(), unique("org_py_pages")
        workflow = self.service.parked_workflow
        with ThreadPoolExecutor(8) as pool:
            accepted = list(pool.map(lambda i: shim.execute(workflow, self.execution(org), organization_id=org,
                                                            use_abstraction=False), range(250)))
        created = {a.execution_id for a in accepted}
        self.assertEqual(len(created), 250)
        seen = [e.execution_id for e in shim.executions(organization_id=org, limit=7)]
        self.assertEqual(len(seen), 250)
        self.assertEqual(set(seen), created)
        listed = list(shim.executions(organization_id=org, workflow=workflow, backend="celery", status="queued",
                                      since=timedelta(hours=1), limit=500))
        self.assertEqual([e.execution_id for e in listed], seen)
        stamps = [e.created_at for e in listed]
        self.assertEqual(stamps, sorted(stamps, reverse=True))
        self.assertEqual({(e.organization_id, e.ingress) for e in listed}, {(org, "api")})

    def test_workflows_flags_and_summary(self) -> None:
        shim = self.client()
        names = {w.workflow for w in shim.workflows()}
        self.assertLessEqual({"document-processing-v2", "workflow-execution", "connector-validation"}, names)
        flags = shim.flags()
        self.assertIn(self.service.celery_org, flags.flags["rules"]["deny_orgs"] if flags.flags else [])
        summary = shim.summary(window=timedelta(hours=1))
        self.assertEqual(summary.window, "1h0m0s")
        self.assertEqual({w.workflow for w in summary.workflows}, names)
        self.assertEqual(summary.flags.flags["rules"] if summary.flags.flags else None,
                         flags.flags["rules"] if flags.flags else None)


if __name__ == "__main__":
    unittest.main()
