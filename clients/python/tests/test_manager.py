"""ExecutionManager against the real service, configured as the platform's
Django code configures it."""

from __future__ import annotations

import sys
import types
import unittest
from unittest import mock

import hatchet_worker_client as hw
from service import ServiceTest, unique


class ManagerTest(ServiceTest):
    def setUp(self) -> None:
        env = {"SHIM_URL": self.service.url, "SHIM_API_TOKEN": self.service.token}
        patcher = mock.patch.dict("os.environ", env)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_a_method_per_workflow(self) -> None:
        """Every workflow the service registers has its execute_ method
        (document-processing-v2's without its version)."""
        manager = hw.ExecutionManager()
        for w in manager.client.workflows():
            name = "execute_" + w.workflow.removesuffix("-v2").replace("-", "_")
            with self.subTest(workflow=w.workflow):
                self.assertTrue(callable(getattr(manager, name, None)), f"ExecutionManager has no {name}")

    def test_documents_on_both_backends(self) -> None:
        """The flags decide: the Celery organisation's document runs on
        Celery, another's on Hatchet; both succeed."""
        manager = hw.ExecutionManager()
        for org, backend in ((self.service.celery_org, "celery"), (unique("org_py_manager"), "hatchet")):
            with self.subTest(backend=backend):
                accepted = manager.execute_document_processing(self.document(), organization_id=org,
                                                               idempotency_key=unique("upload"))
                self.assertEqual(accepted.backend, backend)
                self.assertEqual(manager.get_status(accepted.execution_id).organization_id, org)
                done = manager.wait_for(accepted.execution_id, timeout=180, poll=0.5)
                self.assertEqual(done.status, "succeeded", done.raw)

    def test_connector_validation_and_cancel(self) -> None:
        manager = hw.ExecutionManager()
        org = unique("org_py_manager")
        checked = manager.execute_connector_validation(self.connector_check(), organization_id=org)
        done = manager.wait_for(checked.execution_id, timeout=120, poll=0.3)
        self.assertEqual((done.status, done.result["ok"]), ("succeeded", True), done.raw)
        hanging = manager.execute_connector_validation(self.hanging_check(), organization_id=org,
                                                    idempotency_key=unique("hang"))
        self.await_running(manager.get_status, hanging.execution_id)
        self.assertEqual(manager.cancel(hanging.execution_id).status, "cancelling")
        self.assertEqual(manager.wait_for(hanging.execution_id, timeout=120, poll=0.5).status, "cancelled")

    def test_django_settings_come_first(self) -> None:
        """With Django configured its settings name the service, whatever
        the environment says; unconfigured, the environment does."""
        settings = types.SimpleNamespace(configured=True, SHIM_URL=self.service.url,
                                         SHIM_API_TOKEN=self.service.token)
        django = types.ModuleType("django")
        conf = types.ModuleType("django.conf")
        conf.settings = settings  # type: ignore[attr-defined]
        django.conf = conf  # type: ignore[attr-defined]
        with mock.patch.dict(sys.modules, {"django": django, "django.conf": conf}), \
                mock.patch.dict("os.environ", {"SHIM_URL": "http://127.0.0.1:9", "SHIM_API_TOKEN": "wrong"}):
            manager = hw.ExecutionManager()
            self.assertEqual((manager.client.base_url, manager.client.token), (self.service.url, self.service.token))
            self.assertTrue(manager.client.workflows())
            settings.configured = False
            manager = hw.ExecutionManager()
            self.assertEqual((manager.client.base_url, manager.client.token), ("http://127.0.0.1:9", "wrong"))
        with mock.patch.dict("os.environ", {"SHIM_URL": ""}), self.assertRaises(ValueError):
            hw.ExecutionManager()

if __name__ == "__main__":
    unittest.main()
