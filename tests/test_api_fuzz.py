"""A fuzzer generated from the app's own description: every dependency with a Python handler
(public and private: a private one is still callable by index), every input, a table of hostile
values and shapes. A new endpoint or input is fuzzed without new test code.

Each call must end in a result or in an error that carries one short sentence: never a null
error, never a traceback in the reply or in the server's log, never a reply over a few KB,
never a connection to an address a request named."""

from __future__ import annotations

import re
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from api_calls import backend_dependencies, call, components_by_id, default_value, get_config
from app_helpers import AppServer

pytestmark = pytest.mark.slow

MEGA = "A" * 1_000_000


class Listener:
    """A loopback TCP port that counts the connections it receives (a request's URL points here)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(5)
        self.sock.close()


FILE_META = {"_type": "gradio.FileData"}
NUMBERS = [True, -1, 0, 10**30, 2.5, float("nan"), float("inf"), -float("inf")]
TEXTS = ["", "\x00", "x" * 5000]
SHAPES = [[1, 2], {"a": 1}, [], {}]
FILE_INPUTS = {"image", "imageeditor", "sketchpad", "file", "gallery", "uploadbutton", "video", "audio", "model3d"}
NUMBER_INPUTS = {"number", "slider", "checkbox"}


def file_values(url_to_here: str) -> list[object]:
    """File objects that name server files, a path outside the cache, or a URL (to this test's listener)."""
    return [{"path": "/etc/passwd"}, {"path": "/etc/passwd", "meta": {}},
            {"path": "/etc/passwd", "meta": FILE_META}, {"path": "../../../etc/hostname", "meta": FILE_META},
            {"path": url_to_here, "meta": FILE_META}, {"url": url_to_here, "meta": FILE_META},
            {"background": None, "layers": [{"path": "/etc/passwd"}] * 3, "composite": {"path": "/etc/passwd"}}]


def hostile_values(url_to_here: str, kind: str | None = None) -> list[object]:
    """Wrong types, non-finite and huge numbers, NUL bytes, long strings, nested shapes, and file
    objects that name server files or URLs: all of them (``kind`` None), or for an input of component
    type ``kind`` the ones that mean something for it (every number edge for a number, every file
    object for a picture) and one of each foreign kind (a string, a number, a shape, a server file),
    which take the same path as their siblings there."""
    files = file_values(url_to_here)
    if kind is None:
        return [None, *NUMBERS, "abc", *TEXTS, *SHAPES, *files]
    if kind in FILE_INPUTS:
        return [None, 0, "abc", "", *SHAPES, *files]
    if kind in NUMBER_INPUTS:
        return [None, *NUMBERS, "abc", "\x00", [1, 2], {"a": 1}, files[2]]
    return [None, 0, float("nan"), "abc", *TEXTS, [1, 2], {"a": 1}, files[2], files[3]]  # text, choices, state


@pytest.fixture(scope="module")
def fuzz_server(root: Path):
    """The app on the tiny checkpoints (a diffusion one among them); a valid /train call ends at once."""
    server = AppServer(root, {"AIGC_TRAIN_MAX_SECONDS": "0.5"})
    yield server
    server.stop()


# Replies that are large whatever the input: the Tune tab opens on a recorded study, its table and three figures
# (about 27 KB). Every other reply to a hostile value stays under 16 KB: nothing echoes what it was sent.
LARGEST_REPLY = {"tune_opening": 40_000}


def test_every_input_of_every_handler_answers_hostile_values_with_a_sentence(fuzz_server):
    listener = Listener()
    url_here = f"http://127.0.0.1:{listener.port}/x.png"
    config = get_config(fuzz_server.url)
    comps = components_by_id(config)
    deps = backend_dependencies(config)
    assert len(deps) > 20, "the app's handlers were not found in /config"
    # copies of one handler (a picker refresh per tab: refresh, refresh_1, ...) are fuzzed once
    distinct = {}
    for dep in deps:
        kind = (re.sub(r"_\d+$", "", dep.get("api_name") or ""), tuple(comps[i]["type"] for i in dep["inputs"]))
        distinct.setdefault(kind, dep)
    jobs = []
    for dep in distinct.values():
        defaults = [default_value(comps[i]) for i in dep["inputs"]]
        for position in range(len(defaults)):
            values = hostile_values(url_here, comps[dep["inputs"][position]]["type"]) + ([MEGA] if position == 0 else [])
            for value in values:
                data = list(defaults)
                data[position] = value
                jobs.append((dep, position, value, data))
        jobs.append((dep, -1, "wrong count", defaults + [1]))  # one value too many
    assert len(jobs) > 1000, len(jobs)

    sessions = threading.local()  # one browser session per worker: a new session costs the server a copy of the page's state

    def run(job):
        dep, position, value, data = job
        if not hasattr(sessions, "id"):
            sessions.id = uuid.uuid4().hex[:11]
        return job, call(fuzz_server.url, dep, data, session=sessions.id, timeout=300)

    problems = []
    with ThreadPoolExecutor(6) as pool:
        for (dep, position, value, _), reply in pool.map(run, jobs):
            where = f"{dep.get('api_name')}[{position}] = {repr(value)[:40]}"
            if reply.body_bytes > LARGEST_REPLY.get(dep.get("api_name"), 16_000):
                problems.append(f"{where}: a {reply.body_bytes:,}-byte reply")
            if reply.success:
                continue
            if not isinstance(reply.error, str) or not reply.error.strip():
                problems.append(f"{where}: error without a message ({reply.status}, {reply.error!r})")
            elif "Traceback" in reply.error or len(reply.error) > 600:
                problems.append(f"{where}: error {reply.error[:120]!r}")
    listener.close()
    log = Path(fuzz_server.log.name).read_text()
    assert not problems, f"{len(problems)} bad replies, e.g.:\n" + "\n".join(problems[:25])
    assert "Traceback" not in log, log[log.index("Traceback") - 300: log.index("Traceback") + 2000]
    assert listener.connections == 0, "the server connected to a URL a request named"
    assert "root:x:0:0" not in log
