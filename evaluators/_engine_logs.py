"""Quiet engines: their log records and warnings go to a file in the run folder, not to stderr.

    with engine_logs(run_dir / "engine.log") as path:
        pipeline.evaluate()          # lighteval's, transformers', datasets' ... lines land in `path`

lighteval and its dependencies log a lot at import and run time (nltk downloads, tinyBenchmarks,
network errors offline); evalbot's own lines must stay readable. While the block runs, the
loggers below stop propagating to the root handlers and write to the file instead, and Python
warnings are captured into it; everything is restored afterwards. The caller prints the path.
Text written straight to `sys.stderr` (nltk's download messages, progress bars) goes to the same
file: `sys.stderr` is swapped for the file while the block runs (logging handlers keep the stream
they were made with, so evalbot's own log lines are unaffected). Logger configuration and
`sys.stderr` are process-wide, so engine runs in one process take turns (`_LOCK`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENGINE_LOGGERS = (
    "lighteval",
    "inspect_ai",
    "transformers",
    "datasets",
    "accelerate",
    "vllm",
    "torch",
    "nltk",
    "httpx",
    "huggingface_hub",
    "urllib3",
    "py.warnings",
)
_LOCK = threading.RLock()


@contextmanager
def engine_logs(path: Path) -> Iterator[Path]:
    """Send the engines' log records (INFO and up) and warnings to `path` for the duration."""
    with _LOCK, _to_file(path):
        yield path


@contextmanager
def _to_file(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in ENGINE_LOGGERS:
        log = logging.getLogger(name)
        saved.append((log, log.propagate, log.level, list(log.handlers)))
        for own in list(log.handlers):  # datasets/transformers give their root logger its own stderr handler
            log.removeHandler(own)
        log.addHandler(handler)
        log.propagate = False
        if log.level == logging.NOTSET or log.level > logging.INFO:
            log.setLevel(logging.INFO)
    bars = _progress_bars(False)
    with (
        warnings.catch_warnings(),
        open(path, "a", encoding="utf-8", buffering=1) as raw,
        contextlib.redirect_stderr(raw),
    ):
        logging.captureWarnings(True)
        warnings.simplefilter("default")
        try:
            yield
        finally:
            logging.captureWarnings(False)
            _progress_bars(bars)
            for log, propagate, level, handlers in saved:
                log.removeHandler(handler)
                for own in handlers:
                    log.addHandler(own)
                log.propagate = propagate
                log.setLevel(level)
            handler.close()


def _progress_bars(enabled: bool) -> bool:
    """Turn the datasets/huggingface_hub progress bars on or off; returns whether they were on."""
    import importlib

    was = False
    for module, check, on, off in (
        ("datasets.utils.logging", "is_progress_bar_enabled", "enable_progress_bar", "disable_progress_bar"),
        ("huggingface_hub.utils", "are_progress_bars_disabled", "enable_progress_bars", "disable_progress_bars"),
    ):
        try:
            found = importlib.import_module(module)
        except ImportError:
            continue
        state = bool(getattr(found, check)())
        was = was or (state if check.startswith("is_") else not state)
        getattr(found, on if enabled else off)()
    return was
