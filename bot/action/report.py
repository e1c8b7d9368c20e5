"""Reporting a run back on GitHub: one comment on the triggering issue/PR and a check run (PyGithub).

Best effort: a problem here is a warning, never a failed run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import jinja2

from bot.action.commands import Log
from bot.action.summary import COMMENT_MARKER, comment_markdown, counts_line, results_table, run_url
from bot.app.pipeline import Report
from bot.config.settings import Secret
from bot.errors import BotError

CHECK_NAME = "evalbot"


def check_conclusion(reports: Sequence[Report]) -> Literal["success", "failure", "neutral"]:
    """`failure` when a repo failed, `neutral` when every result was skipped, else `success`."""
    if any(r.outcome == "failed" for r in reports):
        return "failure"
    if reports and all(r.outcome == "skipped" for r in reports):
        return "neutral"
    return "success"


def report_to_github(
    env: Mapping[str, str],
    reports: Sequence[Report],
    log: Log,
    *,
    issue_number: int | None,
    head_sha: str | None,
    github_token: str,
    dry_run: bool,
    hf_endpoint: str,
    templates: jinja2.Environment | None = None,
) -> None:
    """Upsert the comment on issue/PR `issue_number` (found by `COMMENT_MARKER`) and a check run on `head_sha`."""
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if issue_number is None:
        return
    if not github_token or not repository:
        log.warning("not commenting: github_token or GITHUB_REPOSITORY is empty", title="evalbot")
        return
    from bot.edges.github import GitHubReporter

    base_url = env.get("GITHUB_API_URL", "").strip() or "https://api.github.com"
    try:
        reporter = GitHubReporter(Secret(github_token), repository=repository, base_url=base_url)
        comment = comment_markdown(
            reports, dry_run=dry_run, hf_endpoint=hf_endpoint, run_url=run_url(env), templates=templates
        )
        where = reporter.upsert_comment(issue_number, comment, marker=COMMENT_MARKER)
        log.line(f"comment on #{issue_number}: {where}")
        if head_sha:
            check = reporter.create_check_run(
                head_sha,
                name=CHECK_NAME,
                conclusion=check_conclusion(reports),
                title=counts_line(reports),
                summary=results_table(reports, hf_endpoint, templates),
            )
            if check is None:
                log.line("no check run: the token may not create check runs (needs checks: write)")
            else:
                log.line(f"check run: {check}")
    except BotError as e:  # GitHubError (one line, token scrubbed), NotAvailableError without PyGithub, TemplateError
        log.warning(f"could not report on GitHub: {e}", title="evalbot")
