"""`evalbot.yaml`: the optional configuration file, validated with one-line errors.

    # evalbot.yaml
    aa:                                   # Hub repo → Artificial Analysis model (id or creator/slug)
      meta-llama/Llama-3.1-8B-Instruct: meta/llama-3-1-instruct-8b
      Qwen/Qwen2.5-72B-Instruct: 0b1e4a7c-...        # an AA model id (stable, preferred)
    eval:                                 # what the `eval` source runs
      tasks: ["gsm8k|5", "leaderboard|mmlu|5"]
      engine: lighteval                   # or inspect
      backend: transformers               # or vllm (GPU)
      runner: local                       # or hf-jobs
      limit: 100                          # samples per task (optional)
      custom_tasks: tasks/my_tasks.py     # relative to this file (optional)
      use_chat_template: false
      dtype: bfloat16                     # optional
      trust_remote_code: false            # never trusted unless set here

Only the keys documented here are accepted, so a typo is an error rather than a silently
ignored setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.errors import ConfigError

if TYPE_CHECKING:
    from evaluators.service import EvalRequest

KNOWN_KEYS = ("aa", "eval")
_EVAL_KEYS = (
    "tasks", "engine", "backend", "runner", "limit", "custom_tasks", "use_chat_template", "dtype",
    "trust_remote_code", "batch_size", "max_length",
)  # fmt: skip


@dataclass(frozen=True)
class ConfigFile:
    """The validated contents of evalbot.yaml."""

    path: Path | None = None
    aa: dict[str, str] = field(default_factory=dict)
    eval: EvalRequest | None = None


def load_config_file(path: Path) -> ConfigFile:
    """Read and validate `path`; every problem is a `ConfigError` naming the file and key."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read the config file {path}: {e.strerror or e}") from e
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{path} line {mark.line + 1}" if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(e, 'problem', None) or e}); fix the file") from e
    if data is None:
        return ConfigFile(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    unknown = sorted(str(k) for k in data if k not in KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(KNOWN_KEYS)}")
    return ConfigFile(path, aa=_repo_mapping(path, "aa", data.get("aa")), eval=_eval_request(path, data.get("eval")))


def _eval_request(path: Path, value: Any) -> EvalRequest | None:
    from evaluators import BACKENDS, ENGINES, Limits
    from evaluators.service import RUNNERS, EvalRequest

    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: eval: expected a mapping (tasks, engine, backend, runner, ...)")
    unknown = sorted(str(k) for k in value if k not in _EVAL_KEYS)
    if unknown:
        raise ConfigError(f"{path}: eval: unknown key(s) {', '.join(unknown)}; known: {', '.join(_EVAL_KEYS)}")
    tasks = value.get("tasks")
    if not isinstance(tasks, list) or not tasks or not all(isinstance(t, str) and t.strip() for t in tasks):
        raise ConfigError(f"{path}: eval: tasks: expected a non-empty list of task names such as 'gsm8k|5'")
    choices = {"engine": ENGINES, "backend": BACKENDS, "runner": RUNNERS}
    picked = {}
    for key, allowed in choices.items():
        chosen = value.get(key, allowed[0])
        if chosen not in allowed:
            raise ConfigError(f"{path}: eval: {key}: {chosen!r} is not one of {', '.join(allowed)}")
        picked[key] = chosen
    numbers = {}
    for key in ("limit", "batch_size", "max_length"):
        number = value.get(key)
        if number is not None and (not isinstance(number, int) or isinstance(number, bool) or number < 1):
            raise ConfigError(f"{path}: eval: {key}: expected a whole number of at least 1, got {number!r}")
        numbers[key] = number
    flags = {}
    for key in ("use_chat_template", "trust_remote_code"):
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            raise ConfigError(f"{path}: eval: {key}: expected true or false, got {flag!r}")
        flags[key] = flag
    custom = value.get("custom_tasks")
    custom_path = (path.parent / str(custom)).resolve() if custom else None
    if custom_path is not None and not custom_path.is_file():
        raise ConfigError(f"{path}: eval: custom_tasks: {custom_path} does not exist")
    dtype = value.get("dtype")
    limits = Limits(
        dtype=str(dtype) if dtype else None,
        max_length=numbers["max_length"],
        batch_size=numbers["batch_size"],
        use_chat_template=flags["use_chat_template"],
        custom_tasks=custom_path,
    )
    return EvalRequest(
        tasks=tuple(t.strip() for t in tasks),
        engine=picked["engine"],
        backend=picked["backend"],
        runner=picked["runner"],
        limit=numbers["limit"],
        limits=limits,
        trust_remote_code=flags["trust_remote_code"],
    )


def _repo_mapping(path: Path, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a mapping of repo id → value")
    mapping = {}
    for repo, target in value.items():
        if not isinstance(repo, str) or repo.count("/") != 1:
            raise ConfigError(f"{path}: {key}: {repo!r} is not a repo id like org/name")
        if not isinstance(target, str) or not target.strip():
            raise ConfigError(f"{path}: {key}: {repo}: expected an AA model id or creator/slug, got {target!r}")
        mapping[repo] = target.strip()
    return mapping
