"""Capture task messages as Python Celery's send_task publishes them, for the
decoder's tests and its fuzz seeds (python_messages.json).

Usage: /usr/bin/python3 capture_messages.py > python_messages.json
Uses kombu's in-memory transport: no broker is needed.
"""
import json, sys, base64
from celery import Celery
app = Celery("cap", broker="memory://", backend="rpc://")
app.conf.task_serializer = "json"
from datetime import datetime, timedelta, timezone
cases = [
  ("workflow_manager.workflow_v2.execution.async_execute_bin", ["org_1", "wf-1", "ex-1", {"hash-a": {"file_name": "a.txt", "file_path": "/d/a.txt"}}], {"scheduled": False, "use_file_history": True}, {}),
  ("echo", [1, 2.5, "x", None, True, [1, {"k": "v"}], 12345678901234567890], {}, {}),
  ("echo", [], {"unicode": "żółw ✓", "nested": {"a": [1, 2]}}, {"countdown": 30}),
  ("echo", ["later"], {}, {"eta": datetime(2026, 12, 2, 15, 0, 0, tzinfo=timezone.utc), "expires": datetime(2026, 12, 3, 15, 0, 0, tzinfo=timezone.utc)}),
]
out = []
with app.connection_for_write() as conn:
    for task, args, kwargs, opts in cases:
        app.send_task(task, args=args, kwargs=kwargs, queue="cap", connection=conn, **opts)
    ch = conn.default_channel
    while True:
        m = ch.basic_get("cap")
        if m is None:
            break
        out.append({"headers": {k: (v if not isinstance(v, bytes) else v.decode()) for k, v in m.headers.items()},
                    "content_type": m.content_type, "content_encoding": m.content_encoding,
                    "body": base64.b64encode(m.body if isinstance(m.body, bytes) else m.body.encode()).decode(),
                    "properties": {k: v for k, v in m.properties.items() if k in ("correlation_id", "reply_to", "priority", "delivery_mode")}})
print(json.dumps(out, indent=1, default=str))
