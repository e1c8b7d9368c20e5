"""`evalbot.yaml`: the optional configuration file, validated with one-line errors.

    # evalbot.yaml
    aa:                                   # Hub repo → Artificial Analysis model (id or creator/slug)
      meta-llama/Llama-3.1-8B-Instruct: meta/llama-3-1-instruct-8b
      Qwen/Qwen2.5-72B-Instruct: 0b1e4a7c-...        # an AA model id (stable, preferred)
    eval:                                 # what the `eval` source runs (evaluators.settings.EvalSettings)
      tasks: ["gsm8k|5", "leaderboard|mmlu|5"]
      engine: lighteval                   # or inspect
      backend: transformers               # or vllm (GPU)
      runner: local                       # or hf-jobs
      provider: together                  # (inspect) an Inference Provider: nothing downloaded (optional)
      max_new_tokens: 1024                # optional; default: each task's own generation length
      temperature: 0                      # the default: greedy
      chat_template: auto                 # the default (the engine detects it); or on / off
      dtype: bfloat16                     # optional; default: the engine's (or the Jobs flavor's)
      tensor_parallel_size: 1             # (vllm) GPUs; a multi-GPU Jobs flavor sets it
      limit: 100                          # samples per task: a partial run (optional) ...
      allow_partial: false                # ... published only when true, marked partial
      custom_tasks: tasks/my_tasks.py     # relative to this file (optional)
      trust_remote_code: false            # never trusted unless set here

    # the bot service (`evalbot serve`)
    watch:                                # no watch section: every repo the Hub sends events for
      authors: [acme]                     # model repos of these users/orgs
      repos: [other/model, "other/*"]     # and these repos (fnmatch patterns)
    sources:                              # repo pattern → sources, first match wins; default [readme]
      "acme/*-gguf": []                   # nothing for these
      "acme/*": [readme, aa]
    new_repo_sources: [eval]              # sources for a newly created repo (default: none)
    outputs: [model-index, eval-results]  # the default; also: section
    templates_dir: ./my-templates         # relative to this file; must exist
    budgets: {max_open_per_namespace: 10, max_prs_per_hour: 20}
    chatops:
      allow: [alice]                      # may run GPU-costing commands besides owners and org members
      bot_name: evalbot                   # the @mention to answer to
      tasks: ["arc:challenge|25"]         # task names `@evalbot evaluate` may run besides eval: tasks
      task_dirs: [tasks]                  # folders whose task files (file.py@task) may be run
    readme:
      min_confidence: 0.8                 # README results below this are shown, never published (0..1)
    leaderboards:                         # the `leaderboard` source; this entry is the default
      - name: Open LLM Leaderboard
        dataset: open-llm-leaderboard/results   # <org>/<model>/results_<timestamp>.json, newest wins
        url: https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard
        subtasks: false                   # true: also each subtask, not only the group scores
        variants: false                   # true: C-prefixed translated tasks (Open Chinese LLM Leaderboard)
    deny: ["acme/private-*"]              # never touched
    webhook_secret_env: EVALBOT_WEBHOOK_SECRET   # the NAME of the variable holding the secret
    workers: 2                            # worker threads

Only the keys documented here are accepted, so a typo is an error rather than a silently
ignored setting. Secrets never go in this file: keys such as `webhook_secret` or `hf_token`
are refused with a pointer to the environment variable to use instead. Repo patterns are
matched case-insensitively, as the Hub resolves repo ids. Values are checked by the shared
parsers of `bot.core.parse` with YAML's own types: `true`/`false` and numbers, so a quoted
`'yes'` or `'5'` is an error rather than a guess. This file is one layer of the chain in
`bot.config.settings` (below flags, the environment and Action inputs; above .env).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from bot.config._text import read_settings_text
from bot.core.card import DEFAULT_FORMATS, FORMATS
from bot.core.parse import parse_bool, parse_choice, parse_choices, parse_float, parse_int, show
from bot.errors import ConfigError, InputError
from evaluators.request import RUNNERS, EvalRequest
from evaluators.settings import BACKENDS, CHAT_TEMPLATES, ENGINES, EvalSettings

KNOWN_KEYS = (
    "aa", "eval", "watch", "sources", "new_repo_sources", "outputs", "templates_dir", "budgets", "chatops",
    "deny", "webhook_secret_env", "workers", "readme", "leaderboards",
)  # fmt: skip
_EVAL_KEYS = (
    "tasks", "engine", "backend", "runner", "provider", "base_url", "limit", "allow_partial", "custom_tasks",
    "chat_template", "use_chat_template", "dtype", "device", "trust_remote_code", "batch_size", "max_length",
    "max_model_len", "max_new_tokens", "temperature", "tensor_parallel_size", "gpu_memory_utilization",
)  # fmt: skip
SOURCES = ("readme", "aa", "eval", "results", "leaderboard")
_LEADERBOARD_KEYS = ("name", "dataset", "url", "subtasks", "variants")
_FLAGS = ("subtasks", "variants")  # a leaderboard's true/false keys
DEFAULT_SOURCES = ("readme",)
DEFAULT_BOT_NAME = "evalbot"
MAX_WORKERS = 64
MAX_PATTERN = 200  # Hub repo ids are at most 96 characters
# keys people reach for to hold a secret → the environment variable that holds it instead
_SECRET_KEYS = {
    "webhook_secret": "webhook_secret_env",
    "hf_token": "HF_TOKEN",
    "token": "HF_TOKEN",
    "aa_api_key": "AA_API_KEY",
    "github_token": "GITHUB_TOKEN",
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HUB_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Watch:
    """The repos the bot acts on: every model repo of `authors`, and repos matching `repos`."""

    authors: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()  # fnmatch patterns over "org/name"

    def matches(self, repo_id: str) -> bool:
        namespace = repo_id.split("/", 1)[0].casefold()
        return any(a.casefold() == namespace for a in self.authors) or _matches_any(repo_id, self.repos)


@dataclass(frozen=True)
class Budgets:
    """PR budgets (None: no limit from evalbot.yaml)."""

    max_open_per_namespace: int | None = None
    max_prs_per_hour: int | None = None


@dataclass(frozen=True)
class Leaderboard:
    """A leaderboard that publishes per-model results files in a Hub dataset (the `leaderboard` source)."""

    name: str
    dataset: str  # <org>/<model>/results_<timestamp>.json inside it
    url: str
    subtasks: bool = False  # also each subtask's scores, not only the benchmark (group) scores
    variants: bool = False  # the files name C-prefixed translated tasks (Open Chinese LLM Leaderboard)


OPEN_LLM_LEADERBOARD = Leaderboard(
    "Open LLM Leaderboard",
    "open-llm-leaderboard/results",
    "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard",
)


@dataclass(frozen=True)
class ChatOps:
    """Who may run GPU-costing commands (besides repo owners and org members), and the @name to answer to."""

    allow: tuple[str, ...] = ()
    bot_name: str = DEFAULT_BOT_NAME
    tasks: tuple[str, ...] = ()  # task names `evaluate` may run (besides eval: tasks and the registries)
    task_dirs: tuple[Path, ...] = ()  # absolute folders whose task files may be run, by file name


@dataclass(frozen=True)
class ConfigFile:
    """The validated contents of evalbot.yaml (every field has the default an absent key means)."""

    path: Path | None = None
    aa: dict[str, str] = field(default_factory=dict)
    eval: EvalRequest | None = None
    watch: Watch | None = None  # None: everything is watched
    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pattern → sources, in file order
    new_repo_sources: tuple[str, ...] = ()
    outputs: tuple[str, ...] = DEFAULT_FORMATS
    templates_dir: Path | None = None  # absolute, resolved against the file's folder
    budgets: Budgets = field(default_factory=Budgets)
    chatops: ChatOps = field(default_factory=ChatOps)
    deny: tuple[str, ...] = ()  # fnmatch patterns over "org/name"
    webhook_secret_env: str | None = None  # the variable's NAME; None: the service's default
    workers: int | None = None  # None: the service's default
    readme_min_confidence: float | None = None  # None: the strict default (bot.core.tables.DEFAULT_MIN_CONFIDENCE)
    leaderboards: tuple[Leaderboard, ...] = (OPEN_LLM_LEADERBOARD,)

    def is_watched(self, repo_id: str) -> bool:
        """Whether the bot acts on `repo_id` (no watch section: every repo is watched)."""
        return self.watch is None or self.watch.matches(repo_id)

    def is_denied(self, repo_id: str) -> bool:
        """Whether `repo_id` matches a `deny` pattern (never touched)."""
        return _matches_any(repo_id, self.deny)

    def sources_for(self, repo_id: str) -> tuple[str, ...]:
        """The sources for `repo_id`: the first matching `sources` pattern's, else `readme`."""
        for pattern, sources in self.sources.items():
            if _matches(repo_id, pattern):
                return sources
        return DEFAULT_SOURCES


_show = show  # a short one-line repr for messages (bot.core.parse: the same everywhere)


def _key(key: Any) -> str:
    """A mapping key for an error message, as written when it is short and plain."""
    text = str(key) if isinstance(key, str | int | float | bool) or key is None else _show(key)
    return text if len(text) <= 80 and text.isprintable() else _show(text)


def _matches(repo_id: str, pattern: str) -> bool:
    return fnmatchcase(repo_id.casefold(), pattern.casefold())


def _matches_any(repo_id: str, patterns: tuple[str, ...]) -> bool:
    return any(_matches(repo_id, p) for p in patterns)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {_show(key_node.value)} appears twice", key_node.start_mark
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def load_config_file(path: Path) -> ConfigFile:
    """Read and validate `path`; every problem is a `ConfigError` naming the file and key."""
    data = _read_yaml(path)
    if data is None:
        return ConfigFile(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    for key, where in _SECRET_KEYS.items():
        if key in data:
            raise ConfigError(_secret_message(path, key, where))
    unknown = sorted(_key(k) for k in data if k not in KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(KNOWN_KEYS)}")
    return ConfigFile(
        path,
        aa=_repo_mapping(path, "aa", data.get("aa")),
        eval=_eval_request(path, data.get("eval")),
        watch=_watch(path, data.get("watch")),
        sources=_sources_map(path, data.get("sources")),
        new_repo_sources=_sources(path, "new_repo_sources", data.get("new_repo_sources")),
        outputs=_outputs(path, data.get("outputs")),
        templates_dir=_templates_dir(path, data.get("templates_dir")),
        budgets=_budgets(path, data.get("budgets")),
        chatops=_chatops(path, data.get("chatops")),
        deny=_patterns(path, "deny", data.get("deny")),
        webhook_secret_env=_secret_env(path, data.get("webhook_secret_env")),
        workers=_whole(path, "workers", data.get("workers"), maximum=MAX_WORKERS),
        readme_min_confidence=_readme(path, data.get("readme")),
        leaderboards=_leaderboards(path, data.get("leaderboards")),
    )


def _read_yaml(path: Path) -> Any:
    text = read_settings_text(path, kind="config file", size_hint="a config file is a few hundred lines")
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader: plain data only
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path} line {mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e}); fix the file") from e
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file; fix the file") from None


def _secret_message(path: Path, key: str, where: str) -> str:
    if key == "webhook_secret":
        return (
            f"{path}: webhook_secret: never put the secret in evalbot.yaml; set it in an environment variable "
            "and name that variable in webhook_secret_env (e.g. webhook_secret_env: EVALBOT_WEBHOOK_SECRET)"
        )
    return f"{path}: {key}: never put a token in evalbot.yaml; set the {where} environment variable instead"


def _eval_request(path: Path, value: Any) -> EvalRequest | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: eval: expected a mapping (tasks, engine, backend, runner, ...)")
    unknown = sorted(_key(k) for k in value if k not in _EVAL_KEYS)
    if unknown:
        raise ConfigError(f"{path}: eval: unknown key(s) {', '.join(unknown)}; known: {', '.join(_EVAL_KEYS)}")
    tasks = value.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) and t.strip() for t in tasks):
        raise ConfigError(f"{path}: eval: tasks: expected a non-empty list of task names such as 'gsm8k|5'")
    choices = {"engine": ENGINES, "backend": BACKENDS, "runner": RUNNERS, "chat_template": CHAT_TEMPLATES}
    picked: dict[str, Any] = {}
    for key, allowed in choices.items():
        picked[key] = parse_choice(value.get(key, allowed[0]), f"{path}: eval: {key}", allowed)
    if "use_chat_template" in value:  # the older spelling: true/false force it on/off
        if "chat_template" in value:
            raise ConfigError(f"{path}: eval: set chat_template (auto, on, off), not also use_chat_template")
        picked["chat_template"] = "on" if _eval_flag(path, value, "use_chat_template") else "off"
    numbers: dict[str, Any] = {}
    for key in ("limit", "batch_size", "max_length", "max_model_len", "max_new_tokens", "tensor_parallel_size"):
        number = value.get(key)
        numbers[key] = None if number is None else parse_int(number, f"{path}: eval: {key}", minimum=1, text=False)
    if numbers["max_length"] is not None and numbers["max_model_len"] is not None:
        raise ConfigError(f"{path}: eval: set max_model_len, not also max_length (its older name)")
    floats: dict[str, float] = {}
    for key, default in (("temperature", 0.0), ("gpu_memory_utilization", 0.9)):
        floats[key] = parse_float(value.get(key, default), f"{path}: eval: {key}", text=False)
    texts: dict[str, str | None] = {}
    for key in ("provider", "base_url", "dtype", "device"):
        text = value.get(key)
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise ConfigError(f"{path}: eval: {key}: expected a name, got {_show(text)}")
        texts[key] = text.strip() if isinstance(text, str) else None
    custom = value.get("custom_tasks")
    custom_path = (path.parent / str(custom)).resolve() if custom else None
    if custom_path is not None and not custom_path.is_file():
        raise ConfigError(f"{path}: eval: custom_tasks: {custom_path} does not exist")
    try:
        settings = EvalSettings(
            engine=picked["engine"],
            backend=picked["backend"],
            provider=texts["provider"],
            base_url=texts["base_url"],
            dtype=texts["dtype"],
            device=texts["device"] or "auto",
            tensor_parallel_size=numbers["tensor_parallel_size"] or 1,
            gpu_memory_utilization=floats["gpu_memory_utilization"],
            max_model_len=numbers["max_model_len"] or numbers["max_length"],
            batch_size=numbers["batch_size"],
            max_new_tokens=numbers["max_new_tokens"],
            temperature=floats["temperature"],
            chat_template=picked["chat_template"],
            limit=numbers["limit"],
            allow_partial=_eval_flag(path, value, "allow_partial"),
            trust_remote_code=_eval_flag(path, value, "trust_remote_code"),
            custom_tasks=custom_path,
        )
    except InputError as e:
        raise ConfigError(f"{path}: eval: {e}") from e
    return EvalRequest(tasks=tuple(t.strip() for t in tasks), settings=settings, runner=picked["runner"])


def _eval_flag(path: Path, value: dict[str, Any], key: str) -> bool:
    return parse_bool(value.get(key, False), f"{path}: eval: {key}", text=False)  # YAML's own true/false


def _repo_mapping(path: Path, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a mapping of repo id → value")
    mapping = {}
    for repo, target in value.items():
        if not isinstance(repo, str) or repo.count("/") != 1:
            raise ConfigError(f"{path}: {key}: {_show(repo)} is not a repo id like org/name")
        if not isinstance(target, str) or not target.strip():
            got = _show(target)
            raise ConfigError(f"{path}: {key}: {_key(repo)}: expected an AA model id or creator/slug, got {got}")
        mapping[repo] = target.strip()
    return mapping


def _leaderboards(path: Path, value: Any) -> tuple[Leaderboard, ...]:
    if value is None:
        return (OPEN_LLM_LEADERBOARD,)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{path}: leaderboards: expected a list of {{name, dataset, url}} entries")
    found = []
    for number, entry in enumerate(value, start=1):
        where = f"leaderboards entry {number}"
        entry = _section(path, where, entry, _LEADERBOARD_KEYS)
        texts = {}
        for key in ("name", "dataset", "url"):
            text = entry.get(key)
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(f"{path}: {where}: {key}: expected text, got {_show(text)}")
            texts[key] = text.strip()
        if texts["dataset"].count("/") != 1 or not all(_HUB_NAME.fullmatch(p) for p in texts["dataset"].split("/")):
            raise ConfigError(f"{path}: {where}: dataset: {_show(texts['dataset'])} is not a dataset id like org/name")
        if not texts["url"].startswith(("https://", "http://")):
            raise ConfigError(f"{path}: {where}: url: {_show(texts['url'])} is not an http(s) URL")
        flags = {key: parse_bool(entry.get(key, False), f"{path}: {where}: {key}", text=False) for key in _FLAGS}
        found.append(Leaderboard(texts["name"], texts["dataset"], texts["url"], **flags))
    return tuple(found)


def _section(path: Path, key: str, value: Any, known: tuple[str, ...]) -> dict[Any, Any]:
    """A nested mapping with only `known` keys ({} when absent)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a mapping with {', '.join(known)}")
    unknown = sorted(_key(k) for k in value if k not in known)
    if unknown:
        raise ConfigError(f"{path}: {key}: unknown key(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return value


def _pattern(path: Path, key: str, pattern: Any) -> str:
    if not isinstance(pattern, str) or not pattern.strip() or any(c.isspace() for c in pattern.strip()):
        raise ConfigError(f"{path}: {key}: {_show(pattern)} is not a repo id or pattern such as org/name or org/*")
    clean: str = pattern.strip()
    if len(clean) > MAX_PATTERN:
        raise ConfigError(f"{path}: {key}: {_show(clean)} is longer than a repo id can be ({MAX_PATTERN} characters)")
    if "/" not in clean and "*" not in clean:
        hint = "write org/name or a pattern like org/*"
        raise ConfigError(f"{path}: {key}: {_show(clean)} never matches a repo id; {hint}")
    return clean


def _patterns(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key}: expected a list of repo ids or patterns such as org/*")
    return tuple(dict.fromkeys(_pattern(path, key, p) for p in value))


def _names(path: Path, key: str, value: Any, hint: str) -> tuple[str, ...]:
    """Hub user or org names (a repo id among them gets `hint`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key}: expected a list of user or org names")
    names = []
    for item in value:
        name = item.strip() if isinstance(item, str) else item
        if isinstance(name, str) and "/" in name:
            raise ConfigError(f"{path}: {key}: {_show(name)} is a repo id, not a user or org name; {hint}")
        if not isinstance(name, str) or not _HUB_NAME.fullmatch(name):
            raise ConfigError(f"{path}: {key}: {_show(item)} is not a user or org name")
        names.append(name)
    return tuple(dict.fromkeys(names))


def _watch(path: Path, value: Any) -> Watch | None:
    if value is None:
        return None
    section = _section(path, "watch", value, ("authors", "repos"))
    watch = Watch(
        authors=_names(path, "watch: authors", section.get("authors"), "list it under watch: repos"),
        repos=_patterns(path, "watch: repos", section.get("repos")),
    )
    if not watch.authors and not watch.repos:
        raise ConfigError(f"{path}: watch: name at least one of authors or repos (or leave watch out to watch all)")
    return watch


def _sources(path: Path, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"{path}: {key}: expected a list of sources ({', '.join(SOURCES)})")
    return parse_choices(value, f"{path}: {key}", SOURCES)


def _sources_map(path: Path, value: Any) -> dict[str, tuple[str, ...]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: sources: expected a mapping of repo pattern → list of sources")
    mapping = {}
    for pattern, sources in value.items():
        clean = _pattern(path, "sources", pattern)
        if sources is None:
            raise ConfigError(f"{path}: sources: {clean}: expected a list of sources; write [] for none")
        mapping[clean] = _sources(path, f"sources: {clean}", sources)
    return mapping


def _outputs(path: Path, value: Any) -> tuple[str, ...]:
    if value is None:
        return DEFAULT_FORMATS
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{path}: outputs: expected a non-empty list of {', '.join(FORMATS)}")
    return parse_choices(value, f"{path}: outputs", FORMATS)


def _templates_dir(path: Path, value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: templates_dir: expected a folder path, got {_show(value)}")
    folder = (path.parent / value.strip()).resolve()
    if not folder.is_dir():
        raise ConfigError(f"{path}: templates_dir: {folder} is not a folder (paths are relative to {path.parent})")
    return folder


def _whole(path: Path, key: str, value: Any, *, maximum: int | None = None) -> int | None:
    if value is None:
        return None
    return parse_int(value, f"{path}: {key}", minimum=1, maximum=maximum, text=False)


def _readme(path: Path, value: Any) -> float | None:
    section = _section(path, "readme", value, ("min_confidence",))
    threshold = section.get("min_confidence")
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise ConfigError(f"{path}: readme: min_confidence: expected a number from 0 to 1, got {_show(threshold)}")
    return float(threshold)


def _budgets(path: Path, value: Any) -> Budgets:
    section = _section(path, "budgets", value, ("max_open_per_namespace", "max_prs_per_hour"))
    return Budgets(
        max_open_per_namespace=_whole(path, "budgets: max_open_per_namespace", section.get("max_open_per_namespace")),
        max_prs_per_hour=_whole(path, "budgets: max_prs_per_hour", section.get("max_prs_per_hour")),
    )


def _chatops(path: Path, value: Any) -> ChatOps:
    section = _section(path, "chatops", value, ("allow", "bot_name", "tasks", "task_dirs"))
    allow = _names(path, "chatops: allow", section.get("allow"), "list Hub user names")
    tasks = section.get("tasks", [])
    if not isinstance(tasks, list) or not all(isinstance(t, str) and t.strip() for t in tasks):
        raise ConfigError(f"{path}: chatops: tasks: expected a list of task names such as 'gsm8k|5'")
    dirs = section.get("task_dirs", [])
    if not isinstance(dirs, list) or not all(isinstance(d, str) and d.strip() for d in dirs):
        raise ConfigError(f"{path}: chatops: task_dirs: expected a list of folders (relative to {path.parent})")
    folders = tuple((path.parent / d.strip()).resolve() for d in dirs)
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise ConfigError(f"{path}: chatops: task_dirs: {missing[0]} is not a folder")
    name = section.get("bot_name", DEFAULT_BOT_NAME)
    clean = name.strip().removeprefix("@") if isinstance(name, str) else ""
    if not _HUB_NAME.fullmatch(clean):
        got = _show(name)
        raise ConfigError(f"{path}: chatops: bot_name: expected the bot's Hub user name such as evalbot, got {got}")
    return ChatOps(allow=allow, bot_name=clean, tasks=tuple(t.strip() for t in tasks), task_dirs=folders)


def _secret_env(path: Path, value: Any) -> str | None:
    if value is None:
        return None
    # never echo the value: a mistake here is most likely the secret itself
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value.strip()):
        raise ConfigError(
            f"{path}: webhook_secret_env: expected the NAME of an environment variable such as "
            "EVALBOT_WEBHOOK_SECRET (the value is not shown); put the secret itself in that variable"
        )
    return value.strip()
