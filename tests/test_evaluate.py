"""`evalbot evaluate` end to end on CPU: a tiny random-weight model served by the local Hub stand-in
(so the real snapshot download is used), real lighteval and inspect-ai runs on tiny local tasks,
one PR whose values equal the engine's own output, and a rerun that loads no model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.card import parse_card
from bot.cli import main
from bot.sim.hub import HubSim
from evaluators.tiny import TinyTasks, build_tiny_model, write_tiny_tasks

REPO = "acme/tiny-llama"
CARD = "---\nlicense: mit\nlibrary_name: transformers\n---\n# tiny-llama\n\nA tiny random-weight Llama.\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], TinyTasks]:
    root = tmp_path_factory.mktemp("tiny")
    model = build_tiny_model(root / "model")
    files = {p.name: p.read_bytes() for p in model.iterdir() if p.is_file()}
    return files, write_tiny_tasks(root / "tasks")


@pytest.fixture
def hub(built: tuple[dict[str, bytes], TinyTasks], monkeypatch: pytest.MonkeyPatch) -> HubSim:
    files, _ = built
    with HubSim() as sim:
        sim.add_repo(REPO, {"README.md": CARD, **files})
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", "evalbot-token")
        yield sim


def evaluate(engine: str, tasks: TinyTasks, *extra: str) -> list[str]:
    if engine == "lighteval":
        task_args = ["--tasks", "tiny_mc|0,tiny_qa|0", "--custom-tasks", str(tasks.lighteval_file)]
    else:
        task_args = ["--tasks", f"{tasks.inspect_file}@tiny_mc,{tasks.inspect_file}@tiny_qa"]
    return ["evaluate", "--repo-id", REPO, "--engine", engine, "--backend", "transformers", "--device", "cpu",
            *task_args, *extra]  # fmt: skip


def engine_values(engine: str, results_path: str) -> dict[tuple[str, str], float]:
    """(task, metric type) → value, read from the engine's own output files."""
    from evaluators._scores import metric_type

    values = {}
    if engine == "lighteval":
        data = json.loads(Path(results_path).read_text())
        for task, metrics in data["results"].items():
            if task == "all":
                continue
            for key, value in metrics.items():
                if not key.endswith("_stderr"):
                    values[(task, metric_type(key))] = float(value)
        return values
    from inspect_ai.log import list_eval_logs, read_eval_log

    for info in list_eval_logs(results_path):
        log = read_eval_log(info)
        assert log.results is not None
        for scorer in log.results.scores:
            for name, metric in scorer.metrics.items():
                if name in ("accuracy", "mean"):
                    kind = (
                        "acc"
                        if name == "accuracy"
                        else metric_type({"exact": "exact_match"}.get(scorer.name, scorer.name))
                    )
                    values[(log.eval.task, kind)] = float(metric.value)
    return values


@pytest.mark.parametrize("engine", ["lighteval", "inspect"])
def test_evaluate_create_pr_publishes_the_engines_own_values_once(
    engine: str, hub: HubSim, built: tuple[dict[str, bytes], TinyTasks], capsys: pytest.CaptureFixture[str]
) -> None:
    _, tasks = built
    assert main(evaluate(engine, tasks, "--create-pr", "--format", "json")) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["outcome"] == "created"
    (pr,) = hub.discussions(REPO)
    assert f"Engine: {engine} " in pr.description and "backend: transformers" in pr.description
    assert f"Model evaluated: {REPO} at commit {hub.head(REPO)}" in pr.description
    assert "Samples: " in pr.description

    readme = (hub.file(REPO, "README.md", rev="refs/pr/1") or b"").decode()
    results = parse_card(readme).data["model-index"][0]["results"]
    published = {(r["dataset"]["name"], m["type"]): m["value"] for r in results for m in r["metrics"]}
    # the engine's own output files, found through the run the cache kept
    run_json = _cached_run(engine)
    own = engine_values(engine, run_json["results_path"])
    assert {(task.split("|")[0].split(":")[0], metric): value for (task, metric), value in own.items()} == published

    # the rerun publishes nothing and loads no model
    assert main(evaluate(engine, tasks, "--create-pr")) == 0
    captured = capsys.readouterr()
    assert "cached: no model loaded" in captured.out and "downloading the model" not in captured.err
    assert "unchanged: PR #1 already proposes this" in captured.out
    assert len(hub.discussions(REPO)) == 1


def _cached_run(engine: str) -> dict[str, object]:
    import os

    home = Path(os.environ["EVALBOT_HOME"]) / "eval-cache"
    runs = [json.loads(p.read_text()) for p in home.rglob("*.json")]
    mine = [r for r in runs if r["engine"] == engine]
    assert mine, f"no cached {engine} run under {home}"
    return mine[0]


def test_evaluate_dry_run_shows_scores_and_diff_and_writes_nothing(
    hub: HubSim, built: tuple[dict[str, bytes], TinyTasks], capsys: pytest.CaptureFixture[str]
) -> None:
    _, tasks = built
    assert main(evaluate("lighteval", tasks)) == 0
    out = capsys.readouterr().out
    assert out.startswith("lighteval ") and "tiny_mc|0" in out and "(fraction)" in out
    assert "+++ b/README.md" in out and "+model-index:" in out
    assert hub.discussions(REPO) == [] and hub.request_count(method="POST") == 0


def test_bad_task_string_is_bad_input_before_any_download(hub: HubSim, capsys: pytest.CaptureFixture[str]) -> None:
    hub.reset_requests()
    code = main(["evaluate", "--repo-id", REPO, "--tasks", "gsm8k|five"])
    assert code == 2
    assert "expected 'task|fewshot'" in capsys.readouterr().err
    assert hub.request_count() == 0


def test_a_failing_run_is_an_error_not_zero_scores(
    hub: HubSim, built: tuple[dict[str, bytes], TinyTasks], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    broken = tmp_path / "broken_tasks.py"
    broken.write_text("from inspect_ai import task\n\n@task\ndef boom():\n    raise RuntimeError('dataset missing')\n")
    code = main(["evaluate", "--repo-id", REPO, "--engine", "inspect", "--tasks", f"{broken}@boom", "--create-pr"])
    assert code == 1
    assert hub.discussions(REPO) == []


def test_hf_jobs_runner_dispatches_polls_and_collects_without_leaking_the_token(
    built: tuple[dict[str, bytes], TinyTasks],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files, tasks = built
    token = "maintainer-token"  # the job must upload to the results dataset, so a writer's token
    with HubSim(benchmarks={}) as sim:  # no benchmark datasets: only the results dataset is a dataset here
        sim.add_repo(REPO, {"README.md": CARD, **files})
        sim.add_repo("acme/eval-results", {"README.md": "# results\n"}, repo_type="dataset")
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", token)
        monkeypatch.setenv("EVALBOT_RESULTS_REPO", "acme/eval-results")
        spec = f"{tasks.inspect_file}@tiny_mc"
        code = main(["evaluate", "--repo-id", REPO, "--engine", "inspect", "--tasks", spec, "--runner", "hf-jobs",
                     "--limit", "2", "--create-pr"])  # fmt: skip
        out, err = capsys.readouterr()
        assert code == 0, err
        (job_id,) = sim.jobs.job_ids
        info = sim.jobs.info(job_id)
        assert info["status"]["stage"] == "COMPLETED"
        assert "Engine: inspect" in sim.discussions(REPO)[0].description
        stored = [p for p in sim.repo_ids if p.startswith("datasets/")]
        assert stored == ["datasets/acme/eval-results"]
        everything = out + err + caplog.text + json.dumps(info) + "\n".join(sim.jobs.logs(job_id))
        assert token not in everything
