"""What a run reports: the Action's outputs, the job summary and the comment on the triggering PR/issue.

Pure: reports (and a few facts about the run) in, values and markdown out; `bot.action` writes
them. The markdown comes from templates (`action_summary.md.j2`, `action_comment.md.j2`, both
including `action_results_table.md.j2`) rendered in the run's environment, so a user template
directory overrides them like the PR texts; the functions here only prepare their context.
User text in cells goes through the `md_line` filter, diffs get a `code_fence` longer than any
run of backticks inside them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import jinja2

from bot.app.pipeline import Report
from bot.core.plan import Outcome
from bot.core.render import default_environment, render_template

COMMENT_MARKER = "<!-- evalbot-action -->"
# `operations` gives one outcome per repo: the most telling one across its sources.
OUTCOME_RANK: tuple[Outcome, ...] = ("failed", "created", "updated", "pushed", "planned", "skipped", "unchanged")
OUTCOME_ORDER: tuple[Outcome, ...] = ("created", "updated", "pushed", "planned", "unchanged", "skipped", "failed")
CHART_OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "skipped", "failed")
_SUMMARY_DIFF_BUDGET = 200_000  # characters of dry-run diffs in the job summary (GitHub caps it at 1 MiB)


def operations(reports: Sequence[Report]) -> dict[str, Outcome]:
    """repo → its most telling outcome across sources (failed > created > updated > ... > unchanged)."""
    result: dict[str, Outcome] = {}
    for report in reports:
        current = result.get(report.repo_id)
        if current is None or OUTCOME_RANK.index(report.outcome) < OUTCOME_RANK.index(current):
            result[report.repo_id] = report.outcome
    return result


def pr_urls(reports: Sequence[Report]) -> list[str]:
    """evalbot's PRs for these repos: opened, updated, or already open and unchanged."""
    return list(dict.fromkeys(r.pr_url for r in reports if r.pr_url))


def results_json(reports: Sequence[Report]) -> list[dict[str, Any]]:
    """The reports as JSON objects (without the diff, which goes to the log and the job summary)."""
    return [{k: v for k, v in asdict(r).items() if k != "diff"} for r in reports]


def counts_line(reports: Sequence[Report]) -> str:
    """`4 created, 1 unchanged`: how many results ended in each outcome, or `nothing to do`."""
    counts = Counter(r.outcome for r in reports)
    return ", ".join(f"{counts[k]} {k}" for k in OUTCOME_ORDER if counts[k]) or "nothing to do"


def results_table(reports: Sequence[Report], hf_endpoint: str, templates: jinja2.Environment | None = None) -> str:
    """The results table alone (the check run's summary), without a trailing newline."""
    env = templates or default_environment()
    text = render_template(env, "action_results_table.md.j2", reports=list(reports), hf_endpoint=hf_endpoint)
    return text.removesuffix("\n")


def outcome_chart(reports: Sequence[Report]) -> dict[str, int]:
    """outcome → how many results (repo × source) ended in it: the bars of the summary's mermaid chart.

    The usual outcomes always have a bar; `pushed` and `planned` only when a result has them.
    """
    counts = Counter(r.outcome for r in reports)
    return {o: counts[o] for o in OUTCOME_ORDER if o in CHART_OUTCOMES or counts[o]}


def run_url(env: Mapping[str, str]) -> str | None:
    """The workflow run's page, from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_RUN_ID`."""
    server, repo, run_id = (env.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


def summary_diffs(reports: Sequence[Report], budget: int = _SUMMARY_DIFF_BUDGET) -> tuple[list[dict[str, str]], bool]:
    """The dry-run diffs that fit in `budget` characters (the last one cut), and whether some were left out."""
    shown = []
    for report in reports:
        if not report.diff:
            continue
        diff = report.diff if len(report.diff) <= budget else report.diff[:budget] + "\n... (truncated)\n"
        budget -= len(diff)
        shown.append({"repo_id": report.repo_id, "source": report.source, "diff": diff})
        if budget <= 0:
            return shown, True
    return shown, False


def summary_markdown(
    reports: Sequence[Report],
    *,
    sources: Sequence[str],
    formats: Sequence[str],
    dry_run: bool,
    hf_endpoint: str,
    templates: jinja2.Environment | None = None,
) -> str:
    """The job summary (`GITHUB_STEP_SUMMARY`): counts, the results table, a chart, the dry-run diffs."""
    diffs, more_diffs = summary_diffs(reports)
    return render_template(
        templates or default_environment(),
        "action_summary.md.j2",
        reports=list(reports),
        hf_endpoint=hf_endpoint,
        repos=len({r.repo_id for r in reports}),
        counts=counts_line(reports),
        sources=list(sources),
        formats=list(formats),
        dry_run=dry_run,
        chart=outcome_chart(reports),
        diffs=diffs,
        more_diffs=more_diffs,
    )


def comment_markdown(
    reports: Sequence[Report],
    *,
    dry_run: bool,
    hf_endpoint: str,
    run_url: str | None,
    templates: jinja2.Environment | None = None,
) -> str:
    """The comment on the triggering PR/issue (found again by `COMMENT_MARKER`, and updated in place)."""
    return render_template(
        templates or default_environment(),
        "action_comment.md.j2",
        reports=list(reports),
        hf_endpoint=hf_endpoint,
        counts=counts_line(reports),
        dry_run=dry_run,
        run_url=run_url,
        marker=COMMENT_MARKER,
    )
