"""What stands between a public API and the handlers: the app's Blocks, an upload budget and
session hygiene.

* ``LabBlocks.preprocess_data`` checks every value a request sends, for every endpoint and
  every input, by the kind of component it is for (numbers finite and in the slider's range,
  choices among the choices, text and names of bounded length, files as file objects) and
  answers a bad one with one sentence that quotes at most ~80 characters of it. Whatever
  gradio itself still trips on becomes a sentence too, never ``{"error": null}``.
* ``guard_handlers`` wraps every handler: a ``ValueError`` from the library (its refusals are
  one sentence each) reaches the visitor as that sentence, logged as one line; any other
  exception is a fault of ours: its traceback goes to the log and the visitor gets a sentence.
* ``UploadBudget`` (ASGI middleware) caps the bytes one client may upload per minute and all
  clients together per ten minutes, so that nobody can fill the disk before gradio's cache
  cleaner (``delete_cache``) removes old uploads.
* ``forget_session`` drops a closed browser's session state at once.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import numbers
import threading
import time
from collections import defaultdict, deque
from typing import Any

import gradio as gr
from gradio.components import Component

from aigc_models import validation
from ui.errors import UserError, clip, log

MAX_TEXT = 200  # characters in any text field or custom dropdown value (run names, checkpoint names)
UPLOAD_BYTES_PER_CLIENT_MINUTE = 30 * 1024 * 1024
UPLOAD_BYTES_ALL_TEN_MINUTES = 400 * 1024 * 1024
UPLOAD_ROUTES = ("/upload", "/component_server")


# ----------------------------------------------------------------------------- labels


def label_of(block: Any) -> str:
    """The English label of a component (its i18n key translated), else its kind."""
    from ui.i18n import EN

    label = getattr(block, "label", None)
    key = getattr(label, "key", None)
    if key is not None:
        return EN.get(key, key)
    if isinstance(label, str) and label:
        return label
    return type(block).__name__


# ----------------------------------------------------------------------------- value checks


def _choices(block: Any) -> list[Any]:
    return [value for _, value in (getattr(block, "choices", None) or [])]


def check_value(block: Any, value: Any) -> None:
    """``UserError`` naming the field unless ``value`` is something ``block`` can take."""
    name = label_of(block)
    if isinstance(block, (gr.Number, gr.Slider)):
        lo, hi = getattr(block, "minimum", None), getattr(block, "maximum", None)
        allowed = ("a number" + (f" from {validation.number(lo)}" if lo is not None else "")
                   + (f" to {validation.number(hi)}" if hi is not None else ""))
        if value is None and isinstance(block, gr.Number):
            return  # the handler says what a missing number means
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise UserError(f"{name} must be {allowed}, got {validation.show(value)}.")
        try:
            as_float = float(value)
        except OverflowError:
            as_float = math.inf
        if not math.isfinite(as_float) or (lo is not None and as_float < lo) or (hi is not None and as_float > hi):
            raise UserError(f"{name} must be {allowed}, got {validation.show(value)}.")
    elif isinstance(block, (gr.Radio, gr.Dropdown)):
        if value is None:
            return
        if getattr(block, "allow_custom_value", False):
            if not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value:
                raise UserError(f"{name} must be a name of at most {MAX_TEXT} characters, got {validation.show(value)}.")
        elif type(value) not in (str, int, float) or value not in _choices(block):
            shown = ", ".join(str(c) for c in _choices(block))
            raise UserError(f"{name} must be one of: {clip(shown, 160)}; got {validation.show(value)}.")
    elif isinstance(block, gr.Checkbox):
        if not isinstance(value, bool):
            raise UserError(f"{name} must be true or false, got {validation.show(value)}.")
    elif isinstance(block, gr.Textbox):
        if value is not None and (not isinstance(value, str) or len(value) > MAX_TEXT or "\x00" in value):
            raise UserError(f"{name} must be text of at most {MAX_TEXT} characters, got {validation.show(value)}.")
    elif isinstance(block, (gr.Image, gr.ImageEditor, gr.File, gr.Gallery)):
        if value is not None and not isinstance(value, (dict, list)):
            raise UserError(f"{name} must be a file object (see /gradio_api/info), got {validation.show(value)}.")


class LabBlocks(gr.Blocks):
    """``gr.Blocks`` that checks every input value before gradio preprocesses it (see the module
    docstring); no bad value from any client ends as a bare error or a traceback."""

    async def preprocess_data(self, block_fn: Any, inputs: list[Any], state: Any, explicit_call: bool = False):
        if isinstance(inputs, list) and len(inputs) == len(block_fn.inputs):
            for block, value in zip(block_fn.inputs, inputs):
                if isinstance(block, Component) and not block.stateful:
                    if state is not None and block._id in state:
                        block = state[block._id]
                    check_value(block, value)
        else:
            raise UserError(f"This endpoint takes {len(block_fn.inputs)} values, got "
                            f"{len(inputs) if isinstance(inputs, list) else validation.show(inputs)}.")
        try:
            return await super().preprocess_data(block_fn, inputs, state, explicit_call)
        except gr.Error as err:
            if isinstance(err, UserError):
                raise
            raise UserError(err.message) from None
        except Exception as err:  # noqa: BLE001 - gradio's own checks of a value (file objects, ...)
            raise UserError(f"A value sent to {block_fn.api_name or 'this endpoint'} could not be read "
                            f"({type(err).__name__}); /gradio_api/info describes what each takes.") from None


# ----------------------------------------------------------------------------- handlers


def _user_or_fault(err: Exception, name: str) -> gr.Error:
    if isinstance(err, gr.Error):
        return err if isinstance(err, UserError) else UserError(err.message)
    if isinstance(err, ValueError):  # the library's refusals: one sentence each
        return UserError(str(err))
    log.exception("fault in %s", name)
    return gr.Error(f"Something went wrong on the server ({type(err).__name__}); it has been logged. "
                    "Try again, or pick other settings.", print_exception=False)


def guarded(fn: Any, name: str) -> Any:
    """``fn`` (plain, generator, async or async generator) with ``_user_or_fault`` applied to what it raises."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any):
            try:
                yield from fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001
                raise _user_or_fault(err, name) from None
        return gen_wrapper
    if inspect.isasyncgenfunction(fn):
        @functools.wraps(fn)
        async def async_gen_wrapper(*args: Any, **kwargs: Any):
            try:
                async for item in fn(*args, **kwargs):
                    yield item
            except Exception as err:  # noqa: BLE001
                raise _user_or_fault(err, name) from None
        return async_gen_wrapper
    if inspect.iscoroutinefunction(fn):
        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any):
            try:
                return await fn(*args, **kwargs)
            except Exception as err:  # noqa: BLE001
                raise _user_or_fault(err, name) from None
        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any):
        try:
            return fn(*args, **kwargs)
        except Exception as err:  # noqa: BLE001
            raise _user_or_fault(err, name) from None
    return wrapper


def guard_handlers(demo: gr.Blocks) -> None:
    """Wrap every Python handler of ``demo`` with ``guarded`` (once)."""
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is not None and not getattr(fn, "_aigc_guarded", False):
            block_fn.fn = guarded(fn, block_fn.api_name or getattr(fn, "__name__", "handler"))
            block_fn.fn._aigc_guarded = True  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- uploads


class UploadBudget:
    """ASGI middleware: POSTs to gradio's upload routes count against ``per_client`` bytes per
    minute for each client address and ``overall`` bytes per ten minutes for everyone; a request
    that would exceed either gets 429 with a sentence. Bodies without a length are counted as
    they stream and charged afterwards (gradio caps one body at ``app.MAX_BODY_SIZE``)."""

    def __init__(self, app: Any, *, per_client: int = UPLOAD_BYTES_PER_CLIENT_MINUTE,
                 overall: int = UPLOAD_BYTES_ALL_TEN_MINUTES) -> None:
        self.app, self.per_client, self.overall = app, per_client, overall
        self.by_client: dict[str, deque[tuple[float, int]]] = defaultdict(deque)
        self.everyone: deque[tuple[float, int]] = deque()
        self.lock = threading.Lock()

    @staticmethod
    def client_of(scope: dict[str, Any]) -> str:
        for key, value in scope.get("headers", []):
            if key == b"x-forwarded-for":  # behind a Space's proxy every request comes from the proxy
                return value.decode("latin-1").split(",")[0].strip()[:64]
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def _used(self, now: float, client: str) -> tuple[int, int]:
        mine = self.by_client[client]
        while mine and now - mine[0][0] > 60:
            mine.popleft()
        while self.everyone and now - self.everyone[0][0] > 600:
            self.everyone.popleft()
        if not mine:
            self.by_client.pop(client, None)
        return sum(n for _, n in mine), sum(n for _, n in self.everyone)

    def charge(self, client: str, size: int) -> None:
        now = time.monotonic()
        with self.lock:
            self.by_client[client].append((now, size))
            self.everyone.append((now, size))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope.get("type") == "http" else ""
        if scope.get("method") != "POST" or not path.rstrip("/").endswith(UPLOAD_ROUTES):
            await self.app(scope, receive, send)
            return
        client = self.client_of(scope)
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), b"0")
        try:
            declared_size = max(int(declared), 0)
        except ValueError:
            declared_size = 0
        with self.lock:
            mine, everyone = self._used(time.monotonic(), client)
        if mine + declared_size > self.per_client or everyone + declared_size > self.overall:
            who = "your address" if mine + declared_size > self.per_client else "all visitors together"
            limit = (f"{self.per_client // 2**20} MB a minute" if who == "your address"
                     else f"{self.overall // 2**20} MB per ten minutes")
            log.info("refused: upload budget of %s spent (%s)", who, limit)
            body = json.dumps({"detail": f"Too many uploads from {who}: at most {limit}. Wait a little and try "
                                         "again."}).encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        counted = 0

        async def counting_receive() -> dict[str, Any]:
            nonlocal counted
            message = await receive()
            if message.get("type") == "http.request":
                counted += len(message.get("body", b""))
            return message

        try:
            await self.app(scope, counting_receive, send)
        finally:
            self.charge(client, counted)


# ----------------------------------------------------------------------------- sessions


def forget_session(demo: gr.Blocks, request: gr.Request | None) -> None:
    """On a browser's unload: drop its session state now (gradio would keep it an hour)."""
    holder = getattr(demo, "state_holder", None)
    key = getattr(request, "session_hash", None)
    if holder is not None and key is not None:
        with holder.lock:
            holder.session_data.pop(key, None)
            holder.time_last_used.pop(key, None)


__all__ = ["LabBlocks", "guard_handlers", "guarded", "check_value", "label_of", "UploadBudget", "forget_session"]
