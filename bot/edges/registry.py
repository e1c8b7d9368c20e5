"""The Hub's benchmark registry, cached: which datasets are registered benchmarks, their
`eval.yaml` tasks, and their leaderboards' values (the edge behind `bot.core.placement`).

Every source (readme, aa, eval, and any later one) asks the same `BenchmarkRegistry` for a
`RegistryView` of the datasets its scores name, and hands that view to `card.apply_scores`.

Costs, per TTL (a day by default, `EVALBOT_REGISTRY_TTL_HOURS`): one listing of the registered
benchmarks (`list_datasets(benchmark=True)`: one page per 1,000 benchmarks), one `eval.yaml`
read per benchmark a score names, one leaderboard read per such benchmark. Answers are kept in
memory and under `<EVALBOT_HOME>/registry/` as JSON files written atomically, so a scan, a
restarted bot or the next CLI run pays for them once. Threads share one instance safely.

    registry = BenchmarkRegistry(hub, settings.home / "registry", ttl=86400)
    view = registry.view(["Idavidrein/gpqa", "cais/mmlu"])   # → RegistryView
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import yaml

from bot.core.placement import BenchmarkTask, RegisteredBenchmark, RegistryView
from bot.errors import HubError

logger = logging.getLogger(__name__)

DEFAULT_TTL = 24 * 3600.0
_FORMAT = 1


class BenchmarkHub(Protocol):
    """The Hub calls the registry makes (`bot.edges.hub.HubClient` has them)."""

    def list_benchmarks(self) -> list[str]: ...

    def read_dataset_file(self, dataset_id: str, path: str) -> str | None: ...

    def leaderboard_values(self, dataset_id: str) -> list[float]: ...


class BenchmarkRegistry:
    """Registered benchmarks, their tasks and leaderboard values, cached for `ttl` seconds."""

    def __init__(
        self, hub: BenchmarkHub, cache_dir: Path, *, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self._hub = hub
        self._dir = cache_dir
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._memory: dict[str, tuple[float, Any]] = {}

    def view(self, dataset_ids: Iterable[str | None]) -> RegistryView:
        """What the Hub says about these datasets: the registered ones, with tasks and leaderboards."""
        wanted = sorted({d for d in dataset_ids if d})
        if not wanted:
            return RegistryView()
        registered = set(self._cached("benchmarks", self._hub.list_benchmarks))
        benchmarks, leaderboards = {}, {}
        for dataset_id in wanted:
            if dataset_id not in registered:
                continue
            benchmarks[dataset_id] = self._benchmark(dataset_id)
            try:
                fetch = functools.partial(self._hub.leaderboard_values, dataset_id)
                values = self._cached(f"leaderboard/{dataset_id}", fetch)
            except HubError as e:  # no scale to go by: its scores stay model-index only (bot.core.placement)
                logger.warning("%s: cannot read the leaderboard: %s", dataset_id, e)
                continue
            leaderboards[dataset_id] = tuple(float(v) for v in values)
        return RegistryView(benchmarks, leaderboards)

    def _benchmark(self, dataset_id: str) -> RegisteredBenchmark:
        raw = self._cached(f"eval.yaml/{dataset_id}", lambda: self._read_eval_yaml(dataset_id))
        tasks = tuple(BenchmarkTask(t["id"], t.get("config"), t.get("split")) for t in raw.get("tasks", ()))
        return RegisteredBenchmark(dataset_id, tasks, raw.get("problem"))

    def _read_eval_yaml(self, dataset_id: str) -> dict[str, Any]:
        text = self._hub.read_dataset_file(dataset_id, "eval.yaml")
        if text is None:
            return {"tasks": [], "problem": "the dataset has no eval.yaml"}
        tasks, problem = parse_eval_yaml(text)
        return {"tasks": [{"id": t.id, "config": t.config, "split": t.split} for t in tasks], "problem": problem}

    def _cached(self, key: str, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            now = self._clock()
            found = self._memory.get(key) or self._load(key)
            if found is not None and now - found[0] < self._ttl:
                self._memory[key] = found
                return found[1]
            value = fetch()
            self._memory[key] = (now, value)
            self._store(key, now, value)
            return value

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in key)[:80]
        return self._dir / f"{safe}-{digest}.json"

    def _load(self, key: str) -> tuple[float, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("v") != _FORMAT or data.get("key") != key:
            return None
        fetched = data.get("fetched_at")
        return (float(fetched), data.get("value")) if isinstance(fetched, int | float) else None

    def _store(self, key: str, fetched_at: float, value: Any) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            payload = {"v": _FORMAT, "key": key, "fetched_at": fetched_at, "value": value}
            partial.write_text(json.dumps(payload, sort_keys=True), encoding="utf-8")
            os.replace(partial, path)
        except OSError as e:  # a read-only home only costs the cache
            logger.warning("cannot write the benchmark registry cache %s: %s", path, e)


def parse_eval_yaml(text: str) -> tuple[tuple[BenchmarkTask, ...], str | None]:
    """The `tasks[]` of a benchmark's `eval.yaml` (`id` required; `config`, `split` optional).

    Returns the tasks, and a one-line problem instead when the file is not what the Hub accepts.

    Example:
        >>> parse_eval_yaml("name: GPQA\\ntasks:\\n  - {id: diamond, config: gpqa_diamond, split: train}\\n")
        ((BenchmarkTask(id='diamond', config='gpqa_diamond', split='train'),), None)
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        return (), f"eval.yaml is not valid YAML ({' '.join(str(e).split())[:120]})"
    raw = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        return (), "eval.yaml has no tasks list"
    tasks = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"].strip():
            return (), f"eval.yaml tasks[{i}] has no id"
        config, split = item.get("config"), item.get("split")
        if not all(v is None or isinstance(v, str) for v in (config, split)):
            return (), f"eval.yaml tasks[{i}] ({item['id']}): config and split must be text"
        tasks.append(BenchmarkTask(item["id"], config, split))
    if len({t.id for t in tasks}) != len(tasks):
        return (), "eval.yaml declares a task id twice"
    return tuple(tasks), None


__all__ = ["DEFAULT_TTL", "BenchmarkHub", "BenchmarkRegistry", "parse_eval_yaml"]
