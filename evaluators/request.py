"""What to evaluate, and how: the `EvalRequest` record (a core record, so config can hold one).

Read from the `evaluate` flags, `eval:` in evalbot.yaml, ChatOps and the Action inputs; carried out
by `bot.app.evaluations.EvalService`. Pure: imports only the evaluators' own records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.errors import InputError
from evaluators import EvalSettings, TaskSpec
from evaluators.settings import Engine

Runner = Literal["local", "hf-jobs"]
RUNNERS: tuple[Runner, ...] = ("local", "hf-jobs")


@dataclass(frozen=True)
class EvalRequest:
    """What to evaluate, and how (the `evaluate` flags / `eval:` in evalbot.yaml / ChatOps / the Action)."""

    tasks: tuple[str, ...]
    settings: EvalSettings = field(default_factory=EvalSettings)
    runner: Runner = "local"

    @property
    def engine(self) -> Engine:
        return self.settings.engine

    def specs(self) -> list[TaskSpec]:
        return [TaskSpec.parse(t, self.engine) for t in self.tasks]


def check_publishable(settings: EvalSettings) -> None:
    """A partial run (`limit`) is published only when allowed; raised before anything runs."""
    if settings.limit is not None and not settings.allow_partial:
        raise InputError(
            f"--limit {settings.limit} makes a partial run, which is for dry runs and smoke tests: "
            "drop --limit to publish, or pass --allow-partial (eval: allow_partial: true) to publish it "
            "marked 'partial: N of M samples'"
        )
