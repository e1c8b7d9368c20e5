"""`evalbot.yaml`: the optional configuration file, validated with one-line errors.

    # evalbot.yaml
    aa:                                   # Hub repo → Artificial Analysis model (id or creator/slug)
      meta-llama/Llama-3.1-8B-Instruct: meta/llama-3-1-instruct-8b
      Qwen/Qwen2.5-72B-Instruct: 0b1e4a7c-...        # an AA model id (stable, preferred)

Only the keys documented here are accepted, so a typo is an error rather than a silently
ignored setting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError

KNOWN_KEYS = ("aa",)


@dataclass(frozen=True)
class ConfigFile:
    """The validated contents of evalbot.yaml."""

    path: Path | None = None
    aa: dict[str, str] = field(default_factory=dict)


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
    return ConfigFile(path, aa=_repo_mapping(path, "aa", data.get("aa")))


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
