"""ExecutionManager: the shim's workflows for the platform's Django code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .client import Client
from .models import Accepted, CancelRequested, Execution


def setting(name: str) -> str:
    """The setting name from Django's settings when Django is importable and
    configured and they define it, else from the environment."""
    try:
        from django.conf import settings  # type: ignore[import-not-found]
    except ImportError:
        settings = None
    if settings is not None and settings.configured and getattr(settings, name, None):
        return str(getattr(settings, name))
    value = os.environ.get(name)
    if not value:
        raise ValueError(f"{name} is not set (neither in Django's settings nor in the environment)")
    return value


class ExecutionManager:
    """Starts, follows and cancels the platform's work through the shim,
    one method per workflow the service registers; the flags decide whether
    each request runs on Hatchet or on the legacy Celery task.

    Without a client it connects to SHIM_URL with SHIM_API_TOKEN, read as
    ``setting`` reads them. Pass idempotency_key (an upload's, an
    execution's own id) wherever a request may be sent twice: the service
    then starts the work once, and the client may retry it safely.
    """

    def __init__(self, client: Client | None = None) -> None:
        self.client = client or Client(setting("SHIM_URL"), setting("SHIM_API_TOKEN"))

    def execute_document_processing(self, input_data: Mapping[str, Any], *, organization_id: str,
                                    idempotency_key: str | None = None) -> Accepted:
        """document-processing-v2: extract a document's text, chunk it and
        run its prompts (``{document_path, outputs, llm_adapter_id, …}``)."""
        return self._execute("document-processing-v2", input_data, organization_id, idempotency_key)

    def execute_workflow_execution(self, input_data: Mapping[str, Any], *, organization_id: str,
                                   idempotency_key: str | None = None) -> Accepted:
        """workflow-execution: the platform's async_execute_bin, one
        execution over many files (``{schema_name, workflow_id,
        execution_id, hash_values_of_files, …}``)."""
        return self._execute("workflow-execution", input_data, organization_id, idempotency_key)

    def execute_api_deployment_execution(self, input_data: Mapping[str, Any], *, organization_id: str,
                                         idempotency_key: str | None = None) -> Accepted:
        """api-deployment-execution: an API deployment's execution, with
        workflow-execution's input."""
        return self._execute("api-deployment-execution", input_data, organization_id, idempotency_key)

    def execute_user_onboarding(self, input_data: Mapping[str, Any], *, organization_id: str,
                                idempotency_key: str | None = None) -> Accepted:
        """user-onboarding: provision an organisation and its user
        (``{organization_id, organization_name, user_email, …}``)."""
        return self._execute("user-onboarding", input_data, organization_id, idempotency_key)

    def execute_connector_validation(self, input_data: Mapping[str, Any], *, organization_id: str,
                                     idempotency_key: str | None = None) -> Accepted:
        """connector-validation: check a connector's settings by connecting
        (``{settings: {type, …}}``)."""
        return self._execute("connector-validation", input_data, organization_id, idempotency_key)

    def get_status(self, execution_id: str) -> Execution:
        """The execution's status, result or error."""
        return self.client.status(execution_id)

    def wait_for(self, execution_id: str, timeout: float = 600.0, poll: float = 1.0) -> Execution:
        """The execution once it ended; WaitTimeout after timeout seconds."""
        return self.client.wait(execution_id, timeout=timeout, poll=poll)

    def cancel(self, execution_id: str) -> CancelRequested:
        """Ask the execution's backend to cancel it."""
        return self.client.cancel(execution_id)

    def _execute(self, workflow: str, input_data: Mapping[str, Any], organization_id: str,
                 idempotency_key: str | None) -> Accepted:
        return self.client.execute(workflow, input_data, organization_id=organization_id,
                                   idempotency_key=idempotency_key)
