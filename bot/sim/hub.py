"""A local Hugging Face Hub stand-in over real HTTP, for tests and offline runs.

The real `huggingface_hub` client drives it through `HF_ENDPOINT` (or `HfApi(endpoint=...)`);
nothing in the client or in evalbot is patched. It implements the calls of
reference/hub-protocol.md §1 and §8: whoami, model info (any revision: `main`, a commit id,
`refs/pr/N`), README/file resolve (HEAD and GET, `X-Repo-Commit`, `ETag`), refs, paginated and
filtered discussions, discussion details with events and a diff, validate-yaml, preupload (with
the blob ids that drive the client's no-op detection), ndjson commits (to main, to `refs/pr/N`,
or `create_pr`, honouring `parentCommit`), create discussion/PR, comment, status, rename, merge;
errors carry `X-Error-Code`/`X-Error-Message` and `{"error": ...}` so the client raises its typed
errors. Faults (429 + Retry-After, 5xx, delays, dropped connections) come from `bot.sim.faults`.

Users are bearer tokens mapped to names. Without `users`, `DEFAULT_USERS` applies:
`evalbot-token` → `evalbot` (no write access unless listed as a writer) and `maintainer-token`
→ `maintainer`, an admin (`DEFAULT_ADMINS`) who can read and write every repo. A user can write a
repo when it is the repo's namespace, a listed writer, or an admin; `readers` may also see a
private repo and download from a gated one. No token: anonymous reads of public repos only; an
unknown token: 401 everywhere (as on the Hub).

Choices where the real Hub's behaviour is unverified (see the protocol reference):
* commits with `create_pr=1` open the PR as `open`; `create_discussion(pull_request=True)` makes
  a `draft` with no commits (as the library docstring says); pushing to a draft keeps it a draft;
* the `status=open` filter matches `open` and `draft`, `status=closed` matches `closed` and
  `merged`; listings are newest first, `page_size` (default 50) per page;
* a stale `parentCommit` answers 412 with `X-Error-Code: ParentCommitMismatch`;
* pushing to `refs/pr/N` needs the PR's author or a writer (403 otherwise), and an open or draft
  PR (403 when closed or merged); commits to main need write access (403), `create_pr` only read;
  every write needs a valid token (401 `Invalid credentials in Authorization header`);
* a PR's `diff` is the PR head against the commit it branched from; `filesWithConflicts` lists
  files changed both by the PR and on main since then; merging (writers only, open PRs only)
  applies the PR's changes onto main's head and refuses with 409 `MergeConflict` on conflicts;
* gated repos: model info and discussions are public; resolve, preupload and commit need access
  (401 anonymous / 403 signed in, `X-Error-Code: GatedRepo`); private repos are 404 `RepoNotFound`
  to everyone else;
* times are a fake clock starting 2025-01-01T00:00:00Z, one second per event.

Benchmarks (`bot.sim._hub_benchmarks`): dataset repos with an `eval.yaml`, the allow-listed ones
listed by `GET /api/datasets?filter=benchmark:official` (paged, `Link` headers) and ranked by
`GET /api/datasets/{id}/leaderboard` from the models' `.eval_results` on main and in open PRs.
`benchmarks=` seeds them (default: `bot.sim.benchmarks.DEFAULT_BENCHMARKS`; `{}` for none);
`add_benchmark` adds one.

The model listing `GET /api/models?author=&expand=...` pages `model_page_size` repos at a time
(default 1,000) with `Link: <...>; rel="next"`; with `expand` each item holds `_id`, `id` and the
expanded fields as model info at main has them. Rate limits (`bot.sim._ratelimit`, off unless
`rate_limit=RateLimit(...)`): fixed windows per token and bucket (`api`, `resolvers`, `pages`),
`RateLimit`/`RateLimit-Policy` on every answer, 429 with `Retry-After` over quota; `rate_limited`
counts those 429s.

Repos are seeded from a directory laid out as `<dir>/<org>/<name>/<files...>` or added with
`add_repo` (`repo_type="dataset"` for a dataset repo: `/api/datasets/...` preupload/commit and
`/datasets/<id>/resolve/...`, enough for `upload_file`/`hf_hub_download(repo_type="dataset")`).

HF Jobs (`/api/jobs/...`, see `bot.sim._jobs`): a job runs its command as a local subprocess
with `jobs_python` (default: this interpreter) for `evalbot`/`python` commands and
`HF_ENDPOINT=<this sim>`; `sim.jobs` has test helpers (`info`, `logs`, `wait`).

    with HubSim.from_directory(path) as hub:
        HfApi(endpoint=hub.url).model_info("org/name")
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.sim._http import StandIn, count_requests
from bot.sim._hub_files import HubFailure, git_blob_sha1, tree_sha1
from bot.sim._hub_http import HubBackend, hub_server
from bot.sim._hub_state import HubState, SimDiscussion, repo_key
from bot.sim._jobs import JobsSim
from bot.sim._ratelimit import RateLimit, RateLimiter
from bot.sim.benchmarks import DEFAULT_BENCHMARKS
from bot.sim.faults import Fault, FaultPlan, parse_faults

__all__ = [
    "DEFAULT_ADMINS",
    "DEFAULT_USERS",
    "Fault",
    "HubSim",
    "RateLimit",
    "SimDiscussion",
    "SimRepo",
    "git_blob_sha1",
    "parse_faults",
    "serve",
]

DEFAULT_USERS: Mapping[str, str] = {"evalbot-token": "evalbot", "maintainer-token": "maintainer"}
DEFAULT_ADMINS: tuple[str, ...] = ("maintainer",)


@dataclass
class SimRepo:
    """A model repo to seed the sim with; `sha` is the id its first commit gets."""

    repo_id: str
    files: dict[str, bytes]
    private: bool = False
    gated: bool = False
    writers: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        self.sha = tree_sha1(self.files)


class HubSim(StandIn[tuple[str, str]]):
    """A threaded HTTP server on 127.0.0.1 that speaks enough of the Hub API for evalbot."""

    thread_name = "hub-sim"

    def __init__(
        self,
        repos: Iterable[SimRepo] = (),
        port: int = 0,
        *,
        users: Mapping[str, str] | None = None,
        admins: Iterable[str] = DEFAULT_ADMINS,
        faults: Iterable[Fault] = (),
        seed: int = 0,
        page_size: int = 50,
        dataset_page_size: int = 1000,
        benchmarks: Mapping[str, Mapping[str, Any] | str] | None = None,
        jobs_python: str = sys.executable,
        model_page_size: int = 1000,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self._state = HubState(DEFAULT_USERS if users is None else users, admins, page_size)
        self._state.dataset_page_size = dataset_page_size
        self._state.model_page_size = model_page_size
        for repo in repos:
            self._state.add_repo(
                repo.repo_id, repo.files, private=repo.private, gated=repo.gated, writers=repo.writers,
                readers=repo.readers,
            )  # fmt: skip
        for dataset_id, eval_yaml in (DEFAULT_BENCHMARKS if benchmarks is None else benchmarks).items():
            self.add_benchmark(dataset_id, eval_yaml)
        self._faults = FaultPlan(list(faults), seed)
        self.jobs = JobsSim(jobs_python)
        self.limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        backend = HubBackend(self._state, self._faults, self.record, self.jobs, self.limiter)
        super().__init__(hub_server(port, backend))  # `requests`: (method, path with query), for assertions

    @classmethod
    def from_directory(cls, root: Path, port: int = 0, **options: Any) -> HubSim:
        """Seed one public repo per `<root>/<org>/<name>/` directory; `options` go to `HubSim`."""
        repos = []
        for repo_dir in sorted(p for p in root.glob("*/*") if p.is_dir()):
            files = {
                str(f.relative_to(repo_dir)).replace("\\", "/"): f.read_bytes()
                for f in sorted(repo_dir.rglob("*"))
                if f.is_file()
            }
            repos.append(SimRepo(f"{repo_dir.parent.name}/{repo_dir.name}", files))
        return cls(repos, port, **options)

    def _on_stop(self) -> None:
        self.jobs.shutdown()

    # -- test-facing helpers (thread-safe; no permission checks) -------------------------------

    @property
    def repo_ids(self) -> list[str]:
        with self._state.lock:
            return sorted(self._state.repos)

    def add_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        *,
        private: bool = False,
        gated: bool = False,
        writers: Iterable[str] = (),
        readers: Iterable[str] = (),
        repo_type: str = "model",
    ) -> str:
        """Create a repo (a model, or a dataset) with one commit on main; returns its id."""
        return self._state.add_repo(
            repo_id, _bytes(files), private=private, gated=gated, writers=writers, readers=readers, repo_type=repo_type
        )

    def add_benchmark(self, dataset_id: str, eval_yaml: str | Mapping[str, Any], *, registered: bool = True) -> str:
        """A benchmark dataset repo with `eval.yaml` (a mapping is dumped as YAML); `registered`
        puts it on the allow-list, so it is listed and has a leaderboard. Returns its commit."""
        text = eval_yaml if isinstance(eval_yaml, str) else yaml.safe_dump(dict(eval_yaml), sort_keys=False)
        oid = self._state.add_repo(
            dataset_id, {"eval.yaml": text.encode()}, private=False, gated=False, writers=(), readers=(),
            repo_type="dataset",
        )  # fmt: skip
        if registered:
            with self._state.lock:
                self._state.benchmarks.add(dataset_id)
        return oid

    def push(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        summary: str = "Update files",
        author: str = "alice",
        delete: Iterable[str] = (),
    ) -> str:
        """A maintainer's commit to main; returns the new head."""
        return self._state.push(repo_id, _bytes(files), summary, author, delete)

    def open_pr(
        self,
        repo_id: str,
        files: Mapping[str, bytes | str],
        *,
        author: str = "alice",
        title: str = "Update files",
        description: str = "",
    ) -> int:
        """A human's open PR with one commit; returns its number."""
        return self._state.open_pr(repo_id, _bytes(files), author, title, description)

    def file(self, repo_id: str, path: str, rev: str = "main", *, repo_type: str = "model") -> bytes | None:
        try:
            return self._state.file(repo_key(repo_id, repo_type), path, rev)
        except HubFailure:
            return None

    def head(self, repo_id: str, rev: str = "main") -> str:
        return self._state.head(repo_id, rev)

    def add_org(self, org: str, members: Iterable[str]) -> None:
        """An organization and its members (repo owner checks, ChatOps authorization)."""
        with self._state.lock:
            self._state.orgs[org] = set(members)

    def discussions(self, repo_id: str) -> list[SimDiscussion]:
        """Every discussion and PR, oldest first."""
        return self._state.views(repo_id)

    def comment(self, repo_id: str, num: int, text: str, *, by: str = "alice") -> None:
        """Comment on discussion/PR #num as `by`."""
        self._as_admin(lambda user: self._state.comment(repo_id, num, text, user), by)

    def close(self, repo_id: str, num: int, by: str = "alice") -> None:
        """Close discussion/PR #num as `by` (a `status-change` event)."""
        self._as_admin(lambda admin: self._state.change_status(repo_id, num, "closed", None, admin), by)

    def merge(self, repo_id: str, num: int, by: str = "maintainer") -> str:
        """Merge PR #num into main (status `merged`); returns the merge commit."""
        self._as_admin(lambda admin: self._state.merge(repo_id, num, None, admin), by)
        return self._state.head(repo_id, "main")

    def _as_admin(self, action: Callable[[str], object], user: str) -> None:
        """Run `action` as `user` with admin rights for the call (helpers skip permission checks)."""
        with self._state.lock:
            added = user not in self._state.admins
            self._state.admins.add(user)
            try:
                action(user)
            finally:
                if added:
                    self._state.admins.discard(user)

    def request_count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        """Requests logged with `method` (None: any) whose path (with query) starts with `path_prefix`."""
        return count_requests(self.recorded(), method, path_prefix)

    # -- faults ----------------------------------------------------------------------------------

    def inject(
        self,
        route: str,
        kind: str | int,
        *,
        method: str | None = None,
        times: int | None = None,
        rate: float | None = None,
        retry_after: int = 0,
        delay: float = 0.0,
    ) -> Fault:
        """Add a fault (see `bot.sim.faults`); e.g. `inject("commit", "drop_after", times=1)`."""
        fault = Fault(route, str(kind), method.upper() if method else None, times, rate, retry_after, delay)
        self._faults.add(fault)
        return fault

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        return self._faults.faults

    @property
    def rate_limited(self) -> int:
        """Answers of 429 the rate limiter sent (0 without `rate_limit`)."""
        return self.limiter.refused if self.limiter is not None else 0

    @property
    def faults_injected(self) -> int:
        """How many times a fault fired (delays included)."""
        return self._faults.injected


def serve(port: int, repos_dir: Path, faults: str | None, users: dict[str, str] | None) -> None:
    """The `evalbot sim` command: serve `repos_dir` on 127.0.0.1:`port` until Ctrl-C.

    `faults` is a `parse_faults` spec (ValueError when malformed); `users` defaults to
    `DEFAULT_USERS`. A missing `repos_dir` raises NotADirectoryError.
    """
    if not repos_dir.is_dir():
        raise NotADirectoryError(f"{repos_dir} is not a directory")
    sim = HubSim.from_directory(repos_dir, port=port, users=users, faults=parse_faults(faults or ""))
    models = [r for r in sim.repo_ids if not r.startswith("datasets/")]
    print(f"Hub stand-in listening on {sim.url} ({len(models)} repos)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()


def _bytes(files: Mapping[str, bytes | str]) -> dict[str, bytes]:
    return {path: data.encode() if isinstance(data, str) else data for path, data in files.items()}
