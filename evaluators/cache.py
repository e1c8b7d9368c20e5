"""The evaluation result cache: the same evaluation of the same commit never runs twice.

One JSON file per evaluation identity (`cache_key`), holding that task's part of a `Run`. A
request whose tasks are all cached loads no model and runs nothing; a partial hit runs only the
missing tasks, in one engine call.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from evaluators import EvaluationError, Run, TaskSpec
from evaluators.settings import EvalSettings, file_digest

logger = logging.getLogger(__name__)

KEY_VERSION = 2  # bump when what an evaluation's identity holds changes: old entries are never reused


def cache_key(repo_id: str, sha: str, task: TaskSpec, settings: EvalSettings, *, engine: str, runner: str) -> str:
    """What makes two evaluations the same, and a different one never reuse a result.

    The commit; the task (spelling, few-shot) and its file's CONTENT for task files; the engine
    and what pins its version and its built-in tasks' versions (`engine`: the installed version
    for a local run, the job image for HF Jobs); the runner; and every result-relevant setting
    (`EvalSettings.result_fields`: backend, provider, dtype, tensor parallel size, max new tokens,
    temperature, chat template, limit, ...).
    """
    parts = {
        "v": KEY_VERSION,
        "repo": repo_id,
        "sha": sha,
        "task": task.key,
        "task_file": file_digest(task.file) if task.file is not None else None,
        "engine": engine,
        "runner": runner,
        "settings": settings.result_fields(),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class EvalCache:
    """Per-task Run records on disk under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Run | None:
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return replace(Run.from_json(json.loads(path.read_text(encoding="utf-8"))), cached=True)
        except (OSError, ValueError, EvaluationError):
            logger.warning("ignoring a damaged cached evaluation %s", path)
            return None

    def put(self, key: str, run: Run) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(run.to_json(), sort_keys=True), encoding="utf-8")
        tmp.replace(path)


def split_run(run: Run) -> dict[str, Run]:
    """One Run per task spelling (scores carry their task in provenance)."""
    parts = {}
    for task in run.tasks:
        scores = tuple(s for s in run.scores if s.provenance.get("task") == task.spelling)
        samples = {task.spelling: run.samples.get(task.spelling, 0)}
        totals = {k: v for k, v in run.totals.items() if k == task.spelling}
        versions = {k: v for k, v in run.task_versions.items() if k == task.spelling}
        parts[task.spelling] = replace(
            run, scores=scores, tasks=(task,), samples=samples, totals=totals, task_versions=versions
        )
    return parts


def merge_runs(runs: Sequence[Run], tasks: Sequence[TaskSpec]) -> Run:
    """Cached and fresh parts back into one Run, in the order the tasks were asked."""
    by_task = {r.tasks[0].spelling: r for r in runs}
    ordered = [by_task[t.spelling] for t in tasks]
    first = ordered[0]
    return replace(
        first,
        scores=tuple(s for r in ordered for s in r.scores),
        tasks=tuple(tasks),
        samples={k: v for r in ordered for k, v in r.samples.items()},
        totals={k: v for r in ordered for k, v in r.totals.items()},
        task_versions={k: v for r in ordered for k, v in r.task_versions.items()},
        duration_s=sum(r.duration_s for r in ordered if not r.cached),
        cached=all(r.cached for r in ordered),
    )
