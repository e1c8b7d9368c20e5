"""Hugging Face Jobs in the Hub stand-in: a job runs its command as a LOCAL subprocess.

The routes are the ones huggingface_hub 2.4.0 calls (reference/hub-protocol.md §4, `hf_api.py`
`run_job`/`list_jobs`/`inspect_job`/`fetch_job_logs`/`cancel_job`); the names are fault routes:

    POST /api/jobs/{ns}                 run_job      job spec (`_create_job_spec`) → job info
    GET  /api/jobs/{ns}                 list_jobs    `?stage=S&label=k=v` (first of each), one page
    GET  /api/jobs/{ns}/{id}            inspect_job  job info; 404 → the client's JobNotFoundError
    GET  /api/jobs/{ns}/{id}/logs       job_logs     SSE: `data: {"data": line, "timestamp": iso}` per line,
                                                     `?tail=N`; answers what is logged so far, then ends
    POST /api/jobs/{ns}/{id}/cancel     cancel_job   kills the process; stage CANCELED

`ns` must be the token's user (or the caller must be a sim admin): 403 otherwise, 401 without a
valid token. A job is SCHEDULING until its thread starts the process, then RUNNING, then
COMPLETED (exit 0), ERROR (non-zero exit, message `Job failed with exit code: N`, or the spec's
`timeoutSeconds` passed: `Job timed out after N seconds`) or CANCELED. Its logs are the process's
stdout and stderr lines, after a `===== Job started at ... =====` line (which the client skips).

The process: `command` (+ `arguments`) with `evalbot ...` run as `<python> -m bot.cli ...` and
`python ...`/`python3 ...` as `<python> ...` (`python` is the sim's `jobs_python`, by default the
interpreter running the sim, so the local checkout's code runs); any other program as is. Its
environment is clean like a container's (only PATH, locale, VIRTUAL_ENV and PYTHONPATH are kept
from the sim's), plus `HOME`, `TMPDIR` and `HF_HOME` in the job's own scratch directory (also its
working directory: a job shares no files with the caller, no evalbot result cache, no Hub cache),
`PYTHONUNBUFFERED=1`, the spec's `environment`, the spec's `secrets`, and `HF_ENDPOINT=<sim url>`
last, so the job talks to this same stand-in. The docker image, flavor,
labels and other spec fields are recorded and shown, but do not change how the command runs.

Secrets: their values go into the process environment and nowhere else. Job info shows their
NAMES only, each mapped to null (what the real Hub shows is unverified); the sim never writes a
secret into the logs. What the job itself prints is logged as printed (no masking: a job that
prints its token leaks it, as it would on the Hub).

Times (`createdAt`, `startedAt`, `finishedAt`, log timestamps) are the real UTC clock, not the
repos' fake clock: the client's non-follow log replay stops at events later than the answer's
`Date` header. Stopping the sim cancels unfinished jobs and removes their scratch directories.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from bot.sim._hub_files import HubFailure

TERMINAL_STAGES = frozenset({"COMPLETED", "CANCELED", "ERROR", "DELETED"})
KEPT_ENVIRONMENT = (
    "PATH",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "SYSTEMROOT",
    "VIRTUAL_ENV",
    "PYTHONPATH",
)
KILL_GRACE_S = 2.0  # SIGTERM, then SIGKILL this much later


class JobRequest(Protocol):
    """What a jobs route reads from the HTTP request (`bot.sim._hub_http._Request`)."""

    query: dict[str, str]
    base_url: str

    def json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class JobCaller:
    """The token's user: name (= the default namespace), whoami id, sim admin or not."""

    name: str
    id: str
    admin: bool = False


@dataclass(frozen=True)
class JobAnswer:
    status: int
    body: bytes
    content_type: str = "application/json"


JobHandler = Callable[[JobCaller, JobRequest], JobAnswer]


@dataclass
class SimJob:
    """One job; `to_json` is what inspect/list answer (secret names only)."""

    id: str
    namespace: str
    owner_id: str
    spec: dict[str, Any]  # the posted spec, `secrets` removed
    secret_names: tuple[str, ...]
    created_at: str
    stage: str = "SCHEDULING"
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    logs: list[tuple[str, str]] = field(default_factory=list)  # (timestamp, line)
    process: subprocess.Popen[str] | None = None
    thread: threading.Thread | None = None

    def to_json(self) -> dict[str, Any]:
        spec = self.spec
        info: dict[str, Any] = {
            "id": self.id,
            "createdAt": self.created_at,
            "command": list(spec.get("command") or []),
            "arguments": list(spec.get("arguments") or []),
            "environment": dict(spec.get("environment") or {}),
            "secrets": dict.fromkeys(self.secret_names),
            "flavor": spec.get("flavor") or "cpu-basic",
            "status": {"stage": self.stage, "message": self.message},
            "owner": {"id": self.owner_id, "name": self.namespace, "type": "user"},
            "initiator": {"type": "user", "id": self.owner_id, "name": self.namespace},
        }
        for key in ("dockerImage", "spaceId", "labels", "timeoutSeconds", "volumes"):
            if spec.get(key) is not None:
                info[key] = spec[key]
        if self.started_at is not None:
            info["startedAt"] = self.started_at
        if self.finished_at is not None:
            info["finishedAt"] = self.finished_at
        return info


class JobsSim:
    """The jobs of every namespace, behind one lock; processes are started in daemon threads."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python
        self._lock = threading.RLock()
        self._jobs: dict[str, SimJob] = {}
        self._serial = itertools.count(1)
        self._root: Path | None = None

    # -- routing -----------------------------------------------------------------------------

    def route(self, method: str, rest: list[str]) -> tuple[str, JobHandler | None]:
        """The fault route name and handler for `/api/jobs/<rest...>`; (name, None) → 404."""
        get, post = method == "GET", method == "POST"
        if len(rest) == 1:
            ns = rest[0]
            if post:
                return "run_job", lambda caller, request: self._run_job(caller, request, ns)
            if get:
                return "list_jobs", lambda caller, request: self._list_jobs(caller, request, ns)
        if len(rest) == 2 and get:
            ns, job_id = rest
            return "inspect_job", lambda caller, request: _json(self._job(caller, ns, job_id).to_json())
        if len(rest) == 3 and rest[2] == "logs" and get:
            ns, job_id = rest[:2]
            return "job_logs", lambda caller, request: self._job_logs(caller, request, ns, job_id)
        if len(rest) == 3 and rest[2] == "cancel" and post:
            ns, job_id = rest[:2]
            return "cancel_job", lambda caller, request: self._cancel_job(caller, ns, job_id)
        return "not_found", None

    def _run_job(self, caller: JobCaller, request: JobRequest, namespace: str) -> JobAnswer:
        _check_namespace(caller, namespace)
        spec = request.json()
        command, arguments = spec.get("command"), spec.get("arguments") or []
        if not _strings(command) or not command or not _strings(arguments):
            raise HubFailure(400, "BadRequest", "command must be a non-empty list of strings (arguments a list)")
        environment, secrets = spec.get("environment") or {}, spec.get("secrets") or {}
        if not isinstance(environment, dict) or not isinstance(secrets, dict):
            raise HubFailure(400, "BadRequest", "environment and secrets must be objects")
        if not isinstance(spec.get("dockerImage") or spec.get("spaceId"), str):
            raise HubFailure(400, "BadRequest", "the job needs a dockerImage or a spaceId")
        timeout = spec.get("timeoutSeconds")
        if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool) or timeout <= 0):
            raise HubFailure(400, "BadRequest", "timeoutSeconds must be a positive integer")
        public = {k: v for k, v in spec.items() if k != "secrets"}
        public["environment"] = {str(k): str(v) for k, v in environment.items()}
        secret_values = {str(k): str(v) for k, v in secrets.items()}
        with self._lock:
            serial = next(self._serial)
            job_id = hashlib.sha1(f"{time.time_ns()}-{serial}".encode(), usedforsecurity=False).hexdigest()[:24]
            job = SimJob(job_id, namespace, caller.id, public, tuple(secret_values), _now())
            self._jobs[job_id] = job
            argv = self.local_command([*command, *arguments])
            env = self._environment(job, public["environment"], secret_values, request.base_url)
            job.thread = threading.Thread(
                target=self._execute, args=(job, argv, env), name=f"job-{job_id}", daemon=True
            )
            job.thread.start()
            return _json(job.to_json())

    def _list_jobs(self, caller: JobCaller, request: JobRequest, namespace: str) -> JobAnswer:
        _check_namespace(caller, namespace)
        stage = request.query.get("stage")
        key, _, value = (request.query.get("label") or "").partition("=")
        with self._lock:
            jobs = [
                job.to_json()
                for job in self._jobs.values()
                if job.namespace == namespace
                and (stage is None or job.stage == stage.upper())
                and (not key or (job.spec.get("labels") or {}).get(key) == value)
            ]
        return _json(jobs)

    def _job_logs(self, caller: JobCaller, request: JobRequest, namespace: str, job_id: str) -> JobAnswer:
        tail = request.query.get("tail")
        if tail is not None and not tail.isdigit():
            raise HubFailure(400, "BadRequest", f"invalid tail {tail!r}")
        with self._lock:
            events = list(self._job(caller, namespace, job_id).logs)
        if tail is not None:
            events = events[-int(tail) :] if int(tail) else []
        body = "".join(f"data: {json.dumps({'data': line, 'timestamp': stamp})}\n\n" for stamp, line in events)
        return JobAnswer(200, body.encode(), "text/event-stream")

    def _cancel_job(self, caller: JobCaller, namespace: str, job_id: str) -> JobAnswer:
        with self._lock:
            job = self._job(caller, namespace, job_id)
            self._stop(job, "CANCELED", None)
            return _json(job.to_json())

    def _job(self, caller: JobCaller, namespace: str, job_id: str) -> SimJob:
        _check_namespace(caller, namespace)
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.namespace != namespace:
            raise HubFailure(404, "JobNotFound", f"Job {job_id} not found in {namespace}")
        return job

    # -- running -----------------------------------------------------------------------------

    def local_command(self, command: list[str]) -> list[str]:
        """The argv a job's command runs as here (`evalbot` and `python` use `self.python`)."""
        head, rest = command[0], command[1:]
        if head == "evalbot":
            return [self.python, "-m", "bot.cli", *rest]
        if head in ("python", "python3") or (head.startswith("python3.") and head[8:].isdigit()):
            return [self.python, *rest]
        return list(command)

    def _environment(
        self, job: SimJob, environment: Mapping[str, str], secrets: Mapping[str, str], endpoint: str
    ) -> dict[str, str]:
        workdir = self._workdir(job.id)
        env = {k: v for k, v in os.environ.items() if k in KEPT_ENVIRONMENT}
        env |= {
            "HOME": str(workdir),
            "TMPDIR": str(workdir / "tmp"),
            "HF_HOME": str(workdir / ".hf-home"),
            "PYTHONUNBUFFERED": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
        }
        env |= environment
        env |= secrets
        env["HF_ENDPOINT"] = endpoint
        return env

    def _workdir(self, job_id: str) -> Path:
        with self._lock:
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="hubsim-jobs-"))
            path = self._root / job_id
        (path / "tmp").mkdir(parents=True, exist_ok=True)
        return path

    def _execute(self, job: SimJob, argv: list[str], env: dict[str, str]) -> None:
        with self._lock:
            if job.stage != "SCHEDULING":  # cancelled before it started
                return
            try:
                process = subprocess.Popen(
                    argv,
                    env=env,
                    cwd=self._workdir(job.id),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    errors="replace",
                    bufsize=1,
                    start_new_session=True,  # its own process group: cancel kills what it spawned too
                )
            except OSError as e:
                job.stage, job.message, job.finished_at = "ERROR", f"cannot start {argv[0]!r}: {e.strerror}", _now()
                return
            job.process, job.stage, job.started_at = process, "RUNNING", _now()
            job.logs.append((job.started_at, f"===== Job started at {job.started_at} ====="))
        timeout = job.spec.get("timeoutSeconds")
        timer = None
        if isinstance(timeout, int):
            timer = threading.Timer(timeout, self._expire, args=(job, timeout))
            timer.daemon = True
            timer.start()
        assert process.stdout is not None
        for line in process.stdout:
            with self._lock:
                job.logs.append((_now(), line.rstrip("\r\n")))
        code = process.wait()
        if timer is not None:
            timer.cancel()
        with self._lock:
            job.exit_code = code
            if job.stage == "RUNNING":
                job.stage = "COMPLETED" if code == 0 else "ERROR"
                job.message = None if code == 0 else f"Job failed with exit code: {code}"
                job.finished_at = _now()

    def _expire(self, job: SimJob, timeout: int) -> None:
        with self._lock:
            self._stop(job, "ERROR", f"Job timed out after {timeout} seconds")

    def _stop(self, job: SimJob, stage: str, message: str | None) -> None:
        """End a job that is not finished yet (cancel, timeout); a finished one stays as it is."""
        with self._lock:
            if job.stage in TERMINAL_STAGES:
                return
            job.stage, job.message, job.finished_at = stage, message, _now()
            process = job.process
        if process is not None and process.poll() is None:
            _signal(process, signal.SIGTERM)
            killer = threading.Timer(KILL_GRACE_S, _signal, args=(process, signal.SIGKILL))
            killer.daemon = True
            killer.start()

    # -- test-facing helpers ---------------------------------------------------------------------

    @property
    def job_ids(self) -> list[str]:
        with self._lock:
            return list(self._jobs)

    def info(self, job_id: str) -> dict[str, Any]:
        """What inspect_job answers for `job_id` (KeyError when unknown)."""
        with self._lock:
            return self._jobs[job_id].to_json()

    def workdir(self, job_id: str) -> Path:
        """The job's own working directory (also its HOME, TMPDIR and HF_HOME), until the sim stops."""
        with self._lock:
            if job_id not in self._jobs:
                raise KeyError(job_id)
        return self._workdir(job_id)

    def logs(self, job_id: str) -> list[str]:
        with self._lock:
            return [line for _, line in self._jobs[job_id].logs]

    def wait(self, job_id: str, timeout: float = 10.0) -> str:
        """Block until the job's process has ended (or `timeout`); its stage."""
        with self._lock:
            job = self._jobs[job_id]
        if job.thread is not None:
            job.thread.join(timeout)
        with self._lock:
            return job.stage

    def shutdown(self) -> None:
        """Cancel every unfinished job, wait briefly for the processes, remove the scratch dirs."""
        with self._lock:
            jobs = list(self._jobs.values())
            for job in jobs:
                self._stop(job, "CANCELED", "the Hub stand-in stopped")
        for job in jobs:
            if job.process is not None and job.process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    job.process.wait(KILL_GRACE_S + 1)
            if job.thread is not None:
                job.thread.join(1.0)
        with self._lock:
            root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)


def _check_namespace(caller: JobCaller, namespace: str) -> None:
    if namespace != caller.name and not caller.admin:
        raise HubFailure(403, "Forbidden", f"{caller.name} cannot run or see jobs in the namespace {namespace}")


def _signal(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, sig)
        else:  # pragma: no cover - not POSIX
            process.kill()


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _json(payload: object) -> JobAnswer:
    return JobAnswer(200, json.dumps(payload).encode())


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
