"""Benchmarks in the Hub stand-in: the dataset listing and leaderboards (reference §1 of
hub-eval-results-and-formats.md).

* `GET /api/datasets?filter=benchmark:official` lists the registered benchmarks: dataset repos
  that are on the allow-list (`HubState.benchmarks`) and have an `eval.yaml` at the root of main.
  Pages hold `page_size` entries (the Hub's listing pages hold up to 1,000) and link the next
  one with a `Link: <...>; rel="next"` header, as huggingface_hub's `paginate` follows.
* `GET /api/datasets/{id}/leaderboard` is built from every public model's `.eval_results/*.yaml`
  on main and in its open PRs (those rows carry `pullRequest`), one row per entry of that
  dataset, ranked by value (higher first). As on the Hub, models that declare a `base_model` are
  left out unless `base_model=false` is passed. A dataset that is not a registered benchmark has
  no leaderboard (404).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import yaml

from bot.sim._hub_files import HubFailure, changed_paths, front_matter
from bot.sim._hub_state import HubState, Repo, repo_key

OFFICIAL = "benchmark:official"
_RESULTS_DIR = ".eval_results/"


def list_datasets(
    state: HubState, filters: list[str], cursor: int, base_url: str, user: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the dataset listing and the URL of the next page (None on the last)."""
    with state.lock:
        wanted = [
            repo
            for key, repo in sorted(state.repos.items())
            if repo.repo_type == "dataset"
            and (not repo.private or user in repo.readers or user == repo.owner)
            and (OFFICIAL not in filters or _is_benchmark(state, repo))
        ]
        size = state.dataset_page_size
        page = wanted[cursor : cursor + size]
        items = [_dataset_json(state, repo) for repo in page]
    following = None
    if cursor + size < len(wanted):
        query = [("filter", f) for f in filters] + [("cursor", str(cursor + size))]
        following = f"{base_url}/api/datasets?{urlencode(query)}"
    return items, following


def leaderboard(state: HubState, dataset_id: str, *, base_model_only: bool) -> list[dict[str, Any]]:
    """The leaderboard rows of a registered benchmark, best value first."""
    with state.lock:
        dataset = state.repos.get(repo_key(dataset_id, "dataset"))
        if dataset is None or dataset.private:
            raise HubFailure(404, "RepoNotFound", f"Repository not found: {dataset_id}")
        if not _is_benchmark(state, dataset):
            raise HubFailure(404, "NotFound", f"{dataset_id} is not a benchmark: it has no leaderboard")
        rows = []
        for repo in sorted(state.repos.values(), key=lambda r: r.repo_id):
            if repo.repo_type != "model" or repo.private:
                continue
            main = repo.commits[repo.main].files
            if base_model_only and _declares_base_model(main.get("README.md", b"")):
                continue
            rows += _rows(repo, main, dataset_id, None, set(main))
            for pr in sorted(repo.discussions.values(), key=lambda d: d.num):
                if pr.is_pr and pr.status in ("open", "draft") and pr.base and pr.head:
                    head = repo.commits[pr.head].files
                    rows += _rows(repo, head, dataset_id, pr.num, changed_paths(repo.commits[pr.base].files, head))
    rows.sort(key=lambda row: (-float(row["value"]), row["modelId"], row["filename"]))
    return [{"rank": rank, **row} for rank, row in enumerate(rows, start=1)]


def _is_benchmark(state: HubState, repo: Repo) -> bool:
    return repo.repo_id in state.benchmarks and "eval.yaml" in repo.commits[repo.main].files


def _dataset_json(state: HubState, repo: Repo) -> dict[str, Any]:
    head = repo.commits[repo.main]
    tags = [OFFICIAL] if _is_benchmark(state, repo) else []
    return {
        "_id": head.oid[:24],
        "id": repo.repo_id,
        "author": repo.owner,
        "sha": head.oid,
        "lastModified": head.created_at,
        "private": repo.private,
        "gated": "auto" if repo.gated else False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": tags,
    }


def _rows(
    repo: Repo, files: dict[str, bytes] | Any, dataset_id: str, pr_num: int | None, paths: set[str]
) -> list[dict[str, Any]]:
    rows = []
    for path in sorted(p for p in paths if p.startswith(_RESULTS_DIR) and p.endswith((".yaml", ".yml"))):
        data = files.get(path)
        try:
            entries = yaml.safe_load(data) if data is not None else None
        except yaml.YAMLError:
            continue  # the Hub skips files that fail its validation
        for entry in entries if isinstance(entries, list) else ():
            row = _row(repo, path, entry, dataset_id, pr_num)
            if row is not None:
                rows.append(row)
    return rows


def _row(repo: Repo, path: str, entry: object, dataset_id: str, pr_num: int | None) -> dict[str, Any] | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("dataset"), dict):
        return None
    if entry["dataset"].get("id") != dataset_id or not isinstance(entry.get("value"), int | float):
        return None
    source = entry.get("source") if isinstance(entry.get("source"), dict) else None
    return {
        "modelId": repo.repo_id,
        "value": entry["value"],
        "filename": path.removeprefix(_RESULTS_DIR),
        "verified": False,
        "source": {"url": source.get("url"), "name": source.get("name"), "isExternal": True} if source else None,
        "author": {"name": repo.owner, "fullname": repo.owner, "type": "user", "avatarUrl": ""},
        "pullRequest": pr_num,
        "notes": entry.get("notes"),
    }


def _declares_base_model(readme: bytes) -> bool:
    card = front_matter(readme)
    return isinstance(card, dict) and bool(card.get("base_model"))
