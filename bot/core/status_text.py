"""The words the status page shows for a job: when, what it did, why it failed (pure; Jinja filters).

`render.make_environment` registers these as the filters `utc_time`, `job_summary` and
`one_line_error`, so a user's own `status.html.j2` can use them too.

Example:
    >>> utc_time(1_780_000_000.0)
    '2026-05-28 20:26:40'
    >>> job_summary({"chatops": "queued", "command": "refresh", "author": "alice"})
    'ChatOps: @alice asked `refresh`: queued'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

_MDN_HINT = re.compile(r"\s*For more information check:?\s*https?://developer\.mozilla\.org/\S*", re.I)
_ERROR_WIDTH = 300


def utc_time(ts: float | None) -> str:
    """A Unix timestamp as `YYYY-MM-DD HH:MM:SS` in UTC; None as empty."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def one_line_error(error: str | None) -> str:
    """A stored error as one short line: whitespace folded, HTTP clients' MDN links dropped, cut at 300."""
    if not error:
        return ""
    text = " ".join(_MDN_HINT.sub("", error).split())
    return text if len(text) <= _ERROR_WIDTH else text[: _ERROR_WIDTH - 1] + "…"


def job_summary(result: dict[str, Any] | None) -> str:
    """A job's result in words: each report's outcome and reason, or what a ChatOps command did."""
    if not result:
        return ""
    reports = result.get("reports")
    if isinstance(reports, list):
        return "; ".join(f"{r.get('source')}: {r.get('outcome')} — {r.get('reason')}" for r in reports)
    if "chatops" in result:
        command, author = result.get("command"), result.get("author")
        who = f"@{author} " if author else ""
        asked = f"{who}asked `{command}`: " if command else ""
        return f"ChatOps: {asked}{result['chatops']}"
    return "; ".join(f"{key}: {value}" for key, value in result.items())
