"""The `results` source: harness result files committed in the model repo itself.

Candidates are found by name in the file list the snapshot already has (no request when there
are none): lm-eval / lighteval `results_*.json`, inspect `*.eval` and inspect JSON logs. Each is
read at the snapshot's commit and recognised by content (`bot.core.result_files`). A file that is not
a result file, was evaluated on another model, or is a partial run (unless allowed) is left
out, and the PR body says why; where several files measure the same thing, the newest run wins.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.result_files import ResultFile, check_model, is_candidate, newest_first, read_result_file, with_source
from bot.core.scores import Score, Source
from bot.edges.hub import Snapshot
from bot.errors import InputError

SOURCE_KEY = "results"  # .eval_results/results.yaml
SOURCE_NAME = "Result files in the repo"


class _Reader(Protocol):
    def read_bytes(self, repo_id: str, path: str, revision: str, *, repo_type: str = "model") -> bytes: ...


def collect(
    hub: _Reader, snapshot: Snapshot, *, repo_url: str, allow_partial: bool = False
) -> tuple[list[Score], list[str]]:
    """The scores of every usable result file in the repo, and a PR-body line per file."""
    accepted: list[ResultFile] = []
    details: list[str] = []
    for path in (p for p in snapshot.files if is_candidate(p)):
        data = hub.read_bytes(snapshot.repo_id, path, snapshot.sha)
        try:
            result = read_result_file(path, data)
            check_model(result, snapshot.repo_id)
        except InputError as e:
            details.append(f"Left out {path}: {e}")
            continue
        if result.partial and not allow_partial:
            details.append(f"Left out {path}: a partial run ({result.partial})")
            continue
        url = f"{repo_url}/blob/{snapshot.sha}/{path}"  # the file, pinned to the commit it was read at
        accepted.append(with_source(result, Source(f"{result.engine} results", url)))
        details.append(f"From the {result.describe()} (commit {snapshot.sha[:12]})")
    return newest_first(accepted), details
