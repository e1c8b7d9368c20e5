"""The `leaderboard` source: per-model results files in leaderboard results datasets.

A leaderboard (evalbot.yaml `leaderboards:`; default the Open LLM Leaderboard) keeps
`<org>/<model>/results_<timestamp>.json` in a Hub dataset. For a repo, one tree listing of its
folder finds the files and the newest is downloaded (two requests). Its tasks map to benchmarks
(`bot.core.harness_tasks`): the benchmark (group) scores with the benchmark's usual metrics, not each
subtask, unless the leaderboard entry sets `subtasks: true`. Every score is attributed to the
leaderboard by name and URL; values stay as the file gives them (a leaderboard's normalised
display scores are never computed here). A file for another commit than the repo's head says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Protocol

from bot.config.file import Leaderboard
from bot.core import harness_tasks
from bot.core.result_files import check_model, read_result_file
from bot.core.scores import Score, Source
from bot.edges.hub import Snapshot
from bot.errors import InputError

SOURCE_KEY = "leaderboards"  # .eval_results/leaderboards.yaml
SOURCE_NAME = "Leaderboard results"
_SHA = re.compile(r"^[0-9a-f]{40}$")


class _Reader(Protocol):
    def read_bytes(self, repo_id: str, path: str, revision: str, *, repo_type: str = "model") -> bytes: ...

    def list_dataset_folder(self, dataset_id: str, folder: str) -> list[str]: ...


def collect(
    hub: _Reader, snapshot: Snapshot, leaderboards: Sequence[Leaderboard], *, allow_partial: bool = False
) -> tuple[list[Score], list[str]]:
    """Every configured leaderboard's scores for the repo, and PR-body lines naming each one."""
    scores: list[Score] = []
    details: list[str] = []
    for board in leaderboards:
        found, lines = _one(hub, snapshot, board, allow_partial)
        scores += found
        details += lines
    return scores, details


def _one(hub: _Reader, snapshot: Snapshot, board: Leaderboard, allow_partial: bool) -> tuple[list[Score], list[str]]:
    repo_id = snapshot.repo_id
    files = [p for p in hub.list_dataset_folder(board.dataset, repo_id) if _is_results(p)]
    if not files:
        return [], [f"{board.name}: no results for {repo_id} in {board.dataset}"]
    newest = max(files, key=lambda p: PurePosixPath(p).name)  # results_<timestamp>.json: the name sorts by time
    data = hub.read_bytes(board.dataset, newest, "main", repo_type="dataset")
    where = f"{board.dataset}/{newest}"
    try:
        result = read_result_file(where, data, source=Source(board.name, board.url), variants=board.variants)
        check_model(result, repo_id)
    except InputError as e:
        return [], [f"{board.name}: left out {where}: {e}"]
    if result.partial and not allow_partial:
        return [], [f"{board.name}: left out {where}: a partial run ({result.partial})"]
    picked = [s for s in result.scores if board.subtasks or _is_benchmark_score(s, board.variants)]
    lines = [f"Data from the {board.name} ({board.url}): {result.describe()} in the dataset {board.dataset}"]
    if result.model_sha and _SHA.match(result.model_sha) and result.model_sha != snapshot.sha:
        lines.append(
            f"The {board.name} evaluated commit {result.model_sha[:12]}; the repo's head is {snapshot.sha[:12]}"
        )
    return picked, lines


def _is_benchmark_score(score: Score, variants: bool) -> bool:
    """A mapped benchmark's own metric(s): `leaderboard_bbh` acc_norm, not each BBH subtask."""
    known = harness_tasks.lookup_task(str(score.provenance.get("task", "")), variants=variants)
    return known is not None and score.metric.type in known.metrics


def _is_results(path: str) -> bool:
    name = PurePosixPath(path).name
    return name.startswith("results_") and name.endswith(".json")
