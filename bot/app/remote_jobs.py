"""The Hugging Face Jobs runner: evaluate on a Hub GPU job, then collect its Run (DESIGN §7).

    runner = JobsRunner(hub, token, JobsSettings(results_repo="evalbot/eval-runs"))
    run = runner.run_remote(RemoteEval("org/model", sha, ("mmlu|5",), EvalSettings(), key, parameter_count=7e9))

`dispatch` starts a job whose command (by default `evalbot evaluate ... --settings-json S
--runner local --results-repo R --results-path P --dry-run`) evaluates the model with exactly the
`EvalSettings` S and uploads `Run.to_json()` to the results DATASET repo at P; the job never
writes to the model repo (the bot publishes after collecting). Local task files (lighteval
`--custom-tasks`, inspect `file.py@task`) are uploaded to the results dataset first, under a
content-addressed path, and the job downloads them into its own working directory
(`--task-file`): nothing reaches the job through the local filesystem. `wait` polls the job
with backoff until it ends; `collect` downloads the Run JSON. Each job carries the label
`evalbot-key=<evaluation key>`; when the answer to `run_job` is lost, the runner lists the jobs
with that label and adopts the one that started instead of failing or starting a second one.

The flavor comes from the model's size (`flavors.yaml`), and with it the settings the job really
runs with (`prepare`): a row's `dtype` (T4: float16, it has no bfloat16) when none is set, and a
multi-GPU flavor's GPU count as the tensor parallel size. A provider run loads no model and runs
on `cpu-basic`.

The token reaches the job only as the job SECRET `HF_TOKEN`: never in the command, the job's
environment, a log record or an exception message (any text this module logs or raises is
scrubbed of it as well, in case a job prints it).

`hub` is any object with the Hub calls of `JobsHub`: `bot.edges.hub.HubClient` is one (`whoami`,
only when `JobsSettings.namespace` is None, `run_job`, `inspect_job`, `list_jobs`, `job_logs`,
`cancel_job`, `download_file`). The Hub edge retries them (backoff honouring `Retry-After`;
`run_job` is not idempotent and is retried only on 429) and turns what remains into `HubError`s;
this module only orchestrates. A job that fails, is cancelled or times out is an
`EvaluationError` carrying the last lines of its log.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shlex
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import yaml
from huggingface_hub import JobHardware

from bot.config.settings import Secret, Settings
from bot.edges.hub import HubClient
from bot.errors import AmbiguousWriteError, AuthError, ConfigError, HubError, InputError
from evaluators import EvalSettings, EvaluationError, Run, TaskSpec

__all__ = [
    "EVALBOT_GPU_IMAGE",
    "FLAVORS_FILE",
    "PROVIDER_FLAVOR",
    "CommandBuilder",
    "FlavorChoice",
    "HubJobsRemote",
    "IdentityLike",
    "JobInfoLike",
    "JobStatusLike",
    "JobsHub",
    "JobsRunner",
    "JobsSettings",
    "PollPolicy",
    "RemoteEval",
    "evalbot_command",
    "flavor_for",
    "load_flavors",
]

logger = logging.getLogger(__name__)

EVALBOT_GPU_IMAGE = "ghcr.io/evalbot/evalbot-gpu:latest"
"""The default job image: evalbot with the `eval` and `gpu` extras (lighteval, inspect-ai, inspect-evals,
vLLM), built and pushed by `.github/workflows/gpu-image.yml` on release tags."""
PROVIDER_FLAVOR = "cpu-basic"  # a provider run only sends requests
KEY_LABEL = "evalbot-key"

FLAVORS_FILE = Path(__file__).with_name("flavors.yaml")
TERMINAL_FAILURES = frozenset({"ERROR", "CANCELED", "DELETED"})
_KNOWN_FLAVORS = frozenset(h.value for h in JobHardware)


# -- the Hub calls used (a structural slice of bot.edges.hub.HubClient) --------------------------


class JobStatusLike(Protocol):
    @property
    def stage(self) -> str: ...

    @property
    def message(self) -> str | None: ...


class JobInfoLike(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def status(self) -> JobStatusLike: ...


class IdentityLike(Protocol):
    @property
    def name(self) -> str: ...


class JobsHub(Protocol):
    """The Hub calls the runner makes, retried and translated into `HubError`s by their owner
    (`bot.edges.hub.HubClient` is one)."""

    @property
    def endpoint(self) -> str: ...  # the Hub's base URL (links to the results files)

    def whoami(self) -> IdentityLike: ...

    def run_job(
        self,
        *,
        image: str,
        command: list[str],
        env: dict[str, Any],
        secrets: dict[str, Any],
        flavor: str,
        timeout: int,
        labels: dict[str, str],
        namespace: str,
    ) -> JobInfoLike: ...

    def inspect_job(self, job_id: str, *, namespace: str) -> JobInfoLike: ...

    def list_jobs(self, *, labels: dict[str, str], namespace: str) -> Sequence[JobInfoLike]: ...

    def cancel_job(self, job_id: str, *, namespace: str) -> None: ...

    def job_logs(self, job_id: str, *, namespace: str, tail: int) -> list[str]: ...

    def download_file(
        self, repo_id: str, path: str, *, repo_type: str = ..., revision: str = ..., cache_dir: Path | None = ...
    ) -> Path | None: ...


# -- what to run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteEval:
    """One remote evaluation: a model at a commit, tasks in the engine's spelling, the whole settings.

    `key` is the evaluation's identity (the cache key): it names the results file and labels the
    job. `task_files` are (path in the results dataset, file name) pairs the job downloads into
    its working directory; `settings.custom_tasks` and file tasks refer to them by file name.
    """

    repo_id: str
    revision: str  # the commit sha to evaluate (the collected Run must carry the same sha)
    tasks: tuple[str, ...]
    settings: EvalSettings = field(default_factory=lambda: EvalSettings(backend="vllm"))
    key: str = ""
    task_files: tuple[tuple[str, str], ...] = ()
    parameter_count: int | None = None  # picks the flavor (`flavor_for`); None: the table's default

    def __post_init__(self) -> None:
        if self.repo_id.count("/") != 1 or not all(self.repo_id.split("/")):
            raise InputError(f"repo id must be 'namespace/name', got {self.repo_id!r}")
        if not self.revision.strip():
            raise InputError("a remote evaluation needs the model's revision (a commit sha)")
        if isinstance(self.tasks, str) or not self.tasks:
            raise InputError("a remote evaluation needs a tuple of at least one task")
        for task in self.tasks:
            if not task.strip() or "," in task:
                raise InputError(f"task {task!r} cannot be passed to --tasks (empty, or contains a comma)")

    @property
    def identity(self) -> str:
        """The key, or (when none was given) a digest of everything the job is asked."""
        if self.key:
            return self.key
        text = json.dumps([self.repo_id, self.revision, list(self.tasks), self.settings.to_json()], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    @property
    def results_path(self) -> str:
        """Where the job uploads its Run JSON in the results dataset: one file per evaluation identity."""
        return f"runs/{self.repo_id}/{self.revision}/{self.settings.engine}-{self.identity[:24]}.json"


CommandBuilder = Callable[[RemoteEval, str, str], list[str]]
"""(request, results_repo, results_path) → the job's command; it must not contain the token."""


def evalbot_command(request: RemoteEval, results_repo: str, results_path: str) -> list[str]:
    """The default job command: evaluate locally in the job with the whole settings, upload the Run JSON."""
    command = [
        "evalbot", "evaluate",
        "--repo-id", request.repo_id,
        "--revision", request.revision,
        "--tasks", ",".join(request.tasks),
        "--settings-json", json.dumps(request.settings.to_json(), sort_keys=True, separators=(",", ":")),
        "--runner", "local",
    ]  # fmt: skip
    for path, _name in request.task_files:
        command += ["--task-file", path]
    return [*command, "--results-repo", results_repo, "--results-path", results_path, "--dry-run"]


@dataclass(frozen=True)
class PollPolicy:
    """How `wait` polls: `initial_s`, multiplied by `factor` after each poll, at most `max_s`."""

    initial_s: float = 2.0
    max_s: float = 30.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s < self.initial_s or self.factor < 1:
            raise ConfigError(f"invalid poll policy {self}: need 0 < initial_s <= max_s and factor >= 1")


@dataclass(frozen=True)
class JobsSettings:
    """Where and how jobs run. `results_repo` is a DATASET repo the token can write to."""

    results_repo: str
    image: str = EVALBOT_GPU_IMAGE
    namespace: str | None = None  # None: the token's user (one whoami call, cached)
    timeout_s: float = 3 * 3600.0  # the job's own timeout and `wait`'s default deadline
    env: Mapping[str, str] = field(default_factory=dict)  # extra, NON-secret environment for the job
    labels: Mapping[str, str] = field(default_factory=lambda: {"app": "evalbot"})
    flavors_file: Path = FLAVORS_FILE
    log_tail_lines: int = 40  # log lines put into an EvaluationError
    log_tail_chars: int = 4000
    cache_dir: Path | None = None  # for downloading Run JSON files; None: the HF cache

    def __post_init__(self) -> None:
        if self.results_repo.count("/") != 1 or not all(self.results_repo.split("/")):
            raise ConfigError(f"results_repo must be a dataset repo id 'namespace/name', got {self.results_repo!r}")
        if self.timeout_s <= 0:
            raise ConfigError(f"timeout_s must be positive, got {self.timeout_s}")
        secretish = sorted(k for k in self.env if "TOKEN" in k.upper() or "KEY" in k.upper())
        if secretish:
            raise ConfigError(f"pass {', '.join(secretish)} as job secrets, not in the job's environment")


# -- flavors ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlavorChoice:
    """A flavor, and what it implies for the engine: the dtype it needs (None: any) and its GPU count."""

    flavor: str
    dtype: str | None
    gpus: int


@dataclass(frozen=True)
class FlavorTable:
    default: str
    rows: tuple[tuple[float | None, str], ...]  # (max_params or None for any size, flavor), in order
    dtypes: Mapping[str, str] = field(default_factory=dict)  # flavor → the dtype it needs (T4: float16)

    def choice(self, flavor: str) -> FlavorChoice:
        match = re.search(r"x(\d+)$", flavor)
        return FlavorChoice(flavor, self.dtypes.get(flavor), int(match[1]) if match else 1)

    def flavor_for(self, parameter_count: int | None) -> str:
        if parameter_count is None:
            return self.default
        if parameter_count < 0:
            raise InputError(f"parameter count must be >= 0, got {parameter_count}")
        for max_params, flavor in self.rows:
            if max_params is None or parameter_count <= max_params:
                return flavor
        raise ConfigError(f"no flavor for {parameter_count:,} parameters: end the table with `max_params: null`")


@cache
def load_flavors(path: Path = FLAVORS_FILE) -> FlavorTable:
    """Read a flavors table (see bot/app/flavors.yaml); `ConfigError` says what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read the flavors table {path}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), list) or not data["flavors"]:
        raise ConfigError(f"{path}: expected `default: <flavor>` and a non-empty `flavors:` list")
    default = _flavor(data.get("default"), path, "default")
    dtypes = data.get("dtypes") or {}
    if not isinstance(dtypes, dict) or not all(isinstance(v, str) and v for v in dtypes.values()):
        raise ConfigError(f"{path}: dtypes must map flavors to dtype names, e.g. {{t4-small: float16}}")
    for name in dtypes:
        _flavor(name, path, "dtypes")
    rows: list[tuple[float | None, str]] = []
    for n, row in enumerate(data["flavors"], start=1):
        if not isinstance(row, dict) or set(row) != {"max_params", "flavor"}:
            raise ConfigError(f"{path}: row {n} must be {{max_params: <number or null>, flavor: <name>}}")
        limit = row["max_params"]
        try:
            max_params = None if limit is None else float(limit)
        except (TypeError, ValueError):
            raise ConfigError(f"{path}: row {n}: max_params {limit!r} is not a number") from None
        if max_params is not None and (not math.isfinite(max_params) or max_params <= 0):
            raise ConfigError(f"{path}: row {n}: max_params must be positive")
        previous = rows[-1][0] if rows else 0.0
        if previous is None or (max_params is not None and max_params <= previous):
            raise ConfigError(f"{path}: row {n}: rows must grow in max_params, with `null` only last")
        rows.append((max_params, _flavor(row["flavor"], path, f"row {n}")))
    unknown = sorted(set(data) - {"default", "flavors", "dtypes"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(map(str, unknown))}; known: default, flavors, dtypes")
    return FlavorTable(default, tuple(rows), dict(dtypes))


def flavor_choice(flavor: str, flavors_file: Path = FLAVORS_FILE) -> FlavorChoice:
    """What a flavor implies for the engine (dtype, GPU count), from the table's `dtypes`."""
    return load_flavors(flavors_file).choice(flavor)


def settings_for_flavor(settings: EvalSettings, choice: FlavorChoice) -> EvalSettings:
    """The settings a job on `choice` really runs with: the flavor's dtype when none is set, and
    its GPU count as the tensor parallel size when that is left at 1 (vLLM only)."""
    changes: dict[str, Any] = {}
    if settings.provider is not None:
        return settings
    if settings.dtype is None and choice.dtype is not None:
        changes["dtype"] = choice.dtype
    if settings.backend == "vllm" and settings.tensor_parallel_size == 1 and choice.gpus > 1:
        changes["tensor_parallel_size"] = choice.gpus
    if settings.tensor_parallel_size > choice.gpus and choice.gpus >= 1 and choice.flavor != PROVIDER_FLAVOR:
        wanted = settings.tensor_parallel_size
        raise InputError(f"tensor parallel size {wanted} needs as many GPUs; {choice.flavor} has {choice.gpus}")
    return replace(settings, **changes) if changes else settings


def flavor_for(parameter_count: int | None, flavors_file: Path = FLAVORS_FILE) -> str:
    """The HF Jobs flavor for a model of `parameter_count` parameters (None: the table's default)."""
    return load_flavors(flavors_file).flavor_for(parameter_count)


def _flavor(value: object, path: Path, where: str) -> str:
    if not isinstance(value, str) or value not in _KNOWN_FLAVORS:
        known = ", ".join(sorted(_KNOWN_FLAVORS))
        raise ConfigError(f"{path}: {where}: unknown flavor {value!r}; known: {known}")
    return value


# -- the runner ------------------------------------------------------------------------------------


class JobsRunner:
    """Dispatch evaluations to HF Jobs, wait for them, and collect their Runs."""

    def __init__(
        self,
        hub: JobsHub,
        token: str | Secret,
        settings: JobsSettings,
        *,
        command_builder: CommandBuilder = evalbot_command,
        poll: PollPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hub = hub
        self._token = token.reveal() if isinstance(token, Secret) else token
        if not self._token:
            raise AuthError("HF Jobs need a token: set HF_TOKEN (it reaches the job as a secret)")
        self.settings = settings
        self._command_builder = command_builder
        self._poll = poll or PollPolicy()
        self._sleep = sleep
        self._clock = clock
        self._namespace = settings.namespace
        load_flavors(settings.flavors_file)  # a broken table fails now, not at the first dispatch

    def __repr__(self) -> str:  # never show the token
        return f"JobsRunner(namespace={self._namespace!r}, results_repo={self.settings.results_repo!r}, token='***')"

    @property
    def namespace(self) -> str:
        """The namespace jobs run in: the settings', or the token's user (one whoami, cached)."""
        if self._namespace is None:
            self._namespace = self._hub.whoami().name
        return self._namespace

    def flavor_for(self, parameter_count: int | None) -> str:
        """The flavor for a model of this size, from `settings.flavors_file`."""
        return flavor_for(parameter_count, self.settings.flavors_file)

    def command_for(self, request: RemoteEval) -> list[str]:
        """The job's command for `request` (from the command builder); refuses one holding the token."""
        command = list(self._command_builder(request, self.settings.results_repo, request.results_path))
        if not command or any(self._token in part for part in command):
            raise ConfigError("the job command is empty or contains the token; the token may only be a job secret")
        return command

    def dispatch(
        self,
        request: RemoteEval,
        *,
        flavor: str | None = None,
        timeout_s: float | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> str:
        """Start the job for `request`; returns its id. `flavor` None: by `request.parameter_count`.

        `secrets`: more job secrets besides HF_TOKEN (a provider endpoint's key). The job is labelled
        with the request's identity; if the Hub's answer to the start is lost, the jobs with that
        label are listed and a job found there is adopted (never a second start of the same job).
        """
        command = self.command_for(request)
        chosen = flavor or self.flavor_for(request.parameter_count)
        timeout = self.settings.timeout_s if timeout_s is None else timeout_s
        if timeout <= 0:
            raise InputError(f"timeout_s must be positive, got {timeout}")
        namespace = self.namespace
        labels = {**self.settings.labels, KEY_LABEL: request.identity[:32]}
        job_secrets = {**(secrets or {}), "HF_TOKEN": self._token}
        try:
            info = self._hub.run_job(  # not idempotent: retried on 429 only, a lost answer is ambiguous
                image=self.settings.image,
                command=command,
                env=dict(self.settings.env),
                secrets=job_secrets,
                flavor=chosen,
                timeout=math.ceil(timeout),
                labels=labels,
                namespace=namespace,
            )
        except AmbiguousWriteError as e:
            found = self._started_with(labels, namespace)
            if found is None:
                raise AmbiguousWriteError(f"{e}; no job labelled {KEY_LABEL}={labels[KEY_LABEL]} was found") from e
            self._info("job %s: the start's answer was lost, found it by its label", found)
            return found
        image = self.settings.image
        self._info("job %s started in %s on %s (%s): %s", info.id, namespace, chosen, image, shlex.join(command))
        return info.id

    def _started_with(self, labels: Mapping[str, str], namespace: str) -> str | None:
        """The newest job with exactly these labels that has not failed, or None."""
        jobs = self._hub.list_jobs(labels={KEY_LABEL: labels[KEY_LABEL]}, namespace=namespace)
        alive = [job for job in jobs if _stage(job) not in TERMINAL_FAILURES]
        return alive[-1].id if alive else None

    def wait(self, job_id: str, timeout_s: float | None = None, *, poll: PollPolicy | None = None) -> JobInfoLike:
        """Poll until the job completes; returns its final info.

        ERROR, CANCELED or DELETED → `EvaluationError` with the job's last log lines. Past
        `timeout_s` (default `settings.timeout_s`) the job is cancelled and `EvaluationError`
        ("job <id> timed out after N s; cancelled") is raised.
        """
        policy = poll or self._poll
        timeout = self.settings.timeout_s if timeout_s is None else timeout_s
        deadline = self._clock() + timeout
        interval = policy.initial_s
        seen: str | None = None
        while True:
            info = self._hub.inspect_job(job_id, namespace=self.namespace)
            stage = _stage(info)
            message = info.status.message
            if stage != seen:
                self._info("job %s: %s%s", job_id, stage, f" ({message})" if message else "")
                seen = stage
            if stage == "COMPLETED":
                return info
            if stage in TERMINAL_FAILURES:
                why = f": {message}" if message else ""
                raise EvaluationError(self._scrub(f"job {job_id} ended {stage}{why}{self._log_tail(job_id)}"))
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise EvaluationError(self._scrub(self._time_out(job_id, timeout)))
            self._sleep(min(interval, remaining))
            interval = min(interval * policy.factor, policy.max_s)

    def collect(self, request: RemoteEval) -> Run:
        """Download the job's Run JSON from the results dataset and read it."""
        repo, path = self.settings.results_repo, request.results_path
        local = self._hub.download_file(
            repo, path, repo_type="dataset", revision="main", cache_dir=self.settings.cache_dir
        )
        if local is None:
            raise EvaluationError(
                f"the job for {request.repo_id} finished but the dataset {repo} has no {path}: "
                "the job did not upload its results (see its logs)"
            )
        try:
            data = json.loads(local.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise EvaluationError(f"{repo}/{path} is not a readable Run JSON file ({type(e).__name__}: {e})") from e
        if not isinstance(data, dict):
            raise EvaluationError(f"{repo}/{path} is not a Run JSON object")
        run = Run.from_json(data)
        if run.repo_id != request.repo_id or (_is_sha(request.revision) and run.sha != request.revision):
            raise EvaluationError(
                f"{repo}/{path} holds a run of {run.repo_id}@{run.sha[:12]}, "
                f"not of {request.repo_id}@{request.revision[:12]}"
            )
        # the results file is the scores' source: an .eval_results entry links to it
        url = f"{self._hub.endpoint}/datasets/{repo}/blob/main/{path}"
        return replace(run, scores=tuple(replace(s, source=replace(s.source, url=url)) for s in run.scores))

    def run_remote(
        self,
        request: RemoteEval,
        *,
        flavor: str | None = None,
        timeout_s: float | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> Run:
        """dispatch + wait + collect; `timeout_s` is both the job's timeout and the wait's deadline."""
        job_id = self.dispatch(request, flavor=flavor, timeout_s=timeout_s, secrets=secrets)
        self.wait(job_id, timeout_s)
        return self.collect(request)

    # ---- helpers ------------------------------------------------------------------------------

    def _time_out(self, job_id: str, timeout: float) -> str:
        try:
            self._hub.cancel_job(job_id, namespace=self.namespace)
        except HubError as e:
            self._info("job %s: cancelling failed: %s", job_id, e, level=logging.WARNING)
            return (
                f"job {job_id} timed out after {timeout:g} s; cancelling it failed ({e}): "
                f"cancel it by hand (hf jobs cancel {job_id})"
            )
        self._info("job %s: timed out after %g s; cancelled", job_id, timeout, level=logging.WARNING)
        return f"job {job_id} timed out after {timeout:g} s; cancelled{self._log_tail(job_id)}"

    def _log_tail(self, job_id: str) -> str:
        """'; last log lines:' and the job's last lines (capped), or a note when they cannot be read."""
        lines_wanted = self.settings.log_tail_lines
        try:
            lines = self._hub.job_logs(job_id, namespace=self.namespace, tail=lines_wanted)
        except HubError as e:
            return f"; its logs could not be read ({e})"
        lines = lines[-lines_wanted:]
        if not lines:
            return "; the job logged nothing"
        text = "\n".join(line.rstrip() for line in lines)
        cap = self.settings.log_tail_chars
        if len(text) > cap:
            text = "…" + text[-cap:]
        return f"; last log lines:\n{text}"

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "***")

    def _info(self, message: str, *args: object, level: int = logging.INFO) -> None:
        if logger.isEnabledFor(level):
            logger.log(level, "%s", self._scrub(message % args))


def _stage(info: JobInfoLike) -> str:
    stage = info.status.stage
    return str(getattr(stage, "value", stage))  # JobStage is a str Enum; the client passes the raw string


def _is_sha(revision: str) -> bool:
    return len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)


# -- the EvalService's hf-jobs runner ----------------------------------------------------------------


class HubJobsRemote:
    """The hf-jobs runner of `EvalService`: flavor → effective settings, task files → the results
    dataset, then dispatch, wait, collect (see the module docstring)."""

    def __init__(
        self, hub: HubClient, settings: Settings, *, flavor: str | None = None, timeout_s: float | None = None
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.flavor = flavor
        self.timeout_s = timeout_s
        self._sizes: dict[str, int | None] = {}

    @property
    def image(self) -> str:
        return self.settings.gpu_image or EVALBOT_GPU_IMAGE

    def _jobs_settings(self) -> JobsSettings:
        if not self.settings.results_repo:
            raise ConfigError("the hf-jobs runner needs EVALBOT_RESULTS_REPO: a dataset repo the token can write to")
        kwargs: dict[str, Any] = {}
        if self.timeout_s is not None:
            kwargs["timeout_s"] = self.timeout_s
        return JobsSettings(
            results_repo=self.settings.results_repo, image=self.image, namespace=self.settings.jobs_namespace, **kwargs
        )

    def choice(self, repo_id: str, settings: EvalSettings) -> FlavorChoice:
        """The flavor a job for `repo_id` runs on: --flavor, else cpu-basic for a provider, else by size."""
        if self.flavor:
            return flavor_choice(self.flavor)
        if settings.provider is not None:
            return FlavorChoice(PROVIDER_FLAVOR, None, 0)
        if repo_id not in self._sizes:
            self._sizes[repo_id] = self.hub.parameter_count(repo_id)
        table = load_flavors(FLAVORS_FILE)
        return table.choice(table.flavor_for(self._sizes[repo_id]))

    def prepare(self, repo_id: str, settings: EvalSettings) -> tuple[EvalSettings, str]:
        choice = self.choice(repo_id, settings)
        return settings_for_flavor(settings, choice), f"{settings.engine} in {self.image} on {choice.flavor}"

    def __call__(self, repo_id: str, sha: str, tasks: Sequence[TaskSpec], settings: EvalSettings, key: str) -> Run:
        if self.settings.hf_token is None:
            raise ConfigError("the hf-jobs runner needs HF_TOKEN (passed to the job as a secret)")
        jobs = self._jobs_settings()
        runner = JobsRunner(self.hub, self.settings.hf_token, jobs)
        files = self._upload_task_files(jobs.results_repo, tasks, settings)
        remote_settings = settings
        if settings.custom_tasks is not None:  # the job finds it in its working directory, by name
            remote_settings = replace(settings, custom_tasks=Path(settings.custom_tasks.name))
        request = RemoteEval(
            repo_id=repo_id,
            revision=sha,
            tasks=tuple(t.spelling for t in tasks),  # file tasks by file name
            settings=remote_settings,
            key=key,
            task_files=files,
        )
        choice = self.choice(repo_id, settings)
        run = runner.run_remote(
            request, flavor=choice.flavor, timeout_s=self.timeout_s, secrets=_provider_secrets(settings)
        )
        if tuple(t.spelling for t in run.tasks) != tuple(t.spelling for t in tasks):
            raise EvaluationError(
                f"the job for {repo_id} evaluated {', '.join(t.spelling for t in run.tasks)}, "
                f"not {', '.join(t.spelling for t in tasks)}"
            )
        # The job knew its task files by their place in its own folder; here they are ours again.
        return replace(run, tasks=tuple(tasks), settings=settings)

    def _upload_task_files(
        self, results_repo: str, tasks: Sequence[TaskSpec], settings: EvalSettings
    ) -> tuple[tuple[str, str], ...]:
        local = [Path(t.file) for t in tasks if t.file is not None]
        if settings.custom_tasks is not None:
            local.append(settings.custom_tasks)
        by_name: dict[str, Path] = {}
        for path in local:
            other = by_name.setdefault(path.name, path)
            if other.resolve() != path.resolve():
                raise InputError(f"two task files are both named {path.name} ({other}, {path}); rename one")
        uploaded = []
        for name, path in sorted(by_name.items()):
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()[:16]
            in_repo = f"task-files/{digest}/{name}"
            self.hub.upload_file(results_repo, in_repo, content, repo_type="dataset")
            uploaded.append((in_repo, name))
        return tuple(uploaded)


def _provider_secrets(settings: EvalSettings) -> dict[str, str]:
    """A provider endpoint's key (`<PROVIDER>_API_KEY`), passed to the job as a secret when set here."""
    if settings.provider is None or settings.base_url is None:
        return {}
    name = f"{settings.provider.upper().replace('-', '_')}_API_KEY"  # inspect's spelling of the variable
    value = os.environ.get(name)
    return {name: value} if value else {}
