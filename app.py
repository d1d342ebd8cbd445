"""The AIGC lab in a browser: ``python app.py`` (also the Hugging Face Space entry point).

Builds one Blocks from the tab modules in ``ui/`` and launches it. Offline at
page load: no analytics, no web fonts, no share link. Honours
GRADIO_SERVER_NAME / GRADIO_SERVER_PORT; checkpoints are discovered in
``$AIGC_CHECKPOINT_DIRS`` (default ``checkpoints/``) plus ``runs/``.
"""

from __future__ import annotations

import os
from types import ModuleType

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported

import gradio as gr  # noqa: E402

from starlette.middleware import Middleware  # noqa: E402

from ui import about, augment, cgan, common, compare, components, diffusion, ensemble, gan, guard, interpolate, step, superres, train, vae  # noqa: E402
from ui import tune  # noqa: E402
from ui import pixelcnn  # noqa: E402
from ui import transfer  # noqa: E402
from ui import class_run  # noqa: E402
from ui import pictures  # noqa: E402
from ui import image_cache  # noqa: E402
from ui.i18n import I18N, t  # noqa: E402

TABS: list[tuple[str, str, ModuleType]] = [  # (section, tab, module): adding a tab is one line
    ("section_generate", "tab_gan", gan),
    ("section_generate", "tab_cgan", cgan),
    ("section_generate", "tab_diffusion", diffusion),
    ("section_generate", "tab_pixelcnn", pixelcnn),
    ("section_explore", "tab_interp", interpolate),
    ("section_explore", "tab_vae", vae),
    ("section_explore", "tab_superres", superres),
    ("section_train", "tab_train", train),
    ("section_train", "tab_step", step),
    ("section_train", "tab_class", class_run),
    ("section_train", "tab_tune", tune),
    ("section_train", "tab_pictures", pictures),
    ("section_lessons", "tab_aug", augment),
    ("section_lessons", "tab_ensemble", ensemble),
    ("section_lessons", "tab_transfer", transfer),
    ("section_compare", "tab_compare", compare),
    ("section_about", "tab_about", about),
]
"""The page's tabs, grouped into top-level sections in the order they first appear. Keys are
``ui.i18n`` keys and the tabs' ids; a section with one tab shows it directly (its id is the tab's),
a section with more shows a second row of tabs (its id is the section's). Each module's
``build_tab()`` lays out its tab and returns its checkpoint pickers."""
SYSTEM_FONTS = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "Noto Sans CJK SC",
                "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Micro Hei",
                "Helvetica", "Arial", "sans-serif"]  # CJK fonts by name: where system-ui has none, Chinese still shows
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Noto Sans Mono", "monospace"]
THEME = gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS)
CSS = ("#gan-grid img, #cgan-grid img, #train-grid img, .pixelated img { image-rendering: pixelated; }"
       " .below-label .image-container img { padding-top: 2.4rem; box-sizing: border-box; }"  # clear of the label
       " #about-models td:first-child { white-space: nowrap; }"  # a model's name never breaks mid-word
       # captions whole on a projector: "ESPCN (name): dB, SSIM", "completion 3"
       " #sr-results .caption-label, #pixelcnn-completions-out .caption-label { white-space: normal; max-width: 94%; }"
       # twelve columns in a projector's 1024 px (with ui.compare.COLUMN_SHARES): smaller type, less padding
       " #compare-table td, #compare-table .cell-wrap, #compare-upscalers td, #compare-upscalers .cell-wrap"
       " { font-size: 12px !important; }"
       " #compare-table th, #compare-table th *, #compare-upscalers th, #compare-upscalers th * { font-size: 11px !important; }"
       " #compare-table td, #compare-table th, #compare-upscalers td, #compare-upscalers th { padding: 4px 5px !important; }")


def refresh_pickers(pickers: list[common.Picker]):
    """A callable updating every picker's dropdown from the (dataset, current) values it is given."""

    def refresh(*values: str) -> dict | list[dict]:
        pairs = zip(values[0::2], values[1::2])
        updates = [p.refresh(d, c) for p, (d, c) in zip(pickers, pairs)]
        return updates[0] if len(updates) == 1 else updates  # one output takes a bare value

    return refresh


def sections() -> list[tuple[str, list[tuple[str, ModuleType]]]]:
    """``TABS`` grouped: (section, [(tab, module), ...]) in order of first appearance."""
    grouped: dict[str, list[tuple[str, ModuleType]]] = {}
    for section, key, module in TABS:
        grouped.setdefault(section, []).append((key, module))
    return list(grouped.items())


def on_select(tab: gr.Tab, pickers: list[common.Picker]) -> None:
    """When ``tab`` is opened: pick the brush on the sketchpads it shows, fit its plotly figures to
    the page's width, and refresh ``pickers`` (a section's are all its tabs' pickers, since opening
    it shows one of them)."""
    tab.select(None, js=components.SELECT_BRUSH_JS, api_visibility="private", queue=False)
    tab.select(None, js=components.RELAYOUT_JS, api_visibility="private", queue=False)
    if pickers:
        inputs = [c for p in pickers for c in (p.dataset, p.checkpoint)]
        tab.select(refresh_pickers(pickers), inputs, [p.checkpoint for p in pickers],
                   api_visibility="private", queue=False)


def build_section(section: str, tabs: list[tuple[str, ModuleType]]) -> None:
    """One top-level tab: the module itself when the section has one tab, else nested tabs."""
    if len(tabs) == 1:
        key, module = tabs[0]
        with gr.Tab(t(section), id=key, elem_id=key) as tab:
            pickers = module.build_tab()
        on_select(tab, pickers)
        return
    everyone: list[common.Picker] = []
    with gr.Tab(t(section), id=section, elem_id=section) as outer:
        with gr.Tabs(elem_id=f"{section}-tabs"):
            for key, module in tabs:
                with gr.Tab(t(key), id=key, elem_id=key) as tab:
                    pickers = module.build_tab()
                on_select(tab, pickers)
                everyone += pickers
    on_select(outer, everyone)


SESSION_CAPACITY = 200  # sessions whose state the server keeps (gradio's default, 10,000, let memory grow)
CACHE_SWEEP = (120, 600)  # every 2 minutes, delete uploads and outputs older than 10 minutes


def build_app() -> gr.Blocks:
    """All tabs, grouped into sections (``TABS``), in one ``guard.LabBlocks`` (every input value
    checked, every handler guarded); each tab or section refreshes its checkpoint lists when
    opened (so runs trained in the Train tab appear at once); a closed page's session state is
    dropped at once; gradio's image cache is written whole before any reply names a file."""
    image_cache.install()
    common.ON_OPEN.clear()
    with guard.LabBlocks(title="AIGC lab", delete_cache=CACHE_SWEEP) as demo:
        gr.Markdown(t("header"))
        with gr.Tabs(elem_id="sections"):
            for section, tabs in sections():
                build_section(section, tabs)

        for fn, inputs, outputs in common.ON_OPEN:  # every tab shows a result for its defaults
            demo.load(fn, inputs, outputs, api_visibility="private")

        def forget(request: gr.Request) -> None:
            guard.forget_session(demo, request)

        demo.unload(forget)
    demo.queue(max_size=int(os.environ.get("AIGC_QUEUE_SIZE", "32")), default_concurrency_limit=4)
    guard.guard_handlers(demo)
    return demo


MAX_FILE_SIZE = 5 * 1024 * 1024  # bytes per uploaded file (gradio answers 413 above it)
# Gradio checks only file parts against max_file_size: a form field without a filename or a
# JSON body (/queue/join) of any size is read into memory. FastAPI's body limit refuses any
# request body above one file plus room for the form around it (413, counted while streaming).
MAX_BODY_SIZE = MAX_FILE_SIZE + 1024 * 1024


def launch(demo: gr.Blocks, **kwargs) -> None:
    """Launch with the lab's settings (server name/port from GRADIO_SERVER_NAME/PORT).

    Files are served only from gradio's cache (no ``allowed_paths``): the checkpoints, the
    data and the code stay private; ``tests/test_app_http.py`` checks it over HTTP.
    """
    app_kwargs = {"max_body_size": MAX_BODY_SIZE, "middleware": [Middleware(guard.UploadBudget)],
                  **kwargs.pop("app_kwargs", {})}
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME"),
        server_port=int(os.environ["GRADIO_SERVER_PORT"]) if os.environ.get("GRADIO_SERVER_PORT") else None,
        share=False, max_file_size=MAX_FILE_SIZE, app_kwargs=app_kwargs, i18n=I18N, theme=THEME, css=CSS,
        state_session_capacity=SESSION_CAPACITY,
        footer_links=["api", "settings"], **kwargs,
    )


demo = build_app()

if __name__ == "__main__":
    launch(demo)
