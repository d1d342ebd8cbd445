"""Tab 7, about: what each model is, a diagram, and what the source documents got wrong."""

from __future__ import annotations

import gradio as gr

from ui import common
from ui.i18n import t


def build_tab() -> list[common.Picker]:
    """Static text (translated); no handlers."""
    gr.Markdown(t("about_models"), elem_id="about-models")
    gr.Markdown(t("about_flaws"))
    return []


if __name__ == "__main__":
    from ui.i18n import I18N

    with gr.Blocks() as demo:
        build_tab()
    demo.launch(i18n=I18N)
