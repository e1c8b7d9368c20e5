"""The text people read for reports and evaluation runs (shared by the CLI, the Action log and the demo)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.app.pipeline import Report
from bot.core.plan import Outcome
from evaluators import Run


def format_reports(reports: Sequence[Report]) -> str:
    """A table of reports and a one-line summary."""
    rows = [("repo", "source", "outcome", "PR", "reason")]
    rows += [(r.repo_id, r.source, r.outcome, f"#{r.pr_num}" if r.pr_num else "", r.reason) for r in reports]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] for row in rows]
    counts = Counter(r.outcome for r in reports)
    order: tuple[Outcome, ...] = ("created", "updated", "pushed", "planned", "unchanged", "skipped", "failed")
    lines.append("")
    lines.append(", ".join(f"{counts[k]} {k}" for k in order if counts[k]) or "nothing to do")
    return "\n".join(lines)


def format_run(run: Run) -> str:
    """A run's scores, with where they came from."""
    lines = [run.summary() + (" (cached: no model loaded)" if run.cached else f" ({run.duration_s:.1f} s)")]
    lines.append(f"  settings: {run.settings.describe()}")
    for score in run.scores:
        stderr = f" ± {score.metric.stderr:.4g}" if score.metric.stderr is not None else ""
        task = score.provenance.get("task", "")
        lines.append(f"  {task:<28} {score.metric.type:<14} {score.metric.value:.4g}{stderr}  ({score.metric.unit})")
    return "\n".join(lines) + "\n"
