"""The inspect-ai runner on the real engine: a tiny random-weight model and tiny local tasks, on CPU."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("inspect_ai")
pytest.importorskip("transformers")

from inspect_ai.log import EvalLog, read_eval_log

from bot.errors import InputError
from bot.sim.provider import OpenAISim
from evaluators import EvalSettings, EvaluationError, EvaluatorUnavailable, ModelRef, Run, TaskSpec, get_evaluator
from evaluators.inspect_runner import InspectEvaluator, _fewshot, _main_metrics, model_setup, task_ref
from evaluators.tiny import MC_MAX_TOKENS, QA_MAX_TOKENS, TinyTasks, build_tiny_model, write_tiny_tasks

pytestmark = pytest.mark.slow  # the real inspect-ai on the tiny model (`make test-fast` leaves these out)

SHA = "0123456789abcdef0123456789abcdef01234567"
INSPECT = EvalSettings(engine="inspect")

_FAILING_TASKS = """
from inspect_ai import Task, task
from inspect_ai.dataset import Sample
from inspect_ai.scorer import match
from inspect_ai.solver import solver


@solver
def boom():
    async def solve(state, generate):
        raise RuntimeError("solver exploded on purpose\\nsecond line")
    return solve


@task
def explodes():
    return Task(dataset=[Sample(input="x", target="y")], solver=boom(), scorer=match(), name="explodes")


@task
def raises_at_load():
    raise ValueError("task construction failed on purpose")
"""


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing in this module may reach the network or the developer's caches."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")  # test-only: the runner itself never sets it
        mp.setenv("HF_HOME", str(home / "hf"))
        mp.setenv("XDG_DATA_HOME", str(home / "data"))  # inspect's trace files
        yield


@pytest.fixture(autouse=True)
def offline_in_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's clean_environ drops HF_* for each test; put the offline switch back."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, offline: None) -> tuple[ModelRef, TinyTasks]:
    root = tmp_path_factory.mktemp("tiny")
    path = build_tiny_model(root / "tiny-llama")
    tasks = write_tiny_tasks(root / "tasks")
    (root / "tasks" / "failing_tasks.py").write_text(_FAILING_TASKS, encoding="utf-8")
    return ModelRef("evalbot-tests/tiny-llama", SHA, path), tasks


@pytest.fixture(scope="module")
def tiny_run(tiny: tuple[ModelRef, TinyTasks], tmp_path_factory: pytest.TempPathFactory) -> Run:
    model, tasks = tiny
    specs = [TaskSpec.parse(f"{tasks.inspect_file}@{name}", "inspect") for name in ("tiny_mc", "tiny_qa")]
    evaluator = InspectEvaluator(log_dir=tmp_path_factory.mktemp("logs"))
    return evaluator.run(model, specs, INSPECT)


def _logs(run: Run) -> dict[str, EvalLog]:
    assert run.results_path is not None
    files = sorted(Path(run.results_path).glob("*.json"))
    logs = [read_eval_log(str(f)) for f in files]
    return {log.eval.task: log for log in logs}


def test_scores_are_what_inspect_logged(tiny_run: Run) -> None:
    logs = _logs(tiny_run)
    assert set(logs) == {"tiny_mc", "tiny_qa"}
    expected = {}
    for task, log in logs.items():
        assert log.status == "success"
        assert log.results is not None
        for es in log.results.scores:
            main = "accuracy" if "accuracy" in es.metrics else "mean"
            expected[(task, es.name)] = (es.metrics[main].value, es.metrics["stderr"].value)
    assert set(expected) == {("tiny_mc", "choice"), ("tiny_qa", "match"), ("tiny_qa", "exact")}
    got = {(s.dataset.name, s.provenance["scorer"]): (s.metric.value, s.metric.stderr) for s in tiny_run.scores}
    assert got == expected


def test_metric_types_units_and_samples(tiny_run: Run) -> None:
    types = {(s.dataset.name, s.provenance["scorer"]): s.metric.type for s in tiny_run.scores}
    assert types == {("tiny_mc", "choice"): "acc", ("tiny_qa", "match"): "acc", ("tiny_qa", "exact"): "exact_match"}
    assert {s.metric.unit for s in tiny_run.scores} == {"fraction"}
    assert all(0.0 <= s.metric.value <= 1.0 for s in tiny_run.scores)
    by_name = {t.name: t.spelling for t in tiny_run.tasks}
    assert tiny_run.samples == {by_name["tiny_mc"]: 4, by_name["tiny_qa"]: 3}


def test_provenance_and_run_fields(tiny_run: Run, tiny: tuple[ModelRef, TinyTasks]) -> None:
    import inspect_ai

    model, _ = tiny
    assert tiny_run.engine == "inspect"
    assert tiny_run.engine_version == inspect_ai.__version__
    assert (tiny_run.backend, tiny_run.repo_id, tiny_run.sha) == ("transformers", model.repo_id, SHA)
    assert tiny_run.duration_s > 0
    logs = _logs(tiny_run)
    for score in tiny_run.scores:
        p = score.provenance
        log = logs[score.dataset.name]
        assert p["engine"] == "inspect" and p["engine_version"] == inspect_ai.__version__
        assert (p["backend"], p["model"], p["model_sha"]) == ("transformers", model.repo_id, SHA)
        assert p["task"].endswith(f"@{score.dataset.name}")
        assert p["samples"] == {"tiny_mc": 4, "tiny_qa": 3}[score.dataset.name]
        assert Path(p["log"]).parent == Path(str(tiny_run.results_path))
        assert Path(p["log"]).name == Path(log.location).name
        assert p["headline"]["scorer"] in {"choice", "match"}
        json.dumps(p)  # JSON-safe: the cache and the PR body store it
    meta = tiny_run.metadata
    assert model.path is not None and meta["model"] == f"hf/{model.path.resolve()}"
    # device auto → cpu here; greedy; the chat template left to inspect's detection (no use_chat_template)
    assert meta["model_args"] == {"device": "cpu", "do_sample": False}
    assert meta["generate_config"] == {"temperature": 0.0}  # no eval-level max_tokens
    # the log agrees on what ran
    for log in logs.values():
        assert log.eval.model_args["do_sample"] is False
        assert log.eval.metadata == {"evalbot": {"repo_id": model.repo_id, "sha": SHA}}
    assert tiny_run.totals == {t.spelling: {"tiny_mc": 4, "tiny_qa": 3}[t.name] for t in tiny_run.tasks}
    assert Run.from_json(json.loads(json.dumps(tiny_run.to_json()))) == tiny_run


def test_generation_keeps_the_tasks_own_max_tokens_and_is_greedy(tiny_run: Run) -> None:
    """Defect 1: an eval-level max_tokens (once 16) overrode each task's own generation config."""
    logs = _logs(tiny_run)
    for task, log in logs.items():
        assert log.eval.model_generate_config.max_tokens is None
        assert log.eval.model_generate_config.temperature == 0.0
        calls = [e for sample in log.samples or [] for e in sample.events if e.event == "model"]
        assert calls, task
        for call in calls:
            assert call.config.temperature == 0.0
            # each task's own GenerateConfig(max_tokens=...), not an eval-level cap of ours
            assert call.config.max_tokens == {"tiny_qa": QA_MAX_TOKENS, "tiny_mc": MC_MAX_TOKENS}[task]


def test_limit_and_bare_name_in_custom_tasks(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse("tiny_qa", "inspect")
    settings = EvalSettings(  # real from_pretrained args
        engine="inspect", custom_tasks=tasks.inspect_file, dtype="float32", batch_size=2, limit=2, max_new_tokens=3
    )
    run = InspectEvaluator(log_dir=tmp_path).run(model, [spec], settings)
    assert run.samples == {"tiny_qa": 2} and run.totals == {"tiny_qa": 3}
    assert run.partial_note("tiny_qa") == "partial: 2 of 3 samples"
    (log,) = _logs(run).values()
    calls = [e for sample in log.samples or [] for e in sample.events if e.event == "model"]
    assert {c.config.max_tokens for c in calls} == {3}  # --max-new-tokens caps every task
    assert {s.provenance["samples"] for s in run.scores} == {2}
    assert {s.provenance["task"] for s in run.scores} == {"tiny_qa"}
    assert Path(str(run.results_path)).parent == tmp_path
    assert run.metadata["model_args"]["dtype"] == "float32"


def test_failed_run_is_an_error_not_zero_scores(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse(f"{tasks.data_dir.parent / 'failing_tasks.py'}@explodes", "inspect")
    with pytest.raises(EvaluationError, match="status error: RuntimeError") as info:
        InspectEvaluator(log_dir=tmp_path).run(model, [spec], INSPECT)
    assert "solver exploded on purpose" in str(info.value)
    assert "\n" not in str(info.value)


def test_task_that_fails_to_load_is_an_error(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse(f"{tasks.data_dir.parent / 'failing_tasks.py'}@raises_at_load", "inspect")
    with pytest.raises(EvaluationError, match="task construction failed on purpose"):
        InspectEvaluator(log_dir=tmp_path).run(model, [spec], INSPECT)


def test_missing_model_is_an_error(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    _, tasks = tiny
    model = ModelRef("org/gone", SHA, tmp_path / "does-not-exist")
    spec = TaskSpec.parse(f"{tasks.inspect_file}@tiny_mc", "inspect")
    with pytest.raises(EvaluationError, match="no model snapshot"):
        InspectEvaluator(log_dir=tmp_path).run(model, [spec], INSPECT)


def test_registry_task_without_inspect_evals(tiny: tuple[ModelRef, TinyTasks], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "inspect_evals", None)  # as if not installed: find_spec None, import fails
    model, _ = tiny
    with pytest.raises(EvaluatorUnavailable, match=r"pip install 'evalbot\[eval\]'") as info:
        InspectEvaluator().run(model, [TaskSpec.parse("inspect_evals/gsm8k", "inspect")], INSPECT)
    assert "inspect-evals" in str(info.value)
    assert info.value.what == "inspect_evals"


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_vllm_backend_without_vllm(tiny: tuple[ModelRef, TinyTasks]) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse(f"{tasks.inspect_file}@tiny_mc", "inspect")
    with pytest.raises(EvaluatorUnavailable, match=r"evalbot\[gpu\]"):
        InspectEvaluator().run(model, [spec], EvalSettings(engine="inspect", backend="vllm"))


def test_task_refs(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, tasks = tiny
    monkeypatch.chdir(tasks.inspect_file.parent)
    name = tasks.inspect_file.name
    resolved = str(tasks.inspect_file.resolve())
    assert task_ref(TaskSpec.parse(f"{name}@tiny_mc", "inspect")) == f"{resolved}@tiny_mc"
    assert task_ref(TaskSpec.parse(name, "inspect")) == resolved
    assert task_ref(TaskSpec.parse("tiny_qa", "inspect"), Path(name)) == f"{resolved}@tiny_qa"
    assert task_ref(TaskSpec.parse("other_pkg/some_task", "inspect")) == "other_pkg/some_task"
    with pytest.raises(InputError, match="custom tasks file"):
        task_ref(TaskSpec.parse("tiny_qa", "inspect"))
    with pytest.raises(InputError, match="no task file"):
        task_ref(TaskSpec.parse("missing.py@tiny_qa", "inspect"))


def test_model_setup(tiny: tuple[ModelRef, TinyTasks]) -> None:
    model, _ = tiny
    assert model.path is not None
    settings = EvalSettings(
        engine="inspect", dtype="float32", batch_size=4, device="cuda:0", chat_template="on", trust_remote_code=True
    )
    name, args = model_setup(model, settings)
    assert name == f"hf/{model.path.resolve()}"
    assert args == {"device": "cuda:0", "do_sample": False, "batch_size": 4, "dtype": "float32",
                    "trust_remote_code": True, "use_chat_template": True}  # fmt: skip
    assert model_setup(model, EvalSettings(engine="inspect", chat_template="off"))[1]["use_chat_template"] is False
    assert model_setup(model, EvalSettings(engine="inspect", temperature=0.7))[1]["do_sample"] is True
    plain = model_setup(model, INSPECT)[1]
    assert "trust_remote_code" not in plain and "use_chat_template" not in plain


def test_provider_model_names_download_nothing() -> None:
    nothing = ModelRef("org/model", SHA, None)
    assert model_setup(nothing, EvalSettings(engine="inspect", provider="together")) == (
        "hf-inference-providers/org/model:together",
        {},
    )
    assert (
        model_setup(nothing, EvalSettings(engine="inspect", provider="auto"))[0] == "hf-inference-providers/org/model"
    )
    endpoint = EvalSettings(engine="inspect", provider="local", base_url="http://gpu-box:8000/v1")
    assert model_setup(nothing, endpoint) == ("openai-api/local/org/model", {})
    assert endpoint.backend_label == "provider:local"
    with pytest.raises(EvaluationError, match="no local snapshot"):
        model_setup(nothing, INSPECT)
    assert isinstance(get_evaluator("inspect"), InspectEvaluator)


def test_provider_run_over_real_http(
    tiny: tuple[ModelRef, TinyTasks], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An OpenAI-compatible endpoint (the stand-in over real HTTP) evaluates the model: nothing downloaded,
    backend provider:<name>, no model sha, greedy, each task's own max tokens."""
    _, tasks = tiny
    with OpenAISim(["acme/served"]) as provider:
        monkeypatch.setenv("LOCAL_API_KEY", provider.api_key)
        settings = EvalSettings(engine="inspect", provider="local", base_url=provider.url)
        specs = [TaskSpec.parse(f"{tasks.inspect_file}@{name}", "inspect") for name in ("tiny_mc", "tiny_qa")]
        run = InspectEvaluator(log_dir=tmp_path).run(ModelRef("acme/served", SHA, None), specs, settings)
        sent = provider.requests
    # the stand-in answers "ANSWER: A" and "4": right on 1 of 4 questions and on 1 of 3 ("2 + 2 =")
    values = {(s.dataset.name, s.metric.type): s.metric.value for s in run.scores}
    assert values == {("tiny_mc", "acc"): 0.25, ("tiny_qa", "acc"): pytest.approx(1 / 3),
                      ("tiny_qa", "exact_match"): pytest.approx(1 / 3)}  # fmt: skip
    assert run.backend == "provider:local" and run.settings == settings
    assert all("model_sha" not in s.provenance and s.provenance["backend"] == "provider:local" for s in run.scores)
    assert len(sent) == 7 and {r["model"] for r in sent} == {"acme/served"}
    assert {r["temperature"] for r in sent} == {0.0}
    assert sorted(r["max_tokens"] for r in sent) == [QA_MAX_TOKENS] * 3 + [MC_MAX_TOKENS] * 4  # each task's own


def test_scorers_without_a_main_metric_keep_each_with_its_stderr() -> None:
    """IFEval's scorer: `prompt_strict_acc` goes with `prompt_strict_stderr`."""
    from inspect_ai.log import EvalMetric, EvalScore

    metrics = {
        "prompt_strict_acc": 0.5, "prompt_strict_stderr": 0.05, "inst_strict_acc": 0.6, "inst_strict_stderr": 0.04,
        "final_acc": 0.55,
    }  # fmt: skip
    score = EvalScore(
        name="instruction_following",
        scorer="instruction_following",
        metrics={k: EvalMetric(name=k, value=v) for k, v in metrics.items()},
    )
    assert _main_metrics(score) == [
        ("prompt_strict_acc", "prompt_strict_acc", 0.5, 0.05),
        ("inst_strict_acc", "inst_strict_acc", 0.6, 0.04),
        ("final_acc", "final_acc", 0.55, None),
    ]
    assert _fewshot({"fewshot": 5}) == 5 and _fewshot({"fewshot": True}) is None and _fewshot({}) is None


def test_chatops_tasks_reach_the_real_inspect_only_from_the_task_dir(
    tiny: tuple[ModelRef, TinyTasks], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names a ChatOps user may type: only the task dir's file runs; nothing else is ever imported."""
    import sys

    from bot.core.chatops import TaskPolicy, check_tasks

    model, tasks = tiny
    sentinel = tmp_path / "imported.txt"
    evil = f"import pathlib\npathlib.Path({str(sentinel)!r}).write_text('imported')\n"
    (tmp_path / "evil_here.py").write_text(evil + _FAILING_TASKS)  # in the current directory
    task_dir = tmp_path / "task-dir"
    task_dir.mkdir()
    (task_dir / tasks.inspect_file.name).write_text(tasks.inspect_file.read_text())  # it names its data absolutely
    (task_dir / "evil_link.py").symlink_to(tmp_path / "evil_here.py")
    monkeypatch.chdir(tmp_path)
    policy = TaskPolicy(engine="inspect", task_dirs=(task_dir,))
    for name in ("evil_here.py@explodes", f"{tmp_path}/evil_here.py@explodes", "../evil_here.py@explodes",
                 "evil_link.py@explodes", "evil_here/explodes", "tiny_mc"):  # fmt: skip
        with pytest.raises(InputError):
            check_tasks([name], policy)
    allowed = check_tasks([f"{tasks.inspect_file.name}@tiny_mc"], policy)
    assert allowed == (f"{(task_dir / tasks.inspect_file.name).resolve()}@tiny_mc",)
    spec = TaskSpec.parse(allowed[0], "inspect")
    run = InspectEvaluator(log_dir=tmp_path / "logs").run(model, [spec], EvalSettings(engine="inspect", limit=1))
    assert run.samples == {f"{tasks.inspect_file.name}@tiny_mc": 1}  # the spec shown by its file name
    assert not sentinel.exists()
    assert not [m for m in sys.modules if "evil" in m]
