"""`EvalSettings`: every setting of an evaluation, in one record that travels whole (DESIGN §7).

    settings = EvalSettings(engine="inspect", max_new_tokens=None, chat_template="auto")
    settings.result_fields()   # what goes into the cache key: the fields that change the numbers
    EvalSettings.from_json(settings.to_json()) == settings

The CLI flags, `eval:` in evalbot.yaml, ChatOps and the Action all build this record; it reaches
the engine unchanged, locally and inside an HF Job (serialised into the job's command as JSON).
Defaults are the honest ones: greedy decoding (`temperature` 0) on every path, the task's own
generation length (`max_new_tokens` None), and the engine's own chat-template detection
(`chat_template` "auto"). `limit` makes a run partial: such a run is for dry runs and smoke
tests, and is published only with `allow_partial`, marked as partial.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from bot.errors import InputError

__all__ = [
    "BACKENDS",
    "CHAT_TEMPLATES",
    "ENGINES",
    "Backend",
    "ChatTemplate",
    "Engine",
    "EvalSettings",
    "engine_version",
    "file_digest",
]

Engine = Literal["lighteval", "inspect"]
Backend = Literal["transformers", "vllm"]
ChatTemplate = Literal["auto", "on", "off"]
ENGINES: tuple[Engine, ...] = ("lighteval", "inspect")
BACKENDS: tuple[Backend, ...] = ("transformers", "vllm")
CHAT_TEMPLATES: tuple[ChatTemplate, ...] = ("auto", "on", "off")
_DISTRIBUTIONS: Mapping[str, str] = {"lighteval": "lighteval", "inspect": "inspect_ai"}
_PROVIDER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Fields that do not change the numbers (how fast, where, whether publishing is allowed), and the
# task file, which counts by its content (see `result_fields`).
_NOT_RESULT_RELEVANT = frozenset({"device", "batch_size", "gpu_memory_utilization", "allow_partial", "custom_tasks"})


@dataclass(frozen=True)
class EvalSettings:
    """How an evaluation is run; see the module docstring. Invalid values are an `InputError`."""

    engine: Engine = "lighteval"
    backend: Backend = "transformers"
    provider: str | None = None  # an Inference Provider (inspect): the model is not downloaded
    base_url: str | None = None  # an OpenAI-compatible endpoint serving the model (with `provider`)
    dtype: str | None = None  # None: the engine's default (vLLM: bfloat16), or the Jobs flavor's
    device: str = "auto"  # auto: CUDA when present, else CPU
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    batch_size: int | None = None
    max_new_tokens: int | None = None  # None: each task's own generation length
    temperature: float = 0.0  # greedy
    chat_template: ChatTemplate = "auto"  # auto: the engine's own detection
    limit: int | None = None  # samples per task; a limited run is partial
    allow_partial: bool = False
    trust_remote_code: bool = False
    custom_tasks: Path | None = None  # lighteval custom tasks file / inspect task file

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InputError(f"engine {self.engine!r}: choose from {', '.join(ENGINES)}")
        if self.backend not in BACKENDS:
            raise InputError(f"backend {self.backend!r}: choose from {', '.join(BACKENDS)}")
        if self.chat_template not in CHAT_TEMPLATES:
            raise InputError(f"chat template {self.chat_template!r}: choose from {', '.join(CHAT_TEMPLATES)}")
        if self.provider is not None:
            if self.engine != "inspect":
                raise InputError(
                    f"provider {self.provider!r}: Inference Providers are run with inspect; pass --engine inspect"
                )
            if not _PROVIDER.match(self.provider):
                raise InputError(f"provider {self.provider!r}: expected a provider name such as 'together' or 'auto'")
        if self.base_url is not None:
            if self.provider is None:
                raise InputError("--base-url needs --provider NAME (the endpoint's name; its key is NAME_API_KEY)")
            if not re.match(r"^https?://[^\s/]+", self.base_url):
                raise InputError(f"base url {self.base_url!r}: expected http(s)://host[:port]/v1")
        for name in ("tensor_parallel_size",):
            if getattr(self, name) < 1:
                raise InputError(f"{name.replace('_', ' ')} {getattr(self, name)}: must be at least 1")
        for name in ("max_model_len", "batch_size", "max_new_tokens", "limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise InputError(f"{name.replace('_', ' ')} {value!r}: must be a whole number of at least 1")
        if not 0 < self.gpu_memory_utilization <= 1:
            raise InputError(f"gpu memory utilization {self.gpu_memory_utilization}: must be in (0, 1]")
        if self.temperature < 0:
            raise InputError(f"temperature {self.temperature}: must be at least 0")
        if not self.device.strip():
            raise InputError("device: expected auto, cpu, cuda or cuda:N")

    @property
    def backend_label(self) -> str:
        """What the run is recorded as: `provider:<name>` for a provider run, else the backend."""
        return f"provider:{self.provider}" if self.provider is not None else self.backend

    @property
    def partial(self) -> bool:
        return self.limit is not None

    def resolved_device(self) -> str:
        """`auto` → `cuda` when torch sees a GPU, else `cpu`; anything else as given."""
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def result_fields(self) -> dict[str, Any]:
        """The fields that change an evaluation's numbers (the cache key's part), task file by content."""
        data = {k: v for k, v in asdict(self).items() if k not in _NOT_RESULT_RELEVANT}
        data["custom_tasks"] = file_digest(self.custom_tasks) if self.custom_tasks is not None else None
        return data

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["custom_tasks"] = str(self.custom_tasks) if self.custom_tasks is not None else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EvalSettings:
        """The inverse of `to_json`; an unknown key or a bad value is an `InputError`."""
        if not isinstance(data, Mapping):
            raise InputError("evaluation settings: expected a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise InputError(f"evaluation settings: unknown key(s) {', '.join(unknown)}")
        values = dict(data)
        if values.get("custom_tasks") is not None:
            values["custom_tasks"] = Path(str(values["custom_tasks"]))
        try:
            return cls(**values)
        except TypeError as e:
            raise InputError(f"evaluation settings: {e}") from e

    def with_changes(self, **changes: Any) -> EvalSettings:
        return replace(self, **changes)

    def describe(self) -> str:
        """One line for the PR body: every setting that changes the numbers."""
        parts = [
            f"backend {self.backend_label}",
            f"dtype {self.dtype or 'engine default'}",
            f"tensor parallel {self.tensor_parallel_size}",
            f"max new tokens {self.max_new_tokens if self.max_new_tokens is not None else 'task default'}",
            f"temperature {self.temperature:g}",
            f"chat template {self.chat_template}",
            f"limit {self.limit if self.limit is not None else 'none (all samples)'}",
        ]
        if self.max_model_len is not None:
            parts.append(f"max model length {self.max_model_len}")
        if self.base_url is not None:
            parts.append(f"endpoint {self.base_url}")
        if self.trust_remote_code:
            parts.append("remote code trusted")
        return ", ".join(parts)


def engine_version(engine: str) -> str:
    """The installed version of an engine's distribution, read without importing it."""
    try:
        return importlib.metadata.version(_DISTRIBUTIONS.get(engine, engine))
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def file_digest(path: Path | str) -> str:
    """sha256 of a file's content; a missing file is an `InputError`."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as e:
        raise InputError(f"task file {path}: cannot read it ({e.strerror or e})") from e
