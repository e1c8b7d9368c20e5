"""The evaluation result cache: the same evaluation of the same commit never runs twice.

One JSON file per (repo, sha, engine, backend, task, settings that change results), holding that
task's part of a `Run`. A request whose tasks are all cached loads no model and runs nothing; a
partial hit runs only the missing tasks, in one engine call.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from evaluators import Backend, EvaluationError, Limits, Run, TaskSpec

logger = logging.getLogger(__name__)


def cache_key(repo_id: str, sha: str, task: TaskSpec, backend: Backend, limits: Limits) -> str:
    """What makes two evaluations the same: the commit, the task, the backend, and result-relevant settings."""
    settings = {k: v for k, v in asdict(limits).items() if k not in ("device", "batch_size", "custom_tasks")}
    if limits.custom_tasks is not None:  # the task file's content, not its path, is what matters
        settings["custom_tasks"] = hashlib.sha256(limits.custom_tasks.read_bytes()).hexdigest()
    text = json.dumps([repo_id, sha, task.key, backend, settings], sort_keys=True, default=str)
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
        parts[task.spelling] = replace(run, scores=scores, tasks=(task,), samples=samples)
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
        duration_s=sum(r.duration_s for r in ordered if not r.cached),
        cached=all(r.cached for r in ordered),
    )
