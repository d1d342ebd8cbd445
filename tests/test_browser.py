"""The app in headless Chromium: every tab's main control gives a result image,
training streams and stops, the Diffusion tab denoises, scrubs and plays its GIF in both
languages, the interface follows the browser language, no request leaves 127.0.0.1, and a
screenshot of each tab is saved: in a temporary folder, or in docs/screenshots/ (the README's)
with AIGC_UPDATE_SCREENSHOTS=1, so that a test run does not rewrite tracked files.

Tabs sit in sections (app.TABS): ``open_tab(page, "Generate", "GAN sampling")`` clicks the
section, then the tab; a section of one tab ("About") is one click."""

from __future__ import annotations

import io
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
from PIL import Image

from app_helpers import REPO, AppServer
from test_diffusion_app import make_tiny_diffusion
from ui.i18n import EN as I18N_EN

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium) so the browser test cannot run",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
pytestmark = pytest.mark.slow  # a browser and an app each: 5-20 s a test

SHOTS = (REPO / "docs" / "screenshots" if os.environ.get("AIGC_UPDATE_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "aigc_screenshots")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TIMEOUT = 120_000  # generous: a busy 2-core machine is slow, and a test waits on events, never on the clock


def has_diffusion(folder: Path) -> bool:
    from aigc_models.checkpoints import list_checkpoints
    from ui.diffusion import families

    return any(info["family"] in families() for info in list_checkpoints(folder))


TEACHER_CODE = "browser-teacher"
OPTIMISER = I18N_EN["optimiser"]


@pytest.fixture(scope="module")
def server(root: Path):
    """The app on the shipped checkpoints when they are there (so the screenshots show real
    samples), else on the tiny ones of the client tests; a tiny diffusion checkpoint is added
    where no diffusion model is shipped."""
    shipped = REPO / "checkpoints"
    dirs = [shipped] if (shipped / "mnist-dcgan" / "model.safetensors").exists() else [root / "checkpoints"]
    if not has_diffusion(dirs[0]):
        dirs.append(make_tiny_diffusion(root / "diffusion"))
    # one torch thread: on a 2-core machine a training run in the app would otherwise take both cores and
    # starve Chromium's renderer (a click on Stop then waited over 120 s in a loaded run)
    app = AppServer(root, extra_env={"OMP_NUM_THREADS": "1", "AIGC_CHECKPOINT_DIRS": os.pathsep.join(map(str, dirs)),
                                     "AIGC_RUNS_DIR": str(root / "browser-runs"), "AIGC_TEACHER_CODE": TEACHER_CODE})
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def outside_requests():
    return []


OPEN_CONTEXTS: list = []  # the browser contexts that open_page made during the running test


@pytest.fixture(autouse=True)
def close_pages():
    """Close every page a test opened when it ends. The browser lives for the whole module, and an
    open page keeps its renderer busy (the animated GIFs repaint, the queue's heartbeat): on a
    2-core machine ten left open used about half a core (3-6 % each, and Chromium's GPU process
    13 %) through every later test of the module."""
    yield
    while OPEN_CONTEXTS:
        context = OPEN_CONTEXTS.pop()
        try:
            context.close()
        except sync_api.Error:
            pass  # the test closed it itself


def open_page(browser, server, outside: list[str], locale: str = "en-US"):
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    OPEN_CONTEXTS.append(context)

    def record(request) -> None:
        url = urlparse(request.url)
        if url.scheme in ("data", "blob"):
            return
        if url.hostname != "127.0.0.1":
            outside.append(request.url)

    context.on("request", record)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url, wait_until="load")  # not "networkidle": the queue's stream keeps a connection open
    page.get_by_role("tab").first.wait_for(state="visible")
    return page


def open_tab(page, section: str, tab: str | None = None) -> None:
    """Click the section, then the tab in it, as the page labels them; a section of one tab
    (app.TABS) shows that tab without a second row, so there is no tab to click then. A section
    and its first tab may share a name ("Train"): the section's is the first on the page."""
    for name in (section, tab):
        if name is None or (name == tab and page.get_by_role("tab", name=name, exact=True).count() == 0):
            continue
        found = page.get_by_role("tab", name=name, exact=True)
        (found.first if name == section else found.last).click()
        page.get_by_role("tab", name=name, exact=True, selected=True).first.wait_for(state="visible")


def click_visible(page, text: str) -> None:
    page.get_by_role("button", name=text, exact=True).filter(visible=True).first.click()


def wait_image(page, elem_id: str, previous: str | None = None) -> str:
    """Wait for an image in ``#elem_id`` (different from ``previous``) and return its src."""
    img = page.locator(f"#{elem_id} img").first
    img.wait_for(state="visible")
    if previous is not None:
        page.wait_for_function(
            "([sel, prev]) => { const i = document.querySelector(sel); return i && i.src && i.src !== prev; }",
            arg=[f"#{elem_id} img", previous], timeout=TIMEOUT)
    return img.get_attribute("src")


def wait_idle(page) -> None:
    """Wait until no result box shows Gradio's progress line ("processing | …")."""
    page.wait_for_function("() => !document.body.innerText.includes('processing |')", timeout=TIMEOUT)


def wait_settled(page, elem_ids: list[str]) -> None:
    """Wait until none of the ``#elem_id`` components shows Gradio's status tracker (a spinner with a
    timer while it loads), which a later event, e.g. the drawing's own change after a click on
    Reconstruct, can start after the awaited image arrived."""
    for elem_id in elem_ids:
        page.wait_for_function("""(sel) => [...document.querySelectorAll(sel)]
            .every(w => w.classList.contains('hide') || w.offsetParent === null)""",
                               arg=f"#{elem_id} .wrap.default, #{elem_id} .wrap.center", timeout=TIMEOUT)


def wait_loaded(page, elem_ids: list[str]) -> None:
    """Scroll each ``#elem_id`` image into view and wait until it has loaded (images below the
    fold load lazily: a full-page screenshot would show them empty)."""
    for elem_id in elem_ids:
        page.locator(f"#{elem_id} img").first.scroll_into_view_if_needed()
        page.wait_for_function("(sel) => { const i = document.querySelector(sel); return i && i.complete && i.naturalWidth > 0; }",
                               arg=f"#{elem_id} img", timeout=TIMEOUT)
    page.evaluate("window.scrollTo(0, 0)")


def shot(page, name: str) -> None:
    wait_idle(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_every_tab_opens_on_content(browser, server, outside_requests):
    """A teacher opens the page and finds a result in every tab before clicking anything."""
    page = open_page(browser, server, outside_requests)
    for tab, elem_ids in ((("Generate", "GAN sampling"), ["gan-grid"]), (("Generate", "Conditional GAN"), ["cgan-grid"]),
                          (("Generate", "Diffusion"), DIFFUSION_IMAGES),
                          (("Explore", "Latent interpolation"), ["interp-lerp", "interp-slerp"]),
                          (("Explore", "VAE reconstruction"), ["vae-input", "vae-recon"]),
                          (("Train", "Your pictures"), ["pic-preview"]),
                          (("Lessons", "Augmentation"), ["aug-original", "aug-diff"])):
        open_tab(page, *tab)
        for elem_id in elem_ids:
            wait_image(page, elem_id)
    assert page.locator("#interp-class").is_hidden()  # it opens on an unconditional GAN: no class to pick
    # the Train tab (it shares its name with its section: picked by id) opens on the recorded example run
    open_tab(page, "Train")
    page.locator("#tab_train-button").click()
    wait_image(page, "train-grid")
    assert "an example recorded earlier" in page.locator("#train-status").inner_text()
    page.locator("#train-loss canvas, #train-loss svg").first.wait_for(state="visible")  # its curves are drawn
    assert not outside_requests, outside_requests


def test_every_tab_works_offline_in_a_browser(browser, server, outside_requests):
    page = open_page(browser, server, outside_requests)

    open_tab(page, "Generate", "GAN sampling")
    click_visible(page, "Generate")
    wait_image(page, "gan-grid")
    shot(page, "gan")

    open_tab(page, "Generate", "Conditional GAN")
    click_visible(page, "Generate")
    wait_image(page, "cgan-grid")
    shot(page, "cgan")

    open_tab(page, "Explore", "Latent interpolation")
    click_visible(page, "Interpolate")
    wait_image(page, "interp-lerp")
    wait_image(page, "interp-slerp")
    shot(page, "interpolation")

    open_tab(page, "Explore", "VAE reconstruction")
    page.locator("#vae-gallery button").nth(3).click()  # a test image
    first = wait_image(page, "vae-recon")
    # the brush is picked when the tab opens: a student draws at once (Gradio starts with no tool)
    page.locator('#vae-sketch button[aria-label="Brush"].highlight').wait_for(state="visible", timeout=TIMEOUT)
    canvas = page.locator("#vae-sketch canvas").last
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.35)  # inside the white page
    page.mouse.down()
    for i in range(1, 11):  # a vertical stroke: a '1'
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * (0.35 + 0.03 * i), steps=2)
    page.mouse.up()
    click_visible(page, "Reconstruct")
    wait_image(page, "vae-recon", previous=first)
    wait_settled(page, ["vae-input", "vae-recon"])
    shot(page, "vae")

    open_tab(page, "Lessons", "Augmentation")
    click_visible(page, "Show")
    wait_image(page, "aug-classic")
    wait_image(page, "aug-diff")
    shot(page, "augmentation")

    open_tab(page, "Train")
    # picking a model loads the settings that trained its shipped checkpoint
    page.get_by_role("radio", name="DCGAN", exact=True).check()
    page.wait_for_function("() => document.querySelector('#train-recipe').innerText.includes('mnist-dcgan')",
                           timeout=TIMEOUT)
    assert "spectral_norm=True" in page.locator("#train-recipe").inner_text()
    page.get_by_role("radio", name="cGAN", exact=True).check()  # back to the first pick (LIVE_DEFAULT_FAMILY)
    page.wait_for_function("() => document.querySelector('#train-recipe').innerText.includes('mnist-cgan')",
                           timeout=TIMEOUT)
    page.locator("#train-start").click()
    grid = wait_image(page, "train-grid")
    page.locator("#train-loss canvas, #train-loss svg").first.wait_for(state="visible")
    # both loss curves drawn, each with a colour (an SVG path without a stroke is invisible)
    page.wait_for_function("""() => {
        const lines = [...document.querySelectorAll('#train-loss path[aria-roledescription="line mark"]')];
        const colour = name => lines.find(l => l.getAttribute('aria-label').includes('series: ' + name))?.getAttribute('stroke');
        return lines.length >= 2 && colour('loss_d') === '#4c78a8' && colour('loss_g') === '#f58518';  // as the label says
    }""", timeout=TIMEOUT)
    changed = wait_image(page, "train-grid", previous=grid)
    assert changed != grid
    shot(page, "train")
    page.locator("#train-stop").click()
    try:
        page.wait_for_function("() => document.querySelector('#train-status').innerText.includes('stopped')",
                               timeout=TIMEOUT)
    except sync_api.TimeoutError:
        raise AssertionError("no 'stopped' after Stop; the status reads: " + page.locator("#train-status").inner_text()) from None

    open_tab(page, "About")
    page.get_by_text("What the source documents got wrong").wait_for()
    shot(page, "about")

    assert outside_requests == []


def test_the_interface_follows_the_browser_language(browser, server, outside_requests):
    page = open_page(browser, server, outside_requests, locale="zh-CN")
    page.get_by_role("tab", name="GAN 采样").wait_for()
    click_visible(page, "生成")
    wait_image(page, "gan-grid")
    shot(page, "zh-CN")
    assert outside_requests == []


DIFFUSION_IMAGES = ["diffusion-grid", "diffusion-noisy", "diffusion-x0", "diffusion-gif", "diffusion-real",
                    "diffusion-noised", "diffusion-strip"]


@pytest.mark.parametrize("locale, path, generate, none", [
    ("en-US", ("Generate", "Diffusion"), "Generate", "none (unconditional)"),
    ("zh-CN", ("生成", "扩散模型"), "生成", "none（无条件）"),
])
def test_the_diffusion_tab_denoises_scrubs_and_plays(browser, server, outside_requests, locale, path, generate, none):
    page = open_page(browser, server, outside_requests, locale=locale)
    open_tab(page, *path)
    srcs = {elem_id: wait_image(page, elem_id) for elem_id in DIFFUSION_IMAGES}  # on open, before any click

    # the trajectory's GIF: an <img> of an animated GIF (the browser plays it), noisy | predicted side by side
    gif = page.request.get(srcs["diffusion-gif"]).body()
    frames = Image.open(io.BytesIO(gif))
    assert gif[:6] == b"GIF89a" and frames.n_frames >= 5 and frames.size == (58 * 6, 28 * 6)
    page.wait_for_function("() => document.querySelector('#diffusion-gif img').naturalWidth === 348", timeout=TIMEOUT)

    # scrubbing to step 0 shows the pure noise the run starts from, without a new GIF
    slider = page.locator("#diffusion-step input[type=range]")
    slider.focus()
    slider.press("Home")
    wait_image(page, "diffusion-noisy", previous=srcs["diffusion-noisy"])
    page.wait_for_function("() => document.querySelector('#diffusion-step-note textarea').value.startsWith('0 / ')",
                           timeout=TIMEOUT)
    assert page.locator("#diffusion-gif img").first.get_attribute("src") == srcs["diffusion-gif"]

    # a new seed: a new grid, a new run (its GIF) and the slider follows
    page.locator("#diffusion-seed input").fill("5")
    click_visible(page, generate)
    wait_image(page, "diffusion-grid", previous=srcs["diffusion-grid"])
    wait_image(page, "diffusion-gif", previous=srcs["diffusion-gif"])

    # the forward process follows its slider
    level = page.locator("#diffusion-t input[type=range]")
    level.focus()
    level.press("End")
    wait_image(page, "diffusion-noised", previous=srcs["diffusion-noised"])
    page.wait_for_function("() => document.querySelector('#diffusion-forward-note textarea').value.includes('t = 1.00')",
                           timeout=TIMEOUT)

    # the class list: none (unconditional) first, in the page's language
    page.locator("#diffusion-class input").click()
    page.get_by_role("option", name=none, exact=True).wait_for(state="visible")
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")

    # for the screenshot: a quarter of the way (noise, yet the guess is a digit) and the real image half noised
    note = page.locator("#diffusion-step-note textarea").input_value()
    slider.focus()
    for _ in range(5):
        slider.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#diffusion-step-note textarea').value.startsWith('5 / ')",
                           timeout=TIMEOUT)
    level.focus()
    level.press("Home")
    for _ in range(40):
        level.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('#diffusion-forward-note textarea').value.includes('t = 0.40')",
                           timeout=TIMEOUT)
    page.evaluate("document.activeElement.blur()")
    assert note.startswith("0 / ")  # the new run kept the slider where it was

    wait_loaded(page, DIFFUSION_IMAGES)
    suffix = "" if locale == "en-US" else f"-{locale}"
    shot(page, f"diffusion{suffix}")
    page.set_viewport_size({"width": 1024, "height": 768})
    wait_loaded(page, DIFFUSION_IMAGES)
    shot(page, f"diffusion{suffix}-1024")
    assert outside_requests == []


STEP_WORDS = {
    "en-US": {"path": ("Train", "Step by step"), "checkpoint": "the checkpoint below", "d": "D step", "g": "G step",
              "slow": "Slow motion", "pause": "Pause", "d1": "D step 1:", "g1": "G step 1:", "s3": "Step 3 (D then G)",
              "paused": "Paused after", "own": "steps taken: D 1, G 0"},
    "zh-CN": {"path": ("训练", "单步训练"), "checkpoint": "下面的检查点", "d": "D 单步", "g": "G 单步",
              "slow": "慢动作", "pause": "暂停", "d1": "D 第 1 步", "g1": "G 第 1 步", "s3": "第 3 步（先 D 后 G）",
              "paused": "暂停：慢动作走了", "own": "D 已更新 1 步，G 0 步"},
}


def wait_text(page, elem_id: str, text: str, start: bool = False) -> None:
    test = "startsWith" if start else "includes"
    page.wait_for_function(f"([sel, text]) => (document.querySelector(sel)?.innerText || '').{test}(text)",
                           arg=[f"#{elem_id}", text], timeout=TIMEOUT)


def bars_drawn(page, net: str, colour: str) -> None:
    """Wait until the gradient plot shows ``net``'s bars, each filled with ``colour``."""
    page.wait_for_function("""([net, colour]) => {
        const bars = [...document.querySelectorAll('#step-grads path[aria-label*="net: ' + net + '"]')];
        return bars.length >= 3 && bars.every(b => b.getAttribute('fill') === colour);
    }""", arg=[net, colour], timeout=TIMEOUT)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_step_by_step_steps_d_then_g_plays_slow_motion_and_pauses(browser, server, outside_requests, locale):
    """Issue 17's step-by-step training in Chromium: the tab opens on a model's samples and D's
    scores; a D step, a G step (bars in each network's colour), slow motion until Pause; a second
    browser at the same time steps a model of its own."""
    words = STEP_WORDS[locale]
    page = open_page(browser, server, outside_requests, locale=locale)
    open_tab(page, *words["path"])
    wait_image(page, "step-before")  # on open, before any click
    page.locator("#step-hist-before .js-plotly-plot").wait_for(state="visible")
    page.get_by_role("radio", name=words["checkpoint"], exact=True).check()  # the shipped DCGAN: digits

    click_visible(page, words["d"])
    wait_text(page, "step-reading", words["d1"], start=True)
    bars_drawn(page, "D", "#4c78a8")
    click_visible(page, words["g"])
    wait_text(page, "step-reading", words["g1"], start=True)
    bars_drawn(page, "G", "#f58518")  # a new network's bars get their colour (gradio keeps the first table's)

    click_visible(page, words["slow"])
    wait_text(page, "step-reading", words["s3"], start=True)
    click_visible(page, words["pause"])
    wait_text(page, "step-status", words["paused"])

    other = open_page(browser, server, outside_requests, locale=locale)  # another student, at the same time
    open_tab(other, *words["path"])
    click_visible(other, words["d"])
    wait_text(other, "step-reading", words["d1"], start=True)
    wait_text(other, "step-status", words["own"])
    other.context.close()

    bars_drawn(page, "D", "#4c78a8")  # the last slow-motion step drew both networks
    bars_drawn(page, "G", "#f58518")
    wait_loaded(page, ["step-before", "step-after"])
    suffix = "" if locale == "en-US" else f"-{locale}"
    shot(page, f"step{suffix}")
    page.set_viewport_size({"width": 1024, "height": 768})
    wait_loaded(page, ["step-before", "step-after"])
    shot(page, f"step{suffix}-1024")
    assert outside_requests == []


@pytest.mark.parametrize("locale, title, run", [("en-US", "Learning rate far too high", True),
                                                ("zh-CN", "学习率过高", False)])
def test_a_failure_preset_fills_the_form_and_names_its_symptom(browser, server, outside_requests, locale, title, run):
    """Picking a preset fills the form and explains it in the page's language; its run stops by
    itself and the warning box names the symptom."""
    page = open_page(browser, server, outside_requests, locale)
    open_tab(page, "训练" if locale == "zh-CN" else "Train")
    page.locator("#train-preset input").click()
    page.get_by_role("option", name=title, exact=True).click()
    wait_text(page, "train-preset-note", title)
    # Markdown: the backticks become <code>; the note is in the page's language
    wait_text(page, "train-recipe", ("预设" if locale == "zh-CN" else "Preset") + " learning-rate-too-high")
    assert page.get_by_role("radio", name="MLP GAN", exact=True).is_checked()
    if run:
        page.locator("#train-start").click()
        other = open_page(browser, server, outside_requests, locale)  # a second browser, during the first one's run
        open_tab(other, "Train")
        other.locator("#train-preset input").click()
        other.get_by_role("option", name="D learns far faster than G", exact=True).click()
        wait_text(other, "train-recipe", "Preset d-much-faster-than-g")  # its own form, its own preset
        other.get_by_text(OPTIMISER, exact=True).click()
        assert other.get_by_role("spinbutton", name="Learning rate D", exact=True).input_value() == "0.002"
        other.context.close()
        page.wait_for_function("() => document.body.innerText.includes('Symptom seen — Learning rate far too high')",
                               timeout=TIMEOUT * 3)  # ~510 steps of the full-size MLP GAN on a busy CPU
        wait_text(page, "train-status", "The run stopped after")
        shot(page, "train-preset")
    page.close()
    assert outside_requests == []


def test_a_class_run_is_steered_in_one_browser_and_watched_in_another(browser, server, outside_requests):
    """The teacher (English) unlocks, starts, pauses, steps, holds students' runs and ends; a
    student (Chinese, another browser session) sees each of these as it happens."""
    student = open_page(browser, server, outside_requests, locale="zh-CN")
    open_tab(student, "训练", "全班训练")
    wait_text(student, "class-status", "尚未开始")
    wait_text(student, "class-status", "之前录制的示例")  # it opens on the recorded example run
    example = wait_image(student, "class-grid")
    for part in ("class-loss", "class-scores", "class-hist"):  # the example's curves and histogram too
        student.locator(f"#{part} .js-plotly-plot").wait_for(state="visible")
    wait_loaded(student, ["class-grid"])
    shot(student, "class-run-opening-zh-CN")
    teacher = open_page(browser, server, outside_requests)
    open_tab(teacher, "Train", "Class run")
    teacher.get_by_text("Teacher's controls", exact=True).click()
    teacher.locator("#class-code input").fill("not-the-code")
    teacher.locator("#class-unlock").click()
    teacher.wait_for_function("() => document.body.innerText.includes('That is not the passcode.')", timeout=TIMEOUT)
    teacher.locator("#class-code input").fill(TEACHER_CODE)
    teacher.locator("#class-unlock").click()
    wait_text(teacher, "class-note", "Unlocked")
    teacher.locator("#class-start").click()
    wait_text(teacher, "class-note", "started")

    wait_text(student, "class-status", "训练中")
    wait_image(student, "class-grid", example)  # the class run's own grid replaces the example's
    teacher.wait_for_function("() => /Step \\d/.test(document.querySelector('#class-status').innerText)",
                              timeout=TIMEOUT)
    teacher.locator("#class-pause").click()
    wait_text(student, "class-status", "已暂停")
    steps = []
    for _ in range(2):  # the reply names the step once every page has been sent it
        before = student.locator("#class-status").inner_text()
        teacher.locator("#class-step").click()
        wait_text(teacher, "class-note", f"Step {steps[-1] + 1:,} taken" if steps else " taken")
        steps.append(int(re.search(r"Step ([\d,]+) taken", teacher.locator("#class-note").inner_text())
                         .group(1).replace(",", "")))
        wait_text(student, "class-status", f"第 {steps[-1]:,} /")
        assert student.locator("#class-status").inner_text() != before
    assert steps[1] == steps[0] + 1, steps
    teacher.locator("#class-students input").click()  # hold students' own runs
    wait_text(teacher, "class-note", "held")
    wait_text(student, "class-status", "学生自己的训练：暂停")
    shot(student, "class-run-student-zh-CN")
    student.locator("#tab_train-button").click()  # the Train tab of the Train section (both are "训练")
    student.locator("#train-start").click()
    student.wait_for_function("() => document.body.innerText.includes('暂停了学生自己的训练')", timeout=TIMEOUT)
    teacher.locator("#class-students input").click()
    wait_text(teacher, "class-note", "own runs again")

    teacher.locator("#class-end").click()
    wait_text(teacher, "class-status", "ended")
    wait_text(teacher, "class-status", "runs/class-")
    shot(teacher, "class-run-teacher")
    open_tab(student, "训练", "全班训练")
    wait_text(student, "class-status", "已结束")
    for page, name in ((teacher, "class-run-teacher-1024"), (student, "class-run-student-zh-CN-1024")):  # a projector
        page.set_viewport_size({"width": 1024, "height": 768})
        page.locator("#class-grid img").first.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        shot(page, name)
    student.close()
    teacher.close()
    assert outside_requests == []
