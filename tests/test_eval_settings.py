"""EvalSettings, the cache key, task spellings → benchmarks, metric names: the pure parts of the evaluators."""

from __future__ import annotations

import dataclasses
import importlib.metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bot.errors import InputError
from evaluators import EvalSettings, EvaluatorUnavailable, Run, TaskSpec, import_failure
from evaluators._scores import metric_type
from evaluators.cache import cache_key
from evaluators.settings import file_digest

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_the_defaults_are_the_honest_ones() -> None:
    settings = EvalSettings()
    assert (settings.temperature, settings.max_new_tokens, settings.chat_template) == (0.0, None, "auto")
    assert (settings.device, settings.limit, settings.allow_partial, settings.trust_remote_code) == (
        "auto",
        None,
        False,
        False,
    )
    assert settings.backend_label == "transformers"
    assert EvalSettings(engine="inspect", provider="together").backend_label == "provider:together"


def test_round_trip_and_unknown_keys(tmp_path: Path) -> None:
    task_file = tmp_path / "t.py"
    task_file.write_text("x = 1\n")
    settings = EvalSettings(engine="inspect", max_new_tokens=7, chat_template="off", custom_tasks=task_file, limit=3)
    assert EvalSettings.from_json(settings.to_json()) == settings
    with pytest.raises(InputError, match="unknown key"):
        EvalSettings.from_json({"temprature": 0})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"provider": "together"}, "Inference Providers are run with inspect"),
        ({"engine": "inspect", "provider": "not a name"}, "expected a provider name"),
        ({"base_url": "http://x/v1"}, "--base-url needs --provider"),
        ({"engine": "inspect", "provider": "p", "base_url": "ftp://x"}, "expected http"),
        ({"tensor_parallel_size": 0}, "tensor parallel size 0: must be at least 1"),
        ({"limit": 0}, "limit 0: must be a whole number of at least 1"),
        ({"max_new_tokens": -1}, "max new tokens -1"),
        ({"gpu_memory_utilization": 1.5}, "gpu memory utilization 1.5"),
        ({"temperature": -0.1}, "temperature -0.1"),
        ({"chat_template": "maybe"}, "chat template 'maybe'"),
        ({"engine": "harness"}, "engine 'harness'"),
    ],
)
def test_bad_settings_are_one_line_input_errors(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        EvalSettings(**changes)  # type: ignore[arg-type]


def _key(task: TaskSpec, settings: EvalSettings, *, engine: str = "lighteval 0.13.0", runner: str = "local") -> str:
    return cache_key("acme/m", SHA, task, settings, engine=engine, runner=runner)


def test_every_result_relevant_setting_is_in_the_cache_key(tmp_path: Path) -> None:
    """Defect 6: engine and task versions, task file contents, runner, provider and generation settings."""
    task = TaskSpec.parse("gsm8k|5", "lighteval")
    base = EvalSettings()
    key = _key(task, base)
    different = {
        "engine version": _key(task, base, engine="lighteval 0.14.0"),
        "job image": _key(task, base, engine="lighteval in ghcr.io/evalbot/evalbot-gpu:v2 on a10g-small"),
        "runner": _key(task, base, runner="hf-jobs"),
        "few-shot": _key(TaskSpec.parse("gsm8k|0", "lighteval"), base),
        "commit": cache_key("acme/m", "f" * 40, task, base, engine="lighteval 0.13.0", runner="local"),
    }
    for field, value in (
        ("backend", "vllm"), ("dtype", "float16"), ("tensor_parallel_size", 2), ("max_new_tokens", 256),
        ("temperature", 0.7), ("chat_template", "on"), ("limit", 10), ("max_model_len", 4096),
        ("trust_remote_code", True),
    ):  # fmt: skip
        different[field] = _key(task, dataclasses.replace(base, **{field: value}))
    inspect_task = TaskSpec.parse("inspect_evals/gsm8k", "inspect")
    different["provider"] = _key(inspect_task, EvalSettings(engine="inspect", provider="together"))
    assert _key(inspect_task, EvalSettings(engine="inspect")) != different["provider"]
    assert len({key, *different.values()}) == len(different) + 1, different
    # how fast or where it runs, and whether publishing a partial run is allowed, are not results
    for field, value in (("device", "cuda:1"), ("batch_size", 8), ("gpu_memory_utilization", 0.5)):
        assert _key(task, dataclasses.replace(base, **{field: value})) == key, field
    # task files count by their content, not their path
    one, two = tmp_path / "a" / "tasks.py", tmp_path / "b" / "tasks.py"
    for path in (one, two):
        path.parent.mkdir()
        path.write_text("TASKS_TABLE = []\n")
    assert _key(task, EvalSettings(custom_tasks=one)) == _key(task, EvalSettings(custom_tasks=two))
    two.write_text("TASKS_TABLE = [1]\n")
    assert _key(task, EvalSettings(custom_tasks=one)) != _key(task, EvalSettings(custom_tasks=two))
    spec_one = TaskSpec.parse(f"{one}@t", "inspect")
    spec_two = TaskSpec.parse(f"{two}@t", "inspect")
    assert spec_one.spelling == spec_two.spelling == "tasks.py@t"  # the same task name ...
    inspect = EvalSettings(engine="inspect")
    assert _key(spec_one, inspect) != _key(spec_two, inspect)  # ... but not the same task
    assert file_digest(one) != file_digest(two)


@pytest.mark.parametrize(
    ("spelling", "benchmark"),
    [
        ("mmlu|5", "MMLU"),
        ("leaderboard|mmlu|5", "MMLU"),
        ("arc:challenge|25", "ARC-Challenge"),
        ("arc:easy|0", "ARC-Easy"),
        ("gpqa:diamond|0", "GPQA Diamond"),
        ("truthfulqa:mc|0", "TruthfulQA"),
        ("gsm8k|5", "GSM8K"),
        # sub-tasks and variants are never their parent benchmark (defect 4)
        ("mmlu:anatomy|5", None),
        ("bbh:causal_judgment|3", None),
        ("gpqa:extended|0", None),
        ("truthfulqa:gen|0", None),
    ],
)
def test_a_task_maps_to_a_benchmark_only_by_its_whole_name(spelling: str, benchmark: str | None) -> None:
    assert TaskSpec.parse(spelling, "lighteval").benchmark == benchmark


def test_a_sub_task_is_published_as_its_own_dataset() -> None:
    from evaluators._scores import score_for

    spec = TaskSpec.parse("mmlu:anatomy|5", "lighteval")
    score = score_for(spec, "acc", 0.5, None, provenance={})
    assert (score.benchmark, score.dataset.name, score.dataset.id) == ("mmlu:anatomy", "mmlu:anatomy", None)
    assert score.shots == 5


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("pass@k:k=1&n=1", "pass@1"),
        ("gpqa_pass@k:k=1", "pass@1"),
        ("maj@n:n=4", "maj@4"),
        ("avg@n:n=1", "avg@1"),
        ("truthfulqa_mc1", "mc1"),
        ("truthfulqa_mc2", "mc2"),
        ("em", "exact_match"),
        ("acc", "acc"),
    ],
)
def test_metric_names_are_normalised(key: str, expected: str) -> None:
    assert metric_type(key) == expected


def test_partial_notes() -> None:
    task = TaskSpec.parse("gsm8k|5", "lighteval")
    run = Run((), "lighteval", "0.13.0", "transformers", "acme/m", SHA, (task,), {"gsm8k|5": 2}, 1.0,
              settings=EvalSettings(limit=2), totals={"gsm8k|5": 1319})  # fmt: skip
    assert run.partial_note("gsm8k|5") == "partial: 2 of 1319 samples" and run.partial
    whole = dataclasses.replace(run, samples={"gsm8k|5": 1319}, settings=EvalSettings())
    assert whole.partial_note("gsm8k|5") is None and not whole.partial
    big_limit = dataclasses.replace(run, samples={"gsm8k|5": 1319}, settings=EvalSettings(limit=5000))
    assert big_limit.partial_note("gsm8k|5") is None  # the limit did not cut anything
    unknown = dataclasses.replace(run, totals={})
    assert unknown.partial_note("gsm8k|5") == "partial: 2 of ? samples (limit 2)"


def test_an_engine_broken_by_another_package_says_so() -> None:
    """Defect 3: an ImportError inside lighteval (its eager vLLM import) was reported as 'not installed'."""
    broken = import_failure("lighteval", "lighteval", ImportError("cannot import name 'X' from vllm", name="vllm"))
    assert isinstance(broken, EvaluatorUnavailable)
    assert str(broken).startswith("lighteval is installed but cannot be imported: vllm: cannot import name")
    assert "evalbot[gpu] pins the vLLM range lighteval accepts" in str(broken)
    missing = import_failure("nothing-here", "evalbot_no_such_module", ImportError("x"))
    assert str(missing) == "nothing-here is not installed: pip install 'evalbot[eval]'"


def test_the_gpu_extra_pins_the_vllm_range_lighteval_accepts() -> None:
    """Defect 3: `pip install 'evalbot[gpu]'` installed a vLLM lighteval 0.13 refuses."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    ours = next(Requirement(r) for r in extras["gpu"] if Requirement(r).name == "vllm")
    theirs = [
        Requirement(r.split(";")[0])
        for r in importlib.metadata.requires("lighteval") or []
        if r.startswith("vllm") and 'extra == "vllm"' in r
    ]
    assert theirs and ours.specifier == theirs[0].specifier  # >=0.10.0,<0.10.2
    assert "inspect-evals" in [Requirement(r).name for r in extras["eval"]]
