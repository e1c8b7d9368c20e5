"""The Action's inputs and triggering event, read once into one typed `ActionConfig`.

`read_input` reads `INPUT_<NAME>` (snake_case, or the runner's hyphenated spelling), `read_event`
what the triggering event adds (dispatch inputs, repos named in a `repository_dispatch`, the
issue/PR to report on), and `build_config` validates them: values with the shared parsers of
`bot.core.parse` (one spelling of true/false, bounded whole numbers, choices, lists), the Settings
with the one chain of `bot.config.settings.load_settings`, where the inputs are the layer below
the environment and above evalbot.yaml. The workspace's ./.env is not read (on a pull request
the workspace may be a fork's checkout, and a .env can name the Hub endpoint the token is sent
to); `EVALBOT_ENV_FILE` names one explicitly. Nothing else in the Action reads `INPUT_*`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app.pipeline import SOURCES
from bot.config.dotenv import ENV_FILE_VAR
from bot.config.settings import Settings, load_settings
from bot.core.card import FORMATS
from bot.core.events import event_key, is_model_repo, main_commit, parse_webhook
from bot.core.parse import is_unset, parse_bool, parse_choice, parse_choices, parse_csv, parse_int
from bot.errors import InputError
from evaluators.request import RUNNERS, EvalRequest
from evaluators.settings import BACKENDS, CHAT_TEMPLATES, ENGINES, EvalSettings

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
SECRET_INPUTS = ("hf_token", "aa_api_key", "github_token")
# The inputs that are Settings (a layer of load_settings); the others are this run's job options.
SETTING_INPUTS = ("hf_token", "aa_api_key", "templates_dir", "config")
_PR_EVENTS = ("pull_request", "pull_request_target")
_ISSUE_EVENTS = ("issue_comment", "issues")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$")
_AUTHOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


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
        number = parse_int(issue, "issue_number", minimum=1) if issue else None
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
        return parse_csv(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise InputError(f"repository_dispatch: {name} must be a string or a list of strings")


def _event_number(event: str, number: object) -> int:
    if type(number) is not int or number < 1:
        raise InputError(f"{event} event: the payload has no issue/pull request number")
    return number


def _repo_id(where: str, value: str) -> str:
    if len(value) > 96 or not _REPO_ID.match(value):
        raise InputError(f"{where}: {value[:100]!r} is not a repo id like org/name")
    return value


def _dry_run(dry_run: str, create_pr: str) -> bool:
    """`dry_run` decides; `create_pr` (deprecated) may only agree with it."""
    dry = parse_bool(dry_run, "dry_run")
    if not create_pr:
        return dry
    create = parse_bool(create_pr, "create_pr")
    if create and dry:
        raise InputError("create_pr: true contradicts dry_run: true; drop create_pr (deprecated: dry_run decides)")
    print("::warning::create_pr is deprecated: use dry_run (true: write nothing; false: open or update PRs)")
    return dry or not create


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
    return None if is_unset(value) else parse_int(value, name, minimum=1)


def build_config(env: Mapping[str, str], trigger: Trigger) -> ActionConfig:
    """Validate the inputs (after the event's overrides) into Settings + job options; InputError/ConfigError."""

    def get(name: str) -> str:
        return trigger.overrides.get(name) or read_input(env, name)

    sources = parse_choices(trigger.sources or parse_csv(get("sources")), "sources", SOURCES)
    if not sources:
        raise InputError(f"sources: empty; choose from {', '.join(SOURCES)}")
    formats = parse_choices(parse_csv(get("output_formats")), "output_formats", FORMATS)
    if not formats:
        raise InputError(f"output_formats: empty; choose from {', '.join(FORMATS)}")
    engine = parse_choice(get("engine"), "engine", ENGINES)
    backend = parse_choice(get("backend"), "backend", BACKENDS)
    runner = parse_choice(get("runner"), "runner", RUNNERS)
    dry_run = _dry_run(get("dry_run"), get("create_pr"))
    if trigger.repos is not None:
        repos, author = trigger.repos, None  # the event names the repos
    else:
        repos = tuple(dict.fromkeys(_repo_id("repo_ids", r) for r in parse_csv(get("repo_ids"))))
        author = get("author") or None
        if author is not None and not _AUTHOR.match(author):
            raise InputError(f"author: {author[:100]!r} is not a Hub user or organization name")
    if trigger.ignored is None and not repos and author is None:
        raise InputError(
            "no repos: set the repo_ids or author input (or send repo_id in a repository_dispatch client_payload)"
        )

    config_path = get("config")
    if config_path and not Path(config_path).is_file():
        raise InputError(f"config: {config_path} is not a file (paths are relative to the workspace)")
    settings = action_settings(env, {name: get(name) for name in SETTING_INPUTS})
    if settings.templates_dir is not None and not settings.templates_dir.is_dir():
        raise InputError(f"templates_dir: {settings.templates_dir} is not a directory")

    tasks = tuple(parse_csv(get("tasks")))
    if "eval" in sources and not tasks and not (settings.eval_request and settings.eval_request.tasks):
        raise InputError("sources include eval but no tasks: set the tasks input, or eval: tasks in evalbot.yaml")
    request = None
    if tasks:
        chat_template = parse_choice(get("chat_template") or "auto", "chat_template", CHAT_TEMPLATES)
        eval_settings = EvalSettings(
            engine=engine,  # type: ignore[arg-type]  # parse_choice checked it is one of ENGINES
            backend=backend,  # type: ignore[arg-type]
            provider=get("provider") or None,
            chat_template=chat_template,  # type: ignore[arg-type]
            max_new_tokens=_int_input("max_new_tokens", get("max_new_tokens")),
            dtype=get("dtype") or None,
            limit=_int_input("limit", get("limit")),
            allow_partial=parse_bool(get("allow_partial") or "false", "allow_partial"),
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


def action_settings(env: Mapping[str, str], inputs: Mapping[str, str]) -> Settings:
    """The Settings of an Action run: the chain with the setting inputs as its Action layer.

    The token is the environment's or the hf_token input's, never a login token left on the
    runner; the workspace's ./.env is read only when EVALBOT_ENV_FILE names it (module docstring).
    """
    named = env.get(ENV_FILE_VAR)
    return load_settings(
        flags={"token_from": "env"},
        env=env,
        action_inputs=inputs,
        dotenv=None if is_unset(named) else Path(str(named).strip()),
    )
