"""HF Jobs: the stand-in's jobs endpoints (real huggingface_hub client over HTTP) and `bot.app.remote_jobs.JobsRunner`.

Jobs run as local subprocesses of the stand-in; the job command here is a small Python script
(written into tmp_path) that builds a Run and uploads its JSON to the results dataset, so
dispatch → poll → collect is exercised end to end without `evalbot evaluate`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx2
import pytest
from huggingface_hub import HfApi, JobHardware
from huggingface_hub.errors import HfHubHTTPError, JobNotFoundError

from bot.app.remote_jobs import (
    EVALBOT_GPU_IMAGE,
    FLAVORS_FILE,
    KEY_LABEL,
    FlavorChoice,
    JobsRunner,
    JobsSettings,
    PollPolicy,
    RemoteEval,
    evalbot_command,
    flavor_choice,
    flavor_for,
    load_flavors,
    settings_for_flavor,
)
from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient, RetryPolicy
from bot.errors import AmbiguousWriteError, ConfigError, InputError
from bot.sim.hub import HubSim
from evaluators import EvalSettings, EvaluationError, Run

TOKEN = "hf_jobsTestSECRETtoken1234567890"  # distinctive, so any leak is found by substring search
USERS = {TOKEN: "evalbot", "tok-alice": "alice"}
RESULTS = "evalbot/eval-runs"
MODEL = "acme/tiny-model"
SHA = "0123456789abcdef0123456789abcdef01234567"
FAST_POLL = PollPolicy(initial_s=0.05, max_s=0.2)
FAST_RETRY = RetryPolicy(attempts=5, base_wait=0.01, max_wait=0.05)

JOB_SCRIPT = """\
import json, os, sys, time
mode, repo_id, sha, results_repo, results_path = sys.argv[1:6]
print(f"evaluating {repo_id}@{sha[:12]} ({mode})", flush=True)
if mode == "fail":
    print("Traceback (most recent call last):\\nRuntimeError: CUDA out of memory", file=sys.stderr)
    sys.exit(3)
if mode == "leak":
    print("token is " + os.environ["HF_TOKEN"])
    sys.exit(1)
if mode == "sleep":
    time.sleep(60)
from huggingface_hub import HfApi
from bot.core.scores import Dataset, Metric, Score, Source, Task
from evaluators import Run, TaskSpec
score = Score(
    benchmark="gsm8k",
    dataset=Dataset(name="GSM8K", type="openai/gsm8k"),
    task=Task(type="text-generation"),
    metric=Metric(type="accuracy", value=0.5),
    source=Source(name="evalbot"),
    shots=5,
    date="2026-01-02",
)
run = Run(
    scores=(score,), engine="lighteval", engine_version="0.test", backend="vllm", repo_id=repo_id, sha=sha,
    tasks=(TaskSpec("lighteval", "gsm8k|5", "gsm8k", 5),), samples={"gsm8k|5": 2}, duration_s=0.25,
)
api = HfApi(endpoint=os.environ["HF_ENDPOINT"], token=os.environ["HF_TOKEN"])
api.upload_file(
    path_or_fileobj=json.dumps(run.to_json()).encode(), path_in_repo=results_path, repo_id=results_repo,
    repo_type="dataset", commit_message="evalbot run",
)
print("uploaded " + results_path)
"""


@pytest.fixture
def sim() -> Iterator[HubSim]:
    hub = HubSim(users=USERS)
    hub.add_repo(RESULTS, {"README.md": "# evalbot runs\n"}, repo_type="dataset")
    with hub:
        yield hub


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "fake_job.py"
    path.write_text(JOB_SCRIPT, encoding="utf-8")
    return path


def api(sim: HubSim, token: str = TOKEN) -> HfApi:
    return HfApi(endpoint=sim.url, token=token)


def hub(sim: HubSim) -> HubClient:
    """The Hub edge the runner calls through (its retries, its errors)."""
    return HubClient(Settings(hf_token=Secret(TOKEN), hf_endpoint=sim.url), retry=FAST_RETRY)


def runner(sim: HubSim, script: Path, mode: str = "ok", *, namespace: str | None = "evalbot", **kw: Any) -> JobsRunner:
    def build(request: RemoteEval, results_repo: str, results_path: str) -> list[str]:
        return ["python", str(script), mode, request.repo_id, request.revision, results_repo, results_path]

    settings = JobsSettings(results_repo=RESULTS, namespace=namespace, cache_dir=script.parent / "cache")
    return JobsRunner(hub(sim), TOKEN, settings, command_builder=build, poll=FAST_POLL, **kw)


SETTINGS = EvalSettings(backend="vllm", limit=2)
REQUEST = RemoteEval(MODEL, SHA, ("gsm8k|5",), SETTINGS, key="k" * 32, parameter_count=7_000_000_000)


def assert_no_token(sim: HubSim, job_id: str, *texts: str) -> None:
    info = sim.jobs.info(job_id)
    assert TOKEN not in json.dumps(info)
    assert TOKEN not in json.dumps(info["command"]) and TOKEN not in json.dumps(info["environment"])
    assert info["secrets"] == {"HF_TOKEN": None}  # names only
    served = httpx2.get(f"{sim.url}/api/jobs/evalbot/{job_id}", headers={"authorization": f"Bearer {TOKEN}"})
    assert served.status_code == 200 and TOKEN not in served.text
    for text in texts:
        assert TOKEN not in text


# -- the stand-in's Jobs endpoints, with the plain client -----------------------------------------


def test_run_job_completes_with_logs_env_and_secret_names(sim: HubSim) -> None:
    hf = api(sim)
    code = (
        "import os, sys; print('hello from the job'); print('to stderr', file=sys.stderr); "
        "print('endpoint', os.environ['HF_ENDPOINT']); print('mode', os.environ['MODE']); "
        "import hashlib; digest = hashlib.sha256(os.environ['HF_TOKEN'].encode()).hexdigest(); "
        f"print('secret ok', digest == {hashlib.sha256(TOKEN.encode()).hexdigest()!r})"
    )
    job = hf.run_job(
        image="python:3.12",
        command=["python", "-c", code],
        env={"MODE": "test"},
        secrets={"HF_TOKEN": TOKEN},
        flavor="t4-small",
        timeout="5m",
        namespace="evalbot",
    )
    assert job.status.stage in ("SCHEDULING", "RUNNING") and job.owner.name == "evalbot"
    done = hf.wait_for_job(job.id, namespace="evalbot", poll_interval=0.05, timeout=20)
    assert done.status.stage == "COMPLETED" and done.finished_at is not None
    assert done.docker_image == "python:3.12" and done.flavor == "t4-small"
    assert done.environment == {"MODE": "test"} and done.secrets == {"HF_TOKEN": None}
    logs = list(hf.fetch_job_logs(job_id=job.id, namespace="evalbot"))
    assert logs == ["hello from the job", "to stderr", f"endpoint {sim.url}", "mode test", "secret ok True"]
    assert list(hf.fetch_job_logs(job_id=job.id, namespace="evalbot", tail=2)) == ["mode test", "secret ok True"]
    assert list(hf.fetch_job_logs(job_id=job.id, namespace="evalbot", follow=True))[-1] == "secret ok True"
    assert [j.id for j in hf.list_jobs(namespace="evalbot", status="COMPLETED")] == [job.id]
    assert list(hf.list_jobs(namespace="evalbot", status="RUNNING")) == []
    assert sim.jobs.info(job.id)["timeoutSeconds"] == 300
    assert_no_token(sim, job.id, *logs)
    assert sim.request_count("POST", "/api/jobs/evalbot") == 1


def test_failing_command_is_error_and_cancel_kills(sim: HubSim) -> None:
    hf = api(sim)
    failing = hf.run_job(
        image="x", command=["python", "-c", "import sys; print('bad'); sys.exit(4)"], namespace="evalbot"
    )
    assert sim.jobs.wait(failing.id) == "ERROR"
    info = hf.inspect_job(job_id=failing.id, namespace="evalbot")
    assert info.status.stage == "ERROR" and info.status.message == "Job failed with exit code: 4"
    sleeper = hf.run_job(
        image="x", command=["python", "-c", "import time; print('up', flush=True); time.sleep(60)"], namespace="evalbot"
    )
    hf.cancel_job(job_id=sleeper.id, namespace="evalbot")
    assert hf.inspect_job(job_id=sleeper.id, namespace="evalbot").status.stage == "CANCELED"
    assert sim.jobs.wait(sleeper.id, timeout=10) == "CANCELED"  # the process is gone
    timed = hf.run_job(
        image="x", command=["python", "-c", "import time; time.sleep(60)"], timeout=1, namespace="evalbot"
    )
    assert sim.jobs.wait(timed.id, timeout=10) == "ERROR"
    assert hf.inspect_job(job_id=timed.id, namespace="evalbot").status.message == "Job timed out after 1 seconds"


def test_jobs_namespace_auth_and_not_found(sim: HubSim) -> None:
    with pytest.raises(HfHubHTTPError) as err:
        api(sim, "tok-alice").run_job(image="x", command=["true"], namespace="evalbot")
    assert err.value.response.status_code == 403
    with pytest.raises(JobNotFoundError):
        api(sim).inspect_job(job_id="0" * 24, namespace="evalbot")
    assert httpx2.get(f"{sim.url}/api/jobs/evalbot").status_code == 401
    assert api(sim).run_job(image="x", command=["true"]).owner.name == "evalbot"  # namespace from whoami
    assert sim.request_count("GET", "/api/whoami-v2") == 1


def test_local_command_mapping(sim: HubSim) -> None:
    py = sim.jobs.python
    assert py == sys.executable
    assert sim.jobs.local_command(["evalbot", "evaluate", "--x"]) == [py, "-m", "bot.cli", "evaluate", "--x"]
    assert sim.jobs.local_command(["python3", "-c", "1"]) == [py, "-c", "1"]
    assert sim.jobs.local_command(["echo", "hi"]) == ["echo", "hi"]
    job = api(sim).run_job(image="x", command=["evalbot", "--help"], namespace="evalbot")
    assert sim.jobs.wait(job.id, timeout=20) == "COMPLETED"
    assert any(line.startswith("usage: evalbot") for line in sim.jobs.logs(job.id))


def test_dataset_repos_upload_download_and_rights(sim: HubSim, tmp_path: Path) -> None:
    hf = api(sim)
    hf.upload_file(path_or_fileobj=b'{"a": 1}', path_in_repo="runs/x.json", repo_id=RESULTS, repo_type="dataset")
    assert sim.file(RESULTS, "runs/x.json", repo_type="dataset") == b'{"a": 1}'
    local = hf.hf_hub_download(RESULTS, "runs/x.json", repo_type="dataset", cache_dir=tmp_path)
    assert Path(local).read_bytes() == b'{"a": 1}'
    assert RESULTS not in [m.id for m in hf.list_models(author="evalbot")]
    with pytest.raises(HfHubHTTPError) as err:
        api(sim, "tok-alice").upload_file(path_or_fileobj=b"x", path_in_repo="y", repo_id=RESULTS, repo_type="dataset")
    assert err.value.response.status_code == 403


# -- JobsRunner against the stand-in ---------------------------------------------------------------


def test_run_remote_end_to_end(sim: HubSim, script: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jobs = runner(sim, script)
    run = jobs.run_remote(REQUEST, timeout_s=60)
    assert isinstance(run, Run) and run.repo_id == MODEL and run.sha == SHA and run.backend == "vllm"
    assert [(s.benchmark, s.metric.value) for s in run.scores] == [("gsm8k", 0.5)]
    (job_id,) = sim.jobs.job_ids
    info = sim.jobs.info(job_id)
    assert info["status"]["stage"] == "COMPLETED" and info["flavor"] == "a10g-small"  # 7B parameters
    assert info["dockerImage"] == EVALBOT_GPU_IMAGE and info["labels"]["app"] == "evalbot"
    assert info["command"][-1] == REQUEST.results_path and info["environment"] == {}
    # each score links to the job's results file and keeps the day the job's engine finished
    url = f"{sim.url}/datasets/{RESULTS}/blob/main/{REQUEST.results_path}"
    assert [(s.source.url, s.date) for s in run.scores] == [(url, "2026-01-02")]
    stored = sim.file(RESULTS, REQUEST.results_path, repo_type="dataset")
    unlinked = tuple(replace(s, source=replace(s.source, url=None)) for s in run.scores)
    assert stored is not None and Run.from_json(json.loads(stored)) == replace(run, scores=unlinked)
    assert f"job {job_id}: COMPLETED" in caplog.text
    assert_no_token(sim, job_id, caplog.text, *sim.jobs.logs(job_id), *(r.getMessage() for r in caplog.records))


def test_failed_job_raises_with_log_tail(sim: HubSim, script: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jobs = runner(sim, script, "fail")
    job_id = jobs.dispatch(REQUEST)
    with pytest.raises(EvaluationError) as err:
        jobs.wait(job_id, timeout_s=30)
    message = str(err.value)
    assert message.startswith(f"job {job_id} ended ERROR: Job failed with exit code: 3; last log lines:")
    assert "RuntimeError: CUDA out of memory" in message and "evaluating acme/tiny-model" in message
    assert_no_token(sim, job_id, message, caplog.text)


def test_a_job_printing_its_token_is_scrubbed(sim: HubSim, script: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jobs = runner(sim, script, "leak")
    job_id = jobs.dispatch(REQUEST)
    with pytest.raises(EvaluationError) as err:
        jobs.wait(job_id, timeout_s=30)
    assert "token is ***" in str(err.value)
    assert TOKEN not in str(err.value) and TOKEN not in caplog.text and TOKEN not in repr(jobs)
    assert TOKEN in "\n".join(sim.jobs.logs(job_id))  # the sim logs what the job printed (no masking)


def test_timeout_cancels_the_job(sim: HubSim, script: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    jobs = runner(sim, script, "sleep")
    job_id = jobs.dispatch(REQUEST)
    with pytest.raises(EvaluationError) as err:
        jobs.wait(job_id, timeout_s=0.6)
    assert str(err.value).startswith(f"job {job_id} timed out after 0.6 s; cancelled")
    assert sim.request_count("POST", f"/api/jobs/evalbot/{job_id}/cancel") == 1
    assert sim.jobs.info(job_id)["status"]["stage"] == "CANCELED"
    assert sim.jobs.wait(job_id, timeout=10) == "CANCELED"
    assert_no_token(sim, job_id, str(err.value), caplog.text)


def test_inspect_429_and_5xx_are_retried(sim: HubSim, script: Path) -> None:
    jobs = runner(sim, script)
    job_id = jobs.dispatch(REQUEST)
    sim.inject("inspect_job", 429, times=2, retry_after=0)
    sim.inject("inspect_job", 503, times=1)
    sim.inject("job_logs", 500, times=1)
    jobs.wait(job_id, timeout_s=60)
    assert sim.faults_injected == 3
    assert sim.request_count("GET", f"/api/jobs/evalbot/{job_id}") >= 4
    assert jobs.collect(REQUEST).sha == SHA


def test_run_job_is_retried_on_429_only(sim: HubSim, script: Path) -> None:
    jobs = runner(sim, script)
    sim.inject("run_job", 429, times=1, retry_after=0)
    jobs.dispatch(REQUEST)
    assert sim.request_count("POST", "/api/jobs/evalbot") == 2 and len(sim.jobs.job_ids) == 1
    sim.inject("run_job", "drop_after", times=1)  # started, but the answer was lost: never retried blindly
    found = jobs.dispatch(REQUEST)  # ... but looked up by its label
    assert sim.request_count("POST", "/api/jobs/evalbot") == 3 and sim.jobs.job_ids[-1] == found
    assert len(sim.jobs.job_ids) == 2


def test_namespace_from_whoami_once(sim: HubSim, script: Path) -> None:
    jobs = runner(sim, script, namespace=None)
    jobs.wait(jobs.dispatch(REQUEST), timeout_s=60)
    assert jobs.namespace == "evalbot"
    assert sim.request_count("GET", "/api/whoami-v2") == 1


def test_collect_without_results_is_evaluation_error(sim: HubSim, script: Path) -> None:
    with pytest.raises(EvaluationError, match="did not upload its results"):
        runner(sim, script).collect(REQUEST)
    other = RemoteEval(MODEL, "f" * 40, ("gsm8k|5",), SETTINGS)
    api(sim).upload_file(  # a run of another commit at the path of `other`
        path_or_fileobj=json.dumps(_run_json(SHA)).encode(),
        path_in_repo=other.results_path,
        repo_id=RESULTS,
        repo_type="dataset",
    )
    with pytest.raises(EvaluationError, match="holds a run of acme/tiny-model@0123456789ab"):
        runner(sim, script).collect(other)


def _run_json(sha: str) -> dict[str, Any]:
    return {
        "v": 1, "engine": "lighteval", "engine_version": "0", "backend": "vllm", "repo_id": MODEL, "sha": sha,
        "tasks": [], "samples": {}, "duration_s": 0.0, "metadata": {}, "scores": [],
    }  # fmt: skip


# -- the command, the request, settings, polling ----------------------------------------------------


def test_default_command_carries_the_whole_settings() -> None:
    command = evalbot_command(REQUEST, RESULTS, "runs/p.json")
    settings = json.loads(command[command.index("--settings-json") + 1])
    assert command == [
        "evalbot", "evaluate", "--repo-id", MODEL, "--revision", SHA, "--tasks", "gsm8k|5",
        "--settings-json", command[command.index("--settings-json") + 1], "--runner", "local",
        "--results-repo", RESULTS, "--results-path", "runs/p.json", "--dry-run",
    ]  # fmt: skip
    assert EvalSettings.from_json(settings) == SETTINGS
    files = RemoteEval(
        MODEL, SHA, ("t.py@a",), EvalSettings(engine="inspect"), task_files=(("task-files/x/t.py", "t.py"),)
    )
    command = evalbot_command(files, RESULTS, files.results_path)
    assert command[command.index("--task-file") + 1] == "task-files/x/t.py"
    # the results file is named by the evaluation's identity: other settings, another file
    two = RemoteEval(MODEL, SHA, ("inspect_evals/gsm8k",), EvalSettings(engine="inspect"))
    other = RemoteEval(MODEL, SHA, ("inspect_evals/gsm8k",), EvalSettings(engine="inspect", max_new_tokens=5))
    assert two.results_path.startswith(f"runs/{MODEL}/{SHA}/inspect-") and two.results_path != other.results_path
    assert REQUEST.results_path == f"runs/{MODEL}/{SHA}/lighteval-{'k' * 24}.json"


def test_token_in_command_or_env_is_refused(sim: HubSim) -> None:
    leaky = JobsRunner(
        hub(sim),
        TOKEN,
        JobsSettings(results_repo=RESULTS, namespace="evalbot"),
        command_builder=lambda request, repo, path: ["python", "-c", "1", TOKEN],
    )
    with pytest.raises(ConfigError) as err:
        leaky.dispatch(REQUEST)
    assert TOKEN not in str(err.value)
    assert sim.jobs.job_ids == []
    with pytest.raises(ConfigError, match="as job secrets"):
        JobsSettings(results_repo=RESULTS, env={"HF_TOKEN": "x"})


@pytest.mark.parametrize(
    "bad",
    [
        dict(tasks=()),
        dict(tasks=("a,b",)),
        dict(revision=" "),
        dict(repo_id="nope"),
    ],
)
def test_bad_requests(bad: dict[str, Any]) -> None:
    fields: dict[str, Any] = dict(repo_id=MODEL, revision=SHA, tasks=("gsm8k|5",)) | bad
    with pytest.raises(InputError):
        RemoteEval(**fields)


class FakeJobsHub:
    """Just enough of the `JobsHub` calls for the polling schedule: RUNNING until `runs_for` polls have passed."""

    def __init__(self, runs_for: int) -> None:
        self.runs_for = runs_for
        self.polls = 0
        self.cancelled: list[str] = []

    endpoint = "http://hub.invalid"

    def whoami(self) -> Any:
        return type("Me", (), {"name": "evalbot"})()

    def run_job(self, **kw: Any) -> Any:
        raise AssertionError("not used")

    def list_jobs(self, **kw: Any) -> Any:
        raise AssertionError("not used")

    def inspect_job(self, job_id: str, *, namespace: str) -> Any:
        self.polls += 1
        stage = "COMPLETED" if self.polls > self.runs_for else "RUNNING"
        status = type("S", (), {"stage": stage, "message": None})()
        return type("I", (), {"id": job_id, "status": status})()

    def cancel_job(self, job_id: str, *, namespace: str) -> None:
        self.cancelled.append(job_id)

    def job_logs(self, job_id: str, *, namespace: str, tail: int) -> list[str]:
        return ["line 1", "line 2"]

    def download_file(self, repo_id: str, path: str, **kw: Any) -> Path | None:
        raise AssertionError("not used")


def test_poll_backoff_schedule_and_timeout_with_a_fake_clock() -> None:
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    fake = FakeJobsHub(runs_for=7)
    jobs = JobsRunner(fake, TOKEN, JobsSettings(RESULTS, namespace="evalbot"), sleep=sleep, clock=lambda: now[0])
    jobs.wait("j1", timeout_s=3600)
    assert sleeps == [2, 4, 8, 16, 30, 30, 30]
    sleeps.clear()
    fake = FakeJobsHub(runs_for=1000)
    jobs = JobsRunner(fake, TOKEN, JobsSettings(RESULTS, namespace="evalbot"), sleep=sleep, clock=lambda: now[0])
    with pytest.raises(EvaluationError) as err:
        jobs.wait("j2", timeout_s=100)
    assert sleeps == [2, 4, 8, 16, 30, 30, 10] and fake.cancelled == ["j2"]
    assert str(err.value) == "job j2 timed out after 100 s; cancelled; last log lines:\nline 1\nline 2"


# -- flavors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "flavor"),
    [
        (None, "a100-large"),
        (0, "t4-small"),
        (135_000_000, "t4-small"),
        (3_000_000_000, "t4-small"),
        (3_000_000_001, "a10g-small"),
        (8_030_000_000, "a10g-small"),
        (14_000_000_000, "l40sx1"),
        (32_000_000_000, "a100-large"),
        (35_000_000_000, "a100-large"),
        (47_000_000_000, "h200"),
        (70_000_000_000, "h200x2"),
        (235_000_000_000, "h200x4"),
        (671_000_000_000, "h200x8"),
        (10**13, "h200x8"),
    ],
)
def test_flavor_for(params: int | None, flavor: str) -> None:
    assert flavor_for(params) == flavor


def test_flavor_table_is_valid_and_checked(tmp_path: Path) -> None:
    table = load_flavors(FLAVORS_FILE)
    known = {h.value for h in JobHardware}
    assert table.default in known and all(f in known for _, f in table.rows) and table.rows[-1][0] is None
    with pytest.raises(InputError):
        flavor_for(-1)
    bad = {
        "unknown.yaml": "default: a100-large\nflavors:\n  - {max_params: 1.0e+9, flavor: h100x8}\n",
        "order.yaml": "default: a100-large\nflavors:\n  - {max_params: 2.0e+9, flavor: t4-small}\n"
        "  - {max_params: 1.0e+9, flavor: t4-small}\n",
        "null.yaml": "default: a100-large\nflavors:\n  - {max_params: null, flavor: t4-small}\n"
        "  - {max_params: 1.0e+9, flavor: t4-small}\n",
        "shape.yaml": "flavors: []\n",
    }
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError):
            load_flavors(tmp_path / name)
    (tmp_path / "typo.yaml").write_text(
        "default: t4-small\ndtype: {t4-small: float16}\nflavors: [{max_params: null, flavor: t4-small}]\n"
    )
    with pytest.raises(ConfigError, match="unknown key"):
        load_flavors(tmp_path / "typo.yaml")
    (tmp_path / "open.yaml").write_text("default: t4-small\nflavors:\n  - {max_params: 1000, flavor: t4-small}\n")
    assert flavor_for(1000, tmp_path / "open.yaml") == "t4-small"
    with pytest.raises(ConfigError, match="max_params: null"):
        flavor_for(1001, tmp_path / "open.yaml")


@pytest.mark.parametrize(
    ("flavor", "dtype", "gpus"),
    [
        ("t4-small", "float16", 1),
        ("a10g-small", None, 1),
        ("l40sx1", None, 1),
        ("h200x2", None, 2),
        ("h200x8", None, 8),
    ],
)
def test_flavor_choice_dtype_and_gpus(flavor: str, dtype: str | None, gpus: int) -> None:
    assert flavor_choice(flavor) == FlavorChoice(flavor, dtype, gpus)


def test_settings_for_flavor_fp16_on_t4_and_tensor_parallel_on_multi_gpu() -> None:
    vllm = EvalSettings(backend="vllm")
    assert settings_for_flavor(vllm, flavor_choice("t4-small")).dtype == "float16"
    assert settings_for_flavor(replace(vllm, dtype="float32"), flavor_choice("t4-small")).dtype == "float32"
    assert settings_for_flavor(vllm, flavor_choice("h200x4")).tensor_parallel_size == 4
    assert settings_for_flavor(vllm, flavor_choice("h200")) == vllm
    with pytest.raises(InputError, match="needs as many GPUs"):
        settings_for_flavor(replace(vllm, tensor_parallel_size=4), flavor_choice("h200x2"))


def test_lost_run_job_answer_is_recovered_by_label(sim: HubSim, script: Path) -> None:
    """The job starts but the answer is lost (the connection drops after the start): found by its label."""
    sim.inject("run_job", "drop_after", times=1)
    jobs = runner(sim, script)
    job_id = jobs.dispatch(REQUEST)
    assert sim.jobs.job_ids == [job_id]  # adopted, not started twice
    assert sim.jobs.info(job_id)["labels"][KEY_LABEL] == REQUEST.identity
    assert sim.jobs.wait(job_id) == "COMPLETED"
    assert jobs.collect(REQUEST).sha == SHA


def test_lost_run_job_answer_without_a_job_stays_ambiguous(sim: HubSim, script: Path) -> None:
    sim.inject("run_job", 502, times=1)  # refused: nothing started
    with pytest.raises(AmbiguousWriteError, match=f"no job labelled {KEY_LABEL}"):
        runner(sim, script).dispatch(REQUEST)
    assert sim.jobs.job_ids == []


def test_the_eval_service_runner_picks_flavor_and_effective_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """A provider run loads no model: cpu-basic. A small model's job runs fp16 on a T4; a big one shards."""
    from bot.app.remote_jobs import HubJobsRemote, _provider_secrets
    from bot.config.settings import Settings
    from bot.edges.hub import HubClient

    settings = Settings(results_repo=RESULTS)
    remote = HubJobsRemote(HubClient(settings), settings)
    provider = EvalSettings(engine="inspect", provider="local", base_url="http://127.0.0.1:9/v1")
    assert remote.choice(MODEL, provider).flavor == "cpu-basic"
    assert remote.prepare(MODEL, provider) == (provider, f"inspect in {EVALBOT_GPU_IMAGE} on cpu-basic")
    remote._sizes[MODEL] = 1_500_000_000
    effective, engine = remote.prepare(MODEL, EvalSettings(backend="vllm"))
    assert (effective.dtype, engine) == ("float16", f"lighteval in {EVALBOT_GPU_IMAGE} on t4-small")
    remote._sizes[MODEL] = 100_000_000_000
    assert remote.prepare(MODEL, EvalSettings(backend="vllm"))[0].tensor_parallel_size == 2  # h200x2
    monkeypatch.setenv("LOCAL_API_KEY", "endpoint-key")
    assert _provider_secrets(provider) == {"LOCAL_API_KEY": "endpoint-key"}  # a job secret, like HF_TOKEN
    assert _provider_secrets(EvalSettings(engine="inspect", provider="together")) == {}  # HF_TOKEN is enough
