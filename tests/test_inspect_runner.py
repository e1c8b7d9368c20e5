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
from evaluators import EvaluationError, EvaluatorUnavailable, Limits, ModelRef, Run, TaskSpec, get_evaluator
from evaluators.inspect_runner import InspectEvaluator, model_setup, task_ref
from evaluators.tiny import TinyTasks, build_tiny_model, write_tiny_tasks

SHA = "0123456789abcdef0123456789abcdef01234567"

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
    return evaluator.run(model, specs, "transformers", Limits())


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
    assert meta["model"] == f"hf/{model.path.resolve()}"
    assert meta["model_args"] == {"device": "cpu", "do_sample": False, "use_chat_template": False}
    assert meta["max_tokens"] == 16
    # the log agrees on what ran
    for log in logs.values():
        assert log.eval.model_args["do_sample"] is False
        assert log.eval.metadata == {"evalbot": {"repo_id": model.repo_id, "sha": SHA}}
    assert Run.from_json(json.loads(json.dumps(tiny_run.to_json()))) == tiny_run


def test_limit_and_bare_name_in_custom_tasks(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse("tiny_qa", "inspect", limit=2)
    limits = Limits(custom_tasks=tasks.inspect_file, dtype="float32", batch_size=2)  # real from_pretrained args
    run = InspectEvaluator(log_dir=tmp_path).run(model, [spec], "transformers", limits)
    assert run.samples == {"tiny_qa": 2}
    assert {s.provenance["samples"] for s in run.scores} == {2}
    assert {s.provenance["task"] for s in run.scores} == {"tiny_qa"}
    assert Path(str(run.results_path)).parent == tmp_path
    assert run.metadata["model_args"]["dtype"] == "float32"


def test_failed_run_is_an_error_not_zero_scores(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse(f"{tasks.data_dir.parent / 'failing_tasks.py'}@explodes", "inspect")
    with pytest.raises(EvaluationError, match="status error: RuntimeError") as info:
        InspectEvaluator(log_dir=tmp_path).run(model, [spec], "transformers", Limits())
    assert "solver exploded on purpose" in str(info.value)
    assert "\n" not in str(info.value)


def test_task_that_fails_to_load_is_an_error(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse(f"{tasks.data_dir.parent / 'failing_tasks.py'}@raises_at_load", "inspect")
    with pytest.raises(EvaluationError, match="task construction failed on purpose"):
        InspectEvaluator(log_dir=tmp_path).run(model, [spec], "transformers", Limits())


def test_missing_model_is_an_error(tiny: tuple[ModelRef, TinyTasks], tmp_path: Path) -> None:
    _, tasks = tiny
    model = ModelRef("org/gone", SHA, tmp_path / "does-not-exist")
    spec = TaskSpec.parse(f"{tasks.inspect_file}@tiny_mc", "inspect")
    with pytest.raises(EvaluationError, match="no model snapshot"):
        InspectEvaluator(log_dir=tmp_path).run(model, [spec], "transformers", Limits())


@pytest.mark.skipif(importlib.util.find_spec("inspect_evals") is not None, reason="inspect_evals is installed")
def test_registry_task_without_inspect_evals(tiny: tuple[ModelRef, TinyTasks]) -> None:
    model, _ = tiny
    with pytest.raises(EvaluatorUnavailable, match=r"pip install 'evalbot\[eval\]'") as info:
        InspectEvaluator().run(model, [TaskSpec.parse("inspect_evals/gsm8k", "inspect")], "transformers", Limits())
    assert "inspect-evals" in str(info.value)
    assert info.value.what == "inspect_evals"


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed")
def test_vllm_backend_without_vllm(tiny: tuple[ModelRef, TinyTasks]) -> None:
    model, tasks = tiny
    spec = TaskSpec.parse(f"{tasks.inspect_file}@tiny_mc", "inspect")
    with pytest.raises(EvaluatorUnavailable, match=r"evalbot\[gpu\]"):
        InspectEvaluator().run(model, [spec], "vllm", Limits())


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
    trusted = ModelRef(model.repo_id, SHA, model.path, trust_remote_code=True)
    limits = Limits(dtype="float32", batch_size=4, device="cuda:0", use_chat_template=True)
    name, args = model_setup(trusted, "transformers", limits)
    assert name == f"hf/{model.path.resolve()}"
    assert args == {"device": "cuda:0", "do_sample": False, "batch_size": 4, "dtype": "float32",
                    "trust_remote_code": True, "use_chat_template": True}  # fmt: skip
    assert "trust_remote_code" not in model_setup(model, "transformers", Limits())[1]
    endpoint = model_setup(model, "vllm", Limits(), provider="openai-api/local")
    assert endpoint == (f"openai-api/local/{model.repo_id}", {})


def test_registry_and_provider_endpoint() -> None:
    evaluator = get_evaluator("inspect")
    assert isinstance(evaluator, InspectEvaluator) and evaluator.name == "inspect"
    endpoint = InspectEvaluator(provider="vllm/", base_url="http://gpu-box:8000/v1")
    assert (endpoint.provider, endpoint.base_url) == ("vllm", "http://gpu-box:8000/v1")


def test_chatops_tasks_reach_the_real_inspect_only_from_the_task_dir(
    tiny: tuple[ModelRef, TinyTasks], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names a ChatOps user may type: only the task dir's file runs; nothing else is ever imported."""
    import sys

    from bot.chatops import TaskPolicy, check_tasks

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
    spec = TaskSpec.parse(allowed[0], "inspect", limit=1)
    run = InspectEvaluator(log_dir=tmp_path / "logs").run(model, [spec], "transformers", Limits())
    assert run.samples == {allowed[0]: 1}
    assert not sentinel.exists()
    assert not [m for m in sys.modules if "evil" in m]
