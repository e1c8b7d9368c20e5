"""The `TaskSpec` record: task strings in each engine's own spelling → TaskSpec.

Pure, apart from resolving task file paths.

A task maps to a canonical benchmark only when the vocabulary knows the task's WHOLE name
(`arc:challenge` → ARC-Challenge, `gsm8k` → GSM8K). A sub-task or variant (`mmlu:anatomy`,
`bbh:causal_judgment`, `gpqa:extended`, `truthfulqa:gen`) is never its parent benchmark: it
keeps its own name as its own dataset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core import benchmarks
from bot.errors import InputError
from evaluators.settings import Engine

_SHOTS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class TaskSpec:
    """One task in the engine's own spelling, with what it means for model-index.

    `spelling` is the task's identity (`gsm8k|5`, `inspect_evals/gsm8k`, `tasks.py@tiny_mc`: a
    task file by its file NAME; `file` is where it is here, and its content goes into the cache
    key); `benchmark` is the canonical name when the vocabulary knows the task exactly (a
    sub-task or variant is never its parent); `shots` from the spelling.
    """

    engine: Engine
    spelling: str
    name: str  # the task name inside the engine (gsm8k, tiny_mc, mmlu)
    shots: int | None = None
    benchmark: str | None = None
    file: str | None = None  # an inspect task file on this machine (absolute path)

    @classmethod
    def parse(cls, text: str, engine: Engine) -> TaskSpec:
        """Read one task string; `leaderboard|mmlu|5` and `mmlu|5` are both accepted for lighteval."""
        return parse_task(text, engine)

    @property
    def key(self) -> str:
        """A stable identity for caching (engine + spelling)."""
        return f"{self.engine}:{self.spelling}"


def parse_task(text: str, engine: Engine) -> TaskSpec:
    """`gsm8k|5`, `leaderboard|mmlu|5` (suite ignored), `inspect_evals/gsm8k`, `tasks.py@tiny_mc`."""
    spelling = text.strip()
    if not spelling:
        raise InputError("an empty task name; pass tasks like 'gsm8k|5' (lighteval) or 'inspect_evals/gsm8k'")
    if engine == "lighteval":
        parts = spelling.split("|")
        if len(parts) == 3:  # the old suite|task|fewshot form: the suite is ignored by lighteval 0.13
            parts = parts[1:]
        if len(parts) == 1:
            parts.append("0")
        name, shots = parts
        if len(parts) != 2 or not name or not _SHOTS.match(shots):
            raise InputError(f"lighteval task {spelling!r}: expected 'task|fewshot' such as 'gsm8k|5'")
        return TaskSpec(engine, f"{name}|{shots}", name, int(shots), benchmark_of(name))
    if engine == "inspect":
        file_part, _, task = spelling.rpartition("@") if "@" in spelling else (spelling, "", "")
        if file_part.endswith(".py"):
            path = Path(file_part).expanduser().resolve()
            if not path.is_file():
                raise InputError(f"inspect task {spelling!r}: no task file {path}")
            name = task or path.stem
            identity = f"{path.name}@{task}" if task else path.name
            return TaskSpec(engine, identity, name, None, benchmark_of(name), str(path))
        name = spelling.rsplit("/", 1)[-1]
        if not name:
            raise InputError(f"inspect task {spelling!r}: expected 'inspect_evals/<task>' or 'file.py@task'")
        return TaskSpec(engine, spelling, name, None, benchmark_of(name))
    raise InputError(f"unknown engine {engine!r}; choose from lighteval, inspect")


def benchmark_of(name: str) -> str | None:
    """The canonical benchmark a task measures, by its whole name ("arc:challenge" → ARC-Challenge).

    `mmlu:anatomy` is not MMLU and `truthfulqa:gen` is not TruthfulQA (multiple choice): a name
    with a sub-task part maps only if the vocabulary knows that exact sub-task.
    """
    for candidate in dict.fromkeys((name, name.replace(":", " "), name.replace("_", " "))):
        found = benchmarks.lookup_benchmark(candidate)
        if found is not None:
            return found.name
    return None
