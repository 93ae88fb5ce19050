"""Client of the shim API (``/api/v2``) over urllib."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ._version import __version__
from .errors import ShimConnectionError, ShimError, UnexpectedResponse, WaitTimeout, error_from
from .models import Accepted, CancelRequested, Execution, Flags, Summary, Workflow

#: Statuses retried when the request is safe to repeat: the service's 503
#: (nothing was accepted) and a gateway's 502 and 504 in front of it.
RETRY_STATUSES = frozenset({502, 503, 504})


class Client:
    """The shim API of one service.

    Every method raises a ShimError subclass for an error answer (see
    errors.CODES) and ShimConnectionError when no answer came.

    Retries: a 502, 503 or 504 answer and a connection failure are retried
    up to ``retries`` times, waiting ``backoff`` seconds, then twice as long
    each time up to ``max_backoff`` (or as long as the answer's Retry-After
    asks, within the same cap), but only when repeating the request cannot
    do anything twice: reads (GET), and an execute that carries an
    idempotency key, which the service answers with the execution it
    already accepted (200, ``replayed``). An execute without a key is never
    retried: a connection lost after the service accepted it looks the same
    as one lost before, and a second attempt would start a second execution.
    A cancel is not retried either; call it again once the service is back.
    """

    def __init__(self, base_url: str, token: str, timeout: float = 30.0, retries: int = 4,
                 backoff: float = 0.5, max_backoff: float = 8.0) -> None:
        """base_url is the service (``http://hatchet-worker:8090``), token
        its SHIM_API_TOKEN; timeout bounds each HTTP attempt in seconds."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def execute(self, workflow: str, input: Mapping[str, Any], *, organization_id: str | None = None,
                idempotency_key: str | None = None, use_abstraction: bool | None = None) -> Accepted:
        """Start workflow with input on the backend the flags choose (or
        use_abstraction picks, where the service honours it). The answer
        comes once the work is durably accepted. With idempotency_key a
        repeated call returns the first execution (``replayed``), and a
        503 or lost connection is retried."""
        body: dict[str, Any] = {"workflow": workflow, "input": input}
        for name, value in (("organization_id", organization_id), ("idempotency_key", idempotency_key),
                            ("use_abstraction", use_abstraction)):
            if value is not None:
                body[name] = value
        return Accepted.parse(self.request("POST", "/api/v2/workflows/execute", body=body,
                                           retry=idempotency_key is not None))

    def status(self, execution_id: str) -> Execution:
        """The execution's status, backend, result or error, and times."""
        return Execution.parse(self.request("GET", _execution_path(execution_id), retry=True))

    def wait(self, execution_id: str, timeout: float = 600.0, poll: float = 1.0) -> Execution:
        """Read the status every poll seconds until the execution reaches a
        final state (succeeded, failed, cancelled, unknown) and return it;
        WaitTimeout after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status(execution_id)
            left = deadline - time.monotonic()
            if st.final:
                return st
            if left <= 0:
                raise WaitTimeout(execution_id, timeout, st)
            time.sleep(min(poll, left))

    def cancel(self, execution_id: str) -> CancelRequested:
        """Ask the execution's backend to cancel it: a Hatchet run is
        cancelled, a Celery task revoked (one already running finishes).
        NotCancellable when it already ended; InProgress when it was
        accepted a moment ago and its run is not recorded yet: call again."""
        return CancelRequested.parse(self.request("POST", _execution_path(execution_id) + "/cancel"))

    def executions(self, workflow: str | None = None, backend: str | None = None, status: str | None = None,
                   organization_id: str | None = None, since: str | datetime | timedelta | None = None,
                   limit: int | None = None) -> Iterator[Execution]:
        """The executions the filters select, newest first, without their
        results, following the list's pages (next_cursor) as it is iterated
        (the first page too is read only then).
        since is a time, an age (``timedelta`` or "24h", "7d"); limit is
        the page size (1–500; the service's default 50)."""
        query = {"workflow": workflow, "backend": backend, "status": status, "organization_id": organization_id,
                 "since": _since(since), "limit": limit}
        while True:
            page = self.request("GET", "/api/v2/workflows/executions", query=query, retry=True)
            yield from (Execution.parse(e) for e in page.get("executions") or [])
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    def summary(self, window: str | timedelta | None = None) -> Summary:
        """Both backends side by side for every workflow over window
        (default 24 h): volume, states, success rate, p50 and p95."""
        return Summary.parse(self.request("GET", "/api/v2/migration/summary",
                                          query={"window": _duration(window)}, retry=True))

    def workflows(self) -> list[Workflow]:
        """The workflows the service runs, each with where it routes now."""
        raw = self.request("GET", "/api/v2/workflows", retry=True)
        return [Workflow.parse(w) for w in raw.get("workflows") or []]

    def flags(self) -> Flags:
        """The effective feature flags, their source and last reload error."""
        return Flags.parse(self.request("GET", "/api/v2/flags", retry=True))

    def request(self, method: str, path: str, *, query: Mapping[str, Any] | None = None, body: Any = None,
                data: bytes | None = None, retry: bool = False) -> Any:
        """One API call, the methods above are built on: body is sent as
        JSON, data as it is (either, not both). Returns the decoded answer
        of a 2xx; retry says the call is safe to repeat (see the class)."""
        if body is not None:
            if data is not None:
                raise ValueError("request takes body or data, not both")
            data = json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
        params = {k: v for k, v in (query or {}).items() if v is not None}
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        attempt = 0
        while True:
            try:
                return self._once(method, url, data)
            except ShimError as exc:
                delay = self._delay(exc, attempt) if retry else None
                if delay is None:
                    raise
            time.sleep(delay)
            attempt += 1

    def _delay(self, exc: ShimError, attempt: int) -> float | None:
        """How long to wait before retrying after exc, or None to give up."""
        retriable = isinstance(exc, ShimConnectionError) or exc.status in RETRY_STATUSES
        if not retriable or attempt >= self.retries:
            return None
        wait = exc.retry_after if exc.retry_after is not None else self.backoff * 2 ** attempt
        return min(wait, self.max_backoff)

    def _once(self, method: str, url: str, data: bytes | None) -> Any:
        """One HTTP attempt: the decoded 2xx answer, else the ShimError."""
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                   "User-Agent": f"hatchet-worker-client/{__version__}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            with exc:
                try:
                    raw = exc.read()
                except (OSError, http.client.HTTPException) as read_exc:
                    raise ShimConnectionError(f"{method} {url}: {exc.code} answer lost: {read_exc}") from read_exc
            raise error_from(exc.code, raw, exc.headers) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            raise ShimConnectionError(f"{method} {url}: {reason!r}") from exc
        try:
            return json.loads(raw)
        except ValueError:
            raise UnexpectedResponse(status, UnexpectedResponse.error_code,
                                     f"{method} {url}: answer is not JSON", raw.decode("utf-8", "replace")) from None


def _execution_path(execution_id: str) -> str:
    """The path of one execution, its id escaped."""
    return "/api/v2/workflows/executions/" + urllib.parse.quote(execution_id, safe="")


def _duration(value: str | timedelta | None) -> str | None:
    """A window or age as the API reads it ("90m", "7d")."""
    if isinstance(value, timedelta):
        return f"{value // timedelta(milliseconds=1)}ms"
    return value


def _since(value: str | datetime | timedelta | None) -> str | None:
    """since as the API reads it: RFC 3339 for a time (a naive one is
    local time), else an age."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return _duration(value)
