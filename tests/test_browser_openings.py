"""Every tab as a teacher first sees it, on a projector (1024 x 768) and on a laptop (1400 x 1000),
in English and in Chinese: each tab, opened and not clicked, shows a result (a loaded image, a
drawn figure or a table), no request fails, no error shows, and the page needs no sideways scroll. Each
opening is saved as a screenshot (``test_browser.shot``'s folder, under ``openings/``: a temporary
folder, or docs/screenshots/openings/ with AIGC_UPDATE_SCREENSHOTS=1, which git ignores: 68 pictures,
17 MB) for a person to look at, for what a test cannot judge: a label cut short, a caption over a picture.

One page per language and size visits the tabs in ``app.TABS``'s order, by their element ids
(``<key>-button``), so the test names no tab and follows the registry of tabs."""

from __future__ import annotations

import pytest

from test_browser import (  # fixtures and helpers only: a test_* imported here would run twice
    SHOTS,
    TIMEOUT,
    browser,  # noqa: F401  (a fixture)
    close_pages,  # noqa: F401  (an autouse fixture: each test's pages closed when it ends)
    open_page,
    outside_requests,  # noqa: F401  (a fixture)
    server,  # noqa: F401  (a fixture: the app on the shipped checkpoints)
    wait_idle,
)

pytestmark = pytest.mark.slow

SIZES = {"1400": (1400, 1000), "1024": (1024, 768)}

# the visible images of the open tab, each scrolled into view (Chromium loads those below the fold lazily)
VISIBLE_IMAGES = """(panel) => [...document.querySelectorAll(`#${panel} img`)].filter(i => i.offsetParent !== null)"""
CONTENT_SHOWN = f"""(panel) => {{
    const images = ({VISIBLE_IMAGES})(panel);
    const loaded = images.filter(i => i.complete && i.naturalWidth > 0);
    const figures = [...document.querySelectorAll(`#${{panel}} .main-svg, #${{panel}} canvas, #${{panel}} .prose table`)]
        .filter(f => f.getBoundingClientRect().width > 0);  // a Markdown table: the About tab's list of models
    return (loaded.length > 0 || figures.length > 0) && loaded.length === images.length;
}}"""
# Gradio's status tracker over a component still loading (a spinner with a timer): no longer shown when done
LOADING = """(panel) => [...document.querySelectorAll(`#${panel} .wrap.default, #${panel} .wrap.center`)]
    .every(w => w.classList.contains('hide') || w.offsetParent === null)"""
# something to show has arrived: an image (perhaps still loading), a figure or a table
CONTENT_SHOWN_OR_LOADING = f"""(panel) => ({VISIBLE_IMAGES})(panel).length > 0
    || document.querySelectorAll(`#${{panel}} .main-svg, #${{panel}} canvas, #${{panel}} .prose table`).length > 0"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
ERRORS = """() => [...document.querySelectorAll('.toast-body, .error')]
    .filter(e => e.offsetParent !== null).map(e => e.innerText.trim()).filter(Boolean)"""


def tab_order() -> list[tuple[str | None, str]]:
    """(section id to click first or None, tab id) for each tab, as app.TABS lays them out."""
    import app

    return [(section if len(tabs) > 1 else None, key) for section, tabs in app.sections() for key, _ in tabs]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_every_tab_opens_on_content_that_fits_the_screen(browser, server, outside_requests, locale, size):  # noqa: F811
    width, height = SIZES[size]
    page = open_page(browser, server, outside_requests, locale=locale)
    page.set_viewport_size({"width": width, "height": height})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    folder = SHOTS / "openings"
    folder.mkdir(parents=True, exist_ok=True)
    for section, key in tab_order():
        if section is not None:
            page.locator(f"#{section}-button").click()
        page.locator(f"#{key}-button").click()
        page.locator(f"#{key}").wait_for(state="visible")
        page.wait_for_function(CONTENT_SHOWN_OR_LOADING, arg=key, timeout=TIMEOUT)
        for i in range(page.evaluate(f"(p) => ({VISIBLE_IMAGES})(p).length", key)):
            page.evaluate(f"([p, i]) => ({VISIBLE_IMAGES})(p)[i]?.scrollIntoView()", [key, i])  # lazy images load
        page.wait_for_function(CONTENT_SHOWN, arg=key, timeout=TIMEOUT)
        page.wait_for_function(LOADING, arg=key, timeout=TIMEOUT)
        wait_idle(page)
        # back to the top: of the page, and of the galleries that the loading scrolled to their last row
        page.evaluate("(p) => { document.querySelectorAll(`#${p} *`).forEach(e => { if (e.scrollTop) e.scrollTop = 0; });"
                      " window.scrollTo(0, 0); }", key)
        assert page.evaluate(SIDEWAYS) <= 1, f"{key} at {width} px scrolls sideways by {page.evaluate(SIDEWAYS)} px"
        assert not page.evaluate(ERRORS), (key, page.evaluate(ERRORS))
        page.screenshot(path=str(folder / f"{key.removeprefix('tab_')}-{locale}-{size}.png"), full_page=True)
    assert not failed, failed
    assert not outside_requests, outside_requests
