"""What a run reports: the Action's outputs, the job summary and the comment on the triggering PR/issue.

Pure: reports (and a few run facts) in, values and markdown out; `bot.action` writes them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from bot.app.pipeline import Report
from bot.core.plan import Outcome
from bot.errors import one_line

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


def _md(text: str) -> str:
    """A table cell: one line, pipes escaped, no raw HTML."""
    return one_line(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def counts_line(reports: Sequence[Report]) -> str:
    counts = Counter(r.outcome for r in reports)
    return ", ".join(f"{counts[k]} {k}" for k in OUTCOME_ORDER if counts[k]) or "nothing to do"


def results_table(reports: Sequence[Report], hf_endpoint: str) -> str:
    lines = ["| Repo | Source | Outcome | PR | Reason |", "| --- | --- | --- | --- | --- |"]
    for r in reports:
        repo = f"[{_md(r.repo_id)}]({hf_endpoint}/{r.repo_id})"
        pr = f"[#{r.pr_num}]({r.pr_url})" if r.pr_url and r.pr_num else (r.pr_url or "")
        lines.append(f"| {repo} | {_md(r.source)} | {r.outcome} | {pr} | {_md(r.reason)} |")
    return "\n".join(lines)


def outcome_chart(reports: Sequence[Report]) -> str:
    """A mermaid xychart-beta bar chart: how many results (repo × source) ended in each outcome."""
    counts = Counter(r.outcome for r in reports)
    shown = [o for o in OUTCOME_ORDER if o in CHART_OUTCOMES or counts[o]]
    top = max([counts[o] for o in shown] + [1])
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "evalbot results per outcome"',
            "    x-axis [" + ", ".join(f'"{o}"' for o in shown) + "]",
            f'    y-axis "results (repo x source)" 0 --> {top}',
            "    bar [" + ", ".join(str(counts[o]) for o in shown) + "]",
            "```",
        ]
    )


def run_url(env: Mapping[str, str]) -> str | None:
    """The workflow run's page, from `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_RUN_ID`."""
    server, repo, run_id = (env.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


def summary_markdown(
    reports: Sequence[Report], *, sources: Sequence[str], formats: Sequence[str], dry_run: bool, hf_endpoint: str
) -> str:
    """The job summary (`GITHUB_STEP_SUMMARY`): counts, the results table, a chart, the dry-run diffs."""
    mode = "dry run: nothing was written" if dry_run else "pull requests"
    repos = len({r.repo_id for r in reports})
    parts = [
        f"## evalbot: {repos} repo(s), {counts_line(reports)}",
        "",
        f"Sources: {', '.join(sources)}; outputs: {', '.join(formats)}; mode: {mode}.",
        "",
        results_table(reports, hf_endpoint),
        "",
        "### Outcomes (number of results per outcome; evalbot's reports carry outcomes, not scores)",
        "",
        outcome_chart(reports),
        "",
    ]
    budget = _SUMMARY_DIFF_BUDGET
    for report in reports:
        if not report.diff:
            continue
        diff = report.diff if len(report.diff) <= budget else report.diff[:budget] + "\n... (truncated)\n"
        budget -= len(diff)
        fence = "`" * max(3, _longest_backticks(diff) + 1)
        parts += [
            f"<details><summary>{_md(report.repo_id)} [{_md(report.source)}]: proposed change</summary>",
            "",
            f"{fence}diff",
            diff.rstrip("\n"),
            fence,
            "",
            "</details>",
            "",
        ]
        if budget <= 0:
            parts += ["(more diffs in the log)", ""]
            break
    return "\n".join(parts) + "\n"


def _longest_backticks(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def comment_markdown(reports: Sequence[Report], *, dry_run: bool, hf_endpoint: str, run_url: str | None) -> str:
    """The comment on the triggering PR/issue (found again by `COMMENT_MARKER`, and updated in place)."""
    mode = " (dry run: nothing was written)" if dry_run else ""
    lines = [
        COMMENT_MARKER,
        f"### evalbot: {counts_line(reports)}{mode}",
        "",
        results_table(reports, hf_endpoint),
    ]
    if run_url:
        lines += ["", f"[Workflow run]({run_url})"]
    return "\n".join(lines) + "\n"
