"""Task strings in each engine's own spelling → TaskSpec (pure)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot import benchmarks
from bot.errors import InputError

if TYPE_CHECKING:
    from evaluators import Engine, TaskSpec

_SHOTS = re.compile(r"^\d+$")


def parse_task(text: str, engine: Engine, *, limit: int | None = None) -> TaskSpec:
    """`gsm8k|5`, `leaderboard|mmlu|5` (suite ignored), `inspect_evals/gsm8k`, `tasks.py@tiny_mc`."""
    from evaluators import TaskSpec

    spelling = text.strip()
    if not spelling:
        raise InputError("an empty task name; pass tasks like 'gsm8k|5' (lighteval) or 'inspect_evals/gsm8k'")
    if limit is not None and limit < 1:
        raise InputError(f"--limit {limit}: must be at least 1")
    if engine == "lighteval":
        parts = spelling.split("|")
        if len(parts) == 3:  # the old suite|task|fewshot form: the suite is ignored by lighteval 0.13
            parts = parts[1:]
        if len(parts) == 1:
            parts.append("0")
        name, shots = parts
        if len(parts) != 2 or not name or not _SHOTS.match(shots):
            raise InputError(f"lighteval task {spelling!r}: expected 'task|fewshot' such as 'gsm8k|5'")
        return TaskSpec(engine, f"{name}|{shots}", name, int(shots), _benchmark(name), limit)
    if engine == "inspect":
        name = spelling.rsplit("@", 1)[-1] if "@" in spelling else spelling.rsplit("/", 1)[-1]
        if not name:
            raise InputError(f"inspect task {spelling!r}: expected 'inspect_evals/<task>' or 'file.py@task'")
        return TaskSpec(engine, spelling, name, None, _benchmark(name), limit)
    raise InputError(f"unknown engine {engine!r}; choose from lighteval, inspect")


def _benchmark(name: str) -> str | None:
    """The canonical benchmark a task measures ("arc:challenge" → ARC-Challenge), if known."""
    for candidate in (name, name.replace(":", " "), name.split(":", 1)[0], name.replace("_", " ")):
        found = benchmarks.lookup_benchmark(candidate)
        if found is not None:
            return found.name
    return None
