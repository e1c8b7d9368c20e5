"""`evalbot action`: the GitHub Action entry point (DESIGN §9, reference/hub-protocol.md §6).

The Docker action (`action.yml`) runs `evalbot action` in the bot's image. This module turns the
runner's environment into the same `Settings` and `Job`s as the CLI and runs them through
`App` like `evalbot scan` does:

1. Mask every secret (`::add-mask::`, line by line) before anything else is printed.
2. Read the inputs from `INPUT_<NAME>` (snake_case; the hyphenated spelling `INPUT_HF-TOKEN` is
   accepted too), whitespace trimmed, and the triggering event from `GITHUB_EVENT_NAME` /
   `GITHUB_EVENT_PATH`:
   * `workflow_dispatch`: the dispatch `inputs` override the action inputs of the same name
     (never the secrets); an optional `issue_number` names an issue or PR to comment on;
   * `repository_dispatch`: `client_payload` selects the repos: `{"repo_id": "org/name"}` or
     `{"repo_ids": [...]}` (+ optional `sources`), or a raw Hub webhook under `hub` (only a
     commit to main of a model repo starts a job, at that commit);
   * `pull_request`, `issue_comment`, `issues`: the inputs as given, and the run is reported back
     on that PR/issue (one comment, updated in place, and a check run when the token may);
   * anything else (`schedule`, `push`, ...): the inputs as given.
3. `dry_run` is the one switch: `false` (the default: a deployed Action publishes as configured)
   opens/updates one deduplicated PR per repo and source; `true` is a dry run: plan and full
   diff, nothing written, no token needed. `create_pr: false` is a deprecated alias of
   `dry_run: true` (a warning says so); `create_pr: true` with `dry_run: true` is bad input.
4. Outputs (`operations`, `pr_urls`, `results_json`) go to `GITHUB_OUTPUT` in the multi-line
   `name<<DELIMITER` form, a job summary to `GITHUB_STEP_SUMMARY`, and `::error::` /
   `::warning::` annotations name failed and skipped repos.

Exit codes: 0 when no repo failed (skips are not failures), 1 when one did, 2 for bad inputs.
Every message is one line and no secret value is ever printed.

This module runs the jobs; `inputs.py` reads the inputs and the triggering event into one
`ActionConfig` (Settings from the one chain of bot.config.settings), `commands.py` prints workflow commands (masks,
annotations, groups) and writes `GITHUB_OUTPUT`, `summary.py` turns reports into the outputs and
the markdown, `report.py` posts the comment and the check run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from bot.action.commands import Log, _append, output_block, secret_values, write_outputs
from bot.action.inputs import INPUT_DEFAULTS, ActionConfig, Trigger, build_config, read_event, read_input
from bot.action.report import report_to_github
from bot.action.summary import operations, summary_markdown
from bot.app.compose import build_app
from bot.app.pipeline import Job, run_many
from bot.app.report_text import format_reports
from bot.config.settings import Settings
from bot.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, BotError, ConfigError, InputError

# The package's surface: the CLI's `add_command`, and what tests drive (the rest lives in
# commands.py, summary.py and report.py; import it from there).
__all__ = [
    "INPUT_DEFAULTS",
    "ActionConfig",
    "Trigger",
    "add_command",
    "build_config",
    "cmd_action",
    "output_block",
    "read_event",
    "read_input",
    "run_action",
]


def add_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register `evalbot action` (called from bot/cli/__init__.py)."""
    action = commands.add_parser(
        "action",
        help="the GitHub Action entry point: reads INPUT_* and the GITHUB_* event (see action.yml)",
        description="Run as a GitHub Action: inputs from INPUT_<NAME>, the trigger from GITHUB_EVENT_NAME/PATH, "
        "outputs to GITHUB_OUTPUT, a job summary to GITHUB_STEP_SUMMARY.",
    )
    action.set_defaults(func=cmd_action)


def cmd_action(args: argparse.Namespace, settings: Settings) -> int:
    """The CLI's handler: the runner's environment is the whole input (`settings` is rebuilt from it)."""
    return run_action(os.environ, out=sys.stdout)


# ---- the run ------------------------------------------------------------------------------------


def run_action(env: Mapping[str, str], *, out: TextIO) -> int:
    """The whole Action: returns the exit code."""
    log = Log(out)
    log.mask(secret_values(env))  # first: nothing is printed before the masks are registered
    try:
        trigger = read_event(env)
        config = build_config(env, trigger)
    except (InputError, ConfigError) as e:
        log.error(str(e), title="evalbot: bad input")
        return EXIT_BAD_INPUT
    try:
        return _run(config, env, log)
    except (InputError, ConfigError) as e:
        log.error(str(e), title="evalbot: bad input")
        return EXIT_BAD_INPUT
    except BotError as e:
        log.error(str(e), title="evalbot failed")
        return EXIT_ERROR
    except Exception as e:  # a bug: still one line, still no secret
        log.error(f"unexpected {type(e).__name__}: {e}", title="evalbot crashed")
        return EXIT_ERROR


def _run(config: ActionConfig, env: Mapping[str, str], log: Log) -> int:
    trigger = config.trigger
    if trigger.ignored is not None:
        log.notice(f"nothing to do: {trigger.ignored}", title="evalbot")
        write_outputs(env, [], log)
        return EXIT_OK
    app = build_app(config.settings, dry_run=config.dry_run)  # app.env: templates_dir over the built-ins

    with log.group("Collect repos"):
        repos = list(config.repos)
        if config.author is not None:
            found = app.hub.list_repos(config.author)
            log.line(f"{config.author}: {len(found)} model repo(s)")
            repos += found
        repos = list(dict.fromkeys(repos))
        mode = "dry run (plan and diff only)" if config.dry_run else "pull requests"
        log.line(f"{len(repos)} repo(s), sources {', '.join(config.sources)}, {mode}, event {trigger.event or '-'}")
        for repo in repos:
            log.line(f"  {repo}")
    if not repos:
        log.warning(f"no model repos found for author {config.author}", title="evalbot")
        write_outputs(env, [], log)
        return EXIT_OK

    with log.group("Run"):
        jobs = [_job(config, repo) for repo in repos]
        reports = run_many(app, jobs, workers=config.settings.workers)
        log.line(format_reports(reports))

    with log.group("Report"):
        for report in reports:
            if report.diff:
                log.line(f"# {report.repo_id} [{report.source}]")
                log.line(report.diff.rstrip("\n"))
        write_outputs(env, reports, log)
        summary = summary_markdown(
            reports,
            sources=config.sources,
            formats=config.formats,
            dry_run=config.dry_run,
            hf_endpoint=config.settings.hf_endpoint,
            templates=app.env,
        )
        _append(env, "GITHUB_STEP_SUMMARY", summary, log)
        log.line(f"outputs: {json.dumps(operations(reports), sort_keys=True)}")
        if trigger.issue_number is not None:
            report_to_github(
                env,
                reports,
                log,
                issue_number=trigger.issue_number,
                head_sha=trigger.head_sha,
                github_token=config.github_token,
                dry_run=config.dry_run,
                hf_endpoint=config.settings.hf_endpoint,
                templates=app.env,
            )

    for report in reports:
        title = f"evalbot: {report.repo_id} [{report.source}]"
        if report.outcome == "failed":
            log.error(report.reason, title=title)
        elif report.outcome == "skipped":
            log.warning(report.reason, title=title)
    return EXIT_ERROR if any(r.outcome == "failed" for r in reports) else EXIT_OK


def _job(config: ActionConfig, repo_id: str) -> Job:
    trigger = config.trigger
    from_event = trigger.repos is not None and repo_id in trigger.repos
    return Job(
        repo_id=repo_id,
        sources=config.sources,
        revision=trigger.revision if from_event else None,
        dry_run=config.dry_run,
        mode="pr",
        formats=config.formats,
        eval=config.eval_request,
        trigger_key=trigger.trigger_key if from_event else None,
    )
