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
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Literal, TextIO

from bot.action.inputs import INPUT_DEFAULTS as INPUT_DEFAULTS  # re-exported: the inputs live in bot.action.inputs
from bot.action.inputs import SECRET_INPUTS, ActionConfig, build_config, read_event
from bot.action.inputs import Trigger as Trigger
from bot.action.inputs import read_input as read_input
from bot.app.compose import build_app
from bot.app.pipeline import Job, Report, run_many
from bot.app.report_text import format_reports
from bot.config.settings import Secret, Settings
from bot.core.plan import Outcome
from bot.core.render import make_environment
from bot.errors import BotError, ConfigError, InputError, one_line

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

# Secrets that may also reach the container as plain environment variables.
SECRET_ENV = ("HF_TOKEN", "EVALBOT_HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "AA_API_KEY", "GITHUB_TOKEN")
COMMENT_MARKER = "<!-- evalbot-action -->"
CHECK_NAME = "evalbot"
# `operations` gives one outcome per repo: the most telling one across its sources.
OUTCOME_RANK: tuple[Outcome, ...] = ("failed", "created", "updated", "pushed", "planned", "skipped", "unchanged")
OUTCOME_ORDER: tuple[Outcome, ...] = ("created", "updated", "pushed", "planned", "unchanged", "skipped", "failed")
CHART_OUTCOMES: tuple[Outcome, ...] = ("created", "updated", "unchanged", "skipped", "failed")
_MIN_REDACT = 4  # shorter "secrets" are masked by the runner but not scrubbed here (it would mangle JSON)
_SUMMARY_DIFF_BUDGET = 200_000  # characters of dry-run diffs in the job summary (GitHub caps it at 1 MiB)


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


# ---- workflow commands -----------------------------------------------------------------------


class Log:
    """Workflow commands and plain lines on stdout, with every known secret value redacted."""

    def __init__(self, out: TextIO, secrets: Iterable[str] = ()) -> None:
        self.out = out
        self._secrets: list[str] = []
        self.add_secrets(secrets)

    def add_secrets(self, values: Iterable[str]) -> list[str]:
        """Remember secret values (one per non-empty line); returns the new ones, to be masked."""
        new = []
        for value in values:
            for line in value.splitlines():
                line = line.strip()
                if line and line not in self._secrets:
                    self._secrets.append(line)
                    new.append(line)
        self._secrets.sort(key=len, reverse=True)  # a secret that contains another is redacted whole
        return new

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            if len(secret) >= _MIN_REDACT:
                text = text.replace(secret, "***")
        return text

    def mask(self, values: Iterable[str]) -> None:
        """`::add-mask::` each new secret line; printed before anything derived from them."""
        for line in self.add_secrets(values):
            self._write(f"::add-mask::{_escape_data(line)}")

    def line(self, text: str = "") -> None:
        self._write(self.redact(text))

    def command(self, name: str, message: str = "", **properties: str) -> None:
        props = ",".join(f"{k}={_escape_property(self.redact(v))}" for k, v in properties.items() if v)
        head = f"::{name} {props}::" if props else f"::{name}::"
        self._write(head + _escape_data(self.redact(one_line(message))))

    def error(self, message: str, *, title: str = "") -> None:
        self.command("error", message, title=title)

    def warning(self, message: str, *, title: str = "") -> None:
        self.command("warning", message, title=title)

    def notice(self, message: str, *, title: str = "") -> None:
        self.command("notice", message, title=title)

    @contextlib.contextmanager
    def group(self, title: str) -> Iterator[None]:
        """`::group::title` ... `::endgroup::`, closed whatever happens inside."""
        self._write(f"::group::{_escape_data(title)}")
        try:
            yield
        finally:
            self._write("::endgroup::")

    def _write(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Every secret the run may hold: the secret inputs (both spellings) and the token variables."""
    values = []
    for name in SECRET_INPUTS:
        for key in (f"INPUT_{name.upper()}", f"INPUT_{name.upper().replace('_', '-')}"):
            values.append(env.get(key, ""))
    values += [env.get(key, "") for key in SECRET_ENV]
    return [v for v in values if v.strip()]


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
        return EXIT_FAILED
    except Exception as e:  # a bug: still one line, still no secret
        log.error(f"unexpected {type(e).__name__}: {e}", title="evalbot crashed")
        return EXIT_FAILED


def _run(config: ActionConfig, env: Mapping[str, str], log: Log) -> int:
    trigger = config.trigger
    if trigger.ignored is not None:
        log.notice(f"nothing to do: {trigger.ignored}", title="evalbot")
        write_outputs(env, [], log)
        return EXIT_OK
    app = build_app(config.settings, dry_run=config.dry_run)
    if config.settings.templates_dir is not None:
        app.env = make_environment(config.settings.templates_dir)

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
        _append(env, "GITHUB_STEP_SUMMARY", summary_markdown(reports, config, env), log)
        log.line(f"outputs: {json.dumps(operations(reports), sort_keys=True)}")
        if trigger.issue_number is not None:
            report_to_github(config, env, reports, log)

    for report in reports:
        title = f"evalbot: {report.repo_id} [{report.source}]"
        if report.outcome == "failed":
            log.error(report.reason, title=title)
        elif report.outcome == "skipped":
            log.warning(report.reason, title=title)
    return EXIT_FAILED if any(r.outcome == "failed" for r in reports) else EXIT_OK


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


# ---- outputs, summary, GitHub ----------------------------------------------------------------


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


def output_block(name: str, value: str) -> str:
    """`name<<DELIMITER` / value / `DELIMITER`, with a random delimiter that the value does not contain."""
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def write_outputs(env: Mapping[str, str], reports: Sequence[Report], log: Log) -> None:
    blocks = [
        output_block("operations", json.dumps(operations(reports), sort_keys=True)),
        output_block("pr_urls", "\n".join(pr_urls(reports))),
        output_block("results_json", json.dumps(results_json(reports))),
    ]
    _append(env, "GITHUB_OUTPUT", "".join(blocks), log)


def _append(env: Mapping[str, str], variable: str, text: str, log: Log) -> None:
    path = env.get(variable, "").strip()
    if not path:
        return  # not on a runner (a local run): nothing to write to
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(log.redact(text))
    except PermissionError as e:
        hint = "; GitHub's Docker actions must run as root: build the action image without USER"
        raise BotError(f"cannot write {variable} ({path}): {e.strerror or e}{hint}") from e
    except OSError as e:
        raise BotError(f"cannot write {variable} ({path}): {e.strerror or e}") from e


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
    server, repo, run_id = (env.get(k, "").strip() for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


def summary_markdown(reports: Sequence[Report], config: ActionConfig, env: Mapping[str, str]) -> str:
    mode = "dry run: nothing was written" if config.dry_run else "pull requests"
    repos = len({r.repo_id for r in reports})
    parts = [
        f"## evalbot: {repos} repo(s), {counts_line(reports)}",
        "",
        f"Sources: {', '.join(config.sources)}; outputs: {', '.join(config.formats)}; mode: {mode}.",
        "",
        results_table(reports, config.settings.hf_endpoint),
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


def comment_markdown(reports: Sequence[Report], config: ActionConfig, env: Mapping[str, str]) -> str:
    url = run_url(env)
    mode = " (dry run: nothing was written)" if config.dry_run else ""
    lines = [
        COMMENT_MARKER,
        f"### evalbot: {counts_line(reports)}{mode}",
        "",
        results_table(reports, config.settings.hf_endpoint),
    ]
    if url:
        lines += ["", f"[Workflow run]({url})"]
    return "\n".join(lines) + "\n"


def check_conclusion(reports: Sequence[Report]) -> Literal["success", "failure", "neutral"]:
    if any(r.outcome == "failed" for r in reports):
        return "failure"
    if reports and all(r.outcome == "skipped" for r in reports):
        return "neutral"
    return "success"


def report_to_github(config: ActionConfig, env: Mapping[str, str], reports: Sequence[Report], log: Log) -> None:
    """One comment on the triggering issue/PR (updated in place on later runs) and a check run.

    Reporting is best effort: a problem here is a warning, never a failed run.
    """
    number = config.trigger.issue_number
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if number is None:
        return
    if not config.github_token or not repository:
        log.warning("not commenting: github_token or GITHUB_REPOSITORY is empty", title="evalbot")
        return
    from bot.edges.github import GitHubReporter

    base_url = env.get("GITHUB_API_URL", "").strip() or "https://api.github.com"
    try:
        reporter = GitHubReporter(Secret(config.github_token), repository=repository, base_url=base_url)
        where = reporter.upsert_comment(number, comment_markdown(reports, config, env), marker=COMMENT_MARKER)
        log.line(f"comment on #{number}: {where}")
        sha = config.trigger.head_sha
        if sha:
            check = reporter.create_check_run(
                sha,
                name=CHECK_NAME,
                conclusion=check_conclusion(reports),
                title=counts_line(reports),
                summary=results_table(reports, config.settings.hf_endpoint),
            )
            if check is None:
                log.line("no check run: the token may not create check runs (needs checks: write)")
            else:
                log.line(f"check run: {check}")
    except BotError as e:  # GitHubError (one line, token scrubbed), or NotAvailableError without PyGithub
        log.warning(f"could not report on GitHub: {e}", title="evalbot")
