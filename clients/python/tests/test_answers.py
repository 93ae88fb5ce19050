"""Parsing answers and error bodies, without a service."""

from __future__ import annotations

import re
import tomllib
import unittest
from email.message import Message
from pathlib import Path

import hatchet_worker_client as hw
from hatchet_worker_client.errors import error_from

CLIENT = Path(__file__).resolve().parents[1]
HTTPERROR_GO = CLIENT.parents[1] / "shim" / "api" / "httperror.go"


class AnswerTest(unittest.TestCase):
    def test_reads_as_attributes_and_keys_and_keeps_unknown_fields(self) -> None:
        raw = {"execution_id": "e1", "workflow": "document-processing-v2", "organization_id": "org", "backend": "hatchet",
               "reason": "request", "status": "failed", "backend_status": "FAILED",
               "created_at": "2026-03-01T10:00:00.123456789Z", "error": {"type": "ValueError", "message": "boom"},
               "field_of_tomorrow": {"x": 1}}
        e = hw.Execution.parse(raw)
        self.assertEqual((e.execution_id, e.backend, e.status), ("e1", "hatchet", "failed"))
        self.assertEqual(e["backend"], "hatchet")
        self.assertEqual(e.get("field_of_tomorrow"), {"x": 1})
        self.assertIsNone(e.get("result"))
        self.assertEqual(dict(e), raw)
        self.assertIs(e.raw, raw)
        self.assertTrue(e.final)
        self.assertEqual(e.error.message if e.error else None, "boom")
        self.assertEqual(e.error["type"] if e.error else None, "ValueError")
        self.assertEqual(e.created_at.microsecond if e.created_at else None, 123456)

    def test_optional_fields_default(self) -> None:
        a = hw.Accepted.parse({"execution_id": "e", "backend": "celery", "status": "queued", "reason": "global"})
        self.assertFalse(a.replayed)
        self.assertFalse(a.override_ignored)
        e = hw.Execution.parse({"execution_id": "e", "workflow": "w", "backend": "celery", "status": "queued"})
        self.assertFalse(e.final)
        self.assertIsNone(e.created_at)

    def test_summary_nests_typed_answers(self) -> None:
        s = hw.Summary.parse({"window": "1h0m0s", "since": "2026-03-01T09:00:00Z", "new": True,
                              "workflows": [{"workflow": "w", "routes_to": {"backend": "celery"},
                                             "backends": [{"backend": "celery", "counts": {"succeeded": 2}, "total": 2,
                                                           "success_rate": 1.0, "p99_seconds": 3.0}]}],
                              "flags": {"task_queue_backend": "hatchet", "flags": {"source": "env"}}})
        stats = s.workflows[0].backends[0]
        self.assertEqual((stats.total, stats.success_rate, stats["p99_seconds"]), (2, 1.0, 3.0))
        self.assertEqual(s.flags.task_queue_backend, "hatchet")
        self.assertTrue(s["new"])


class ErrorTest(unittest.TestCase):
    def test_every_code_has_its_class(self) -> None:
        for code, cls in hw.CODES.items():
            with self.subTest(code=code):
                err = error_from(409, f'{{"error": {{"code": "{code}", "message": "m"}}}}'.encode())
                self.assertIs(type(err), cls)
                self.assertEqual((err.status, err.code, err.message), (409, code, "m"))

    def test_codes_are_the_services(self) -> None:
        """CODES names every code shim/api/httperror.go declares."""
        if not HTTPERROR_GO.exists():
            self.skipTest(f"{HTTPERROR_GO} is not here (the tests run outside the repository)")
        declared = set(re.findall(r'^\s*Code\w+\s*=\s*"(\w+)"', HTTPERROR_GO.read_text(), re.M))
        self.assertTrue(declared)
        self.assertEqual(set(hw.CODES), declared)

    def test_unknown_code_and_foreign_body_fall_back_to_the_base_class(self) -> None:
        err = error_from(418, b'{"error": {"code": "teapot", "message": "short and stout"}}')
        self.assertIs(type(err), hw.ShimError)
        self.assertEqual((err.status, err.code, err.message), (418, "teapot", "short and stout"))
        err = error_from(502, b"<html>Bad Gateway</html>")
        self.assertIs(type(err), hw.ShimError)
        self.assertEqual((err.status, err.code, err.body), (502, "", "<html>Bad Gateway</html>"))

    def test_retry_after(self) -> None:
        cases = {"3": 3.0, "Wed, 21 Oct 2015 07:28:00 GMT": 0.0, "soon": None}
        for value, want in cases.items():
            with self.subTest(value=value):
                headers = Message()
                headers["Retry-After"] = value
                self.assertEqual(error_from(503, b"{}", headers).retry_after, want)


class PackageTest(unittest.TestCase):
    def test_version_is_pyprojects(self) -> None:
        pyproject = CLIENT / "pyproject.toml"
        if not pyproject.exists():
            self.skipTest("pyproject.toml is not here")
        self.assertEqual(hw.__version__, tomllib.loads(pyproject.read_text())["project"]["version"])


if __name__ == "__main__":
    unittest.main()
