"""Tabs in headless Chromium that test_browser.py does not drive: Super-resolution (Explore),
PixelCNN (Generate), Tune (Train), Your pictures, the Lessons and Compare, the Enlarge switch (GAN,
and the VAE tab's samples from the prior), in English and
Chinese where the tab speaks both, each ending on a screenshot (``test_browser.shot``: a
temporary folder, or docs/screenshots/ with AIGC_UPDATE_SCREENSHOTS=1) and with no request
leaving 127.0.0.1.

The app runs on the shipped checkpoints when they are there (else on the tiny ones of the client
tests); where those folders hold no PixelCNN, the tiny untrained ones of test_pixelcnn_app.py are
added, so the PixelCNN test passes with a shipped checkpoint or without one."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app_helpers import REPO, AppServer
from test_browser import (  # fixtures and helpers only: a test_* imported here would run twice
    TIMEOUT,
    browser,  # noqa: F401  (a fixture)
    close_pages,  # noqa: F401  (an autouse fixture: each test's pages closed when it ends)
    open_page,
    open_tab,
    outside_requests,  # noqa: F401  (a fixture)
    shot,
    wait_image,
    wait_loaded,
)
from test_pixelcnn_app import pixelcnn_folder  # noqa: F401  (a fixture: tiny untrained PixelCNNs)

pytestmark = pytest.mark.slow


def has_pixelcnn(folder: Path) -> bool:
    from aigc_models.checkpoints import list_checkpoints
    from ui.pixelcnn import families

    return any(info["family"] in families() for info in list_checkpoints(folder))


@pytest.fixture(scope="module")
def server(root: Path, request: pytest.FixtureRequest):
    """The app on the shipped checkpoints when they are there, else on the tiny ones; the tiny
    PixelCNNs are added only where no PixelCNN checkpoint is listed."""
    shipped = REPO / "checkpoints"
    dirs = [shipped] if (shipped / "mnist-dcgan" / "model.safetensors").exists() else [root / "checkpoints"]
    if not has_pixelcnn(dirs[0]):
        dirs.append(request.getfixturevalue("pixelcnn_folder"))
    # one torch thread: on a 2-core machine a training run in the app would otherwise take both cores and
    # starve Chromium's renderer (a click on Stop then waited over 120 s in a loaded run)
    app = AppServer(root, extra_env={"OMP_NUM_THREADS": "1", "AIGC_CHECKPOINT_DIRS": os.pathsep.join(map(str, dirs)),
                                     "AIGC_RUNS_DIR": str(root / "browser-tabs-runs")})
    app.checkpoint_dirs = os.pathsep.join(map(str, dirs))
    yield app
    app.stop()


# ----------------------------------------------------------------------------- helpers


def srcs(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.src)")


def wait_all_loaded(page, elem_id: str, at_least: int) -> list[str]:
    """Wait until ``#elem_id`` shows at least ``at_least`` images, scroll each into view (lazy
    images load only then) and wait until every one has loaded; their srcs."""
    sel = f"#{elem_id} img"
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[sel, at_least],
                           timeout=TIMEOUT)
    images = page.locator(sel)
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
    page.wait_for_function("(sel) => [...document.querySelectorAll(sel)].every(i => i.complete && i.naturalWidth > 0)",
                           arg=sel, timeout=TIMEOUT)
    page.evaluate("window.scrollTo(0, 0)")
    return srcs(page, sel)


def wait_srcs_change(page, elem_id: str, previous: list[str]) -> list[str]:
    """Wait until no image src of ``#elem_id`` is one of ``previous`` (a whole new set)."""
    page.wait_for_function("([sel, prev]) => { const s = [...document.querySelectorAll(sel)].map(i => i.src);"
                           " return s.length > 0 && s.every(x => !prev.includes(x)); }",
                           arg=[f"#{elem_id} img", previous], timeout=TIMEOUT)
    return srcs(page, f"#{elem_id} img")


def wait_text(page, elem_id: str, text: str, start: bool = False, timeout: float = TIMEOUT) -> str:
    test = "startsWith" if start else "includes"
    page.wait_for_function(f"([sel, text]) => (document.querySelector(sel)?.innerText || '').trim().{test}(text)",
                           arg=[f"#{elem_id}", text], timeout=timeout)
    return page.locator(f"#{elem_id}").inner_text()


def fetch_image(page, src: str) -> Image.Image:
    return Image.open(io.BytesIO(page.request.get(src).body()))


def suffix(locale: str) -> str:
    return "" if locale == "en-US" else f"-{locale}"


# ----------------------------------------------------------------------------- super-resolution

SR_WORDS = {
    "en-US": {"path": ("Explore", "Super-resolution"), "labels": ["Scale", "Enlarge", "Input, the upscalings and the truth"],
              "opened": "test image #0, shrunk 2 times", "source": "test image #3, shrunk 2 times",
              "x4": "test image #3, shrunk 4 times", "adversarial": "ESPCN + adversarial (mnist-espcn-x4-gan)", "drawn": "your drawing, shrunk", "header": "method", "nearest": "nearest", "bicubic": "bicubic",
              "captions": ["low-resolution input 14 × 14", "nearest: ", "bicubic: ", "truth 28 × 28"]},
    "zh-CN": {"path": ("探索", "超分辨率"), "labels": ["放大倍数", "放大", "输入、各种放大结果和真实图像"],
              "opened": "测试图像 #0，缩小 2 倍", "source": "测试图像 #3，缩小 2 倍",
              "x4": "测试图像 #3，缩小 4 倍", "adversarial": "ESPCN + 对抗损失 (mnist-espcn-x4-gan)", "drawn": "你的画，缩小", "header": "方法", "nearest": "最近邻", "bicubic": "双三次",
              "captions": ["低分辨率输入 14 × 14", "最近邻: ", "双三次: ", "真实图像 28 × 28"]},
}


TILE_UNCLIPPED_JS = """([id, index]) => {
  // whether image number `index` of a gallery, with its caption, is seen without scrolling: it lies
  // inside the gallery's block, and no box around it (up to the block) hides content to scroll to
  const img = document.querySelectorAll(`#${id} img`)[index];
  const tile = img.getBoundingClientRect();
  for (let el = img.parentElement; el && el !== document.body; el = el.parentElement) {
    if (/(auto|scroll|hidden|clip)/.test(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight + 1) return false;
    if (el.id === id) {
      const box = el.getBoundingClientRect();
      return tile.top >= box.top - 1 && tile.bottom <= box.bottom + 1;
    }
  }
  return false;
}"""


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_super_resolution_opens_on_content_and_follows_the_picked_tile(browser, server, outside_requests, locale):  # noqa: F811
    """The tab opens on a comparison (input, nearest, bicubic, each listed model, truth); clicking a
    test image compares that one instead, with its table in the page's language."""
    words = SR_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    open_tab(page, *words["path"])
    gallery = wait_all_loaded(page, "sr-gallery", 6)  # the test images to click
    first = wait_all_loaded(page, "sr-results", 4)  # on open: low-res input, nearest, bicubic, (models), truth
    assert len(set(first)) == len(first)
    for label in words["labels"]:
        page.get_by_text(label, exact=True).filter(visible=True).first.wait_for(state="visible")  # "Enlarge" is on other tabs too
    wait_text(page, "sr-table", words["opened"], start=True)  # what the page opens on speaks its language too

    page.locator("#sr-gallery button.thumbnail-item").nth(3).click()  # test image #3
    changed = wait_srcs_change(page, "sr-results", first)
    table = wait_text(page, "sr-table", words["source"], start=True)
    assert len(changed) == len(first) and page.locator("#sr-index input").input_value() == "3"
    for word in (words["header"], "PSNR", "SSIM", words["nearest"], words["bicubic"]):
        assert word in table, (word, table)
    captions = page.locator("#sr-results").inner_text()  # each tile captioned, with its PSNR and SSIM
    assert all(caption in captions for caption in words["captions"]) and captions.count(" dB, SSIM ") == len(changed) - 2
    truth = fetch_image(page, changed[-1])  # the truth: test image #3 at 8 x 8 pixels a pixel
    low = fetch_image(page, changed[0])  # the input: 14 x 14 centred on dark grey
    assert truth.size == low.size == (224, 224)
    grey = np.asarray(low.convert("L"), dtype=np.int16)
    assert abs(int(grey[4, 4]) - 48) <= 8  # the margin around the small input
    assert gallery == srcs(page, "#sr-gallery img")  # the test images stay

    wait_loaded(page, ["sr-gallery"])
    wait_all_loaded(page, "sr-results", len(changed))
    shot(page, f"superres{suffix(locale)}")
    if (REPO / "checkpoints" / "mnist-espcn-x4-gan").exists():  # x4: the pixel-loss and the adversarial ESPCN
        page.get_by_role("radio", name="x4", exact=True).check()
        wait_text(page, "sr-table", words["x4"], start=True)
        page.wait_for_function("(word) => document.querySelector('#sr-results').innerText.includes(word)",
                               arg=words["adversarial"], timeout=TIMEOUT)
        shown = wait_all_loaded(page, "sr-results", 6)
        assert page.evaluate(TILE_UNCLIPPED_JS, ["sr-results", len(shown) - 1])  # the truth: seen without scrolling
        shot(page, f"superres-x4{suffix(locale)}")

    # a drawn "1" is what gets shrunk and enlarged now: the truth tile is the stroke
    before = srcs(page, "#sr-results img")
    draw_stroke(page, "sr-sketch")
    page.locator("#sr-go").click()
    wait_text(page, "sr-table", words["drawn"], start=True)
    drawn = wait_srcs_change(page, "sr-results", before)
    truth = np.asarray(fetch_image(page, drawn[-1]).convert("L"), dtype=np.int16)
    assert truth[:, 112].max() > 200 and truth[:, :40].max() < 40  # a bright vertical stroke in the middle, dark edges
    wait_all_loaded(page, "sr-results", len(drawn))
    shot(page, f"superres-drawn{suffix(locale)}")
    assert not outside_requests, outside_requests


def draw_stroke(page, elem_id: str) -> None:
    """Draw a vertical stroke (a "1") down the middle of a sketchpad, with the brush the tab picked."""
    page.locator(f"#{elem_id} button.highlight").first.wait_for(state="visible", timeout=TIMEOUT)
    box = page.locator(f"#{elem_id} canvas").last.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    for i in range(1, 14):
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.3 + 0.03 * i), steps=2)
    page.mouse.up()


# ----------------------------------------------------------------------------- enlarge (generation tabs)

ENLARGE_WORDS = {"en-US": ("Samples, upscaled × 2", "Samples"), "zh-CN": ("样本（放大 2 倍）", "样本")}


def block_label(page, elem_id: str) -> str:
    return page.locator(f"#{elem_id} [data-testid='block-label']").first.inner_text().strip()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_enlarge_switch_redraws_the_grid_upscaled_and_says_so(browser, server, outside_requests, locale):  # noqa: F811
    """On the GAN tab, "x2" draws the same samples again through the dataset's upscaler (finer
    pictures: each tile 56 pixels, not 28 repeated) and the grid's label says they are upscaled;
    "off" gives back the grid and its label."""
    upscaled, plain = ENLARGE_WORDS[locale]
    if not (REPO / "checkpoints" / "mnist-espcn-x2" / "model.safetensors").exists():
        pytest.skip("no shipped MNIST upscaler here (the server runs on the tiny checkpoints)")
    page = open_page(browser, server, outside_requests, locale=locale)
    page.locator("#section_generate-button").click()
    page.locator("#tab_gan-button").click()
    first = wait_image(page, "gan-grid")
    assert block_label(page, "gan-grid") == plain
    page.locator("#gan-enlarge").get_by_role("radio", name="x2", exact=True).check()
    enlarged = wait_image(page, "gan-grid", first)
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.innerText.trim() === text",
                           arg=["#gan-grid [data-testid='block-label']", upscaled], timeout=TIMEOUT)
    before, after = fetch_image(page, first), fetch_image(page, enlarged)
    # 64 samples, 8 a row, 2-pixel gaps: 28-pixel tiles repeated (8 * 30 + 2 = 242 wide, times k) against 56-pixel ones
    assert before.width % 242 == 0 and (after.width - 2) % 58 == 0 and after.width % 242 != 0, (before.size, after.size)
    shot(page, f"gan-enlarged{suffix(locale)}")
    page.locator("#gan-enlarge label").first.click()  # "off"
    wait_image(page, "gan-grid", enlarged)
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.innerText.trim() === text",
                           arg=["#gan-grid [data-testid='block-label']", plain], timeout=TIMEOUT)
    assert not outside_requests, outside_requests


def test_the_vae_prior_samples_enlarge_too(browser, server, outside_requests):  # noqa: F811
    """The VAE tab's samples from the prior carry the same switch: x4 decodes them again, shown
    through the x4 upscaler (112-pixel tiles), under a label that says so."""
    if not (REPO / "checkpoints" / "mnist-espcn-x4" / "model.safetensors").exists():
        pytest.skip("no shipped MNIST upscaler here (the server runs on the tiny checkpoints)")
    page = open_page(browser, server, outside_requests, locale="en-US")
    open_tab(page, "Explore", "VAE reconstruction")
    page.get_by_text("Samples from the prior", exact=True).click()
    page.locator("#vae-prior-go").click()
    first = wait_image(page, "vae-prior")
    page.locator("#vae-enlarge").get_by_role("radio", name="x4", exact=True).check()
    enlarged = wait_image(page, "vae-prior", first)
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.innerText.trim() === text",
                           arg=["#vae-prior [data-testid='block-label']", "Decoded samples from N(0, I), upscaled × 4"],
                           timeout=TIMEOUT)
    before, after = fetch_image(page, first), fetch_image(page, enlarged)
    assert before.width % 242 == 0 and (after.width - 2) % 114 == 0 and after.width % 242 != 0, (before.size, after.size)
    page.locator("#vae-prior").scroll_into_view_if_needed()
    shot(page, "vae-prior-enlarged")
    assert not outside_requests, outside_requests


# ----------------------------------------------------------------------------- PixelCNN

PIXEL_WORDS = {
    "en-US": {"path": ("Generate", "PixelCNN"), "labels": ["The first sample: click a pixel", "Complete",
                                                          "Predicted distribution over the K levels"],
              "pixel": "Pixel (row {row}, column {col})", "source": "test image #2", "kept": "rows 0–13 kept",
              "original": "original: test image #2"},
    "zh-CN": {"path": ("生成", "PixelCNN"), "labels": ["第一张样本：点击一个像素", "补全", "K 个等级上的预测分布"],
              "pixel": "像素（第 {row} 行，第 {col} 列）", "source": "测试图像 #2", "kept": "保留第 0–13 行",
              "original": "原图：测试图像 #2"},
}


def bars(page) -> list[tuple[str, float]]:
    """The bar plot's (level, probability) pairs, read from Vega's aria labels."""
    labels = page.eval_on_selector_all('#pixelcnn-bars path[aria-roledescription="bar"]',
                                       "els => els.map(e => e.getAttribute('aria-label'))")
    out = []
    for label in labels:
        fields = dict(part.split(": ", 1) for part in label.split("; "))
        out.append((fields["level"], float(fields["probability"])))
    return sorted(out)


def pixel_position(image, row: int, col: int) -> dict[str, float]:
    """Where pixel (row, col) of the 28 x 28 image shown by the ``<img>`` ``image`` is, relative to
    the element: the picture is drawn inside it as its CSS object-fit says (scale-down, contain)."""
    width, height, natural_w, natural_h, fit = image.evaluate(
        "e => [e.clientWidth, e.clientHeight, e.naturalWidth, e.naturalHeight, getComputedStyle(e).objectFit]")
    scale = min(width / natural_w, height / natural_h)
    if fit == "scale-down":
        scale = min(scale, 1.0)
    elif fit == "fill":
        scale = None
    shown_w, shown_h = (width, height) if scale is None else (natural_w * scale, natural_h * scale)
    left, top = (width - shown_w) / 2, (height - shown_h) / 2
    return {"x": left + (col + 0.5) * shown_w / 28, "y": top + (row + 0.5) * shown_h / 28}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_pixelcnn_samples_shows_a_pixels_distribution_and_completes(browser, server, outside_requests, locale,  # noqa: F811
                                                                    monkeypatch):
    """Sampling gives a grid and the GIF of the first image filling in; a click on a pixel of the
    first sample shows the model's distribution for it; a test image's completions keep its top rows."""
    from ui import common, pixelcnn

    words = PIXEL_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    open_tab(page, *words["path"])
    opened = {elem_id: wait_image(page, elem_id) for elem_id in ("pixelcnn-grid", "pixelcnn-gif", "pixelcnn-pixel-image")}
    assert page.locator("#pixelcnn-missing").is_hidden()  # a checkpoint is listed
    monkeypatch.setenv("AIGC_CHECKPOINT_DIRS", server.checkpoint_dirs)  # the app's, to read the opening card
    guidance, guidable = pixelcnn.card_guidance(common.checkpoint_choices("mnist", pixelcnn.families())[0][1])
    box = page.locator("#pixelcnn-guidance input[type=number]")
    assert float(box.input_value()) == guidance and box.is_enabled() == guidable  # the card's guidance
    for label in words["labels"]:
        page.get_by_text(label, exact=True).first.wait_for(state="visible")

    # sampling: a new seed gives a new grid, a new GIF and (the same click) the pixel view of its first image
    page.locator("#pixelcnn-seed input").fill("5")
    page.locator("#pixelcnn-generate").click()
    grid = wait_image(page, "pixelcnn-grid", previous=opened["pixelcnn-grid"])
    gif_src = wait_image(page, "pixelcnn-gif", previous=opened["pixelcnn-gif"])
    view = wait_image(page, "pixelcnn-pixel-image", previous=opened["pixelcnn-pixel-image"])
    assert fetch_image(page, grid).format == "PNG"
    gif = page.request.get(gif_src).body()
    frames = Image.open(io.BytesIO(gif))
    assert gif[:6] == b"GIF89a" and frames.size == (280, 280) and frames.n_frames >= 15  # a frame a row
    frames.seek(0)
    assert (np.asarray(frames.convert("RGB")) == pixelcnn.NOT_YET).all()  # it starts with nothing drawn

    # a click on the first sample: that pixel's row and column, its distribution and the marked image
    wait_loaded(page, ["pixelcnn-pixel-image"])
    image = page.locator("#pixelcnn-pixel-image img").first
    image.scroll_into_view_if_needed()
    row, col = 19, 8
    image.click(position=pixel_position(image, row, col))
    page.wait_for_function("() => document.querySelector('#pixelcnn-row input').value !== '14'", timeout=TIMEOUT)
    assert (int(page.locator("#pixelcnn-row input").input_value()),
            int(page.locator("#pixelcnn-col input").input_value())) == (row, col)
    note = wait_text(page, "pixelcnn-pixel-note", words["pixel"].format(row=row, col=col), start=True)
    wait_image(page, "pixelcnn-pixel-image", previous=view)  # the clicked pixel outlined
    found = re.search(r"level drawn, (\d+), had probability (\d+\.\d+)|抽到的等级 (\d+) 的概率是 (\d+\.\d+)", note)
    assert found, note
    drawn, p = (int(found[1]), float(found[2])) if found[1] else (int(found[3]), float(found[4]))
    page.wait_for_function("""([level, p]) => [...document.querySelectorAll('#pixelcnn-bars path[aria-roledescription="bar"]')]
        .some(b => { const f = Object.fromEntries(b.getAttribute('aria-label').split('; ').map(x => x.split(': ')));
                     return Number(f.level) === level && Math.abs(Number(f.probability) - p) < 1e-3; })""",
                           arg=[drawn, p], timeout=TIMEOUT)  # the bars are this pixel's: its drawn level's height
    levels = bars(page)
    assert len(levels) >= 2 and sum(q for _, q in levels) == pytest.approx(1, abs=1e-3), levels

    # completion: it opens on test image #0's; a click on #2 completes #2: its top 14 rows kept, the rest drawn
    wait_text(page, "pixelcnn-complete-note", words["source"].replace("2", "0"), start=True)
    page.locator("#pixelcnn-gallery button.thumbnail-item").nth(2).click()  # test image #2
    text = wait_text(page, "pixelcnn-complete-note", words["source"], start=True)
    assert words["kept"] in text, text
    page.get_by_text(words["original"]).first.wait_for(state="visible")
    items = wait_all_loaded(page, "pixelcnn-completions-out", 5)  # the original and 4 completions
    tiles = [np.asarray(fetch_image(page, src).convert("L"), dtype=np.int16)[4::8, 4::8] for src in items]
    original, completions = tiles[0], tiles[1:]
    assert all(t.shape == (28, 28) for t in tiles)
    for completion in completions:  # webp tiles: close, not bit for bit
        assert np.abs(completion[:14] - original[:14]).mean() < 6, np.abs(completion[:14] - original[:14]).max()
    assert any(np.abs(c[14:] - original[14:]).mean() > np.abs(c[:14] - original[:14]).mean() + 1 for c in completions)

    wait_loaded(page, ["pixelcnn-grid", "pixelcnn-gif", "pixelcnn-pixel-image"])
    wait_all_loaded(page, "pixelcnn-completions-out", 5)
    shot(page, f"pixelcnn{suffix(locale)}")
    assert not outside_requests, outside_requests


# ----------------------------------------------------------------------------- Tune


def test_tune_runs_the_smallest_study_from_the_browser(browser, server, outside_requests):  # noqa: F811
    """The Tune tab shows its controls; one 5-second trial (the least the app allows) of the MLP
    GAN runs in the Train queue, fills the table and the history figure and is saved as a run."""
    page = open_page(browser, server, outside_requests)
    open_tab(page, "Train", "Tune")
    wait_text(page, "tune-status", "Below, a study recorded earlier")  # the tab opens on it
    page.locator("#tune-history .js-plotly-plot").wait_for(state="visible")
    for label in ("Optimise", "Trials", "Seconds per trial", "Start the study"):
        page.get_by_text(label, exact=True).first.wait_for(state="visible")
    page.get_by_role("radio", name="MLP GAN", exact=True).check()
    page.get_by_role("radio", name="FD (lower is better)", exact=True).check()
    page.get_by_role("spinbutton", name="Trials", exact=True).fill("1")
    page.get_by_role("spinbutton", name="Seconds per trial", exact=True).fill("5")
    page.get_by_role("textbox", name="Run name (optional)", exact=True).fill("browser-study")
    page.locator("#tune-start").click()

    status = wait_text(page, "tune-status", "Study finished", timeout=3 * TIMEOUT)  # data, a trial, its scoring
    assert "runs/browser-study" in status, status
    assert page.locator("#tune-saved textarea, #tune-saved input").first.input_value().startswith("runs/browser-study")
    table = page.locator("#tune-table")
    table.get_by_text("complete", exact=True).filter(visible=True).first.wait_for(state="visible")  # trial 0's state
    assert "FD" in table.inner_text()
    page.locator("#tune-history .js-plotly-plot").wait_for(state="visible")
    page.locator("#tune-scatter .js-plotly-plot").wait_for(state="visible")
    shot(page, "tune")
    assert not outside_requests, outside_requests


@pytest.mark.parametrize("width, height", [(1400, 1000), (1024, 768)])
def test_tune_opens_in_chinese_on_a_headed_table(browser, server, outside_requests, width, height):  # noqa: F811
    """A Chinese page's Tune tab before any study opens on the recorded study: its note in Chinese,
    the trials table with its headers (not "1 2 3"), the figures, and the metric's names in Chinese,
    at a projector's size too."""
    page = open_page(browser, server, outside_requests, locale="zh-CN")
    page.set_viewport_size({"width": width, "height": height})
    open_tab(page, "训练", "调参")
    wait_text(page, "tune-status", "下面是之前录制的一次搜索")
    page.locator("#tune-history .js-plotly-plot").wait_for(state="visible")
    page.locator("#tune-importance .js-plotly-plot").wait_for(state="visible")
    # the headers arrive with the page's on-open results (the table's label also says 试验: wait for 状态)
    page.wait_for_function("() => (document.querySelector('#tune-table')?.innerText || '').includes('状态')",
                           timeout=TIMEOUT)
    header = page.locator("#tune-table").inner_text()
    assert "FD" in header and "已剪枝" in header and "pruned" not in header, header  # the states in Chinese
    page.get_by_role("radio", name="FD（越低越好）", exact=True).wait_for(state="visible")
    shot(page, "tune-zh-CN" + ("" if width == 1400 else "-1024"))
    assert not outside_requests, outside_requests


# ----------------------------------------------------------------------------- transfer lesson

TRANSFER_WORDS = {
    "en-US": {"path": ("Lessons", "Transfer"), "heading": "Transfer learning, measured", "panel": "100 images",
              "caption": "from scratch, no augmentation", "size": "1,000", "table": "FD at the end"},
    "zh-CN": {"path": ("课堂", "迁移学习"), "heading": "迁移学习，实测", "panel": "100 张图像",
              "caption": "从零训练, 无增强", "size": "1,000", "table": "结束时 FD"},
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_transfer_lesson_opens_on_the_measured_curves(browser, server, outside_requests, locale):  # noqa: F811
    """The lesson opens on the curves, the runs' samples and their table in the page's language;
    picking another training-set size shows that size's runs."""
    from ui import transfer

    result = transfer.load_results()
    if result is None or len(transfer.sizes_of(result)) < 2:
        pytest.skip("docs/transfer-curves.json is not measured in this checkout")
    words = TRANSFER_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    open_tab(page, *words["path"])
    page.get_by_text(words["heading"]).first.wait_for(state="visible")
    page.locator("#transfer-curves .js-plotly-plot").first.wait_for(state="visible")
    wait_text(page, "transfer-curves", words["panel"])
    first = wait_all_loaded(page, "transfer-samples", 2)
    wait_text(page, "transfer-samples", words["caption"])
    wait_text(page, "transfer-table", words["table"])
    page.get_by_role("radio", name=words["size"], exact=True).check()
    changed = wait_srcs_change(page, "transfer-samples", first)
    assert len(changed) >= 2
    wait_loaded(page, [])
    shot(page, f"transfer{suffix(locale)}")
    assert not outside_requests, outside_requests


# ----------------------------------------------------------------------------- your pictures

PICTURE_WORDS = {
    "en-US": {"path": ("Train", "Your pictures"), "example": "100 pictures", "read": "12 pictures",
              "skipped": "not an image file", "digits": "digits (framed like MNIST)", "done": "finished after 30 steps",
              "count": "(your 12 pictures)"},
    "zh-CN": {"path": ("训练", "你的图片"), "example": "100 张图片", "read": "12 张图片", "skipped": "不是图片文件",
              "digits": "数字（按 MNIST 裁切）", "done": "共 30 步", "count": "（你的 12 张图片）"},
}


def digits_zip(path: Path) -> Path:
    """12 MNIST test digits drawn dark on light paper at 84 x 84 (as a student scans them), and a note."""
    import zipfile

    from aigc_models import data as data_mod

    digits = data_mod.load_split("mnist", train=False).images[:12]
    with zipfile.ZipFile(path, "w") as archive:
        for i, image in enumerate(digits):
            buf = io.BytesIO()
            Image.fromarray(255 - image[0].numpy()).resize((84, 84)).save(buf, format="JPEG", quality=95)
            archive.writestr(f"mine/{i}.jpg", buf.getvalue())
        archive.writestr("mine/notes.txt", "my digits")
    return path


@pytest.mark.parametrize("locale, width, height", [("en-US", 1400, 1000), ("zh-CN", 1024, 768)])
def test_your_pictures_are_read_shown_and_trained_on(browser, server, outside_requests, locale, width, height,  # noqa: F811
                                                     tmp_path):
    """The tab opens on the example sneakers; a zip of drawn digits is read as the model will see
    them (the note and a skipped file named), and 30 steps of a DCGAN on them stream samples."""
    words = PICTURE_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    page.set_viewport_size({"width": width, "height": height})
    open_tab(page, *words["path"])
    opened = wait_image(page, "pic-preview")
    wait_text(page, "pic-summary", words["example"])
    page.locator("#pic-files input[type=file]").set_input_files(str(digits_zip(tmp_path / "mine.zip")))
    wait_text(page, "pic-summary", words["read"])
    wait_text(page, "pic-summary", words["skipped"])
    framed = wait_image(page, "pic-preview", opened)
    page.get_by_role("radio", name=words["digits"], exact=True).check()
    wait_image(page, "pic-preview", framed)
    page.locator("#pic-steps input").fill("30")
    page.locator("#pic-start").click()
    wait_text(page, "pic-status", words["count"])
    wait_text(page, "pic-status", words["done"])
    wait_image(page, "pic-grid")
    assert page.locator("#pic-saved textarea").input_value().startswith("runs/pictures-dcgan-")
    wait_loaded(page, ["pic-preview", "pic-grid"])
    shot(page, "pictures" + suffix(locale) + ("" if width == 1400 else "-1024"))
    assert not outside_requests, outside_requests


# ----------------------------------------------------------------------------- ensembles

ENSEMBLE_WORDS = {
    "en-US": {"path": ("Lessons", "Ensembles"), "opened": "Seed 0.", "seed": "Seed 3.", "table": "FD (lower is better)"},
    "zh-CN": {"path": ("课堂", "模型集成"), "opened": "种子 0。", "seed": "种子 3。", "table": "FD（越低越好）"},
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_the_ensembles_lesson_compares_the_members_their_average_and_a_mixture(browser, server, outside_requests,  # noqa: F811
                                                                              locale):
    """It opens on the ticked members' row each, the average and the mixture for seed 0, and the
    measured table; a third member (a VAE) and another seed give a new figure with one row more."""
    words = ENSEMBLE_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    open_tab(page, *words["path"])
    first = wait_image(page, "ensemble-figure")
    wait_text(page, "ensemble-note", words["opened"])
    boxes = page.locator("#ensemble-members input[type=checkbox]")
    assert boxes.count() >= 3 and sum(boxes.nth(i).is_checked() for i in range(boxes.count())) == 2
    before = fetch_image(page, first).size
    # a VAE joins the two GANs (a conditional member would be refused beside unconditional ones)
    page.locator("#ensemble-members label", has_text="VAE").first.locator("input").check()
    page.locator("#ensemble-seed input").fill("3")
    page.locator("#ensemble-go").click()
    wait_text(page, "ensemble-note", words["seed"])
    after = fetch_image(page, wait_image(page, "ensemble-figure", first)).size
    assert after[0] == before[0] and after[1] > before[1]  # the same width, a member's row more
    if (REPO / "docs" / "ensemble-table.json").exists():
        wait_text(page, "ensemble-table", words["table"])
    wait_loaded(page, ["ensemble-figure"])
    shot(page, f"ensembles{suffix(locale)}")
    assert not outside_requests, outside_requests


# ----------------------------------------------------------------------------- compare

COMPARE_WORDS = {"en-US": ("Compare", "one pass", "thread"), "zh-CN": ("对比", "一次前向", "个线程")}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_compare_fits_a_projector_without_a_sideways_scroll(browser, server, outside_requests, locale):  # noqa: F811
    """At 1024 x 768 the Compare tab draws its picture and shows all twelve columns of its table (and
    the eleven of the upscalers' table) without a horizontal scroll bar, its cells in the page's language."""
    tab, one_pass, thread = COMPARE_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    page.set_viewport_size({"width": 1024, "height": 768})
    open_tab(page, tab)
    page.locator("#compare-plot .main-svg").first.wait_for(state="visible")
    page.wait_for_function("(word) => (document.querySelector('#compare-table')?.innerText || '').includes(word)",
                           arg=one_pass, timeout=TIMEOUT)
    table = page.locator("#compare-table").inner_text()
    assert thread in table and (locale == "en-US" or "thread" not in table), table
    if (REPO / "checkpoints" / "mnist-espcn-x4" / "model.safetensors").exists():
        page.wait_for_function("() => (document.querySelector('#compare-upscalers')?.innerText || '').includes('x4')",
                               timeout=TIMEOUT)
    widths = page.evaluate("""() => [...document.querySelectorAll('#compare-table *, #compare-upscalers *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
        .map(e => [e.scrollWidth, e.clientWidth])""")
    assert widths and all(scroll <= client + 1 for scroll, client in widths), widths
    shot(page, "compare" + ("" if locale == "en-US" else "-zh-CN") + "-1024")
    assert not outside_requests, outside_requests


def test_a_figure_fits_its_tab_after_the_window_changed_while_it_was_hidden(browser, server, outside_requests):  # noqa: F811
    """A plotly figure relayouts on the window's resize event only: one drawn at 1400 px, hidden
    while the window narrowed to 1024 and widened again, kept its old width; opening a tab now
    fires that event, so the figure fills its box again."""
    page = open_page(browser, server, outside_requests)
    open_tab(page, "Lessons", "Transfer")
    page.locator("#transfer-curves .main-svg").first.wait_for(state="visible")
    fit = """() => { const svg = document.querySelector('#transfer-curves .main-svg');
                     return [Number(svg.getAttribute('width')), document.querySelector('#transfer-curves').getBoundingClientRect().width]; }"""
    open_tab(page, "Compare")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.locator("#compare-plot .main-svg").first.wait_for(state="visible")
    open_tab(page, "Lessons", "Transfer")
    page.wait_for_function(f"() => {{ const [svg, box] = ({fit})(); return Math.abs(svg - box) < 4; }}", timeout=TIMEOUT)
    open_tab(page, "Compare")
    page.set_viewport_size({"width": 1400, "height": 1000})
    open_tab(page, "Lessons")  # the section opens on the tab last shown in it: Transfer
    page.wait_for_function(f"() => {{ const [svg, box] = ({fit})(); return Math.abs(svg - box) < 4; }}", timeout=TIMEOUT)
    svg, box = page.evaluate(fit)
    assert box > 1100 and abs(svg - box) < 4, (svg, box)
    assert not outside_requests, outside_requests
