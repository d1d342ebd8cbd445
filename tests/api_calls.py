"""Raw HTTP calls to the app's event handlers, as any client on the internet could make them:
by dependency index (public and private alike), with any JSON (NaN included), with a session
id of the caller's choosing. Used by the fuzzer and the session and memory tests."""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Reply:
    success: bool
    data: list[Any] | None
    error: Any  # the message an error carries (None when gradio gave none)
    body_bytes: int  # the size of what came back for this call
    status: int


def get_config(url: str) -> dict[str, Any]:
    return httpx.get(f"{url}config", timeout=60).json()


def backend_dependencies(config: dict[str, Any]) -> list[dict[str, Any]]:
    """Every dependency with a Python handler (public or private), as /config lists them."""
    return [d for d in config["dependencies"] if d.get("backend_fn")]


def components_by_id(config: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {c["id"]: c for c in config["components"]}


def encode(payload: dict[str, Any]) -> bytes:
    """JSON as Python writes it, NaN and Infinity included (what a hostile client may send)."""
    return json.dumps(payload, allow_nan=True).encode()


def call(url: str, dep: dict[str, Any], data: list[Any], *, session: str | None = None,
         timeout: float = 180) -> Reply:
    """Run dependency ``dep`` with ``data``: through the queue when the dependency is queued,
    else through ``/gradio_api/run/predict``; wait for the result (generators: the last update)."""
    session = session or uuid.uuid4().hex[:11]
    headers = {"content-type": "application/json"}
    body = {"data": data, "fn_index": dep["id"], "session_hash": session, "event_data": None, "trigger_id": None}
    with httpx.Client(timeout=timeout) as client:
        if not dep.get("queue", True):
            r = client.post(f"{url}gradio_api/run/predict", content=encode(body), headers=headers)
            try:
                parsed = r.json()
            except ValueError:
                parsed = {"error": r.text}
            ok = r.status_code == 200 and "error" not in parsed
            return Reply(ok, parsed.get("data") if ok else None, parsed.get("error", parsed.get("detail")),
                         len(r.content), r.status_code)
        r = client.post(f"{url}gradio_api/queue/join", content=encode(body), headers=headers)
        if r.status_code != 200:
            parsed = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            return Reply(False, None, parsed.get("detail", r.text), len(r.content), r.status_code)
        size = len(r.content)
        with client.stream("GET", f"{url}gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                size += len(line)
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                kind = message.get("msg")
                if kind == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return Reply(True, output.get("data"), None, len(line), 200)
                    return Reply(False, None, output.get("error"), len(line), 200)
                if kind in ("unexpected_error", "close_stream"):
                    return Reply(False, None, message.get("message"), len(line), 200)
    return Reply(False, None, None, size, 0)


def default_value(component: dict[str, Any]) -> Any:
    """What the page would send for an untouched component."""
    props = component.get("props", {})
    value = props.get("value")
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _status_mb(pid: int, field: str) -> float:
    """A memory field of ``/proc/PID/status`` (given in kB there), in MB (Linux)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The process's highest resident memory so far, in MB (VmHWM)."""
    return _status_mb(pid, "VmHWM")
