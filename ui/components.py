"""The lab's two picture inputs, and the one guard every file from a request passes.

* ``UploadOnly`` (a mixin): a file named by a request is used only if it lies inside this
  server's upload folder (resolved, so a symlink cannot lead out). A path anywhere else, a
  URL (gradio would download it), a missing file: all get the same sentence, ``NOT_ARRIVED``,
  which says nothing about the path. Every component that takes a file mixes it in; a test
  checks that no file input of the app lacks it.
* ``PictureUpload``: ``gr.Image`` whose upload reaches the handler as a checked path,
  undecoded (``aigc_models.preprocess`` decodes it in the handler with its limits).
* ``PictureSketchpad``: ``gr.Sketchpad`` that decodes only the composite (never the layers),
  after checking the layer count and every file's header, and hands the handler a small
  grey + alpha array (``preprocess.compact``). Its pieces, sent by the browser as blobs, wait
  in one bounded store shared by all sketchpads.

They sit in their own module because gradio writes a type stub (``components.pyi``) beside
any module that subclasses a component; git ignores it.
"""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.base import server
from gradio.utils import get_upload_folder
from gradio_client import utils as client_utils

from aigc_models import preprocess
from ui.errors import NOT_ARRIVED, UserError, log

MAX_LAYERS = 4  # a sketchpad here has one drawing layer; a few more are tolerated, never decoded
MAX_BLOB_BYTES = 64 * 1024 * 1024  # all sketch pieces waiting for their request, over all sessions
MAX_BLOB_ID = 64  # characters


# ----------------------------------------------------------------------------- the guard


def upload_folder() -> Path:
    """Gradio's upload/cache folder for this server, resolved."""
    return Path(get_upload_folder()).resolve()


def uploaded_file(path: object) -> str:
    """``path`` if it names a regular file inside ``upload_folder()`` (links resolved), else
    ``UserError(NOT_ARRIVED)``; the same sentence whatever was wrong."""
    if not isinstance(path, (str, Path)) or not str(path) or "\x00" in str(path):
        raise UserError(NOT_ARRIVED)
    if client_utils.is_http_url_like(str(path)):
        raise UserError(NOT_ARRIVED)
    try:
        real = Path(path).resolve()
        inside = real.is_relative_to(upload_folder()) and real.is_file()
    except (OSError, ValueError, RuntimeError):
        inside = False
    if not inside:
        raise UserError(NOT_ARRIVED)
    return str(real)


class UploadOnly:
    """Mixin for components that take files: gradio may copy into its cache only files that
    already lie there, and never downloads a URL a request names."""

    def _only_uploads(self, url_or_file_path: str | Path | None) -> str | None:
        if url_or_file_path is None:
            return None
        return uploaded_file(url_or_file_path)

    def move_resource_to_block_cache(self, url_or_file_path: str | Path | None) -> str | None:
        return self._only_uploads(url_or_file_path)

    async def async_move_resource_to_block_cache(self, url_or_file_path: str | Path | None) -> str | None:
        return self._only_uploads(url_or_file_path)


# ----------------------------------------------------------------------------- upload


class PictureUpload(UploadOnly, gr.Image):
    """``gr.Image`` (same widget in the browser) whose upload reaches the handler as the file's
    checked path, undecoded.

    ``gr.Image`` opens every upload with PIL before the handler runs, even with
    ``type="filepath"``, so a zero-byte file, a non-image or a decompression bomb fails
    inside gradio with a bare "Error". Here ``aigc_models.preprocess`` decodes the file
    in the handler and refuses it with one sentence.
    """

    is_template = True  # the browser uses gr.Image's frontend; no __init__ of its own, since
    # gradio sends the browser the props named in the class's __init__ signature

    def get_block_name(self) -> str:  # gradio names a template after its first base, here the mixin
        return "image"

    def get_block_class(self) -> str:
        return "image"

    def preprocess(self, payload: Any) -> str | bytes | None:
        if payload is None:
            return None
        if getattr(payload, "path", None):
            return uploaded_file(payload.path)
        url = getattr(payload, "url", None)
        if isinstance(url, str) and url.startswith("data:"):  # base64 sent through the API
            try:
                data = base64.b64decode(url.split(",", 1)[1], validate=True)
            except (IndexError, ValueError):
                raise UserError("The uploaded data is not valid base64; send the image as a file.") from None
            if len(data) > MAX_BLOB_BYTES // 8:
                raise UserError("The uploaded picture is larger than 8 MB; make it smaller.")
            return data
        raise UserError(NOT_ARRIVED)


class FileUpload(UploadOnly, gr.File):
    """``gr.File`` (same widget) that takes only files uploaded to this server: the handler gets
    their checked paths. For "Your pictures" (zip, image files, a folder), which
    ``aigc_models.pictures`` reads with its limits."""

    is_template = True

    def get_block_name(self) -> str:
        return "file"

    def get_block_class(self) -> str:
        return "file"


# ----------------------------------------------------------------------------- sketchpad


SKETCH_CLASS = "aigc-sketch"
"""CSS class of every sketchpad, so that ``SELECT_BRUSH_JS`` finds them."""

SELECT_BRUSH_JS = """() => {
  // Gradio's sketchpad opens with no tool selected ("select the draw tool to start"):
  // pick the brush on every visible pad, so a student can draw at once. Runs only when a
  // tab or accordion opens, never while someone has chosen another tool.
  const pick = () => document.querySelectorAll('.aigc-sketch').forEach((pad) => {
    const brush = pad.querySelector('button[aria-label="Brush"], button[title="Brush"]');
    if (brush && brush.offsetParent !== null && !brush.classList.contains('highlight')) brush.click();
  });
  [150, 500, 1200].forEach((ms) => setTimeout(pick, ms));
}"""


RELAYOUT_JS = """() => {
  // A plotly figure drawn or resized while its tab was hidden keeps that width when the tab is
  // shown again (it relayouts on the window's resize event only): fire one when a tab opens.
  setTimeout(() => window.dispatchEvent(new Event('resize')), 100);
}"""


class BlobStore:
    """The sketch pieces (background, layers, composite) that browsers send ahead of a request,
    keyed by the request's id: at most ``MAX_BLOB_BYTES`` in all, oldest dropped first, and a
    piece whose header is refused is replaced by the reason, said when its request comes.
    A dict-like stand-in for ``ImageEditor.blob_storage``."""

    def __init__(self, max_bytes: int = MAX_BLOB_BYTES) -> None:
        self.max_bytes = max_bytes
        self.items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()

    @staticmethod
    def _size(item: dict[str, Any]) -> int:
        pieces = [item.get("background"), item.get("composite"), *item.get("layers", [])]
        return sum(len(p) for p in pieces if isinstance(p, (bytes, bytearray)))

    def put(self, blob_id: str, kind: str, index: int | None, data: bytes) -> None:
        with self.lock:
            item = self.items.pop(blob_id, {"background": None, "layers": [], "composite": None, "refused": None})
            self.bytes -= self._size(item)
            try:
                preprocess.header_size(data)
            except ValueError as err:
                item["refused"] = str(err)
                data = b""
            if kind == "layer":
                if index is None or not 0 <= index < MAX_LAYERS:
                    item["refused"] = f"A sketch may have at most {MAX_LAYERS} layers."
                else:
                    item["layers"] += [None] * (index + 1 - len(item["layers"]))
                    item["layers"][index] = data or None
            else:
                item[kind] = data or None
            self.items[blob_id] = item
            self.bytes += self._size(item)
            while self.bytes > self.max_bytes and self.items:
                _, dropped = self.items.popitem(last=False)
                self.bytes -= self._size(dropped)

    def pop(self, blob_id: str, default: Any = None) -> dict[str, Any] | None:
        with self.lock:
            item = self.items.pop(blob_id, None)
            if item is None:
                return default
            self.bytes -= self._size(item)
            return item

    def __contains__(self, blob_id: object) -> bool:
        return blob_id in self.items

    def get(self, blob_id: str, default: Any = None) -> Any:
        return self.items.get(blob_id, default)


SKETCH_BLOBS = BlobStore()


class PictureSketchpad(UploadOnly, gr.Sketchpad):
    """``gr.Sketchpad`` whose value reaches the handler as ``{"composite": (H, W, 2) uint8
    array or None, "layers": [], "background": None}``: only the composite is decoded (at most
    ``preprocess.MAX_PIXELS``, reduced to ``preprocess.WORK_SIDE`` a side), after the layer
    count and every piece's header are checked; files must lie in the upload folder."""

    # No __init__ of its own (gradio sends the browser the props its signature names): the
    # bounded store replaces ImageEditor's unbounded per-instance dict through this property.
    @property
    def blob_storage(self) -> BlobStore:  # type: ignore[override]
        return SKETCH_BLOBS

    @blob_storage.setter
    def blob_storage(self, value: Any) -> None:
        pass

    def get_block_name(self) -> str:  # gr.Sketchpad is itself a template of ImageEditor
        return "imageeditor"

    def get_block_class(self) -> str:
        return "imageeditor"

    @server
    def accept_blobs(self, data: Any) -> None:
        """A piece of a sketch from the browser, kept (bounded) until its request arrives."""
        try:
            fields, files = data.data, data.files
            kind = fields.get("type")
            blob_id = fields.get("id")
            raw_index = fields.get("index")
            index = int(raw_index) if raw_index not in (None, "", "null") else None
            content = files[0][1]
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            log.info("refused: a sketch piece without type, id or file")
            return
        if (kind not in ("background", "layer", "composite") or not isinstance(blob_id, str)
                or not 0 < len(blob_id) <= MAX_BLOB_ID or not isinstance(content, (bytes, bytearray))):
            log.info("refused: a malformed sketch piece")
            return
        SKETCH_BLOBS.put(blob_id, kind, index, bytes(content))

    def preprocess(self, payload: Any) -> dict[str, Any] | None:
        try:
            return self._checked_value(payload)
        except ValueError as err:  # preprocess's sentences (size, format)
            raise UserError(str(err)) from None

    def _checked_value(self, payload: Any) -> dict[str, Any] | None:
        if payload is None:
            return None
        if getattr(payload, "id", None) is not None:
            item = SKETCH_BLOBS.pop(payload.id)
            if item is None:
                raise UserError(NOT_ARRIVED)
            if item["refused"]:
                raise UserError(item["refused"])
            composite, layers = item["composite"], item["layers"]
        else:
            pieces = [payload.background, *(payload.layers or []), payload.composite]
            if len(payload.layers or []) > MAX_LAYERS:
                raise UserError(f"A sketch may have at most {MAX_LAYERS} layers; this one has {len(payload.layers)}.")
            for piece in pieces:
                if piece is not None:
                    preprocess.header_size(uploaded_file(piece.path))
            composite = uploaded_file(payload.composite.path) if payload.composite is not None else None
            layers = payload.layers or []
        if len(layers) > MAX_LAYERS:
            raise UserError(f"A sketch may have at most {MAX_LAYERS} layers; this one has {len(layers)}.")
        if composite is None:
            return {"composite": None, "layers": [], "background": None}
        return {"composite": preprocess.compact(composite), "layers": [], "background": None}
