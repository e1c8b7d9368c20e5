"""Where a score goes in `.eval_results` and on what scale (bot.core.placement), and how card.py
merges placed entries across every `.eval_results` file of a repo. Pure: no Hub."""

from __future__ import annotations

import pytest
import yaml
from huggingface_hub import parse_eval_result_entries

from bot.core import benchmarks
from bot.core.card import apply_scores, parse_card
from bot.core.placement import (
    NOT_A_BENCHMARK,
    BenchmarkTask,
    Placement,
    RegisteredBenchmark,
    RegistryView,
    leaderboard_scale,
    match_task,
    place,
    rescale,
)
from bot.core.scores import Dataset, Metric, Score, Source, Task, Unit
from evaluators import TaskSpec
from evaluators._scores import score_for

GPQA = RegisteredBenchmark("Idavidrein/gpqa", (BenchmarkTask("diamond", "gpqa_diamond", "train"),))
GSM8K = RegisteredBenchmark(
    "openai/gsm8k", (BenchmarkTask("main", "main", "test"), BenchmarkTask("socratic", "socratic"))
)
OWN = Source("Model README", "https://hub.test/acme/m/blob/abc/README.md")


def score(name: str, value: float, unit: Unit = "percent", source: Source = OWN) -> Score:
    known = benchmarks.lookup_benchmark(name)
    assert known is not None
    dataset = benchmarks.dataset_of(known)
    return Score(name, dataset, Task("text-generation"), Metric(known.metric, value, unit=unit), source)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param((), ("percent", ""), id="empty_means_0_100"),
        pytest.param((41.5, 62.0), ("percent", ""), id="community_percent"),
        pytest.param((0.41, 0.62, 1.0), ("fraction", ""), id="fractions"),
        pytest.param((0.8, 41.5, 62.0), ("percent", ""), id="a_low_percent_among_percents"),
        pytest.param(
            (0.41, 0.52, 63.0),
            (None, "its leaderboard mixes 0–1 and 0–100 values (1 of 3 above 1)"),
            id="mostly_fractions_with_a_percent",
        ),
        pytest.param((1200.0, 62.0), (None, "its leaderboard holds values outside 0–100"), id="not_a_proportion"),
    ],
)
def test_leaderboard_scale(values: tuple[float, ...], expected: tuple[str | None, str]) -> None:
    assert leaderboard_scale(values) == expected


@pytest.mark.parametrize(
    ("value", "unit", "scale", "expected"),
    [
        (0.312, "fraction", "percent", 31.2),
        (0.07, "fraction", "percent", 7.0),
        (0.574, "fraction", "percent", 57.4),
        (65.4, "percent", "fraction", 0.654),
        (48.2, "percent", "percent", 48.2),
        (0.312, "fraction", "fraction", 0.312),
        (27.3, "raw", "percent", 27.3),
    ],
)
def test_rescaling_is_exact(value: float, unit: Unit, scale: str, expected: float) -> None:
    got = rescale(value, unit, scale)  # type: ignore[arg-type]
    assert got == expected and repr(got) == repr(expected)


def test_the_task_is_the_one_whose_config_and_split_match() -> None:
    gpqa = benchmarks.dataset_of(benchmarks.lookup_benchmark("GPQA Diamond"))  # type: ignore[arg-type]
    assert match_task(GPQA, gpqa) == (BenchmarkTask("diamond", "gpqa_diamond", "train"), "")
    gsm8k = benchmarks.dataset_of(benchmarks.lookup_benchmark("GSM8K"))  # type: ignore[arg-type]
    assert match_task(GSM8K, gsm8k)[0] == BenchmarkTask("main", "main", "test")


def test_a_missing_split_in_eval_yaml_is_test_and_a_missing_config_is_the_default() -> None:
    hle = RegisteredBenchmark("cais/hle", (BenchmarkTask("hle"),))
    assert match_task(hle, Dataset("HLE", "cais/hle", "cais/hle", split="test"))[0] == BenchmarkTask("hle")
    task, reason = match_task(hle, Dataset("HLE", "cais/hle", "cais/hle", split="train"))
    assert task is None
    declared = "hle: config default, split test"
    assert reason == f"no task of cais/hle's eval.yaml is config default, split train (it declares {declared})"


def test_several_matching_tasks_are_no_task() -> None:
    twice = RegisteredBenchmark("a/b", (BenchmarkTask("x"), BenchmarkTask("y", split="test")))
    assert match_task(twice, Dataset("B", "a/b", "a/b")) == (
        None,
        "several tasks of a/b's eval.yaml are config default (x, y)",
    )


def test_place_names_the_reason_for_every_score_left_out() -> None:
    view = RegistryView({"Idavidrein/gpqa": GPQA}, {"Idavidrein/gpqa": (41.5,)})
    assert place(score("MMLU", 65.4), view) == Placement(reason=NOT_A_BENCHMARK)
    assert place(score("GPQA Diamond", 0.312, "fraction"), view) == Placement(
        "Idavidrein/gpqa", "diamond", 31.2, "percent"
    )
    unread = RegistryView({"Idavidrein/gpqa": GPQA}, {})
    assert place(score("GPQA Diamond", 0.312, "fraction"), unread).reason == (
        "its leaderboard could not be read: model-index only"
    )
    no_tasks = RegistryView(
        {"Idavidrein/gpqa": RegisteredBenchmark("Idavidrein/gpqa", (), "eval.yaml has no tasks list")}
    )
    assert place(score("GPQA Diamond", 31.2), no_tasks).reason == (
        "Idavidrein/gpqa's eval.yaml declares no tasks (eval.yaml has no tasks list): model-index only"
    )


def test_an_evaluation_runs_fraction_is_written_on_the_leaderboards_scale() -> None:
    spec = TaskSpec(engine="lighteval", name="gpqa:diamond", spelling="gpqa:diamond|0", benchmark="GPQA Diamond")
    run_score = score_for(spec, "acc", 0.574, 0.02, provenance={"engine": "lighteval"})
    card = parse_card("---\nlicense: mit\n---\n# m\n")
    for values, expected in (((41.5, 62.0), 57.4), ((0.41,), 0.574)):
        view = RegistryView({"Idavidrein/gpqa": GPQA}, {"Idavidrein/gpqa": values})
        change = apply_scores(card, [run_score], source_key="lighteval", model_name="m", registry=view)
        (entry,) = parse_eval_result_entries(yaml.safe_load(change.files[".eval_results/lighteval.yaml"]))
        assert (entry.dataset_id, entry.task_id, entry.value) == ("Idavidrein/gpqa", "diamond", expected)
        assert parse_card(change.readme).data["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.574


def test_identity_spans_every_eval_results_file() -> None:
    view = RegistryView({"Idavidrein/gpqa": GPQA}, {"Idavidrein/gpqa": ()})
    theirs = "- dataset: {id: Idavidrein/gpqa, task_id: diamond}\n  value: 31.2\n"
    card = parse_card("# m\n")
    change = apply_scores(
        card,
        [score("GPQA Diamond", 0.312, "fraction")],
        source_key="readme",
        model_name="m",
        formats=["eval-results"],
        existing_files={".eval_results/gpqa.yaml": theirs},
        registry=view,
    )
    assert change.files == {} and not change.changed and change.conflicts == ()
    notes = "- dataset: {id: Idavidrein/gpqa, task_id: diamond}\n  value: 40.0\n  notes: with tools\n"
    change = apply_scores(
        card,
        [score("GPQA Diamond", 0.312, "fraction")],
        source_key="readme",
        model_name="m",
        formats=["eval-results"],
        existing_files={".eval_results/gpqa_tools.yaml": notes},
        registry=view,
    )
    assert list(change.files) == [".eval_results/readme.yaml"]  # other notes: another entry


def test_evalbots_own_earlier_value_is_replaced_and_reported_old_to_new() -> None:
    view = RegistryView({"Idavidrein/gpqa": GPQA}, {"Idavidrein/gpqa": (41.5,)})
    own = "- dataset: {id: Idavidrein/gpqa, task_id: diamond}\n  value: 30.0\n"
    own += f"  source: {{url: '{OWN.url}', name: Model README}}\n"
    change = apply_scores(
        parse_card("# m\n"),
        [score("GPQA Diamond", 0.312, "fraction")],
        source_key="readme",
        model_name="m",
        formats=["eval-results"],
        existing_files={".eval_results/readme.yaml": own},
        registry=view,
    )
    ((replaced,),) = [[r for r in change.replacements if r.location == ".eval_results/readme.yaml"]]
    assert (replaced.old_value, replaced.new_value) == (30.0, 31.2)


def test_a_second_score_of_the_same_task_is_left_out_with_its_reason() -> None:
    view = RegistryView({"Idavidrein/gpqa": GPQA}, {"Idavidrein/gpqa": ()})
    first, second = score("GPQA Diamond", 0.312, "fraction"), score("GPQA Diamond", 0.4, "fraction")
    second = Score(second.benchmark, second.dataset, second.task, Metric("acc_norm", 0.4, unit="fraction"), OWN)
    change = apply_scores(parse_card("# m\n"), [first, second], source_key="readme", model_name="m", registry=view)
    assert change.left_out == ((second, "GPQA Diamond already takes this benchmark task's entry"),)
