"""Client of the hatchet-worker shim API, standard library only.

    from hatchet_worker_client import Client

    shim = Client("http://hatchet-worker:8090", token)
    accepted = shim.execute("document-processing-v2", {...}, organization_id="org_acme",
                            idempotency_key="upload-4711")
    done = shim.wait(accepted.execution_id)   # done.status, done.result, done["backend"]

ExecutionManager wraps it for the platform's Django code.
"""

from ._version import __version__
from .client import RETRY_STATUSES, Client
from .errors import (
    CODES,
    BackendUnavailable,
    BadJSON,
    BodyTooLarge,
    InProgress,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotCancellable,
    NotFound,
    ShimConnectionError,
    ShimError,
    Unauthorized,
    UnexpectedResponse,
    UnknownWorkflow,
    WaitTimeout,
)
from .manager import ExecutionManager, setting
from .models import (
    FINAL_STATES,
    Accepted,
    Answer,
    BackendStats,
    CancelRequested,
    Execution,
    Failure,
    Flags,
    Summary,
    Workflow,
    WorkflowSummary,
)

__all__ = [
    "CODES", "FINAL_STATES", "RETRY_STATUSES", "Accepted", "Answer", "BackendStats", "BackendUnavailable", "BadJSON",
    "BodyTooLarge", "CancelRequested", "Client", "Execution", "ExecutionManager", "Failure", "Flags", "InProgress",
    "InternalError", "InvalidRequest", "MethodNotAllowed", "NotCancellable", "NotFound", "ShimConnectionError",
    "ShimError", "Summary", "Unauthorized", "UnexpectedResponse", "UnknownWorkflow", "WaitTimeout", "Workflow",
    "WorkflowSummary", "__version__", "setting",
]
