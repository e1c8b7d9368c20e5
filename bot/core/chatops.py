"""ChatOps: `@evalbot <command>` in a repo discussion → `Command`, who may run it, and the replies (pure).

Commands (DESIGN §8); the first three need authorization:

* `@evalbot evaluate leaderboard|mmlu|5 gsm8k|5`: evaluate the repo's main on those tasks (GPU time);
  `provider=<name>` among the arguments evaluates through that Inference Provider with inspect
  (a provider NAME only: an endpoint URL is never taken from a comment)
* `@evalbot refresh`: re-run the repo's configured sources
* `@evalbot ignore`: opt the repo out; evalbot stops proposing changes there
* `@evalbot help`, or a bare `@evalbot`: list the commands (anyone)

Authorized means the repo's owner, a member of the organization that owns it, or a name on the
operator's allow-list. Only a line that *starts* with the mention counts, outside quotes (`>`) and
code fences, so quoting someone's command (or evalbot's own help) never runs it again. Every reply
ends with a hidden marker carrying the caller's key, so a redelivered event is answered once.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.errors import InputError

CommandName = Literal["evaluate", "refresh", "ignore", "help", "unknown"]

COMMANDS: tuple[CommandName, ...] = ("evaluate", "refresh", "ignore", "help")
_BY_WORD: dict[str, CommandName] = {c: c for c in COMMANDS}
COSTS_GPU: frozenset[str] = frozenset({"evaluate"})
_NEEDS_AUTHORIZATION = frozenset({"evaluate", "refresh", "ignore"})
_EXAMPLES: dict[str, tuple[str, str]] = {
    "evaluate": (
        "evaluate leaderboard|mmlu|5 gsm8k|5",
        "evaluate this repo's main on the listed tasks (uses GPU time)",
    ),
    "refresh": ("refresh", "re-read this repo's sources and update evalbot's pull request if anything changed"),
    "ignore": ("ignore", "opt this repo out: evalbot stops opening or updating pull requests here"),
    "help": ("help", "show this list"),
}
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_NAME_CHARS = re.compile(r"[\w-]")
_SPLIT = re.compile(r"[\s,]+")
_TRAILING_PUNCTUATION = ".!?,:;"
_MAX_TASK = 200
_LIGHTEVAL_TASK = re.compile(r"(?:[\w.-]+\|)?[\w.:-]+(?:\|\d+)?")  # suite|task|shots, task|shots, task
_INSPECT_REGISTRY = re.compile(r"inspect_evals/[\w.-]+")  # the inspect-evals package's registry
_BARE_NAME = re.compile(r"[\w.-]+")
_TASK_FILE = re.compile(r"(?P<file>[\w-][\w.-]*\.py)(?:@(?P<task>[\w.-]+))?")  # a file name, no folders


@dataclass(frozen=True)
class Command:
    """One parsed command. `raw` is the comment line it came from (stripped)."""

    name: CommandName
    args: tuple[str, ...] = ()
    raw: str = ""


def parse_command(text: str, bot_name: str = "evalbot") -> Command | None:
    """The command in a comment, or None when no line starts with `@<bot_name>`.

    Lines inside code fences and quoted lines (`>`) are skipped. The first line that starts with
    the mention and names a command wins; a bare mention asks for help; an unknown word gives
    `Command("unknown", args=(word, ...))`. Arguments are split on spaces and commas.

    >>> parse_command("Thanks!\\n@EvalBot: evaluate mmlu|5, gsm8k|5")
    Command(name='evaluate', args=('mmlu|5', 'gsm8k|5'), raw='@EvalBot: evaluate mmlu|5, gsm8k|5')
    >>> parse_command("> @evalbot refresh") is None
    True
    """
    name = bot_name.lstrip("@").casefold()
    bare: Command | None = None
    for line in _unquoted_lines(text):
        rest = _after_mention(line, name)
        if rest is None:
            continue
        words = [w for w in _SPLIT.split(rest) if w]
        if not words:
            bare = bare or Command("help", (), line)
            continue
        known = _BY_WORD.get(words[0].casefold().rstrip(_TRAILING_PUNCTUATION))
        if known is not None:
            return Command(known, tuple(words[1:]), line)
        return Command("unknown", tuple(words), line)
    return bare


_PROVIDER_ARG = re.compile(r"^provider=([A-Za-z0-9][A-Za-z0-9._-]{0,63})$")


def evaluate_args(args: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The tasks of `evaluate`, and the provider when one argument is `provider=<name>`.

    >>> evaluate_args(("inspect_evals/gsm8k", "provider=together"))
    (('inspect_evals/gsm8k',), 'together')
    """
    tasks = tuple(a.strip() for a in args if not a.startswith("provider="))
    providers = [m[1] for a in args if (m := _PROVIDER_ARG.match(a))]
    return tasks, providers[-1] if providers else None


@dataclass(frozen=True)
class TaskPolicy:
    """Where tasks may come from (evalbot.yaml): what an `evaluate` command, or the service, may run.

    `configured`: task names from `eval.tasks` and `chatops.tasks`; `task_dirs`: folders whose task
    files (by file name) may be run; `custom_tasks`: the `eval.custom_tasks` file (bare names).
    """

    engine: str = "lighteval"
    configured: frozenset[str] = frozenset()
    task_dirs: tuple[Path, ...] = ()
    custom_tasks: Path | None = None


def check_tasks(requested: Sequence[str], policy: TaskPolicy) -> tuple[str, ...]:
    """The tasks to hand to the engine, or an `InputError` naming the first one that is not allowed.

    Tasks are names, never paths: a name from the engine's registry (lighteval's `task|shots`,
    inspect's `inspect_evals/<task>`), a name configured in evalbot.yaml, a bare name defined in
    the configured custom tasks file, or `file.py@task` where `file.py` is a regular file directly
    inside a configured task directory (its resolved path, symlinks followed, must stay there).
    Absolute names, `..`, folders, `~` and any other package's `pkg/task` are refused, so no
    file outside the allowed places is ever imported. Task files come back as absolute paths.

    >>> check_tasks(["gsm8k|5"], TaskPolicy())
    ('gsm8k|5',)
    >>> check_tasks(["/tmp/x.py@t"], TaskPolicy(engine="inspect"))
    Traceback (most recent call last):
    ...
    bot.errors.InputError: task '/tmp/x.py@t' is a path; evalbot runs tasks by name: ...
    """
    return tuple(_check_task(text.strip(), policy) for text in requested)


def _check_task(task: str, policy: TaskPolicy) -> str:
    shown = _code(task).strip("`")
    if not task or len(task) > _MAX_TASK or not task.isprintable() or any(c.isspace() for c in task):
        raise InputError(f"task {shown!r} is not a task name")
    head = task.split("@", 1)[0]
    folders = task.count("/") > 1 or ("/" in head and head.endswith(".py"))
    if task.startswith(("/", "~", ".")) or "\\" in task or ".." in task or folders:
        raise InputError(f"task {shown!r} is a path; evalbot runs tasks by name: {_task_hint(policy)}")
    if policy.engine != "inspect":
        if "/" in task or "@" in task or not _LIGHTEVAL_TASK.fullmatch(task):
            raise InputError(f"task {shown!r} is not a lighteval task name such as 'gsm8k|5'")
        return task
    if head.endswith(".py"):
        if not _TASK_FILE.fullmatch(task):
            raise InputError(f"task {shown!r} is not 'file.py@task'; {_task_hint(policy)}")
        return _task_file(task, shown, policy)
    if task in policy.configured or _INSPECT_REGISTRY.fullmatch(task):
        return task
    if "/" in task:
        package = task.split("/", 1)[0]
        raise InputError(f"task {shown!r}: {package!r} is not a task registry evalbot allows; {_task_hint(policy)}")
    if _BARE_NAME.fullmatch(task) and policy.custom_tasks is not None:
        return task  # inspect_runner looks it up in the configured custom tasks file
    raise InputError(f"task {shown!r} is not configured; {_task_hint(policy)}")


def _task_file(task: str, shown: str, policy: TaskPolicy) -> str:
    """`file.py@task` → `/abs/dir/file.py@task`, when the file is a regular file inside a task dir."""
    file_name, sep, name = task.partition("@")
    custom = policy.custom_tasks
    if custom is not None and custom.name == file_name and custom.is_file() and not custom.is_symlink():
        return f"{custom.resolve()}{sep}{name}"
    for folder in policy.task_dirs:
        root = folder.resolve()
        candidate = root / file_name
        if not candidate.exists() and not candidate.is_symlink():
            continue
        resolved = candidate.resolve()
        if candidate.is_symlink() or resolved.parent != root or not resolved.is_file():
            raise InputError(f"task {shown!r}: {file_name} is not a regular file inside the task directory")
        return f"{resolved}{sep}{name}"
    raise InputError(f"task {shown!r}: no configured task directory holds {file_name}; {_task_hint(policy)}")


def _task_hint(policy: TaskPolicy) -> str:
    if policy.engine == "inspect":
        where = "'inspect_evals/<task>'"
        if policy.task_dirs:
            where += ", 'file.py@task' from a configured task directory"
    else:
        where = "lighteval names such as 'gsm8k|5'"
    if policy.configured:
        where += ", or one of " + ", ".join(sorted(policy.configured)[:5])
    return f"use {where}"


def needs_authorization(cmd: Command) -> bool:
    """evaluate costs GPU time, refresh re-runs, ignore opts the repo out; help and unknown are free."""
    return cmd.name in _NEEDS_AUTHORIZATION


def is_authorized(user: str, repo_id: str, *, org_members: Collection[str], allow: Collection[str]) -> bool:
    """The repo's owner (its namespace is the user), a member of the owning org, or on the allow-list.

    Hub names are compared case-insensitively. `org_members` are the members of the repo's
    namespace (the caller looks them up; pass an empty collection for a user namespace).
    """
    who = user.strip().casefold()
    if not who:
        return False
    namespace = repo_id.split("/", 1)[0].casefold() if "/" in repo_id else None
    if who == namespace:
        return True
    return who in {m.casefold() for m in org_members} or who in {a.casefold() for a in allow}


def reply_queued(cmd: Command, job_id: int | str, key: str) -> str:
    """The reply to a command that queued a job."""
    if cmd.name == "evaluate":
        tasks = ", ".join(_code(a) for a in cmd.args) if cmd.args else "the tasks configured for this repo"
        what = f"an evaluation of this repo's main on {tasks}"
    else:
        what = "a refresh of this repo's results from its configured sources"
    return _with_marker(
        f"Queued {what} (job {_code(str(job_id))}).\n\n"
        "When it finishes, evalbot opens a pull request with the results, or updates its open one; "
        "if nothing changed it stays quiet.",
        key,
    )


def reply_refused(user: str, cmd: Command, key: str) -> str:
    """A polite no: who may run the command and how to ask."""
    why = " because it uses GPU time" if cmd.name in COSTS_GPU else ""
    return _with_marker(
        f"Sorry {_mention(user)}, {_code(cmd.raw or cmd.name)} is limited{why}: it can be run by the owner of this "
        "repo, by members of the organization that owns it, or by users on evalbot's allow-list.\n\n"
        "If you would like it to run, ask a maintainer of this repo to post the command, "
        "or ask the evalbot operator to add you to the allow-list.",
        key,
    )


def reply_refused_tasks(reason: str, key: str) -> str:
    """The reply when `evaluate` names a task evalbot may not run: the one-line reason."""
    return _with_marker(f"Not queued: {_plain(reason)}.", key)


def reply_help(key: str, *, bot_name: str = "evalbot") -> str:
    """The list of commands, one example each."""
    intro = f"{bot_name} understands these commands (one per comment, at the start of a line):\n\n"
    return _with_marker(intro + _listing(bot_name), key)


def reply_ignored(repo_id: str, key: str) -> str:
    """The reply to `@evalbot ignore`: what opting out means and how to undo it."""
    return _with_marker(
        f"Done: {_code(repo_id)} is opted out. evalbot will not open or update pull requests here, "
        "and scheduled or webhook runs skip this repo; pull requests it already opened stay as they are "
        "(close them if you do not want them).\n\n"
        "To opt back in, remove `evalbot: ignore` from the model card metadata if you added it, "
        "and ask the evalbot operator to re-enable this repo.",
        key,
    )


def reply_unknown(cmd: Command, key: str, *, bot_name: str = "evalbot") -> str:
    """The reply to a mention with a word evalbot does not know."""
    word = cmd.args[0] if cmd.args else cmd.raw
    intro = f"{bot_name} does not know the command {_code(word)}. These are the commands:\n\n"
    return _with_marker(intro + _listing(bot_name), key)


def _unquoted_lines(text: str) -> list[str]:
    """The comment's lines, stripped, without quoted lines and fenced code."""
    lines: list[str] = []
    fence: str | None = None
    for raw_line in text.splitlines():
        if fence is not None:  # inside a fence: only a closing fence of the same kind and length ends it
            if re.fullmatch(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*", raw_line):
                fence = None
            continue
        opening = _FENCE.match(raw_line)
        if opening:
            fence = opening.group(1)
            continue
        line = raw_line.strip()
        if line and not line.startswith(">"):
            lines.append(line)
    return lines


def _after_mention(line: str, name: str) -> str | None:
    """What follows `@name` (and a `,`/`:`) when the line starts with the mention, else None."""
    if not line.startswith("@") or line[1 : 1 + len(name)].casefold() != name:
        return None
    rest = line[1 + len(name) :]
    if rest and (_NAME_CHARS.match(rest) or (rest[0] == "." and _NAME_CHARS.match(rest[1:2]))):
        return None  # another name that starts with ours: @evalbot-dev, @evalbot2, @evalbot.test
    return rest.lstrip(_TRAILING_PUNCTUATION).strip()


def _listing(bot_name: str) -> str:
    mention = "@" + bot_name.lstrip("@")
    return "\n".join(f"- {_code(f'{mention} {example}')}: {meaning}" for example, meaning in _EXAMPLES.values())


def _code(text: str) -> str:
    """User text as inline code: no backticks, one line, at most 80 characters (no markdown injection)."""
    clean = " ".join(text.replace("`", "'").split())
    return f"`{clean[:77] + '...' if len(clean) > 80 else clean}`"


def _plain(text: str) -> str:
    """One line without backticks or markup-starting characters (the reason quotes user text)."""
    clean = " ".join(text.replace("`", "'").split()).rstrip(".")
    return clean.replace("<", "&lt;").replace("@", "@\u200d")


def _mention(user: str) -> str:
    clean = re.sub(r"[^\w.-]", "", user)
    return f"@{clean}" if clean else "there"


def _with_marker(body: str, key: str) -> str:
    if "-->" in key or "\n" in key or "\r" in key:
        raise ValueError(f"reply key {key!r} would break the hidden marker (no '-->' or line breaks)")
    return f"{body}\n\n<!-- evalbot-reply {key} -->"
