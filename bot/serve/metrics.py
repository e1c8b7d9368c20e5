"""`GET /metrics`: the Prometheus text exposition format (version 0.0.4) from plain counts.

`metrics_text` is pure: the server hands it its event counters, the store's job counts, the
outcomes of finished jobs (`report_outcomes`) and the Hub client's request counts.

Example:
    >>> print(metrics_text(events={"queued": 1}, jobs={}, reports={}, hub={}), end="")
    # HELP evalbot_webhook_events_total Webhook deliveries by outcome.
    # TYPE evalbot_webhook_events_total counter
    evalbot_webhook_events_total{outcome="queued"} 1
    evalbot_webhook_events_total{outcome="duplicate"} 0
    evalbot_webhook_events_total{outcome="ignored"} 0
    evalbot_webhook_events_total{outcome="rejected"} 0
    # HELP evalbot_jobs Jobs in the queue by state.
    # TYPE evalbot_jobs gauge
    # HELP evalbot_reports_total Pipeline outcomes of finished jobs.
    # TYPE evalbot_reports_total counter
    # HELP evalbot_hub_requests_total Hub requests made (retries included).
    # TYPE evalbot_hub_requests_total counter
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4"
EVENT_OUTCOMES = ("queued", "duplicate", "ignored", "rejected")


@dataclass
class EventCounter:
    """Webhook deliveries by outcome (process-local; the queue's state comes from the store)."""

    events: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.events[outcome] += 1

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(self.events)


def report_outcomes(results: Iterable[dict[str, Any] | None]) -> Counter[str]:
    """How many of the finished jobs' pipeline reports ended in each outcome (created, unchanged, ...)."""
    outcomes: Counter[str] = Counter()
    for result in results:
        for report in (result or {}).get("reports", []):
            outcomes[str(report.get("outcome"))] += 1
    return outcomes


def metrics_text(
    *,
    events: Mapping[str, int],
    jobs: Mapping[str, int],
    reports: Mapping[str, int],
    hub: Mapping[str, int],
) -> str:
    """The exposition text: every event outcome (0 when none), then jobs, reports and Hub counters by name."""
    lines = [
        "# HELP evalbot_webhook_events_total Webhook deliveries by outcome.",
        "# TYPE evalbot_webhook_events_total counter",
    ]
    lines += [f'evalbot_webhook_events_total{{outcome="{o}"}} {events.get(o, 0)}' for o in EVENT_OUTCOMES]
    lines += ["# HELP evalbot_jobs Jobs in the queue by state.", "# TYPE evalbot_jobs gauge"]
    lines += [f'evalbot_jobs{{state="{_label(state)}"}} {count}' for state, count in sorted(jobs.items())]
    lines += [
        "# HELP evalbot_reports_total Pipeline outcomes of finished jobs.",
        "# TYPE evalbot_reports_total counter",
    ]
    lines += [f'evalbot_reports_total{{outcome="{_label(o)}"}} {count}' for o, count in sorted(reports.items())]
    lines += [
        "# HELP evalbot_hub_requests_total Hub requests made (retries included).",
        "# TYPE evalbot_hub_requests_total counter",
    ]
    lines += [f"evalbot_hub_{name}_total {value}" for name, value in sorted(hub.items())]
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    """A label value as the format wants it: backslash, double quote and line feed escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
