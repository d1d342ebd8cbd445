"""The running app over plain HTTP: no file outside gradio's cache comes back through any file
route, a file a handler made does, uploads above ``max_file_size`` and oversized bodies are
refused, and a full queue refuses a new request at once instead of leaving it hanging."""

from __future__ import annotations

import http.client
import json
import os
import re
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from gradio_client import Client
from gradio_client.utils import QueueError, Status
from PIL import Image

from app_helpers import REPO, AppServer, shared_server, wait_for

MB = 1024 * 1024
TRAIN_ARGS = dict(family="mlp-gan", dataset="mnist", steps=100_000, batch_size=16, lr_g=2e-4, lr_d=2e-4, lr=1e-3,
                  beta1=0.5, beta2=0.999, loss="ns", diffaugment=False, ema=0.0, seed=0)
# GET routes whose last parameter names a file or URL; the test knows how to probe each of them.
PROBED_ROUTES = {"/gradio_api/file={path_or_url}", "/gradio_api/file/{path}", "/static/{path}", "/assets/{path}",
                 "/svelte/{path}", "/gradio_api/proxy={url_path}",
                 "/gradio_api/custom_component/{id}/{environment}/{type}/{file_name}",
                 "/gradio_api/run-history/records/{endpoint}/{record_id}/assets/{asset_id}"}
FILE_PARAM = re.compile(r"\{(path|path_or_url|url_path|file_name|asset_id)\}$")


@pytest.fixture(scope="module")
def server(root: Path):
    return shared_server(root)


# ----------------------------------------------------------------------------- HTTP helpers


def raw(server: AppServer, path: str, method: str = "GET") -> tuple[int, bytes]:
    """One request with ``path`` sent exactly as written (no client-side normalising of ``..``
    or re-encoding), as an attacker would send it."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def call(server: AppServer, api_name: str, data: list) -> tuple[str, object]:
    """Run an endpoint through gradio's two-step HTTP API; return (final event, its data)."""
    base = server.url + f"gradio_api/call/{api_name}"
    response = httpx.post(base, json={"data": data}, timeout=120)
    response.raise_for_status()
    event = None
    with httpx.stream("GET", f"{base}/{response.json()['event_id']}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                return event, json.loads(line.split(":", 1)[1])
    raise AssertionError(f"{api_name}: the stream ended without a result")


def multipart(field: str, filename: str | None, payload: bytes) -> tuple[dict[str, str], bytes]:
    """A one-part multipart body (a file part when ``filename`` is given, else a plain field)."""
    boundary = uuid.uuid4().hex
    disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/octet-stream\r\n\r\n"
    body = head.encode() + payload + f"\r\n--{boundary}--\r\n".encode()
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


@pytest.fixture(scope="module")
def served(server: AppServer, root: Path) -> dict[str, str]:
    """The PNG download a /sample_gan call produced: its server path and URL path."""
    event, outputs = call(server, "sample_gan", [str(root / "checkpoints" / "mnist-dcgan"), 4, 3, 0, False, 1])
    assert event == "complete", outputs
    download = outputs[1]
    return {"path": download["path"], "url": urlsplit(download["url"]).path}


@pytest.fixture(scope="module")
def cache_dir(served: dict[str, str]) -> Path:
    """Gradio's cache folder (each output sits in a content-hash folder inside it)."""
    return Path(served["path"]).parent.parent


# ----------------------------------------------------------------------------- files


def private_files(root: Path) -> dict[str, Path]:
    """Files the app must never serve: system, code, weights, data."""
    data_dir = Path(os.environ["AIGC_DATA_DIR"])
    data_file = next(p for p in sorted(data_dir.rglob("*")) if p.is_file())
    return {"passwd": Path("/etc/passwd"), "code": REPO / "app.py",
            "weights": root / "checkpoints" / "mnist-dcgan" / "model.safetensors", "data": data_file}


def file_route_paths(target: Path, cache: Path) -> list[str]:
    """Ways to name ``target`` to the ``file=`` route: absolute, relative to the server's
    folder, ``..`` out of the cache, URL-encoded, double-encoded, as a file:// URL."""
    target_s = str(target)
    out_of_cache = str(cache) + "/.." * len(cache.parts) + target_s
    encoded_dots = out_of_cache.replace("..", "%2e%2e").replace("/", "%2f")
    return [target_s, os.path.relpath(target_s, REPO), out_of_cache, quote(target_s, safe=""),
            quote(out_of_cache, safe=""), encoded_dots, quote(quote(out_of_cache, safe=""), safe=""),
            "file://" + target_s]


def package_route_paths(target: Path) -> list[str]:
    """Ways to climb out of a folder inside the gradio package to ``target``."""
    up = "../" * 16 + str(target).lstrip("/")
    return [up, up.replace("/", "%2f"), up.replace("..", "%2e%2e"), quote(quote(up, safe=""), safe=""),
            "/" + str(target), quote(str(target), safe="")]


def probe_urls(target: Path, cache: Path) -> list[str]:
    urls = []
    for p in file_route_paths(target, cache):
        urls += [f"/gradio_api/file={p}", f"/gradio_api/file/{p}"]
    for p in package_route_paths(target):
        urls += [f"/static/{p}", f"/assets/{p}", f"/svelte/{p}",
                 f"/gradio_api/custom_component/x/client/{quote(p, safe='')}/index.js",
                 f"/gradio_api/custom_component/x/client/js/{quote(p, safe='')}",
                 f"/gradio_api/run-history/records/e/r/assets/{quote(p, safe='')}"]
    return urls


def leaks(server: AppServer, url: str, secret: bytes, methods=("GET", "HEAD")) -> list[str]:
    """The ways ``url`` gave the secret away (a success status, or its bytes in the body)."""
    found = []
    for method in methods:
        status, body = raw(server, url, method)
        if status < 400 or (secret and secret in body):
            found.append(f"{method} {url} -> {status} ({len(body)} bytes)")
    return found


def test_the_probes_cover_every_file_route_gradio_exposes(server):
    spec = httpx.get(server.url + "openapi.json", timeout=120).json()
    file_routes = {path for path, ops in spec["paths"].items() if "get" in ops and FILE_PARAM.search(path)}
    assert "/gradio_api/file={path_or_url}" in file_routes
    assert file_routes <= PROBED_ROUTES, f"new file routes to probe: {sorted(file_routes - PROBED_ROUTES)}"


def test_no_file_outside_the_cache_is_served(server, root, cache_dir):
    found = []
    for name, target in private_files(root).items():
        secret = target.read_bytes()[:64]
        for url in probe_urls(target, cache_dir):
            found += leaks(server, url, secret)
    data_dir = Path(os.environ["AIGC_DATA_DIR"])
    for folder in (data_dir, REPO, root / "checkpoints"):  # folders: no listing either
        found += leaks(server, f"/gradio_api/file={folder}", b"")
    assert not found, "served outside the cache:\n" + "\n".join(found)


def test_a_symlink_in_the_cache_does_not_lead_out(server, root, cache_dir):
    links = cache_dir / f"aigc-http-test-{uuid.uuid4().hex[:8]}"
    links.mkdir()
    try:
        found = []
        for name, target in private_files(root).items():
            (links / name).symlink_to(target)
            for url in (f"/gradio_api/file={links / name}", f"/gradio_api/file={quote(str(links / name), safe='')}"):
                found += leaks(server, url, target.read_bytes()[:64])
        (links / "repo").symlink_to(REPO, target_is_directory=True)
        found += leaks(server, f"/gradio_api/file={links}/repo/app.py", (REPO / "app.py").read_bytes()[:64])
        assert not found, "served through a symlink:\n" + "\n".join(found)
    finally:
        for link in links.iterdir():
            link.unlink()
        links.rmdir()


def test_a_url_is_not_fetched_from_the_servers_network(server):
    own = server.url + "config"  # loopback: must not be fetched for the caller (SSRF)
    for url in (f"/gradio_api/file={own}", f"/gradio_api/proxy={own}"):
        status, body = raw(server, url)
        assert status >= 400 and b"max_file_size" not in body, (url, status)


def test_a_file_a_handler_made_is_served(server, served):
    for url in (served["url"], served["url"].replace("/file=", "/file/")):
        status, body = raw(server, url)
        assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n", (url, status)
    assert raw(server, served["url"], "HEAD")[0] == 200


def test_a_handler_gets_no_file_from_outside_the_cache(server, root, cache_dir, tmp_path):
    """An input naming a server file it was never sent (the VAE would show it back) is refused."""
    outside = tmp_path / "private.png"
    Image.new("L", (28, 28), 255).save(outside)
    for path in (str(outside), str(cache_dir) + "/.." * len(cache_dir.parts) + str(outside)):
        image = {"path": path, "meta": {"_type": "gradio.FileData"}}
        event, data = call(server, "reconstruct", [str(root / "checkpoints" / "mnist-vae"), None, image, 0])
        assert event == "error", (path, str(data)[:200])


# ----------------------------------------------------------------------------- uploads and bodies


def test_uploads_above_max_file_size_are_refused(server, cache_dir):
    limit = httpx.get(server.url + "config", timeout=120).json()["max_file_size"]
    assert limit == 5 * MB
    headers, body = multipart("files", "big.bin", b"x" * (limit + 1))
    response = httpx.post(server.url + "gradio_api/upload", content=body, headers=headers, timeout=60)
    assert response.status_code == 413 and "maximum allowed size" in response.text

    payload = os.urandom(limit - 1)
    headers, body = multipart("files", "../../../../tmp/aigc-upload-escape.bin", payload)
    response = httpx.post(server.url + "gradio_api/upload", content=body, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    [stored] = response.json()
    assert Path(stored).parent.parent == cache_dir and Path(stored).name == "aigc-upload-escape.bin"
    assert not Path("/tmp/aigc-upload-escape.bin").exists()
    status, back = raw(server, f"/gradio_api/file={stored}")
    assert status == 200 and back == payload


def test_oversized_bodies_are_refused_before_they_fill_memory(server):
    size = 2 * 5 * MB
    headers, body = multipart("files", None, b"x" * size)  # a plain field: no per-file limit applies
    response = httpx.post(server.url + "gradio_api/upload", content=body, headers=headers, timeout=60)
    assert response.status_code == 413, response.status_code

    def chunks():  # no Content-Length: the limit is counted while the body streams in
        for start in range(0, len(body), MB):
            yield body[start:start + MB]

    response = httpx.post(server.url + "gradio_api/upload", content=chunks(), headers=headers, timeout=60)
    assert response.status_code == 413, response.status_code

    join = b'{"data": ["' + b"a" * size + b'"], "fn_index": 2, "session_hash": "oversized"}'
    response = httpx.post(server.url + "gradio_api/queue/join", content=join,
                          headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 413, response.status_code


# ----------------------------------------------------------------------------- a full queue


@pytest.mark.slow  # its own app: about 20 s
def test_a_full_queue_refuses_at_once(root, tmp_path):
    app = AppServer(root, extra_env={"AIGC_QUEUE_SIZE": "2", "AIGC_RUNS_DIR": str(tmp_path)})
    try:
        holder = Client(app.url, verbose=False)
        running = holder.submit(**TRAIN_ARGS, name="holds-the-worker", api_name="/train")
        wait_for(lambda: len(running.outputs()) >= 1, 120, "the run to stream")
        waiting = [Client(app.url, verbose=False).submit(**TRAIN_ARGS, name=f"waits-{i}", api_name="/train")
                   for i in range(2)]
        wait_for(lambda: all(j.status().code == Status.IN_QUEUE for j in waiting), 120, "two queued runs")

        config = httpx.get(app.url + "config", timeout=120).json()
        fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "sample_gan")
        args = [str(root / "checkpoints" / "mnist-dcgan"), 4, 0, 0, False]
        # "at once" is the answer, not a clock: a queued request would get 200 and an event id,
        # and the client's predict would wait for the run instead of raising
        response = httpx.post(app.url + "gradio_api/queue/join", timeout=120,
                              json={"data": args, "fn_index": fn_index, "session_hash": "late"})
        assert response.status_code == 503 and "Queue is full" in response.json()["detail"]
        with pytest.raises(QueueError, match="Queue is full"):
            Client(app.url, verbose=False).predict(*args, api_name="/sample_gan")

        for job in waiting:
            job.cancel()
        holder.predict(api_name="/stop")
        wait_for(running.done, 120, "the run to stop")
    finally:
        app.stop()
