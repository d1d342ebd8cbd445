"""Who owns which training run: a ticket per run, so that runs belong to someone.

* A run's folder name is reserved when its ticket is made: a name already on disk or held by
  another ticket gets a suffix (``name-2``, ``name-3``, ...), so a run never replaces another.
* A ticket has an unguessable id. Whoever holds it can stop the run (``stop``: it saves and
  ends) or, while it waits in the queue, withdraw it (``start`` then refuses to run it). A
  browser holds its ticket in its session; an API client gets the id in ``/train``'s output.
* The runs a session saved are the only ones it may push to the Hub.

No gradio here: the tab's handlers call these with the session key they got from gradio.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_TICKETS = 256  # finished tickets beyond this are forgotten, oldest first
MAX_SAVED_PER_SESSION = 16


@dataclass
class Ticket:
    run_id: str
    session: str
    folder: str  # the run's folder name under the runs folder
    stop: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"  # "queued" | "running" | "done" | "withdrawn"
    created: float = field(default_factory=time.monotonic)


class RunTickets:
    """Thread-safe registry of tickets (one per run) and of the runs each session saved."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tickets: dict[str, Ticket] = {}
        self.saved: dict[str, list[str]] = {}

    def _taken(self, folder: str, runs_dir: Path) -> bool:
        active = {t.folder for t in self.tickets.values() if t.state in ("queued", "running")}
        return folder in active or (runs_dir / folder).exists() or (runs_dir / f".{folder}.old").exists()

    def reserve(self, session: str, wanted: str, runs_dir: Path) -> Ticket:
        """A new queued ticket for ``session`` whose folder is ``wanted`` or, when that is taken,
        ``wanted-2``, ``wanted-3``, ... (``wanted`` must match ``NAME_PATTERN``)."""
        if not NAME_PATTERN.fullmatch(wanted):
            raise ValueError("Run name: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.")
        with self.lock:
            folder, n = wanted, 1
            while self._taken(folder, runs_dir):
                n += 1
                folder = f"{wanted[: 64 - len(str(n)) - 1]}-{n}"
            ticket = Ticket(secrets.token_urlsafe(12), session, folder)
            self.tickets[ticket.run_id] = ticket
            self._forget_old()
            return ticket

    def _forget_old(self) -> None:
        finished = sorted((t.created, k) for k, t in self.tickets.items() if t.state in ("done", "withdrawn"))
        for _, key in finished[: max(0, len(self.tickets) - MAX_TICKETS)]:
            del self.tickets[key]

    def get(self, run_id: object) -> Ticket | None:
        return self.tickets.get(run_id) if isinstance(run_id, str) else None

    def start(self, ticket: Ticket) -> bool:
        """Mark ``ticket`` running; False when it was withdrawn while it waited."""
        with self.lock:
            if ticket.state != "queued":
                return False
            ticket.state = "running"
            return True

    def finish(self, ticket: Ticket, saved: bool) -> None:
        """The run ended; when it saved, its session may push it."""
        with self.lock:
            if ticket.state == "running":
                ticket.state = "done"
            if saved:
                runs = self.saved.setdefault(ticket.session, [])
                runs.append(ticket.folder)
                del runs[:-MAX_SAVED_PER_SESSION]

    def latest_of(self, session: str) -> Ticket | None:
        """The session's newest ticket that is queued or running."""
        with self.lock:
            mine = [t for t in self.tickets.values() if t.session == session and t.state in ("queued", "running")]
        return max(mine, key=lambda t: t.created) if mine else None

    def stop(self, ticket: Ticket) -> str:
        """Stop a running run (it saves) or withdraw a queued one; returns what happened:
        "stopping", "withdrawn" or "finished"."""
        with self.lock:
            if ticket.state == "queued":
                ticket.state = "withdrawn"
                return "withdrawn"
            if ticket.state == "running":
                ticket.stop.set()
                return "stopping"
            return "finished"

    def last_saved(self, session: str) -> str | None:
        """The folder name of the newest run ``session`` saved, or None."""
        with self.lock:
            runs = self.saved.get(session) or []
            return runs[-1] if runs else None


__all__ = ["RunTickets", "Ticket", "NAME_PATTERN"]
