"""A per-thread deadline that long work checks before each Hub write (pure bookkeeping).

The worker runs each job in a thread of its own with a deadline; when the job runs past it, the
worker fails the job and moves on. Python cannot stop a thread, so the job's thread stops itself
at the next `check` (the pipeline calls it before every write): an overdue job never publishes.
"""

from __future__ import annotations

import threading
import time

from bot.errors import JobDeadlineError

_local = threading.local()


def start(seconds: float | None) -> None:
    """Give the current thread `seconds` from now (None: no deadline)."""
    _local.at = None if seconds is None else time.monotonic() + seconds
    _local.seconds = seconds


def check(what: str = "the job") -> None:
    """Raise `JobDeadlineError` if the current thread's deadline has passed."""
    at = getattr(_local, "at", None)
    if at is not None and time.monotonic() > at:
        raise JobDeadlineError(f"{what} ran past its deadline of {_local.seconds:g} s and was stopped before writing")
