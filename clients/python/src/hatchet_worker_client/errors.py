"""The client's exceptions: one per error code of the shim API, and the
failures of the transport and of waiting."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar


class ShimError(Exception):
    """An error answer of the shim: ``{"error": {"code", "message"}}`` with a
    4xx/5xx status. Subclasses name the codes; an answer whose code this
    client does not know is a ShimError itself, with the answer's status."""

    #: The "code" this class stands for (empty on the base class).
    error_code: ClassVar[str] = ""

    def __init__(self, status: int, code: str, message: str, body: Any = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code or 'error'}: {message}")
        self.status = status
        self.code = code
        self.message = message
        #: The decoded body (a dict for a JSON answer, else its text).
        self.body = body
        #: Seconds the answer's Retry-After header asks to wait, if any.
        self.retry_after = retry_after


class BadJSON(ShimError):
    """400: the body is not JSON, has an unknown field or trails data."""
    error_code = "bad_json"


class InvalidRequest(ShimError):
    """422: a missing or unusable field (or query parameter)."""
    error_code = "invalid_request"


class UnknownWorkflow(ShimError):
    """404: no workflow of that name; Client.workflows lists them."""
    error_code = "unknown_workflow"


class NotFound(ShimError):
    """404: no such execution (or endpoint)."""
    error_code = "not_found"


class BodyTooLarge(ShimError):
    """413: the body exceeds the service's SHIM_MAX_BODY_BYTES."""
    error_code = "body_too_large"


class Unauthorized(ShimError):
    """401: the bearer token is missing or wrong."""
    error_code = "unauthorized"


class MethodNotAllowed(ShimError):
    """405: the path takes another method."""
    error_code = "method_not_allowed"


class BackendUnavailable(ShimError):
    """503: the chosen backend or the shim's database is down; nothing was
    accepted, so the request may be sent again with the same idempotency
    key."""
    error_code = "backend_unavailable"


class NotCancellable(ShimError):
    """409: the execution already ended, or its backend cannot cancel it."""
    error_code = "not_cancellable"


class InProgress(ShimError):
    """409: another request with the same idempotency key is still being
    submitted; retry shortly to get its execution."""
    error_code = "in_progress"


class InternalError(ShimError):
    """500: the service failed in a way it does not describe."""
    error_code = "internal"


class UnexpectedResponse(ShimError):
    """A 2xx answer that is not the JSON this client expects."""
    error_code = "unexpected_response"


class ShimConnectionError(ShimError):
    """No answer: the connection was refused, dropped or timed out. Its
    status is 0; whether the service acted on the request is unknown."""
    error_code = "connection_error"

    def __init__(self, message: str) -> None:
        super().__init__(0, self.error_code, message)


class WaitTimeout(TimeoutError):
    """Client.wait gave up before the execution reached a final state."""

    def __init__(self, execution_id: str, timeout: float, last: Any) -> None:
        state = getattr(last, "status", None)
        super().__init__(f"execution {execution_id} still {state} after {timeout:g} s")
        self.execution_id = execution_id
        #: The last status read (an Execution).
        self.last = last


#: The class of each error code the service answers.
CODES: dict[str, type[ShimError]] = {cls.error_code: cls for cls in (
    BadJSON, InvalidRequest, UnknownWorkflow, NotFound, BodyTooLarge, Unauthorized,
    MethodNotAllowed, BackendUnavailable, NotCancellable, InProgress, InternalError)}


def error_from(status: int, raw: bytes, headers: Message | None = None) -> ShimError:
    """The exception of an error answer: its code's class, or ShimError for
    an unknown code or a body that is not the service's error JSON (a proxy's
    page, say)."""
    text = raw.decode("utf-8", "replace")
    body: Any = text
    code, message = "", text.strip()[:200] or f"HTTP {status}"
    try:
        body = json.loads(text)
        err = body["error"]
        code, message = str(err["code"]), str(err["message"])
    except (ValueError, KeyError, TypeError):
        pass
    cls = CODES.get(code, ShimError)
    return cls(status, code, message, body, _retry_after(headers))


def _retry_after(headers: Message | None) -> float | None:
    """The Retry-After header in seconds (given as seconds or an HTTP date)."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:  # "-0000": UTC, by RFC 5322
        at = at.replace(tzinfo=timezone.utc)
    return max(0.0, (at - datetime.now(timezone.utc)).total_seconds())
