"""The one kind of error a visitor sees: ``UserError``, a ``gr.Error`` with one short sentence,
logged as one line (no traceback: the mistake is the caller's, not the server's).

Kept apart from ``common`` so that ``components`` (which gradio stubs) can use it too.
"""

from __future__ import annotations

import logging

import gradio as gr

log = logging.getLogger("aigc_lab")
if not log.handlers:  # one line per refusal on stderr, whatever the host configured
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s aigc_lab %(levelname)s %(message)s"))
    log.addHandler(_handler)
    log.setLevel(logging.INFO)
    log.propagate = False

MAX_MESSAGE = 400  # characters: every value quoted in a message is already cut to ~80 (validation.show)
NOT_ARRIVED = "The picture did not arrive: upload or draw it again."
"""Said for every file that is missing, outside the upload folder, or a URL: never which."""


def clip(text: object, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    one_line = " ".join(str(text).split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


class UserError(gr.Error):
    """A visitor's mistake: one sentence back to the browser or API client, one log line here."""

    def __init__(self, message: object) -> None:
        text = clip(message)
        log.info("refused: %s", clip(text, 200))
        super().__init__(text, print_exception=False)


__all__ = ["UserError", "NOT_ARRIVED", "clip", "log"]
