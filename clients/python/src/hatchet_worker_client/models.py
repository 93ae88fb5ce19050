"""The shim's answers as dataclasses that also read as the JSON objects
they came from: ``status.backend`` and ``status["backend"]`` alike. Fields
this client does not know yet are kept in ``raw`` (and so readable by key),
never an error."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

#: The states an execution ends in; ``unknown`` is an accepted execution its
#: backend can no longer show (its error says why and what to do).
FINAL_STATES = frozenset({"succeeded", "failed", "cancelled", "unknown"})


@dataclass(kw_only=True, eq=False)
class Answer(Mapping[str, Any]):
    """A JSON object of the API: typed attributes, and as a mapping the
    object itself (``raw``), unknown fields included."""

    raw: dict[str, Any] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def _time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp of the API as an aware datetime."""
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


@dataclass(kw_only=True, eq=False)
class Accepted(Answer):
    """POST /api/v2/workflows/execute: 202 for a new execution, 200 with
    ``replayed`` for the one an idempotency key already started."""

    execution_id: str
    backend: str
    status: str
    reason: str
    replayed: bool = False
    override_ignored: bool = False

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, execution_id=raw["execution_id"], backend=raw["backend"], status=raw["status"],
                   reason=raw.get("reason", ""), replayed=bool(raw.get("replayed")),
                   override_ignored=bool(raw.get("override_ignored")))


@dataclass(kw_only=True, eq=False)
class Failure(Answer):
    """Why an execution failed, or why it is unknown (``type``)."""

    message: str
    type: str | None = None
    traceback: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, message=raw.get("message", ""), type=raw.get("type"), traceback=raw.get("traceback"))


@dataclass(kw_only=True, eq=False)
class Execution(Answer):
    """An execution: GET /api/v2/workflows/executions/{id} (with its result)
    or an entry of the executions list (with its idempotency key and
    duration, without its result)."""

    execution_id: str
    workflow: str
    organization_id: str
    backend: str
    reason: str
    status: str
    backend_status: str | None = None
    ingress: str | None = None
    idempotency_key: str | None = None
    backend_ref: str | None = None
    dashboard_url: str | None = None
    result: Any = None
    error: Failure | None = None
    #: What the runs a Hatchet execution spawned did: total, done, succeeded…
    progress: dict[str, int] | None = None
    platform_reported: bool | None = None
    platform_error: dict[str, Any] | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None

    @property
    def final(self) -> bool:
        """Whether the execution has ended (see FINAL_STATES)."""
        return self.status in FINAL_STATES

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        error = raw.get("error")
        return cls(raw=raw, execution_id=raw["execution_id"], workflow=raw["workflow"],
                   organization_id=raw.get("organization_id", ""), backend=raw["backend"],
                   reason=raw.get("reason", ""), status=raw["status"], backend_status=raw.get("backend_status"),
                   ingress=raw.get("ingress"), idempotency_key=raw.get("idempotency_key"),
                   backend_ref=raw.get("backend_ref"), dashboard_url=raw.get("dashboard_url"),
                   result=raw.get("result"), error=Failure.parse(error) if isinstance(error, dict) else None,
                   progress=raw.get("progress"), platform_reported=raw.get("platform_reported"),
                   platform_error=raw.get("platform_error"), created_at=_time(raw.get("created_at")),
                   started_at=_time(raw.get("started_at")), finished_at=_time(raw.get("finished_at")),
                   duration_seconds=raw.get("duration_seconds"))


@dataclass(kw_only=True, eq=False)
class CancelRequested(Answer):
    """POST /api/v2/workflows/executions/{id}/cancel: the backend was asked
    to cancel (``status`` is "cancelling"); Client.wait shows how it ended."""

    execution_id: str
    backend: str
    status: str

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, execution_id=raw["execution_id"], backend=raw["backend"], status=raw["status"])


@dataclass(kw_only=True, eq=False)
class Workflow(Answer):
    """An entry of GET /api/v2/workflows: the name to execute, its Hatchet
    workflow, its legacy Celery task (``{"task", "queue"}``, absent for a
    workflow that runs on Hatchet only) and where it routes now."""

    workflow: str
    hatchet_workflow: str
    legacy: dict[str, Any] | None = None
    routes_to: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, workflow=raw["workflow"], hatchet_workflow=raw.get("hatchet_workflow", ""),
                   legacy=raw.get("legacy"), routes_to=raw.get("routes_to") or {})


@dataclass(kw_only=True, eq=False)
class Flags(Answer):
    """GET /api/v2/flags: the backend TASK_QUEUE_BACKEND pins (if any) and
    the flags in force (``source``, ``loaded_at``, ``rules``, ``last_error``)."""

    task_queue_backend: str | None = None
    flags: dict[str, Any] | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, task_queue_backend=raw.get("task_queue_backend"), flags=raw.get("flags"))


@dataclass(kw_only=True, eq=False)
class BackendStats(Answer):
    """One workflow's executions on one backend over the summary's window."""

    backend: str
    counts: dict[str, int]
    total: int
    success_rate: float | None = None
    p50_seconds: float | None = None
    p95_seconds: float | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, backend=raw["backend"], counts=raw.get("counts") or {}, total=raw.get("total", 0),
                   success_rate=raw.get("success_rate"), p50_seconds=raw.get("p50_seconds"),
                   p95_seconds=raw.get("p95_seconds"))


@dataclass(kw_only=True, eq=False)
class WorkflowSummary(Answer):
    """One workflow of the migration summary: where it routes now and its
    executions on each backend."""

    workflow: str
    routes_to: dict[str, Any]
    backends: list[BackendStats]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, workflow=raw["workflow"], routes_to=raw.get("routes_to") or {},
                   backends=[BackendStats.parse(b) for b in raw.get("backends") or []])


@dataclass(kw_only=True, eq=False)
class Summary(Answer):
    """GET /api/v2/migration/summary: every workflow on both backends over a
    window, and the flags in force."""

    window: str
    since: datetime | None
    workflows: list[WorkflowSummary]
    flags: Flags

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> Self:
        return cls(raw=raw, window=raw.get("window", ""), since=_time(raw.get("since")),
                   workflows=[WorkflowSummary.parse(w) for w in raw.get("workflows") or []],
                   flags=Flags.parse(raw.get("flags") or {}))
