"""The lighteval runner against the real engine on CPU: a tiny random-weight model, tiny local tasks.

No mocks: every engine run goes through lighteval's Pipeline, and scores are compared with the
results file lighteval itself wrote. Importing lighteval is most of the time (~8 s); each run of the
tiny model is under a second.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("lighteval", reason="lighteval is not installed (pip install 'evalbot[eval]')")

from bot.errors import InputError
from evaluators import EvalSettings, EvaluationError, EvaluatorUnavailable, ModelRef, Run, TaskSpec, get_evaluator
from evaluators.lighteval_runner import (
    LightevalEvaluator,
    _lighteval_patches,
    _model_config,
    _plan,
    micro_average,
)
from evaluators.tiny import build_tiny_model, write_tiny_tasks

pytestmark = pytest.mark.slow  # the real lighteval on the tiny model (`make test-fast` leaves these out)

SHA = "0" * 40

# Two "subjects" of one group `tinysub`, as lighteval's arc has `arc:challenge` and `arc:easy`: a
# group without a canonical aggregate is refused before anything runs.
_SUBJECTS_FILE = '''"""Superset test tasks: tinysub:mc and tinysub:qa."""
import os

from lighteval.metrics.metrics import Metrics
from lighteval.tasks.lighteval_task import LightevalTaskConfig
from lighteval.tasks.requests import Doc

DATA_DIR = @DATA@
LETTERS = ["A", "B", "C", "D"]


def mc_prompt(line, task_name=None):
    q = line["question"] + "\\n" + "\\n".join(f"{l}. {c}" for l, c in zip(LETTERS, line["choices"])) + "\\nAnswer:"
    gold = LETTERS.index(line["answer"])
    return Doc(task_name=task_name, query=q, choices=[f" {l}" for l in LETTERS], gold_index=gold)


def qa_prompt(line, task_name=None):
    return Doc(task_name=task_name, query=line["question"] + "\\nAnswer:", choices=[" " + line["answer"]], gold_index=0)


def config(name, folder, prompt):
    return LightevalTaskConfig(name=name, prompt_function=prompt, hf_repo=os.path.join(DATA_DIR, folder),
        hf_subset="default", hf_avail_splits=["test"], evaluation_splits=["test"], few_shots_split=None,
        few_shots_select=None, metrics=[Metrics.loglikelihood_acc], generation_size=-1, stop_sequence=None)


TASKS_TABLE = [config("tinysub:mc", "tiny_mc", mc_prompt), config("tinysub:qa", "tiny_qa", qa_prompt)]
'''


@dataclass(frozen=True)
class Setup:
    model: ModelRef
    tasks_file: Path
    subjects_file: Path
    runs_dir: Path


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    root = tmp_path_factory.mktemp("lighteval")
    model_dir = build_tiny_model(root / "tiny-llama")
    tasks = write_tiny_tasks(root / "tasks")
    subjects = root / "tasks" / "tinysub_tasks.py"
    subjects.write_text(_SUBJECTS_FILE.replace("@DATA@", repr(str(tasks.data_dir))), encoding="utf-8")
    return Setup(ModelRef("acme/tiny", SHA, model_dir), tasks.lighteval_file, subjects, root / "runs")


@pytest.fixture(scope="module")
def env() -> Iterator[None]:
    """Module-scoped runs happen before the per-test clean environment: make them hermetic too."""
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith(("HF_", "HUGGING_FACE_", "EVALBOT_")):
                mp.delenv(key)
        mp.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        yield


@pytest.fixture(scope="module")
def model_files_before(setup: Setup) -> list[str]:
    return sorted(str(p.relative_to(setup.model.path)) for p in setup.model.path.rglob("*"))


@pytest.fixture(scope="module")
def run(setup: Setup, env: None, model_files_before: list[str]) -> Run:
    """The main engine run: both tiny tasks in one pipeline."""
    tasks = [TaskSpec.parse("tiny_mc|0", "lighteval"), TaskSpec.parse("tiny_qa|0", "lighteval")]
    settings = EvalSettings(batch_size=2, custom_tasks=setup.tasks_file)  # device auto: cpu here
    return LightevalEvaluator(output_dir=setup.runs_dir).run(setup.model, tasks, settings)


def _engine_results(run: Run) -> dict[str, Any]:
    assert run.results_path is not None
    document = json.loads(Path(run.results_path).read_text(encoding="utf-8"))
    results: dict[str, Any] = document["results"]
    return results


def test_scores_are_exactly_lighteval_results_file(run: Run) -> None:
    results = _engine_results(run)
    expected = {
        (task, metric, value, results[task].get(f"{metric}_stderr"))
        for task in ("tiny_mc|0", "tiny_qa|0")
        for metric, value in results[task].items()
        if not metric.endswith("_stderr")
    }
    raw_name = {"acc": "acc", "exact_match": "em"}
    got = {(s.provenance["task"], raw_name[s.metric.type], s.metric.value, s.metric.stderr) for s in run.scores}
    assert got == expected
    assert len(run.scores) == 2


def test_score_fields(run: Run) -> None:
    by_task = {s.provenance["task"]: s for s in run.scores}
    assert by_task["tiny_mc|0"].metric.type == "acc"
    assert by_task["tiny_qa|0"].metric.type == "exact_match"
    for score in run.scores:
        assert score.metric.unit == "fraction"
        assert score.shots == 0
        assert 0.0 <= score.metric.value <= 1.0


def test_samples_and_provenance(run: Run) -> None:
    assert run.samples == {"tiny_mc|0": 4, "tiny_qa|0": 3}
    assert run.engine == "lighteval"
    assert run.engine_version == importlib.metadata.version("lighteval")
    assert (run.repo_id, run.sha, run.backend) == ("acme/tiny", SHA, "transformers")
    for score in run.scores:
        task = score.provenance["task"]
        assert score.provenance == {
            "engine": "lighteval",
            "engine_version": run.engine_version,
            "backend": "transformers",
            "model": "acme/tiny",
            "model_sha": SHA,
            "task": task,
            "samples": run.samples[task],
            "results_file": run.results_path,
        }


def test_run_record(run: Run, setup: Setup) -> None:
    assert run.results_path is not None
    assert Path(run.results_path).is_file()
    assert Path(run.results_path).is_relative_to(setup.runs_dir)
    assert run.duration_s > 0
    args = run.metadata["model_args"]
    assert args["model_name"] == str(setup.model.path)
    assert args["batch_size"] == 2 and args["device"] == "cpu"
    assert "override_chat_template" not in args  # chat template auto: lighteval's own detection
    assert args["generation_parameters"] == {"temperature": 0.0}  # greedy; each task's own length
    assert "revision" not in args and "trust_remote_code" not in args
    assert run.metadata["max_samples"] is None
    assert run.totals == run.samples and run.task_versions == {"tiny_mc|0": "0", "tiny_qa|0": "0"}
    assert Path(run.metadata["engine_log"]).is_file()  # lighteval's own lines went there
    assert run.metadata["lighteval_tasks"] == "tiny_mc|0,tiny_qa|0"
    assert Run.from_json(json.loads(json.dumps(run.to_json()))).scores == run.scores


def test_run_leaves_model_folder_and_environment_alone(run: Run, setup: Setup, model_files_before: list[str]) -> None:
    # lighteval 0.13 would put its sample cache inside a local model folder without the patch
    assert sorted(str(p.relative_to(setup.model.path)) for p in setup.model.path.rglob("*")) == model_files_before
    assert "HF_DATASETS_OFFLINE" not in os.environ
    assert not (Path(run.metadata["output_dir"]) / "sample_cache").exists()


def test_limit_sets_samples_and_records_the_total(setup: Setup, env: None) -> None:
    task = TaskSpec.parse("tiny_mc|0", "lighteval")
    settings = EvalSettings(batch_size=2, custom_tasks=setup.tasks_file, limit=2)
    run = LightevalEvaluator().run(setup.model, [task], settings)
    assert run.samples == {"tiny_mc|0": 2} and run.totals == {"tiny_mc|0": 4}
    assert run.partial_note("tiny_mc|0") == "partial: 2 of 4 samples"
    assert run.metadata["max_samples"] == 2
    assert [s.provenance["samples"] for s in run.scores] == [2]


def test_the_model_config_is_greedy_with_the_tasks_own_length_and_chat_template_auto(
    setup: Setup, tmp_path: Path
) -> None:
    """Defect 5: no temperature 0, and the chat template forced off by default."""
    config, recorded = _model_config(setup.model, EvalSettings(device="cpu"), tmp_path)
    assert config.generation_parameters.temperature == 0
    assert config.generation_parameters.max_new_tokens is None  # each task's own generation_size
    assert config.override_chat_template is None  # lighteval detects it from the tokenizer
    assert recorded == {
        "model_name": str(setup.model.path),
        "device": "cpu",
        "generation_parameters": {"temperature": 0.0},
    }
    forced, _ = _model_config(
        setup.model, EvalSettings(chat_template="off", max_new_tokens=5, temperature=0.5), tmp_path
    )
    assert forced.override_chat_template is False
    assert (forced.generation_parameters.max_new_tokens, forced.generation_parameters.temperature) == (5, 0.5)
    assert _model_config(setup.model, EvalSettings(chat_template="on"), tmp_path)[0].override_chat_template is True


def test_the_vllm_config_carries_every_setting(setup: Setup, tmp_path: Path) -> None:
    """The vLLM path, by construction (no GPU here): lighteval's own VLLMModelConfig with our settings."""
    settings = EvalSettings(
        backend="vllm", dtype="float16", tensor_parallel_size=2, gpu_memory_utilization=0.8, max_model_len=4096
    )
    config, recorded = _model_config(setup.model, settings, tmp_path)
    assert type(config).__name__ == "VLLMModelConfig"
    assert (config.dtype, config.tensor_parallel_size, config.gpu_memory_utilization) == ("float16", 2, 0.8)
    assert config.max_model_length == 4096 and config.override_chat_template is None
    assert config.generation_parameters.temperature == 0 and config.generation_parameters.max_new_tokens is None
    assert "device" not in recorded and "batch_size" not in recorded


def test_a_group_of_tasks_is_refused_before_anything_runs(setup: Setup, env: None, tmp_path: Path) -> None:
    """Defect 4: `arc|25` averaged ARC-Challenge and ARC-Easy; `gpqa|0` ran every variant."""
    missing_model = ModelRef("acme/none", SHA, tmp_path / "no-model-here")  # never loaded
    for spelling, members in (("arc|25", "arc:challenge, arc:easy"), ("gpqa|0", "gpqa:diamond"), ("truthfulqa|0", "")):
        with pytest.raises(InputError, match=f"'{spelling.split('|')[0]}' is a group of") as info:
            LightevalEvaluator().run(missing_model, [TaskSpec.parse(spelling, "lighteval")], EvalSettings())
        assert members in str(info.value) and "ask for one of them" in str(info.value)
    custom = EvalSettings(custom_tasks=setup.subjects_file)
    with pytest.raises(InputError, match=r"'tinysub' is a group of 2 tasks \(tinysub:mc, tinysub:qa\)"):
        LightevalEvaluator().run(missing_model, [TaskSpec.parse("tinysub|0", "lighteval")], custom)
    run = LightevalEvaluator().run(setup.model, [TaskSpec.parse("tinysub:qa|0", "lighteval")], custom)
    assert [(s.benchmark, s.dataset.name) for s in run.scores] == [("tinysub:qa", "tinysub:qa")]


def test_micro_average_weights_subjects_by_their_samples() -> None:
    """MMLU's canonical number is accuracy over all questions, not the mean over subjects."""
    results = {
        "mmlu:anatomy|5": {"em": 0.5, "em_stderr": 0.1},
        "mmlu:astronomy|5": {"em": 0.7, "em_stderr": 0.2},
        "mmlu:virology|5": {"em": 0.9, "em_stderr": 0.2},
        "mmlu:_average|5": {"em": 0.7, "em_stderr": 0.166},  # lighteval's own (macro): never counted
        "mmlu:anatomy|0": {"em": 0.0, "em_stderr": 0.0},  # other shots: not counted
        "mmlu_pro|5": {"em": 0.1},  # another task
        "all": {"em": 0.5},
    }
    counts = {"mmlu:anatomy|5": 100, "mmlu:astronomy|5": 50, "mmlu:virology|5": 50}
    [avg] = micro_average(results, "mmlu", 5, counts)
    assert avg.metric == "em"
    assert avg.value == pytest.approx((0.5 * 100 + 0.7 * 50 + 0.9 * 50) / 200)  # 0.65, the macro would be 0.7
    assert avg.stderr == pytest.approx(math.sqrt((100 * 0.1) ** 2 + (50 * 0.2) ** 2 + (50 * 0.2) ** 2) / 200)
    assert avg.subjects == {"anatomy": 0.5, "astronomy": 0.7, "virology": 0.9}
    assert avg.aggregation == "micro-average (sample-weighted) over 3 subjects, 200 samples"
    # a subject without a stderr: no stderr for the average; explicit subject list
    results["mmlu:virology|5"] = {"em": 0.9}
    [avg] = micro_average(results, "mmlu", 5, counts, ["mmlu:anatomy", "mmlu:virology"])
    assert avg.value == pytest.approx((0.5 * 100 + 0.9 * 50) / 150) and avg.stderr is None
    with pytest.raises(EvaluationError, match="mmlu:college_physics"):
        micro_average(results, "mmlu", 5, counts, ["mmlu:anatomy", "mmlu:college_physics"])
    with pytest.raises(EvaluationError, match="no samples for mmlu:anatomy"):
        micro_average(results, "mmlu", 5, {}, ["mmlu:anatomy"])
    with pytest.raises(EvaluationError, match="no subject tasks"):
        micro_average(results, "gsm8k", 5, counts)


def test_plan_knows_lighteval_supersets(env: None) -> None:
    with _lighteval_patches():
        specs = [TaskSpec.parse("leaderboard|mmlu|5", "lighteval"), TaskSpec.parse("arc:challenge|25", "lighteval")]
        mmlu, arc = _plan(specs, None)
    assert mmlu.engine_task == "mmlu|5" and len(mmlu.subjects) == 57 and "mmlu:anatomy" in mmlu.subjects
    assert arc.engine_task == "arc:challenge|25" and arc.subjects == ()


def test_unknown_task_fails_before_loading_the_model(setup: Setup, env: None, tmp_path: Path) -> None:
    missing_model = ModelRef("acme/none", SHA, tmp_path / "no-model-here")  # never loaded
    settings = EvalSettings(custom_tasks=setup.tasks_file)
    with pytest.raises(
        EvaluationError, match=r"'no_such_task' is not in lighteval's registry or the custom tasks file"
    ):
        LightevalEvaluator().run(missing_model, [TaskSpec.parse("no_such_task|0", "lighteval")], settings)


def test_engine_failure_is_one_line_evaluation_error(setup: Setup, env: None, tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    broken = ModelRef("acme/broken", SHA, tmp_path / "broken")  # no config.json
    settings = EvalSettings(custom_tasks=setup.tasks_file)
    with pytest.raises(EvaluationError) as info:
        LightevalEvaluator().run(broken, [TaskSpec.parse("tiny_mc|0", "lighteval")], settings)
    assert str(info.value).startswith("lighteval failed on tiny_mc|0: ")
    assert "\n" not in str(info.value)


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_vllm_backend_without_vllm(setup: Setup) -> None:
    task = TaskSpec.parse("tiny_mc|0", "lighteval")
    with pytest.raises(EvaluatorUnavailable, match=r"evalbot\[gpu\]"):
        LightevalEvaluator().run(setup.model, [task], EvalSettings(backend="vllm", custom_tasks=setup.tasks_file))


def test_a_vllm_lighteval_refuses_is_named_before_anything_runs() -> None:
    from evaluators.lighteval_runner import accepted_vllm, check_vllm_version

    assert accepted_vllm() in ("<0.10.2,>=0.10.0", ">=0.10.0,<0.10.2")
    check_vllm_version("0.10.1.1")  # the Dockerfile's pin
    with pytest.raises(EvaluatorUnavailable, match=r"vllm 0\.11\.0 is installed, lighteval 0\.13\.0 accepts vllm"):
        check_vllm_version("0.11.0")


def test_registry_returns_the_runner() -> None:
    assert isinstance(get_evaluator("lighteval"), LightevalEvaluator)
