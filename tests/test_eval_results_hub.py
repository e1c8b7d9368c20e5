"""`.eval_results` the way the live Hub reads them (issue #11), end to end over real HTTP.

The Hub stand-in serves registered benchmarks (`eval.yaml` with task ids that differ from any
hard-coded guess), their listing and their leaderboards; evalbot runs its real pipeline against
it, and huggingface_hub reads the results back (`parse_eval_result_entries`,
`get_dataset_leaderboard`). Nothing of ours is patched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from huggingface_hub import HfApi, parse_eval_result_entries

from bot.app.compose import build_app
from bot.app.pipeline import App, Job
from bot.config.settings import Secret, Settings
from bot.core.card import parse_card
from bot.core.plan import parse_markers
from bot.edges.hub import HubClient, RetryPolicy
from bot.edges.store import Store
from bot.sim.aa import AASim
from bot.sim.hub import HubSim
from evaluators import Run
from evaluators._scores import score_for
from evaluators.cache import EvalCache, cache_key
from evaluators.request import EvalRequest
from evaluators.settings import engine_version

REPO = "acme/Acme-7B"
CARD = """---
license: apache-2.0
---
# Acme-7B

## Evaluation

| Benchmark | Acme-7B |
|---|---|
| MMLU | 65.4 |
| GSM8K | 48.2 |
| GPQA Diamond | 0.312 |
"""
OWN_FILE = ".eval_results/readme.yaml"
FAST = RetryPolicy(attempts=4, base_wait=0.0, max_wait=0.0)
AA_KEY = "aa-test-key"


@pytest.fixture
def sim() -> HubSim:
    with HubSim() as hub:
        hub.add_repo(REPO, {"README.md": CARD})
        yield hub


def make_app(sim: HubSim, home: Path, **overrides: object) -> App:
    settings = Settings(hf_token=Secret("evalbot-token"), hf_endpoint=sim.url, home=home).with_overrides(**overrides)
    return build_app(settings, hub=HubClient(settings, retry=FAST), store=Store.open(home))


def entries(sim: HubSim, path: str = OWN_FILE, rev: str = "refs/pr/1") -> dict[str, tuple[str, float]]:
    """dataset id → (task id, value) of one `.eval_results` file, as huggingface_hub reads it."""
    data = sim.file(REPO, path, rev=rev)
    assert data is not None, f"{path} is not at {rev}"
    return {e.dataset_id: (e.task_id, e.value) for e in parse_eval_result_entries(yaml.safe_load(data))}


def model_index_values(sim: HubSim, rev: str = "refs/pr/1") -> dict[str, float]:
    readme = (sim.file(REPO, "README.md", rev=rev) or b"").decode()
    results = parse_card(readme).data["model-index"][0]["results"]
    return {r["dataset"]["name"]: r["metrics"][0]["value"] for r in results}


def other_model(sim: HubSim, name: str, dataset: str, task: str, value: float) -> None:
    """Another model whose `.eval_results` on main puts `value` on `dataset`'s leaderboard."""
    entry = [{"dataset": {"id": dataset, "task_id": task}, "value": value}]
    sim.add_repo(f"others/{name}", {"README.md": "# other\n", ".eval_results/x.yaml": yaml.safe_dump(entry)})


def test_prs_carry_the_task_ids_of_the_hubs_eval_yaml(sim: HubSim, tmp_path: Path) -> None:
    (report,) = make_app(sim, tmp_path).run(Job(REPO))
    assert report.outcome == "created"
    # the stand-in's eval.yaml files say `diamond` and `main`, not gpqa_diamond / gsm8k
    assert entries(sim) == {"openai/gsm8k": ("main", 48.2), "Idavidrein/gpqa": ("diamond", 31.2)}
    board = HfApi(endpoint=sim.url).get_dataset_leaderboard("openai/gsm8k")
    assert [(row.model_id, row.value, row.pull_request, row.filename) for row in board] == [
        (REPO, 48.2, 1, "readme.yaml")
    ]


def test_entries_are_pinned_to_the_card_commit_with_its_date(sim: HubSim, tmp_path: Path) -> None:
    sha = sim.head(REPO)
    make_app(sim, tmp_path).run(Job(REPO))
    text = (sim.file(REPO, OWN_FILE, rev="refs/pr/1") or b"").decode()
    (gsm8k, _gpqa) = parse_eval_result_entries(yaml.safe_load(text))
    assert gsm8k.source_url == f"{sim.url}/{REPO}/blob/{sha}/README.md"
    assert (gsm8k.source_name, gsm8k.date) == ("Model README", "2025-01-01")  # the stand-in's clock
    assert "date: '2025-01-01'" in text  # a quoted ISO date, not a YAML timestamp


def test_an_unregistered_benchmark_gets_model_index_only(sim: HubSim, tmp_path: Path) -> None:
    make_app(sim, tmp_path).run(Job(REPO))
    assert "cais/mmlu" not in entries(sim)
    assert model_index_values(sim)["MMLU"] == 65.4
    (pr,) = sim.discussions(REPO)
    assert "| MMLU | acc | 65.4 | not a Hub benchmark yet: model-index only |" in pr.description


def test_a_fraction_from_the_card_lands_as_percent_on_a_0_100_leaderboard(sim: HubSim, tmp_path: Path) -> None:
    other_model(sim, "a", "Idavidrein/gpqa", "diamond", 41.5)
    other_model(sim, "b", "Idavidrein/gpqa", "diamond", 62.0)
    make_app(sim, tmp_path).run(Job(REPO))
    assert entries(sim)["Idavidrein/gpqa"] == ("diamond", 31.2)  # exactly, not 31.200000000000003
    assert model_index_values(sim)["GPQA Diamond"] == 0.312  # model-index keeps the card's value
    board = HfApi(endpoint=sim.url).get_dataset_leaderboard("Idavidrein/gpqa")
    assert [(row.model_id, row.value) for row in board] == [("others/b", 62.0), ("others/a", 41.5), (REPO, 31.2)]
    (pr,) = sim.discussions(REPO)
    assert "| 0.312 | 31.2 on 0–100 (`Idavidrein/gpqa` task `diamond`) |" in pr.description


def test_a_percent_from_the_card_lands_as_a_fraction_on_a_0_1_leaderboard(sim: HubSim, tmp_path: Path) -> None:
    other_model(sim, "a", "openai/gsm8k", "main", 0.57)
    make_app(sim, tmp_path).run(Job(REPO))
    assert entries(sim)["openai/gsm8k"] == ("main", 0.482)
    assert model_index_values(sim)["GSM8K"] == 48.2


def test_a_leaderboard_with_no_trustworthy_scale_gets_no_entry(sim: HubSim, tmp_path: Path) -> None:
    for name, value in (("a", 0.41), ("b", 0.52), ("c", 63.0)):
        other_model(sim, name, "openai/gsm8k", "main", value)
    make_app(sim, tmp_path).run(Job(REPO))
    assert "openai/gsm8k" not in entries(sim)
    (pr,) = sim.discussions(REPO)
    assert "its leaderboard mixes 0–1 and 0–100 values (1 of 3 above 1): model-index only" in pr.description


def test_a_repo_that_has_the_benchmark_in_another_file_gets_no_second_entry(sim: HubSim, tmp_path: Path) -> None:
    theirs = [{"dataset": {"id": "openai/gsm8k", "task_id": "main"}, "value": 48.2}]
    sim.push(REPO, {".eval_results/gsm8k.yaml": yaml.safe_dump(theirs)}, author="alice")
    (report,) = make_app(sim, tmp_path).run(Job(REPO))
    assert report.outcome == "created"
    assert entries(sim) == {"Idavidrein/gpqa": ("diamond", 31.2)}  # GSM8K is already there
    board = HfApi(endpoint=sim.url).get_dataset_leaderboard("openai/gsm8k")
    assert [(row.model_id, row.filename, row.pull_request) for row in board] == [(REPO, "gsm8k.yaml", None)]


def test_another_files_different_value_is_kept_and_reported(sim: HubSim, tmp_path: Path) -> None:
    theirs = [{"dataset": {"id": "openai/gsm8k", "task_id": "main"}, "value": 50.1}]
    sim.push(REPO, {".eval_results/gsm8k.yaml": yaml.safe_dump(theirs)}, author="alice")
    make_app(sim, tmp_path).run(Job(REPO))
    assert "openai/gsm8k" not in entries(sim)
    assert sim.file(REPO, ".eval_results/gsm8k.yaml", rev="refs/pr/1") == sim.file(REPO, ".eval_results/gsm8k.yaml")
    (pr,) = sim.discussions(REPO)
    kept = "- GSM8K / exact_match in .eval_results/gsm8k.yaml: the existing value 50.1 was kept; Model README says 48.2"
    assert kept in pr.description
    # model-index still gets the card's value: the PR lists it, and why .eval_results does not
    assert model_index_values(sim)["GSM8K"] == 48.2
    assert "| GSM8K | exact_match | 48.2 | .eval_results/gsm8k.yaml already has 50.1 (kept) |" in pr.description


def test_a_benchmark_whose_eval_yaml_has_no_matching_task_is_model_index_only(tmp_path: Path) -> None:
    other_split = {"name": "GSM8K", "tasks": [{"id": "socratic", "config": "socratic", "split": "test"}]}
    with HubSim(benchmarks={"openai/gsm8k": other_split}) as sim:
        sim.add_repo(REPO, {"README.md": CARD})
        (report,) = make_app(sim, tmp_path).run(Job(REPO))
        assert report.outcome == "created"
        assert sim.file(REPO, OWN_FILE, rev="refs/pr/1") is None
        (pr,) = sim.discussions(REPO)
    assert (
        "no task of openai/gsm8k's eval.yaml is config main, split test (it declares socratic: config socratic, "
        "split test): model-index only"
    ) in pr.description


def test_an_unregistered_dataset_with_an_eval_yaml_is_not_a_benchmark(tmp_path: Path) -> None:
    with HubSim(benchmarks={}) as sim:
        sim.add_benchmark("openai/gsm8k", {"tasks": [{"id": "main", "config": "main"}]}, registered=False)
        sim.add_repo(REPO, {"README.md": CARD})
        make_app(sim, tmp_path).run(Job(REPO))
        assert sim.file(REPO, OWN_FILE, rev="refs/pr/1") is None
        assert model_index_values(sim) == {"MMLU": 65.4, "GSM8K": 48.2, "GPQA Diamond": 0.312}


def test_aa_fractions_become_percent_on_a_0_100_leaderboard(sim: HubSim, tmp_path: Path) -> None:
    other_model(sim, "a", "Idavidrein/gpqa", "diamond", 41.5)
    with AASim(api_key=AA_KEY) as aa:
        mapping = {REPO: "meta/llama-3-1-instruct-8b"}
        app = make_app(sim, tmp_path, aa_api_key=Secret(AA_KEY), aa_api_base=aa.url, aa_mapping=mapping)
        (report,) = app.run(Job(REPO, sources=("aa",)))
    assert report.outcome == "created"
    # AA gives gpqa 0.259, mmlu_pro 0.476, hle 0.051 (fractions); empty leaderboards mean 0–100
    assert entries(sim, ".eval_results/artificial_analysis.yaml") == {
        "Idavidrein/gpqa": ("diamond", 25.9),
        "TIGER-Lab/MMLU-Pro": ("mmlu_pro", 47.6),
        "cais/hle": ("hle", 5.1),
    }
    assert model_index_values(sim)["GPQA Diamond"] == 0.259
    text = (sim.file(REPO, ".eval_results/artificial_analysis.yaml", rev="refs/pr/1") or b"").decode()
    gpqa = next(e for e in parse_eval_result_entries(yaml.safe_load(text)) if e.dataset_id == "Idavidrein/gpqa")
    assert (gpqa.source_name, gpqa.source_url) == (
        "Artificial Analysis",
        "https://artificialanalysis.ai/models/llama-3-1-instruct-8b",
    )


def test_an_update_says_old_to_new_in_its_comment_and_description(sim: HubSim, tmp_path: Path) -> None:
    app = make_app(sim, tmp_path)
    app.run(Job(REPO))
    sim.push(REPO, {"README.md": CARD.replace("| 0.312 |", "| 0.35 |").replace("| 65.4 |", "| 66.0 |")})
    (report,) = app.run(Job(REPO))
    assert (report.outcome, report.pr_num) == ("updated", 1)
    assert entries(sim)["Idavidrein/gpqa"] == ("diamond", 35.0)
    (pr,) = sim.discussions(REPO)
    ((author, comment),) = pr.comments
    assert author == "evalbot"
    assert "| GPQA Diamond | acc | 0.35 | 0.312 → 0.35; 31.2 → 35.0 in .eval_results/readme.yaml |" in comment
    assert "| MMLU | acc | 66.0 | 65.4 → 66.0 |" in comment
    assert "| GSM8K | exact_match | 48.2 | unchanged |" in comment
    assert "- GPQA Diamond / acc: 0.312 → 0.35; 31.2 → 35.0 in .eval_results/readme.yaml\n" in pr.description
    assert "| 0.35 | 35.0 on 0–100 (`Idavidrein/gpqa` task `diamond`) |" in pr.description
    assert parse_markers(pr.description)[-1]["fingerprint"] == report.fingerprint


def test_an_evaluation_runs_fractions_become_percent_on_a_0_100_leaderboard(sim: HubSim, tmp_path: Path) -> None:
    other_model(sim, "a", "Idavidrein/gpqa", "diamond", 41.5)
    request = EvalRequest(tasks=("gpqa:diamond|0",))
    (spec,) = request.specs()
    sha = sim.head(REPO)
    run = Run(
        scores=(score_for(spec, "acc", 0.574, 0.02, provenance={"engine": "lighteval"}),),
        engine="lighteval",
        engine_version="0.0-test",
        backend="transformers",
        repo_id=REPO,
        sha=sha,
        tasks=(spec,),
        samples={spec.spelling: 198},
        duration_s=1.0,
    )
    # a finished evaluation in the result cache: the pipeline takes it as the engine's answer
    engine = f"lighteval {engine_version('lighteval')}"  # what the service keys a local lighteval run by
    key = cache_key(REPO, sha, spec, request.settings, engine=engine, runner=request.runner)
    EvalCache(tmp_path / "eval-cache").put(key, run)
    (report,) = make_app(sim, tmp_path).run(Job(REPO, sources=("eval",), eval=request))
    assert report.outcome == "created", report.reason
    assert entries(sim, ".eval_results/lighteval.yaml") == {"Idavidrein/gpqa": ("diamond", 57.4)}
    assert model_index_values(sim)["GPQA Diamond"] == 0.574


def task_types(sim: HubSim) -> dict[str, str]:
    readme = (sim.file(REPO, "README.md", rev="refs/pr/1") or b"").decode()
    return {r["dataset"]["name"]: r["task"]["type"] for r in parse_card(readme).data["model-index"][0]["results"]}


def test_task_type_comes_from_the_cards_pipeline_tag(sim: HubSim, tmp_path: Path) -> None:
    sim.push(
        REPO,
        {"README.md": CARD.replace("license: apache-2.0", "license: apache-2.0\npipeline_tag: image-text-to-text")},
    )
    make_app(sim, tmp_path).run(Job(REPO))
    assert task_types(sim) == {
        "MMLU": "image-text-to-text",
        "GSM8K": "image-text-to-text",
        "GPQA Diamond": "image-text-to-text",
    }


def test_task_type_without_a_pipeline_tag_is_the_benchmarks_own(sim: HubSim, tmp_path: Path) -> None:
    sim.push(REPO, {"README.md": CARD.replace("| GSM8K | 48.2 |", "| WMT14 | 27.3 |")})
    make_app(sim, tmp_path).run(Job(REPO))
    assert task_types(sim) == {"MMLU": "text-generation", "WMT14": "translation", "GPQA Diamond": "text-generation"}


def test_the_registry_is_read_once_per_ttl(sim: HubSim, tmp_path: Path) -> None:
    sim.reset_requests()
    make_app(sim, tmp_path).run(Job(REPO))
    first = registry_requests(sim)
    assert first == {"listing": 1, "eval.yaml": 2, "leaderboard": 2}
    sim.reset_requests()
    make_app(sim, tmp_path).run(Job(REPO, dry_run=True))  # a new process: the cache on disk answers
    assert registry_requests(sim) == {"listing": 0, "eval.yaml": 0, "leaderboard": 0}
    sim.reset_requests()
    make_app(sim, tmp_path, registry_ttl_hours=0).run(Job(REPO, dry_run=True))
    assert registry_requests(sim) == first


def registry_requests(sim: HubSim) -> dict[str, int]:
    paths = [p for method, p in sim.requests if method == "GET"]
    return {
        "listing": sum(1 for p in paths if p.startswith("/api/datasets?")),
        "eval.yaml": sum(1 for p in paths if p.startswith("/datasets/") and p.endswith("/eval.yaml")),
        "leaderboard": sum(1 for p in paths if p.endswith("/leaderboard") or "/leaderboard?" in p),
    }
