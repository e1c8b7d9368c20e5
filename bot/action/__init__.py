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

This module reads the inputs and runs the jobs; `commands.py` prints workflow commands (masks,
annotations, groups) and writes `GITHUB_OUTPUT`, `summary.py` turns reports into the outputs and
the markdown, `report.py` posts the comment and the check run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.action.commands import SECRET_INPUTS, Log, _append, output_block, secret_values, write_outputs
from bot.action.report import report_to_github
from bot.action.summary import operations, summary_markdown
from bot.app.compose import build_app
from bot.app.pipeline import SOURCES, Job, run_many
from bot.app.report_text import format_reports
from bot.config.settings import Settings
from bot.core.card import FORMATS
from bot.core.events import event_key, is_model_repo, main_commit, parse_webhook
from bot.errors import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, BotError, ConfigError, InputError
from evaluators.request import RUNNERS, EvalRequest
from evaluators.settings import BACKENDS, ENGINES, EvalSettings

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
    "split_list",
]

# The inputs of action.yml and the defaults the runner fills in (kept equal by tests/test_action.py).
INPUT_DEFAULTS: Mapping[str, str] = {
    "repo_ids": "",
    "author": "",
    "sources": "readme",
    "tasks": "",
    "engine": "lighteval",
    "backend": "transformers",
    "runner": "local",
    "provider": "",
    "chat_template": "auto",
    "max_new_tokens": "",
    "dtype": "",
    "limit": "",
    "allow_partial": "false",
    "output_formats": "model-index,eval-results",
    "create_pr": "",  # deprecated alias: create_pr: false is dry_run: true
    "dry_run": "false",
    "hf_token": "",
    "aa_api_key": "",
    "github_token": "",
    "config": "",
    "templates_dir": "",
}
_PR_EVENTS = ("pull_request", "pull_request_target")
_ISSUE_EVENTS = ("issue_comment", "issues")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")
_AUTHOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


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


# ---- inputs and the triggering event ------------------------------------------------------------


def read_input(env: Mapping[str, str], name: str) -> str:
    """`INPUT_<NAME>` (snake_case), else `INPUT_<NA-ME>` (hyphens, as the runner spells such names), trimmed."""
    for key in (f"INPUT_{name.upper()}", f"INPUT_{name.upper().replace('_', '-')}"):
        value = env.get(key)
        if value is not None and value.strip():
            return value.strip()
    return INPUT_DEFAULTS.get(name, "")


@dataclass(frozen=True)
class Trigger:
    """What the triggering event adds to the inputs."""

    event: str
    overrides: Mapping[str, str] = field(default_factory=dict)  # workflow_dispatch inputs
    repos: tuple[str, ...] | None = None  # repository_dispatch: the repos it names (None: the inputs')
    sources: tuple[str, ...] | None = None
    revision: str | None = None  # a Hub webhook's new main commit
    trigger_key: str | None = None
    ignored: str | None = None  # a relayed Hub event that starts no job, and why
    issue_number: int | None = None  # the GitHub issue/PR to report on
    head_sha: str | None = None  # the commit for the check run


def read_event(env: Mapping[str, str]) -> Trigger:
    """Read `GITHUB_EVENT_NAME` and the payload at `GITHUB_EVENT_PATH` (InputError on a bad payload)."""
    name = env.get("GITHUB_EVENT_NAME", "").strip()
    payload = _read_payload(env.get("GITHUB_EVENT_PATH", "").strip())
    head_sha = env.get("GITHUB_SHA", "").strip() or None
    if name == "workflow_dispatch":
        inputs = payload.get("inputs") or {}
        if not isinstance(inputs, dict):
            raise InputError("workflow_dispatch event: `inputs` is not an object")
        overrides = {}
        for key, value in inputs.items():
            if key in INPUT_DEFAULTS and key not in SECRET_INPUTS and value is not None:
                text = _input_text(value)
                if text:  # a dispatch input left empty keeps the action input
                    overrides[key] = text
        issue = _input_text(inputs.get("issue_number"))
        number = _positive_int("issue_number", issue) if issue else None
        return Trigger(name, overrides, issue_number=number, head_sha=head_sha)
    if name == "repository_dispatch":
        return _repository_dispatch(payload.get("client_payload"), head_sha)
    if name in _PR_EVENTS:
        pr = payload.get("pull_request") or {}
        number = pr.get("number") if isinstance(pr, dict) else None
        head = pr.get("head") if isinstance(pr, dict) else None
        pr_head = head.get("sha") if isinstance(head, dict) else None
        if isinstance(pr_head, str) and pr_head:
            head_sha = pr_head  # the PR's head, not the merge commit GITHUB_SHA points at
        return Trigger(name, issue_number=_event_number(name, number), head_sha=head_sha)
    if name in _ISSUE_EVENTS:
        issue_obj = payload.get("issue") or {}
        number = issue_obj.get("number") if isinstance(issue_obj, dict) else None
        return Trigger(name, issue_number=_event_number(name, number), head_sha=head_sha)
    return Trigger(name, head_sha=head_sha)


def _read_payload(path: str) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"GITHUB_EVENT_PATH {path}: cannot read it ({e.strerror or e})") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"GITHUB_EVENT_PATH {path}: not a JSON event payload") from e
    if not isinstance(data, dict):
        raise InputError(f"GITHUB_EVENT_PATH {path}: the event payload is not a JSON object")
    return data


def _repository_dispatch(client: object, head_sha: str | None) -> Trigger:
    name = "repository_dispatch"
    if client is None:
        return Trigger(name, head_sha=head_sha)
    if not isinstance(client, dict):
        raise InputError("repository_dispatch: client_payload is not an object")
    sources = tuple(_csv_or_list("client_payload.sources", client.get("sources"))) or None
    if client.get("hub") is not None:
        hub = client["hub"]
        body = hub.encode() if isinstance(hub, str) else json.dumps(hub).encode()
        event = parse_webhook(body)  # PayloadError (an InputError): a one-line reason
        if not is_model_repo(event):
            return Trigger(name, ignored=f"Hub event for a {event.repo_type} repo {event.repo_id}", head_sha=head_sha)
        sha = main_commit(event)
        if sha is None:
            why = f"Hub event {event.scope}/{event.action} on {event.repo_id} is not a commit to main"
            return Trigger(name, ignored=why, head_sha=head_sha)
        return Trigger(
            name,
            repos=(_repo_id("client_payload.hub", event.repo_id),),
            sources=sources,
            revision=sha,
            trigger_key=event_key(event),
            head_sha=head_sha,
        )
    repos = _csv_or_list("client_payload.repo_ids", client.get("repo_ids"))
    repos += _csv_or_list("client_payload.repo_id", client.get("repo_id"))
    if not repos:
        return Trigger(name, sources=sources, head_sha=head_sha)  # nothing named: the action inputs decide
    checked = tuple(dict.fromkeys(_repo_id("client_payload", r) for r in repos))
    return Trigger(name, repos=checked, sources=sources, head_sha=head_sha)


def _input_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_input_text(v) for v in value)
    return str(value).strip()


def _csv_or_list(name: str, value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_list(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InputError(f"repository_dispatch: {name} must be a string or a list of strings")


def _event_number(event: str, number: object) -> int:
    if type(number) is not int or number < 1:
        raise InputError(f"{event} event: the payload has no issue/pull request number")
    return number


def _positive_int(name: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name}: {text!r} is not a number") from None
    if value < 1:
        raise InputError(f"{name}: {value} must be at least 1")
    return value


def split_list(text: str) -> list[str]:
    """A newline- and/or comma-separated list; `#` starts a comment; empty items dropped."""
    items = []
    for line in text.splitlines():
        items += [part.strip() for part in line.split("#", 1)[0].split(",") if part.strip()]
    return items


def _repo_id(where: str, value: str) -> str:
    if len(value) > 96 or not _REPO_ID.match(value):
        raise InputError(f"{where}: {value[:100]!r} is not a repo id like org/name")
    return value


def _dry_run(dry_run: str, create_pr: str) -> bool:
    """`dry_run` decides; `create_pr` (deprecated) may only agree with it."""
    dry = _bool_input("dry_run", dry_run)
    if not create_pr:
        return dry
    create = _bool_input("create_pr", create_pr)
    if create and dry:
        raise InputError("create_pr: true contradicts dry_run: true; drop create_pr (deprecated: dry_run decides)")
    print("::warning::create_pr is deprecated: use dry_run (true: write nothing; false: open or update PRs)")
    return dry or not create


def _bool_input(name: str, text: str) -> bool:
    value = text.casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"{name}: {text!r} is not true or false")


def _choices(name: str, values: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InputError(f"{name}: unknown {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True)
class ActionConfig:
    """The validated inputs: the Settings and what each Job gets."""

    settings: Settings
    repos: tuple[str, ...]
    author: str | None
    sources: tuple[str, ...]
    formats: tuple[str, ...]
    dry_run: bool
    eval_request: EvalRequest | None  # None: the eval: section of evalbot.yaml
    trigger: Trigger
    github_token: str


def _int_input(name: str, value: str) -> int | None:
    """A whole-number input; empty means unset."""
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise InputError(f"{name}: {value[:40]!r} is not a whole number of at least 1")
    return int(value)


def build_config(env: Mapping[str, str], trigger: Trigger) -> ActionConfig:
    """Validate the inputs (after the event's overrides) into Settings + job options; InputError/ConfigError."""

    def get(name: str) -> str:
        return trigger.overrides.get(name) or read_input(env, name)

    sources = _choices("sources", trigger.sources or split_list(get("sources")), SOURCES)
    if not sources:
        raise InputError(f"sources: empty; choose from {', '.join(SOURCES)}")
    formats = _choices("output_formats", split_list(get("output_formats")), FORMATS)
    if not formats:
        raise InputError(f"output_formats: empty; choose from {', '.join(FORMATS)}")
    engine = _choices("engine", [get("engine")], ENGINES)[0]
    backend = _choices("backend", [get("backend")], BACKENDS)[0]
    runner = _choices("runner", [get("runner")], RUNNERS)[0]
    dry_run = _dry_run(get("dry_run"), get("create_pr"))
    if trigger.repos is not None:
        repos, author = trigger.repos, None  # the event names the repos
    else:
        repos = tuple(dict.fromkeys(_repo_id("repo_ids", r) for r in split_list(get("repo_ids"))))
        author = get("author") or None
        if author is not None and not _AUTHOR.match(author):
            raise InputError(f"author: {author[:100]!r} is not a Hub user or organization name")
    if trigger.ignored is None and not repos and author is None:
        raise InputError(
            "no repos: set the repo_ids or author input (or send repo_id in a repository_dispatch client_payload)"
        )

    mapping = dict(env)  # EVALBOT_* and HF_ENDPOINT still apply, as for the CLI
    mapping["EVALBOT_TOKEN_FROM"] = "env"  # the hf_token input, never a login token left on the runner
    for key, name in (("HF_TOKEN", "hf_token"), ("AA_API_KEY", "aa_api_key")):
        if read_input(env, name):
            mapping[key] = read_input(env, name)
    if get("templates_dir"):
        mapping["EVALBOT_TEMPLATES_DIR"] = get("templates_dir")
    config_path = get("config")
    if config_path and not Path(config_path).is_file():
        raise InputError(f"config: {config_path} is not a file (paths are relative to the workspace)")
    settings = Settings.from_env(mapping).with_config_file(Path(config_path) if config_path else None)
    if settings.templates_dir is not None and not settings.templates_dir.is_dir():
        raise InputError(f"templates_dir: {settings.templates_dir} is not a directory")

    tasks = tuple(split_list(get("tasks")))
    if "eval" in sources and not tasks and not (settings.eval_request and settings.eval_request.tasks):
        raise InputError("sources include eval but no tasks: set the tasks input, or eval: tasks in evalbot.yaml")
    request = None
    if tasks:
        chat_template = _choices("chat_template", [get("chat_template") or "auto"], ("auto", "on", "off"))[0]
        eval_settings = EvalSettings(
            engine=engine,  # type: ignore[arg-type]
            backend=backend,  # type: ignore[arg-type]
            provider=get("provider") or None,
            chat_template=chat_template,  # type: ignore[arg-type]
            max_new_tokens=_int_input("max_new_tokens", get("max_new_tokens")),
            dtype=get("dtype") or None,
            limit=_int_input("limit", get("limit")),
            allow_partial=_bool_input("allow_partial", get("allow_partial") or "false"),
        )
        request = EvalRequest(tasks=tasks, settings=eval_settings, runner=runner)  # type: ignore[arg-type]
        request.specs()  # a bad task string is bad input (InputError), before any download
    if "aa" in sources and settings.aa_api_key is None:
        raise InputError("sources include aa but aa_api_key is empty: pass aa_api_key: ${{ secrets.AA_API_KEY }}")
    if not dry_run and settings.hf_token is None:
        raise InputError(
            "hf_token is empty: a write needs the hf_token input (hf_token: ${{ secrets.HF_TOKEN }}), "
            "or set dry_run: true for a dry run"
        )
    return ActionConfig(
        settings=settings,
        repos=repos,
        author=author,
        sources=sources,
        formats=formats,
        dry_run=dry_run,
        eval_request=request,
        trigger=trigger,
        github_token=read_input(env, "github_token"),
    )


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
