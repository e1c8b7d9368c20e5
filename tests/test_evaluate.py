"""`evalbot evaluate` end to end on CPU: a tiny random-weight model served by the local Hub stand-in
(so the real snapshot download is used), real lighteval and inspect-ai runs on tiny local tasks,
one PR whose values equal the engine's own output, and a rerun that loads no model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.card import parse_card
from bot.sim.hub import HubSim
from bot.sim.provider import OpenAISim
from evaluators import EvalSettings
from evaluators.tiny import TinyTasks, build_tiny_model, write_tiny_tasks

pytestmark = pytest.mark.slow  # the real engines on the tiny model (`make test-fast` leaves these out)

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
    return ["evaluate", "--repo-id", REPO, "--engine", engine, "--backend", "transformers", *task_args,
            *extra]  # fmt: skip


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
    first = capsys.readouterr()
    (report,) = json.loads(first.out)
    assert "engine log: " in first.err and "all 2 task(s) cached" not in first.err  # it just ran them
    assert report["outcome"] == "created"
    (pr,) = hub.discussions(REPO)
    assert f"Engine: {engine} " in pr.description and "backend: transformers" in pr.description
    assert f"Model evaluated: {REPO} at commit {hub.head(REPO)}" in pr.description
    assert "Samples: " in pr.description and "PARTIAL" not in pr.description
    assert (
        "Settings: backend transformers, dtype engine default, tensor parallel 1, max new tokens task default, "
        "temperature 0, chat template auto, limit none (all samples)"
    ) in pr.description

    readme = (hub.file(REPO, "README.md", rev="refs/pr/1") or b"").decode()
    results = parse_card(readme).data["model-index"][0]["results"]
    published = {(r["dataset"]["name"], m["type"]): m["value"] for r in results for m in r["metrics"]}
    # the engine's own output files, found through the run the cache kept
    run_json = _cached_run(engine)
    own = engine_values(engine, run_json["results_path"])
    assert {s["date"] for s in run_json["scores"]} == {datetime.now(UTC).date().isoformat()}  # the day it ran
    assert {(task.split("|")[0].split(":")[0], metric): value for (task, metric), value in own.items()} == published

    # the rerun publishes nothing and loads no model
    assert main(evaluate(engine, tasks, "--create-pr")) == 0
    captured = capsys.readouterr()
    assert "cached: no model loaded" in captured.out and "downloading the model" not in captured.err
    assert "all 2 task(s) cached; no model loaded" in captured.err
    assert "unchanged: PR #1 already proposes this" in captured.out
    assert len(hub.discussions(REPO)) == 1

    # a result-relevant setting changed: a different evaluation, never the cached one (defect 6)
    assert main(evaluate(engine, tasks, "--max-new-tokens", "3")) == 0
    err = capsys.readouterr().err
    assert "downloading the model" in err and "cached" not in err


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


def test_hf_jobs_runner_sends_every_setting_and_the_task_file_to_a_separate_job(
    built: tuple[dict[str, bytes], TinyTasks],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defect 2: the job ran defaults and found the custom tasks file only through the shared filesystem."""
    files, tasks = built
    token = "maintainer-token"  # the job must upload to the results dataset, so a writer's token
    with HubSim(benchmarks={}) as sim:  # no benchmark datasets: only the results dataset is a dataset here
        sim.add_repo(REPO, {"README.md": CARD, **files})
        sim.add_repo("acme/eval-results", {"README.md": "# results\n"}, repo_type="dataset")
        monkeypatch.setenv("HF_ENDPOINT", sim.url)
        monkeypatch.setenv("HF_TOKEN", token)
        monkeypatch.setenv("EVALBOT_RESULTS_REPO", "acme/eval-results")
        settings = ("--max-new-tokens", "4", "--chat-template", "off", "--dtype", "float32", "--limit", "2")
        code = main(evaluate("lighteval", tasks, "--runner", "hf-jobs", *settings, "--allow-partial", "--create-pr"))
        out, err = capsys.readouterr()
        assert code == 0, err
        (job_id,) = sim.jobs.job_ids
        info = sim.jobs.info(job_id)
        assert info["status"]["stage"] == "COMPLETED"
        command = info["command"]
        sent = EvalSettings.from_json(json.loads(command[command.index("--settings-json") + 1]))
        assert sent == EvalSettings(
            max_new_tokens=4, chat_template="off", dtype="float32", limit=2, allow_partial=True,
            custom_tasks=Path(tasks.lighteval_file.name),  # the job's own copy, by name
        )  # fmt: skip
        # the task file went through the results dataset into the job's own folder, not the local disk
        task_file = command[command.index("--task-file") + 1]
        assert task_file.startswith("task-files/") and task_file.endswith("/tiny_lighteval_tasks.py")
        workdir = sim.jobs.workdir(job_id)
        assert (workdir / "tiny_lighteval_tasks.py").read_bytes() == tasks.lighteval_file.read_bytes()
        assert not workdir.is_relative_to(Path.cwd()) and workdir != tasks.lighteval_file.parent
        run = _cached_run("lighteval")
        assert Path(run["metadata"]["custom_tasks"]) == workdir / "tiny_lighteval_tasks.py"
        args = run["metadata"]["model_args"]  # what lighteval got inside the job
        assert args["dtype"] == "float32" and args["override_chat_template"] is False
        assert args["generation_parameters"] == {"temperature": 0.0, "max_new_tokens": 4}
        (pr,) = sim.discussions(REPO)
        assert "Engine: lighteval" in pr.description and "runner: hf-jobs" in pr.description
        assert "PARTIAL RUN (published with --allow-partial): tiny_mc|0: partial: 2 of 4 samples" in pr.description
        readme = (sim.file(REPO, "README.md", rev="refs/pr/1") or b"").decode()
        names = [m["name"] for r in parse_card(readme).data["model-index"][0]["results"] for m in r["metrics"]]
        assert names == [
            "tiny_mc (lighteval) (partial: 2 of 4 samples)",
            "tiny_qa (lighteval) (partial: 2 of 3 samples)",
        ]
        stored = [p for p in sim.repo_ids if p.startswith("datasets/")]
        assert stored == ["datasets/acme/eval-results"]
        everything = out + err + caplog.text + json.dumps(info) + "\n".join(sim.jobs.logs(job_id))
        assert token not in everything


def test_partial_runs_are_refused_unless_allowed(
    hub: HubSim, built: tuple[dict[str, bytes], TinyTasks], capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 7: --limit runs went into model-index unmarked."""
    _, tasks = built
    hub.reset_requests()
    assert main(evaluate("lighteval", tasks, "--limit", "2", "--create-pr")) == 2
    err = capsys.readouterr().err
    assert "--limit 2 makes a partial run" in err and "--allow-partial" in err and len(err.strip().splitlines()) == 1
    assert hub.discussions(REPO) == [] and hub.request_count() == 0  # refused before anything ran
    assert main(evaluate("lighteval", tasks, "--limit", "2")) == 0  # a dry run may be partial
    assert "partial: 2 of 4 samples" in capsys.readouterr().out
    assert hub.discussions(REPO) == []


def test_each_engine_has_its_own_pr(
    hub: HubSim, built: tuple[dict[str, bytes], TinyTasks], capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 7: a --limit 2 smoke run with inspect planned to replace the open lighteval PR."""
    _, tasks = built
    assert main(evaluate("lighteval", tasks, "--create-pr")) == 0
    assert main(evaluate("inspect", tasks, "--limit", "2", "--allow-partial", "--create-pr")) == 0
    out = capsys.readouterr().out
    assert "update PR #1" not in out
    first, second = sorted(hub.discussions(REPO), key=lambda d: d.num)
    assert "Engine: lighteval" in first.description and "Engine: inspect" in second.description
    assert "PARTIAL" not in first.description and "partial: 2 of 4 samples" in second.description
    assert (hub.file(REPO, "README.md", rev="refs/pr/1") or b"") != (
        hub.file(REPO, "README.md", rev="refs/pr/2") or b""
    )


def test_provider_run_downloads_nothing_and_records_no_sha(
    hub: HubSim, built: tuple[dict[str, bytes], TinyTasks], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Defect 8: an OpenAI-compatible endpoint (the stand-in over real HTTP) instead of the weights."""
    _, tasks = built
    with OpenAISim([REPO]) as provider:
        monkeypatch.setenv("LOCAL_API_KEY", provider.api_key)
        hub.reset_requests()
        code = main(["evaluate", "--repo-id", REPO, "--engine", "inspect", "--provider", "local", "--base-url",
                     provider.url, "--tasks", f"{tasks.inspect_file}@tiny_mc", "--create-pr"])  # fmt: skip
        captured = capsys.readouterr()
        assert code == 0, captured.err
        assert {r["temperature"] for r in provider.requests} == {0.0} and len(provider.requests) == 4
    assert "nothing downloaded" in captured.err and "downloading the model" not in captured.err
    fetched = {path.rsplit("/", 1)[-1] for _, path in hub.requests if "/resolve/" in path}
    assert fetched == {"README.md"}  # the card, never the weights or tokenizer
    (pr,) = hub.discussions(REPO)
    assert "backend: provider:local" in pr.description
    assert "as served by the Inference Provider local (the provider does not guarantee a commit" in pr.description
    assert "model_sha" not in pr.description
    readme = (hub.file(REPO, "README.md", rev="refs/pr/1") or b"").decode()
    metrics = parse_card(readme).data["model-index"][0]["results"][0]["metrics"]
    assert metrics == [{"type": "acc", "value": 0.25, "name": "tiny_mc (inspect)", "stderr": 0.25}]
