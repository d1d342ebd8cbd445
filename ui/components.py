"""The lab's two input widgets: ``gr.Image`` and ``gr.Sketchpad`` whose pictures are decoded
by ``aigc_models.preprocess`` (one clear sentence for a bad file), and the script that picks
the sketchpad's brush.

They sit in their own module because gradio writes a type stub (``components.pyi``) beside
any module that subclasses a component; git ignores it.
"""

from __future__ import annotations

import base64
from typing import Any

import gradio as gr

from aigc_models import preprocess

class PictureUpload(gr.Image):
    """``gr.Image`` (same widget in the browser) whose upload reaches the handler as the file's
    path, undecoded.

    ``gr.Image`` opens every upload with PIL before the handler runs, even with
    ``type="filepath"``, so a zero-byte file, a non-image or a decompression bomb fails
    inside gradio with a bare "Error". Here ``aigc_models.preprocess`` decodes the file
    in the handler and refuses it with one sentence.
    """

    is_template = True  # the browser uses gr.Image's frontend; no __init__ of its own, since
    # gradio sends the browser the props named in the class's __init__ signature

    def preprocess(self, payload: Any) -> str | bytes | None:
        if payload is None:
            return None
        if payload.path:
            return str(payload.path)
        if payload.url and payload.url.startswith("data:"):  # base64 sent through the API
            try:
                return base64.b64decode(payload.url.split(",", 1)[1], validate=True)
            except (IndexError, ValueError):
                raise gr.Error("The uploaded data is not valid base64; send the image as a file.") from None
        raise gr.Error("The upload did not arrive; upload the picture again.")


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


class PictureSketchpad(gr.Sketchpad):
    """``gr.Sketchpad`` whose pictures (composite, layers) are checked by
    ``aigc_models.preprocess.decode_image`` before gradio decodes them: through the API
    anyone can send any file as a sketch, and a bomb or a broken file gets one sentence."""

    def get_block_name(self) -> str:  # gr.Sketchpad is itself a template of ImageEditor
        return "imageeditor"

    def get_block_class(self) -> str:
        return "imageeditor"

    def convert_and_format_image(self, file: Any, flatten_on_white: bool = False) -> Any:
        if file is None:
            return None
        try:
            preprocess.decode_image(file.path if hasattr(file, "path") else bytes(file))
        except ValueError as err:
            raise gr.Error(str(err)) from None
        try:
            return super().convert_and_format_image(file, flatten_on_white)
        except Exception:  # noqa: BLE001 - decode_image read it; anything gradio trips on is the file's fault
            raise gr.Error("This sketch is not a readable image; draw it again.") from None
