"""The benchmark registry (bot.edges.registry) against the Hub stand-in over HTTP: listing pages,
eval.yaml tasks, leaderboards, the TTL cache on disk, and failures; and the stand-in's
benchmark endpoints as huggingface_hub reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from bot.config.settings import Secret, Settings
from bot.core.placement import BenchmarkTask, RegisteredBenchmark
from bot.edges.hub import HubClient, RetryPolicy
from bot.edges.registry import BenchmarkRegistry, parse_eval_yaml
from bot.sim.hub import HubSim

FAST = RetryPolicy(attempts=2, base_wait=0.0, max_wait=0.0)
TASKS = {"tasks": [{"id": "default"}]}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def registry(sim: HubSim, home: Path, clock: Clock | None = None, ttl: float = 3600.0) -> BenchmarkRegistry:
    settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=home)
    return BenchmarkRegistry(HubClient(settings, retry=FAST), home / "registry", ttl=ttl, clock=clock or Clock())


def gets(sim: HubSim, needle: str) -> int:
    return sum(1 for method, path in sim.requests if method == "GET" and needle in path)


def test_the_listing_is_read_page_by_page(tmp_path: Path) -> None:
    with HubSim(benchmarks={f"b/{i}": TASKS for i in range(5)}, dataset_page_size=2) as sim:
        sim.add_repo("plain/data", {"data.csv": "a\n"}, repo_type="dataset")  # a dataset, not a benchmark
        assert sorted(d.id for d in HfApi(endpoint=sim.url).list_datasets(benchmark=True)) == [
            f"b/{i}" for i in range(5)
        ]
        sim.reset_requests()
        view = registry(sim, tmp_path).view(["b/4", "plain/data"])
        assert gets(sim, "/api/datasets?") == 3  # 5 benchmarks, 2 a page
        assert dict(view.benchmarks) == {"b/4": RegisteredBenchmark("b/4", (BenchmarkTask("default"),))}
        assert dict(view.leaderboards) == {"b/4": ()}


def test_answers_are_cached_on_disk_for_the_ttl(tmp_path: Path) -> None:
    clock = Clock()
    with HubSim() as sim:
        registry(sim, tmp_path, clock).view(["openai/gsm8k"])
        sim.reset_requests()
        again = registry(sim, tmp_path, clock).view(["openai/gsm8k"])  # a new process, the same home
        assert sim.request_count() == 0
        assert again.benchmarks["openai/gsm8k"].tasks == (BenchmarkTask("main", "main", "test"),)
        clock.now += 3601
        registry(sim, tmp_path, clock).view(["openai/gsm8k"])
        assert (gets(sim, "/api/datasets?"), gets(sim, "eval.yaml"), gets(sim, "/leaderboard")) == (1, 1, 1)


def test_a_damaged_cache_file_is_read_again_from_the_hub(tmp_path: Path) -> None:
    with HubSim() as sim:
        registry(sim, tmp_path).view(["openai/gsm8k"])
        for path in (tmp_path / "registry").glob("*.json"):
            path.write_text("{not json", encoding="utf-8")
        sim.reset_requests()
        view = registry(sim, tmp_path).view(["openai/gsm8k"])
        assert view.benchmarks["openai/gsm8k"].tasks[0].id == "main" and sim.request_count() == 3


def test_scores_naming_no_dataset_cost_nothing(tmp_path: Path) -> None:
    with HubSim() as sim:
        sim.reset_requests()
        view = registry(sim, tmp_path).view([None, ""])
        assert (view.benchmarks, view.leaderboards, sim.request_count()) == ({}, {}, 0)


def test_an_unreadable_leaderboard_leaves_no_scale(tmp_path: Path) -> None:
    with HubSim() as sim:
        sim.inject("leaderboard", 503)
        view = registry(sim, tmp_path).view(["openai/gsm8k"])
        assert "openai/gsm8k" in view.benchmarks and "openai/gsm8k" not in view.leaderboards


def test_leaderboard_rows_come_from_main_and_open_prs(tmp_path: Path) -> None:
    entry = yaml.safe_dump([{"dataset": {"id": "openai/gsm8k", "task_id": "main"}, "value": 48.2}])
    with HubSim() as sim:
        sim.add_repo("a/base", {"README.md": "# a\n", ".eval_results/gsm8k.yaml": entry})
        sim.add_repo("b/tuned", {"README.md": "---\nbase_model: a/base\n---\n# b\n"})
        num = sim.open_pr("b/tuned", {".eval_results/gsm8k.yaml": entry.replace("48.2", "51.0")})
        closed = sim.open_pr("a/base", {".eval_results/more.yaml": entry.replace("48.2", "99.0")})
        sim.close("a/base", closed)
        api = HfApi(endpoint=sim.url)
        assert [(r.model_id, r.value, r.pull_request) for r in api.get_dataset_leaderboard("openai/gsm8k")] == [
            ("a/base", 48.2, None)
        ]  # by default, models that declare a base model are left out
        rows = api.get_dataset_leaderboard("openai/gsm8k", base_model_only=False)
        assert [(r.rank, r.model_id, r.value, r.pull_request) for r in rows] == [
            (1, "b/tuned", 51.0, num),
            (2, "a/base", 48.2, None),
        ]
        assert HubClient(Settings(hf_endpoint=sim.url, home=tmp_path)).leaderboard_values("openai/gsm8k") == [
            51.0,
            48.2,
        ]


def test_a_dataset_without_a_leaderboard_answers_404_which_reads_as_no_entries(tmp_path: Path) -> None:
    with HubSim() as sim:
        sim.add_benchmark("c/unlisted", TASKS, registered=False)
        with pytest.raises(HfHubHTTPError, match="not a benchmark") as raised:
            HfApi(endpoint=sim.url).get_dataset_leaderboard("c/unlisted")
        assert raised.value.response.status_code == 404
        assert HubClient(Settings(hf_endpoint=sim.url, home=tmp_path)).leaderboard_values("c/unlisted") == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tasks: [", "eval.yaml is not valid YAML"),
        ("name: x\n", "eval.yaml has no tasks list"),
        ("tasks: [{config: a}]", "eval.yaml tasks[0] has no id"),
        ("tasks: [{id: a, split: 3}]", "eval.yaml tasks[0] (a): config and split must be text"),
        ("tasks: [{id: a}, {id: a, split: train}]", "eval.yaml declares a task id twice"),
    ],
)
def test_a_malformed_eval_yaml_is_a_benchmark_without_tasks(text: str, problem: str) -> None:
    tasks, found = parse_eval_yaml(text)
    assert tasks == () and found is not None and found.startswith(problem)


def test_a_registered_benchmark_with_a_broken_eval_yaml_gets_no_tasks(tmp_path: Path) -> None:
    with HubSim(benchmarks={"d/broken": "name: d\n"}) as sim:
        view = registry(sim, tmp_path).view(["d/broken"])
        assert view.benchmarks["d/broken"] == RegisteredBenchmark("d/broken", (), "eval.yaml has no tasks list")
